/**
 * The PyTorch peer's workloads (bench/peer/torch_peer.py) on sign-ts: one JSON line per
 * workload and backend, with the peer's fields (median/min ms per iteration, GFLOP/s at the
 * median from the peer's MAC count, peak RSS, CPU ms, load average) plus the backend, the
 * compute path (`accel`) and the tensor growth over the timed iterations (must be 0).
 *
 *   pnpm bench peer                                   # the four default workloads on wasm
 *   pnpm bench peer -- --backend wasm,cpu --iters 5   # also the plain-JS backend (slow)
 *   pnpm bench peer -- --workload sim_step --iters 10
 *   pnpm bench peer -- --workload deeplab_infer_513   # the paper's backbone (not in `all`; 1 warm-up + 2 iterations unless told)
 *   pnpm bench peer -- --workload deeplab_train_368_b8 --backend cpu --train-batch 2   # one training step, batch 2 instead of 8
 *   pnpm bench peer -- --blas off --lean off          # without native BLAS / without the lean backward pass
 *   pnpm bench:peer                                   # interleaved with PyTorch, ratio table (compare.ts)
 *
 * Each (backend, workload) runs in a fresh process, so peak RSS is per workload, as in the peer.
 */
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { accelerationInfo, initBackend, type BackendPreference } from '@sign/core';
import { ALL_WORKLOADS, DEFAULT_ITERATIONS, MAKERS, WORKLOADS, type WorkloadName } from './workloads';

interface Args {
  workloads: WorkloadName[];
  backends: BackendPreference[];
  /** null: the workload's default ({@link DEFAULT_ITERATIONS}) */
  iters: number | null;
  warmup: number | null;
  child: boolean;
  /** initBackend's `blas` ('auto' | 'off' | 'require') */
  blas: string;
  /** initBackend's `leanGradients` ('on' | 'off') */
  lean: string;
  /** deeplab_train_368_b8's batch (null: 8) */
  trainBatch: number | null;
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
    if (!(ALL_WORKLOADS as readonly string[]).includes(w)) {
      throw new Error(`peer.bench: unknown workload '${w}'; known: ${ALL_WORKLOADS.join(', ')}, all (= ${WORKLOADS.join(', ')})`);
    }
  }
  const backends = get('--backend', 'wasm').split(',') as BackendPreference[];
  const iters = argv.includes('--iters') ? Number(get('--iters', '')) : null;
  const warmup = argv.includes('--warmup') ? Number(get('--warmup', '')) : null;
  if (iters !== null && (!Number.isInteger(iters) || iters < 1)) throw new Error(`peer.bench: --iters must be a positive integer, got ${iters}`);
  if (warmup !== null && (!Number.isInteger(warmup) || warmup < 0)) throw new Error(`peer.bench: --warmup must be an integer ≥ 0, got ${warmup}`);
  const blas = get('--blas', 'auto');
  if (!['auto', 'off', 'require'].includes(blas)) throw new Error(`peer.bench: --blas must be auto, off or require, got '${blas}'`);
  const lean = get('--lean', 'on');
  if (!['on', 'off'].includes(lean)) throw new Error(`peer.bench: --lean must be on or off, got '${lean}'`);
  const trainBatch = argv.includes('--train-batch') ? Number(get('--train-batch', '')) : null;
  if (trainBatch !== null && (!Number.isInteger(trainBatch) || trainBatch < 1)) {
    throw new Error(`peer.bench: --train-batch must be a positive integer, got ${trainBatch}`);
  }
  return { workloads: workloads as WorkloadName[], backends, iters, warmup, child: argv.includes('--child'), blas, lean, trainBatch };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

async function runOne(name: WorkloadName, backend: BackendPreference, args: Args): Promise<void> {
  const iters = args.iters ?? DEFAULT_ITERATIONS[name]?.iters ?? 20;
  const warmup = args.warmup ?? DEFAULT_ITERATIONS[name]?.warmup ?? 3;
  const report = await initBackend(backend, { blas: args.blas as 'auto' | 'off' | 'require', leanGradients: args.lean === 'on' });
  const wl = MAKERS[name](args.trainBatch !== null ? { trainBatch: args.trainBatch } : {});
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
    warmup,
    threads: accel.threads,
    gflop_per_iter_est: round(gflop, 2),
    ...(wl.params !== undefined ? { params: wl.params } : {}),
    ...(wl.batch !== undefined ? { batch: wl.batch } : {}),
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
          ...(args.iters !== null ? ['--iters', String(args.iters)] : []),
          ...(args.warmup !== null ? ['--warmup', String(args.warmup)] : []),
          ...(args.trainBatch !== null ? ['--train-batch', String(args.trainBatch)] : []),
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
