/**
 * `pnpm ablation`: runs the ablation matrix (3 seeds × the faithful recipes {zs3net, cagnet,
 * sign} × {no self-training, AST} × {outfit, random}, a fully supervised upper bound,
 * random/permuted embedding controls of every recipe, the paper's two ablations: the SIM's
 * positional encoding {relative, absolute, none} and self-training {top-p (discard), AST T = 0,
 * T = 5, annealed}, embedding sources, calibrated stacking) as `sign` child processes and writes
 * docs/RESULTS.md with mean ± std and the exact commands.
 *
 * Resumable: each entry caches its report.json in runs/ablation/<budget>/<id>/; finished entries
 * are skipped, an interrupted one continues from its checkpoint (--resume). A cached entry whose
 * config is no longer what its command produces (changed defaults) is moved to <id>.stale and
 * run again. RESULTS.md is rewritten after every entry from whatever has finished.
 *
 *   pnpm ablation [--budget quick|demo] [--only <groups or id parts, comma-separated>]
 *                 [--seeds 0,1,2] [--gammas 0.5,1,2] [--draws 3] [--results docs/RESULTS.md]
 *                 [--dry-run] [--rerun] [--report-only]
 *
 * --report-only writes RESULTS.md from the cached reports and runs nothing.
 *
 * Run it with the @sign/* sources mapped (the root script does):
 *   tsx --tsconfig apps/reference/tsconfig.source.json apps/reference/scripts/ablation.ts
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import type { ExperimentConfig } from '@sign/trainer';
import { DEMO_OPTIONS, parseCommand } from '../src/args';
import { demoConfig } from '../src/configs';
import { diffPaths } from '../src/run';
import { DEFAULT_PLAN, buildPlan, commandOf, filterPlan, relevantConfig, resultsMarkdown, type Budget, type Entry, type Metrics } from './ablation-plan';

const here = dirname(fileURLToPath(import.meta.url));
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
  throw err;
});
const repo = resolve(here, '../../..');
const signBin = join(repo, 'apps/reference/bin/sign.js');

function writeAtomic(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function numbers(s: string, name: string): number[] {
  const parts = s.split(',').map((x) => x.trim());
  const out = parts.map(Number);
  if (parts.some((x) => x === '') || out.some((x) => !Number.isFinite(x))) throw new Error(`--${name}: expected numbers, comma-separated, got '${s}'`);
  return out;
}

function readJson(path: string): any {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The commit the code runs at (with '+dirty' when packages/ or apps/ have uncommitted changes). */
function codeVersion(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages', 'apps'], { cwd: repo, encoding: 'utf8' }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

/** The config a training entry's command produces now (the same parsing as `sign demo`). */
function expectedConfig(args: string[]): ExperimentConfig {
  const [command, ...rest] = args;
  if (command !== 'demo') throw new Error(`ablation entries run 'sign demo', not '${command}'`);
  return demoConfig(parseCommand('demo', rest, DEMO_OPTIONS).flags);
}

/** The ZSL summary of a run: its own zsl.json, or the one `sign eval` wrote into <run>/eval/. */
function zslFile(dir: string): string | undefined {
  return [join(dir, 'zsl.json'), join(dir, 'eval', 'zsl.json')].find((f) => existsSync(f));
}

function readMetrics(path: string): Metrics | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8'));
    const m: Metrics = { mIoUSeen: r.mIoUSeen, mIoUUnseen: r.mIoUUnseen, hIoU: r.hIoU, seconds: r.seconds, backend: r.backend };
    const zf = zslFile(dirname(path));
    const z = zf ? readJson(zf) : undefined;
    if (z && typeof z.pixelAccuracy === 'number') m.zslAccuracy = z.pixelAccuracy;
    if (z && typeof z.mIoU === 'number') m.zslMIoU = z.mIoU;
    return m;
  } catch {
    return undefined;
  }
}

/**
 * Runs written before `sign` wrote zsl.json get it from `sign eval` on their checkpoint (into
 * <run>/eval/, seconds); the re-evaluation must reproduce the run's own GZS3 numbers.
 */
function backfillZsl(dir: string, tag: string): boolean {
  const ckpt = join(dir, 'checkpoints/last.safetensors');
  if (zslFile(dir) || !existsSync(ckpt)) return false;
  const out = join(dir, 'eval');
  process.stderr.write(`${tag}: evaluating the unseen classes alone (ZSL) on its checkpoint\n`);
  try {
    execFileSync(process.execPath, [signBin, 'eval', '--checkpoint', ckpt, '--out', out, '--json'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    process.stderr.write(`${tag}: sign eval failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().slice(-300)}\n`);
    return false;
  }
  const a = readJson(join(dir, 'report.json'));
  const b = readJson(join(out, 'report.json'));
  if (a && b && Math.abs(a.hIoU - b.hIoU) > 1e-3) {
    process.stderr.write(`${tag}: warning: re-evaluation gives hIoU ${b.hIoU}, the run reported ${a.hIoU}\n`);
  }
  return true;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    strict: true,
    options: {
      budget: { type: 'string', default: 'quick' },
      only: { type: 'string' },
      seeds: { type: 'string' },
      gammas: { type: 'string' },
      draws: { type: 'string' },
      temperatures: { type: 'string' },
      results: { type: 'string', default: join(repo, 'docs/RESULTS.md') },
      root: { type: 'string', default: join(repo, 'runs/ablation') },
      'dry-run': { type: 'boolean' },
      'report-only': { type: 'boolean' },
      rerun: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^\/\*\*?|^ \* ?/gm, ''));
    return 0;
  }
  const budget = values.budget as Budget;
  // As typed, minus options that only say where files go.
  const argvShown = process.argv.slice(2).filter((a) => a !== '--');
  for (const opt of ['--results', '--root']) {
    const i = argvShown.indexOf(opt);
    if (i >= 0) argvShown.splice(i, 2);
  }
  if (!argvShown.includes('--budget')) argvShown.unshift('--budget', budget);
  if (budget !== 'quick' && budget !== 'demo') throw new Error(`--budget: unknown value '${budget}' (valid: 'quick' or 'demo')`);
  const opts = {
    budget,
    seeds: values.seeds ? numbers(values.seeds, 'seeds') : DEFAULT_PLAN.seeds,
    gammas: values.gammas ? numbers(values.gammas, 'gammas') : DEFAULT_PLAN.gammas,
    controlDraws: values.draws ? numbers(values.draws, 'draws')[0] : DEFAULT_PLAN.controlDraws,
    temperatures:
      values.temperatures === undefined ? DEFAULT_PLAN.temperatures : values.temperatures.trim() === '' ? [] : numbers(values.temperatures, 'temperatures'),
    anneal: DEFAULT_PLAN.anneal,
    topP: DEFAULT_PLAN.topP,
  };
  const fullPlan = buildPlan(opts);
  const plan = filterPlan(fullPlan, values.only);
  if (plan.length === 0)
    throw new Error(`--only '${values.only}' matches no entry (groups: main, supervised, control, temperature, positional, self-training, embeddings, calibration; or parts of ids like sign-ast, s0)`);
  const root = resolve(values.root!, budget);
  const runDir = (id: string) => join(root, id);
  const relDir = (id: string) => join('runs/ablation', budget, id);
  const results = new Map<string, Metrics>();
  const failures = new Map<string, string>();
  const version = codeVersion();
  const machine = `${cpus().length} × ${cpus()[0]?.model?.trim() ?? 'cpu'}, Node ${process.version}`;
  const defaults = demoConfig({});
  const unseenCount = defaults.data.unseen.length;
  const defaultTemperature = defaults.selfTraining.type === 'ast' ? defaults.selfTraining.temperature : undefined;
  /** The config an entry's command produces now (an evaluation: its run's, with its gamma). */
  const expectedFor = (e: Entry): ExperimentConfig => {
    if (e.kind === 'train') return expectedConfig(e.args);
    const base = fullPlan.find((x) => x.id === e.of);
    if (!base || base.kind !== 'train') throw new Error(`no training entry ${e.of}`);
    const b = expectedConfig(base.args);
    return { ...b, eval: { ...b.eval, calibrate: e.gamma } };
  };
  /** The config keys (that a run reads) where `cfg` differs from `expected`. */
  const configDiff = (cfg: unknown, expected: ExperimentConfig) => diffPaths(relevantConfig(cfg), relevantConfig(expected));
  /** Whether a cached report was made with the config the entry's command produces now. */
  const isCurrent = (e: Entry, report: string): boolean => {
    try {
      return configDiff(readJson(report)?.config, expectedFor(e)).length === 0;
    } catch {
      return false;
    }
  };
  const writeResults = () => {
    // RESULTS.md always describes the whole matrix (all entries with cached reports made with the
    // current configs), not only --only; a report from another config (changed defaults) is left out.
    const codes = new Map<string, number>();
    for (const e of fullPlan) {
      const report = join(runDir(e.id), 'report.json');
      const m = isCurrent(e, report) ? readMetrics(report) : undefined;
      if (m) results.set(e.id, m);
      else results.delete(e.id);
      const c = readJson(join(runDir(e.id), 'ablation.json'))?.code;
      if (m && c) codes.set(c, (codes.get(c) ?? 0) + 1);
    }
    const code = [...codes].map(([c, n]) => `${c} (${n} entries)`).join(', ') || version;
    writeAtomic(
      values.results!,
      resultsMarkdown({ budget, plan: fullPlan, results, failures, runDir: relDir, machine, date: new Date().toISOString().slice(0, 10), argv: argvShown, code, unseenCount, defaultTemperature }),
    );
  };

  if (values['dry-run']) {
    for (const e of plan) {
      const report = join(runDir(e.id), 'report.json');
      const cached = existsSync(report) ? (isCurrent(e, report) ? '   # cached' : '   # cached with another config: runs again') : '';
      process.stdout.write(`${commandOf(e, relDir)}${cached}\n`);
    }
    return 0;
  }

  if (values['report-only']) {
    // rewrite RESULTS.md from the cached reports (e.g. after several ablations ran side by side);
    // finished runs without a ZSL summary get one from their checkpoint (evaluation only)
    for (const e of fullPlan) if (e.kind === 'train' && isCurrent(e, join(runDir(e.id), 'report.json'))) backfillZsl(runDir(e.id), e.id);
    writeResults();
    process.stdout.write(`results: ${values.results}\n`);
    return 0;
  }

  let child: ReturnType<typeof spawn> | undefined;
  let stopping = false;
  let signals = 0;
  let lastSignal = 0;
  // The child runs in its own process group, so a terminal's Ctrl-C reaches it only through
  // here, exactly once per press. The same press can arrive twice (pnpm and tsx relay it):
  // repeats within a second are ignored. The script never exits before its child: the child
  // writes its checkpoint and exits, then RESULTS.md is written.
  const onSignal = (sig: NodeJS.Signals) => {
    const now = Date.now();
    if (now - lastSignal < 1000) return;
    lastSignal = now;
    signals++;
    stopping = true;
    process.stderr.write(
      signals === 1
        ? `\n${sig}: stopping the current run (it writes a checkpoint); rerun the same command to resume\n`
        : `\n${sig} again: the current run stops without waiting for its checkpoint\n`,
    );
    if (child?.pid) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let i = 0;
  for (const e of plan) {
    i++;
    if (stopping) break;
    const dir = runDir(e.id);
    const report = join(dir, 'report.json');
    const tag = `[${i}/${plan.length}] ${e.id}`;
    let expected: ExperimentConfig;
    try {
      expected = expectedFor(e);
    } catch (err) {
      failures.set(e.id, (err as Error).message);
      process.stderr.write(`${tag}: cannot run: ${(err as Error).message}\n`);
      continue;
    }
    const moveAside = (why: string) => {
      if (!existsSync(dir)) return;
      if (e.kind === 'eval') {
        rmSync(dir, { recursive: true, force: true });
        process.stderr.write(`${tag}: ${why}; evaluating again\n`);
        return;
      }
      const to = `${dir}.stale`;
      rmSync(to, { recursive: true, force: true });
      renameSync(dir, to);
      process.stderr.write(`${tag}: ${why}; moved to ${to} and run again\n`);
    };
    if (values.rerun) moveAside('--rerun');
    const cached = readJson(report);
    const started = readJson(join(dir, 'run.json'));
    const changed = (cfg: unknown) => configDiff(cfg, expected);
    if (cached) {
      const diff = changed(cached.config);
      if (diff.length === 0) {
        process.stderr.write(`${tag}: cached\n`);
        if (e.kind === 'train' && backfillZsl(dir, tag)) writeResults();
        continue;
      }
      moveAside(`the cached run has another config (${diff.slice(0, 5).join(', ')}${diff.length > 5 ? ', …' : ''})`);
    } else if (e.kind === 'train' && started && changed(started.config).length > 0) {
      moveAside(`the interrupted run has another config (${changed(started.config).slice(0, 5).join(', ')})`);
    }
    let args: string[];
    if (e.kind === 'train') {
      const resume = existsSync(join(dir, 'checkpoints/last.safetensors'));
      args = [...e.args, '--out', dir, '--json', ...(resume ? ['--resume'] : [])];
    } else {
      const ckpt = join(runDir(e.of), 'checkpoints/last.safetensors');
      if (!existsSync(join(runDir(e.of), 'report.json')) || !existsSync(ckpt)) {
        process.stderr.write(`${tag}: skipped (${e.of} has not finished)\n`);
        continue;
      }
      args = ['eval', '--checkpoint', ckpt, '--calibrate', String(e.gamma), '--out', dir, '--json'];
    }
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`${tag}: ${commandOf(e, relDir)}\n`);
    const t0 = Date.now();
    const log = createWriteStream(join(dir, 'events.jsonl'), { flags: 'a' });
    const errLog = createWriteStream(join(dir, 'stderr.log'), { flags: 'a' });
    const code = await new Promise<number>((res) => {
      child = spawn(process.execPath, [signBin, ...args], { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let buf = '';
      let lastShown = 0;
      child.stdout!.on('data', (d: Buffer) => {
        log.write(d);
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            const ev = JSON.parse(line);
            if (ev.event === 'step' && Date.now() - lastShown > 15_000) {
              lastShown = Date.now();
              process.stderr.write(`    ${ev.phase} ${ev.step}/${ev.total} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
            }
          } catch {
            /* not JSON: ignore */
          }
        }
      });
      let tail = '';
      child.stderr!.on('data', (d: Buffer) => {
        errLog.write(d);
        tail = (tail + d.toString()).slice(-2000);
      });
      child.on('close', (c, sig) => {
        if (c !== 0 && c !== 130) failures.set(e.id, tail.trim().split('\n').slice(-3).join(' ') || `exit ${c ?? sig}`);
        res(c ?? 1);
      });
    });
    log.end();
    errLog.end();
    child = undefined;
    const m = readMetrics(report);
    if (m) {
      failures.delete(e.id);
      writeAtomic(
        join(dir, 'ablation.json'),
        `${JSON.stringify({ code: version, command: commandOf(e, relDir), finished: new Date().toISOString() }, null, 2)}\n`,
      );
      process.stderr.write(
        `    done in ${((Date.now() - t0) / 1000).toFixed(0)} s: mIoU(S) ${m.mIoUSeen.toFixed(1)} · mIoU(U) ${m.mIoUUnseen.toFixed(1)} · hIoU ${m.hIoU.toFixed(1)}\n`,
      );
    } else if (code === 130 || stopping) {
      process.stderr.write(`    interrupted; rerun to resume\n`);
      break;
    } else {
      process.stderr.write(`    FAILED (exit ${code}): ${failures.get(e.id) ?? ''}\n`);
    }
    writeResults();
  }
  writeResults();
  process.stderr.write(`results: ${values.results}\n`);
  return stopping ? 130 : failures.size > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`ablation: ${(err as Error).message}\n`);
    process.exitCode = 2;
  },
);
