/**
 * Where one iteration of a peer workload spends its time, by tfjs kernel (not a benchmark: the
 * profiler itself adds overhead).
 *
 *   npx tsx --tsconfig bench/tsconfig.json bench/peer/profile.ts sim_step [wasm] [--cpu] [--iters N]
 *   npx tsx --tsconfig bench/tsconfig.json bench/peer/profile.ts deeplab_train_368_b8 cpu --cpu --iters 1 --train-batch 1
 *
 * Default: one iteration under `tf.profile` (wall time per kernel). `--cpu`: CPU time
 * (`process.cpuUsage`, all threads) per kernel, exclusive of the kernels it runs inside, summed
 * over N iterations (default 3) after one warm-up, and the step's total CPU time; the part not in
 * any kernel is the engine's and the workload's JavaScript. CPU time barely depends on how busy a
 * shared machine is, wall time does. Run it with `SIGN_BLAS_THREADS=1`: the BLAS library's
 * second thread spin-waits between products, which counts as CPU time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { accelerationInfo, initBackend, type BackendPreference } from '@sign/core';
import { ALL_WORKLOADS, MAKERS, type WorkloadName } from './workloads';

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function printTable(by: Map<string, { ms: number; n: number }>, per: number): void {
  for (const [k, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
    console.log(`  ${k.padEnd(28)} ${(e.ms / per).toFixed(1).padStart(8)} ms  ${String(e.n / per).padStart(5)} calls`);
  }
}

/** Every kernel of `backendName` re-registered inside a CPU timer (exclusive of nested kernels). */
function timeKernels(backendName: string): Map<string, { ms: number; n: number }> {
  const by = new Map<string, { ms: number; n: number }>();
  const stack: number[] = []; // CPU time of nested kernels, per open kernel
  for (const k of tf.getKernelsForBackend(backendName)) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = cpuMs();
        stack.push(0);
        try {
          return inner(args);
        } finally {
          const nested = stack.pop()!;
          const total = cpuMs() - t0;
          if (stack.length) stack[stack.length - 1] += total;
          const e = by.get(k.kernelName) ?? { ms: 0, n: 0 };
          e.ms += total - nested;
          e.n += 1;
          by.set(k.kernelName, e);
        }
      },
    });
  }
  return by;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const pos = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--iters' && argv[i - 1] !== '--train-batch');
  const name = (pos[0] ?? 'sim_step') as WorkloadName;
  if (!(ALL_WORKLOADS as readonly string[]).includes(name)) throw new Error(`profile: unknown workload '${name}'; known: ${ALL_WORKLOADS.join(', ')}`);
  const tb = argv.indexOf('--train-batch');
  const trainBatch = tb === -1 ? undefined : Number(argv[tb + 1]);
  if (trainBatch !== undefined && !(Number.isInteger(trainBatch) && trainBatch >= 1)) {
    throw new Error(`profile: --train-batch must be a positive integer, got '${argv[tb + 1]}'`);
  }
  await initBackend((pos[1] ?? 'wasm') as BackendPreference);
  const wl = MAKERS[name]({ trainBatch });
  wl.step();
  if (argv.includes('--cpu')) {
    const i = argv.indexOf('--iters');
    const iters = i === -1 ? 3 : Number(argv[i + 1]);
    if (!Number.isInteger(iters) || iters < 1) throw new Error(`profile: --iters must be a positive integer, got '${argv[i + 1]}'`);
    // the step's CPU time without the timers first, then per kernel with them
    let t0 = cpuMs();
    for (let k = 0; k < iters; k++) wl.step();
    const plain = (cpuMs() - t0) / iters;
    const by = timeKernels(tf.getBackend());
    t0 = cpuMs();
    for (let k = 0; k < iters; k++) wl.step();
    const timed = (cpuMs() - t0) / iters;
    const inKernels = [...by.values()].reduce((s, e) => s + e.ms, 0) / iters;
    console.log(
      `${name} on ${accelerationInfo().summary}: ${plain.toFixed(0)} ms CPU per step (mean of ${iters}); ` +
        `with the timers ${timed.toFixed(0)} ms, ${inKernels.toFixed(0)} ms in kernels, ${(timed - inKernels).toFixed(0)} ms outside`,
    );
    printTable(by, iters);
  } else {
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
    printTable(by, 1);
  }
  wl.dispose();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
