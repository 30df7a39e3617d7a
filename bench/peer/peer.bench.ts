/**
 * The PyTorch peer's four workloads (bench/peer/torch_peer.py) on sign-ts: one JSON line per
 * workload and backend, with the peer's fields (median/min ms per iteration, GFLOP/s at the
 * median from the peer's MAC count, peak RSS, CPU ms, load average) plus the backend, the
 * compute path (`accel`) and the tensor growth over the timed iterations (must be 0).
 *
 *   pnpm bench peer                                   # every workload on wasm
 *   pnpm bench peer -- --backend wasm,cpu --iters 5   # also the plain-JS backend (slow)
 *   pnpm bench peer -- --workload sim_step --iters 10
 *   pnpm bench peer -- --blas off --lean off          # without OpenBLAS / without the lean backward pass
 *   pnpm bench:peer                                   # interleaved with PyTorch, ratio table (compare.ts)
 *
 * Each (backend, workload) runs in a fresh process, so peak RSS is per workload, as in the peer.
 */
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { accelerationInfo, initBackend, type BackendPreference } from '@sign/core';
import { MAKERS, WORKLOADS, type WorkloadName } from './workloads';

interface Args {
  workloads: WorkloadName[];
  backends: BackendPreference[];
  iters: number;
  warmup: number;
  child: boolean;
  /** initBackend's `blas` ('auto' | 'off' | 'require') */
  blas: string;
  /** initBackend's `leanGradients` ('on' | 'off') */
  lean: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string, def: string): string => {
    const i = argv.indexOf(name);
    if (i === -1) return def;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`peer.bench: ${name} needs a value`);
    return v;
  };
  const wl = get('--workload', 'all');
  const workloads = wl === 'all' ? [...WORKLOADS] : wl.split(',');
  for (const w of workloads) {
    if (!(WORKLOADS as readonly string[]).includes(w)) {
      throw new Error(`peer.bench: unknown workload '${w}'; known: ${WORKLOADS.join(', ')}, all`);
    }
  }
  const backends = get('--backend', 'wasm').split(',') as BackendPreference[];
  const iters = Number(get('--iters', '20'));
  const warmup = Number(get('--warmup', '3'));
  if (!Number.isInteger(iters) || iters < 1) throw new Error(`peer.bench: --iters must be a positive integer, got ${iters}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`peer.bench: --warmup must be an integer ≥ 0, got ${warmup}`);
  const blas = get('--blas', 'auto');
  if (!['auto', 'off', 'require'].includes(blas)) throw new Error(`peer.bench: --blas must be auto, off or require, got '${blas}'`);
  const lean = get('--lean', 'on');
  if (!['on', 'off'].includes(lean)) throw new Error(`peer.bench: --lean must be on or off, got '${lean}'`);
  return { workloads: workloads as WorkloadName[], backends, iters, warmup, child: argv.includes('--child'), blas, lean };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

async function runOne(name: WorkloadName, backend: BackendPreference, args: Args): Promise<void> {
  const { iters, warmup } = args;
  const report = await initBackend(backend, { blas: args.blas as 'auto' | 'off' | 'require', leanGradients: args.lean === 'on' });
  const wl = MAKERS[name]();
  for (let i = 0; i < warmup; i++) wl.step();
  const tensors0 = tf.memory().numTensors;
  const load0 = os.loadavg()[0];
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < iters; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    wl.step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  const growth = tf.memory().numTensors - tensors0;
  const med = median(times);
  const gflop = (2 * wl.macs) / 1e9;
  const accel = accelerationInfo();
  const out = {
    workload: name,
    backend: report.backend,
    accel: accel.summary,
    lean_gradients: args.lean === 'on',
    ms_per_iter_median: round(med, 3),
    ms_per_iter_min: round(Math.min(...times), 3),
    iters,
    threads: accel.threads,
    gflop_per_iter_est: round(gflop, 2),
    gflops_at_median: round(gflop / (med / 1e3), 1),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
    cpu_ms_per_iter_median: round(median(cpu), 3),
    loadavg_1m_start: round(load0, 2),
    tensor_growth: growth,
    node: process.versions.node,
  };
  wl.dispose();
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child || (args.workloads.length === 1 && args.backends.length === 1)) {
    await runOne(args.workloads[0], args.backends[0], args);
    return;
  }
  let failed = 0;
  for (const backend of args.backends) {
    for (const w of args.workloads) {
      const r = spawnSync(
        process.execPath,
        [
          ...process.execArgv,
          process.argv[1],
          '--child',
          '--workload',
          w,
          '--backend',
          backend,
          '--iters',
          String(args.iters),
          '--warmup',
          String(args.warmup),
          '--blas',
          args.blas,
          '--lean',
          args.lean,
        ],
        { stdio: 'inherit' },
      );
      if (r.status !== 0) {
        failed++;
        console.error(`peer.bench: ${w} on ${backend} exited with ${r.status ?? r.signal}`);
      }
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
