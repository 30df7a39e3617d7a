/**
 * sign-ts against the PyTorch CPU peer, interleaved: for each round and workload, the peer's
 * run and ours alternate (the order flips every round), each in a fresh process; then one
 * Markdown table of the medians over rounds, with the ratio, GFLOP/s, peak RSS and the load
 * average the runs started at. Absolute times on a shared machine are noise; the ratio of
 * interleaved runs is what to quote.
 *
 *   pnpm bench:peer                                 # 3 rounds × 4 workloads, wasm, 10 iterations each
 *   pnpm bench:peer -- --rounds 5 --iters 20 --workload sim_step,sim_infer
 *   pnpm bench:peer -- --backend cpu --iters 2      # the plain-JS backend (very slow)
 *   pnpm bench:peer -- --json out.jsonl             # also every raw JSON line
 *   pnpm bench:peer -- --blas off                   # sign-ts without native BLAS (also --lean off)
 *   pnpm bench:peer -- --workload deeplab_infer_513,deeplab_train_368_b8 --rounds 1
 *       # DeepLabv2-ResNet101 at the paper's sizes (not in `all`): 1 warm-up + 2 iterations of
 *       # inference at 513, 1 training step at [8,368,368,3] unless --warmup / --iters say otherwise;
 *       # --backend-train picks the training step's backend (default: cpu, whose memory is not
 *       # capped; --backend at --train-batch 1, the one batch that fits in wasm's 4 GB heap);
 *       # --train-batch N trains on N images instead of 8 (machines without ~20 GB free)
 *
 * The peer is bench/peer/torch_peer.py run by /usr/bin/python3 (Debian's python3-torch; `--python`
 * picks another interpreter). Where torch does not import, the peer is skipped with a message
 * and the table has sign-ts' columns only.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { ALL_WORKLOADS, DEFAULT_ITERATIONS, WORKLOADS } from './workloads';

interface Line {
  workload: string;
  ms_per_iter_median: number;
  gflops_at_median: number;
  peak_rss_mb: number;
  loadavg_1m_start: number;
  accel?: string;
  threads?: number;
  torch?: string;
  tensor_growth?: number;
  cpu_ms_per_iter_median?: number;
  /** images per iteration (the deeplab_* workloads) */
  batch?: number;
}

function arg(argv: string[], name: string, def: string): string {
  const i = argv.indexOf(name);
  if (i === -1) return def;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`compare: ${name} needs a value`);
  return v;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`compare: ${name} must be a positive integer, got '${v}'`);
  return n;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function parseLines(stdout: string): Line[] {
  const out: Line[] = [];
  for (const l of stdout.split('\n')) {
    const t = l.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as Line);
    } catch {
      // not a result line
    }
  }
  return out;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): { lines: Line[]; ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  return { lines: parseLines(r.stdout ?? ''), ok: r.status === 0, err: (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ') };
}

/**
 * Peak RSS of sign-ts' deeplab_train_368_b8 step (GiB): measured 3.40 at batch 1 and 5.63 at
 * batch 2 (cpu backend, docs/PERFORMANCE.md), so about 3.4 + 2.23 per further image (19.0 at 8).
 */
const TRAIN_BASE_GIB = 3.4;
const TRAIN_PER_IMAGE_GIB = 2.23;
const trainStepGiB = (batch: number): number => TRAIN_BASE_GIB + TRAIN_PER_IMAGE_GIB * (batch - 1);

function main(): void {
  const argv = process.argv.slice(2);
  const rounds = positiveInt(arg(argv, '--rounds', '3'), '--rounds');
  const itersArg = argv.includes('--iters') ? positiveInt(arg(argv, '--iters', ''), '--iters') : null;
  const warmupArg = argv.includes('--warmup') ? arg(argv, '--warmup', '') : null;
  if (warmupArg !== null && !(Number.isInteger(Number(warmupArg)) && Number(warmupArg) >= 0)) {
    throw new Error(`compare: --warmup must be an integer ≥ 0, got '${warmupArg}'`);
  }
  const itersOf = (w: string): number => itersArg ?? DEFAULT_ITERATIONS[w as keyof typeof DEFAULT_ITERATIONS]?.iters ?? 10;
  const warmupOf = (w: string): string =>
    warmupArg ?? String(DEFAULT_ITERATIONS[w as keyof typeof DEFAULT_ITERATIONS]?.warmup ?? 2);
  const threads = arg(argv, '--threads', '2');
  const backend = arg(argv, '--backend', 'wasm');
  const trainBatch = argv.includes('--train-batch') ? String(positiveInt(arg(argv, '--train-batch', ''), '--train-batch')) : null;
  // The training step of the paper's backbone needs ~3.4 GB at batch 1 and 2.2 GB more per image:
  // only batch 1 fits in the wasm backend's 4 GB heap (batch 2 aborts), so larger batches run on
  // the cpu backend (native BLAS products too, but ~3× wasm's time for the rest) unless told.
  const backendTrain = arg(argv, '--backend-train', trainBatch === '1' ? backend : 'cpu');
  const backendOf = (w: string): string => (w === 'deeplab_train_368_b8' ? backendTrain : backend);
  const batchArgs = trainBatch !== null ? ['--train-batch', trainBatch] : [];
  const python = arg(argv, '--python', '/usr/bin/python3');
  const jsonOut = argv.includes('--json') ? arg(argv, '--json', '') : null;
  const blas = arg(argv, '--blas', 'auto');
  const lean = arg(argv, '--lean', 'on');
  const wl = arg(argv, '--workload', 'all');
  const workloads = wl === 'all' ? [...WORKLOADS] : wl.split(',');
  for (const w of workloads) {
    if (!(ALL_WORKLOADS as readonly string[]).includes(w)) {
      throw new Error(`compare: unknown workload '${w}'; known: ${ALL_WORKLOADS.join(', ')}, all (= ${WORKLOADS.join(', ')})`);
    }
  }
  const here = __dirname;
  const peerScript = join(here, 'torch_peer.py');
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  const peerOk = probe.status === 0;
  if (!peerOk) {
    console.log(
      `compare: the PyTorch peer is skipped: '${python} -c "import torch"' failed (${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()}). ` +
        'Install Debian\'s python3-torch (apt-get install python3-torch python3-numpy libopenblas0-pthread) to get ratios.',
    );
  }
  const ours = [process.execPath, ...process.execArgv, join(here, 'peer.bench.ts')];
  const raw: string[] = [];
  const results = new Map<string, { peer: Line[]; sign: Line[]; ratios: number[] }>();
  for (const w of workloads) results.set(w, { peer: [], sign: [], ratios: [] });
  for (let r = 0; r < rounds; r++) {
    for (const w of workloads) {
      if (w === 'deeplab_train_368_b8') {
        const batch = Number(trainBatch ?? 8);
        const free = os.freemem() / 2 ** 30;
        if (free < 1.05 * trainStepGiB(batch)) {
          let fits = batch;
          while (fits > 1 && free < 1.05 * trainStepGiB(fits)) fits--;
          console.error(
            `compare: sign-ts ${w} at batch ${batch} needs about ${trainStepGiB(batch).toFixed(1)} GB ` +
              `(measured: ${TRAIN_BASE_GIB} GB at batch 1 + ${TRAIN_PER_IMAGE_GIB} GB per image), and ${free.toFixed(1)} GB is available: ` +
              `skipped (rerun with --train-batch ${fits}, or free memory)`,
          );
          process.exitCode = 1;
          continue; // neither side: a ratio needs both
        }
      }
      const jobs: ['peer' | 'sign', () => ReturnType<typeof run>][] = [];
      if (peerOk) {
        jobs.push([
          'peer',
          () => run(python, [peerScript, '--threads', threads, '--iters', String(itersOf(w)), '--warmup', warmupOf(w), '--workload', w, ...batchArgs]),
        ]);
      }
      jobs.push([
        'sign',
        () =>
          run(ours[0], [...ours.slice(1), '--workload', w, '--backend', backendOf(w), '--iters', String(itersOf(w)), '--warmup', warmupOf(w), '--blas', blas, '--lean', lean, ...batchArgs], {
            ...process.env,
            SIGN_BLAS_THREADS: process.env.SIGN_BLAS_THREADS ?? threads,
          }),
      ]);
      if (r % 2 === 1) jobs.reverse();
      const thisRound: Partial<Record<'peer' | 'sign', Line>> = {};
      for (const [who, job] of jobs) {
        const res = job();
        if (!res.ok || res.lines.length === 0) {
          console.error(`compare: ${who} ${w} (round ${r + 1}) failed: ${res.err}`);
          continue;
        }
        const line = res.lines[0];
        results.get(w)![who].push(line);
        thisRound[who] = line;
        raw.push(JSON.stringify({ round: r + 1, side: who, ...line }));
        console.error(
          `round ${r + 1} ${who.padEnd(4)} ${w.padEnd(20)} ${line.ms_per_iter_median.toFixed(0).padStart(7)} ms  ` +
            `${line.gflops_at_median.toFixed(0).padStart(4)} GFLOP/s  cpu ${(line.cpu_ms_per_iter_median ?? NaN).toFixed(0)} ms  ` +
            `rss ${line.peak_rss_mb.toFixed(0)} MB  load ${line.loadavg_1m_start}`,
        );
      }
      // The ratio of the two runs made back to back (the load changes less within a round).
      if (thisRound.peer && thisRound.sign) {
        results.get(w)!.ratios.push(thisRound.sign.ms_per_iter_median / thisRound.peer.ms_per_iter_median);
      }
    }
  }
  if (jsonOut) writeFileSync(jsonOut, raw.join('\n') + '\n');

  const first = [...results.values()].flatMap((v) => v.sign)[0];
  const torchVersion = [...results.values()].flatMap((v) => v.peer)[0]?.torch;
  console.log(
    `\n${rounds} interleaved round(s), ${workloads.map((w) => `${w} ${warmupOf(w)}+${itersOf(w)}`).join(', ')} warm-up+timed iterations; sign-ts on ${first?.accel ?? backend}` +
      (workloads.some((w) => backendOf(w) !== backend) ? ` (${workloads.filter((w) => backendOf(w) !== backend).join(', ')} on ${backendTrain})` : '') +
      '; ' +
      (peerOk ? `PyTorch ${torchVersion ?? '?'} with ${threads} threads` : 'no PyTorch peer') +
      `; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.versions.node}; ` +
      `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? '(unset)'}\n`,
  );
  const loads = [...results.values()].flatMap((v) => [...v.peer, ...v.sign]).map((l) => l.loadavg_1m_start);
  console.log(
    '| workload | PyTorch ms (GFLOP/s) | sign-ts ms (GFLOP/s) | ratio (median of rounds; range) | peak RSS PyTorch / sign-ts | tensor growth |',
  );
  console.log('|---|---:|---:|---:|---|---:|');
  for (const w of workloads) {
    const { peer, sign } = results.get(w)!;
    if (sign.length === 0) continue;
    const sMs = median(sign.map((l) => l.ms_per_iter_median));
    const sG = median(sign.map((l) => l.gflops_at_median));
    const sR = Math.max(...sign.map((l) => l.peak_rss_mb));
    const growth = Math.max(...sign.map((l) => l.tensor_growth ?? 0));
    const gb = (mb: number) => (mb / 1024).toFixed(2);
    const batch = sign[0].batch;
    const label = w === 'deeplab_train_368_b8' && batch !== undefined && batch !== 8 ? `${w} (batch ${batch})` : w;
    if (peer.length === 0) {
      console.log(`| ${label} | – | ${sMs.toFixed(0)} (${sG.toFixed(0)}) | – | – / ${gb(sR)} GB | ${growth} |`);
      continue;
    }
    const pMs = median(peer.map((l) => l.ms_per_iter_median));
    const pG = median(peer.map((l) => l.gflops_at_median));
    const pR = Math.max(...peer.map((l) => l.peak_rss_mb));
    const ratios = results.get(w)!.ratios;
    const range = ratios.length > 1 ? `; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}` : '';
    console.log(
      `| ${label} | ${pMs.toFixed(0)} (${pG.toFixed(0)}) | ${sMs.toFixed(0)} (${sG.toFixed(0)}) | ${median(ratios).toFixed(2)}×${range} | ${gb(pR)} / ${gb(sR)} GB (${(sR / pR).toFixed(2)}×) | ${growth} |`,
    );
  }
  if (loads.length) {
    console.log(
      `\nLoad average (1 min) at the start of the runs: min ${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)} (idle is about 0 on this ${os.cpus().length}-CPU machine).`,
    );
  }
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
}
