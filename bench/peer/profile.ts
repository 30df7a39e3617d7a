/**
 * Where one iteration of a peer workload spends its time, by tfjs kernel (not a benchmark: the
 * profiler itself adds overhead). `npx tsx --tsconfig bench/tsconfig.json bench/peer/profile.ts sim_step [wasm]`
 */
import * as tf from '@tensorflow/tfjs-core';
import { accelerationInfo, initBackend, type BackendPreference } from '@sign/core';
import { MAKERS, WORKLOADS, type WorkloadName } from './workloads';

async function main(): Promise<void> {
  const name = (process.argv[2] ?? 'sim_step') as WorkloadName;
  if (!(WORKLOADS as readonly string[]).includes(name)) throw new Error(`profile: unknown workload '${name}'; known: ${WORKLOADS.join(', ')}`);
  await initBackend((process.argv[3] ?? 'wasm') as BackendPreference);
  const wl = MAKERS[name]();
  wl.step();
  const t0 = performance.now();
  const info = await tf.profile(() => {
    wl.step();
  });
  const total = performance.now() - t0;
  const by = new Map<string, { ms: number; n: number }>();
  let kernelMs = 0;
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n += 1;
    by.set(k.name, e);
    kernelMs += ms;
  }
  console.log(`${name} on ${accelerationInfo().summary}: ${total.toFixed(0)} ms wall (profiled), ${kernelMs.toFixed(0)} ms in kernels (nested kernels counted twice), peak bytes ${(info.peakBytes / 1e6).toFixed(0)} MB`);
  for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
    console.log(`  ${k.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.n).padStart(5)} calls`);
  }
  wl.dispose();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
