/**
 * The training flow shared by `sign demo` and `sign train`: backend, signals, runExperiment with
 * progress callbacks, prediction images, and the report (written only when the run completes).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendReport } from '@sign/core';
import { totalSteps, type ExperimentConfig } from '@sign/trainer';
import { loadModel, runExperiment, type RunResult } from '@sign/trainer/node';
import type { DataModule } from '@sign/datasets';
import { openData } from './data.js';
import { EXIT, UsageError } from './errors.js';
import { writeFileAtomic } from '@sign/core/node';
import type { Reporter, TextSink } from './progress.js';
import { buildReport, formatMarkdown, formatTable, protocolNotes, protocolSummary, writeReport, writeZsl, type ReportImage, type ReportSample } from './report.js';
import { writeSamples } from './samples.js';

export interface RunIo {
  stdout: TextSink;
  stderr: TextSink;
  /** Install SIGINT/SIGTERM handlers that abort the run gracefully (the CLI does; tests may not). */
  handleSignals: boolean;
}

export interface TrainRequest {
  config: ExperimentConfig;
  outDir: string;
  resume: boolean;
  /** Title of report.md. */
  title: string;
  /** The command line that started this run, for the report and the resume hint. */
  command: string;
  /** The same command with --resume. */
  resumeCommand: string;
  /** `--max-steps`: stop after this many steps in all (the schedule stays the config's). */
  maxSteps?: number;
}

/** `<outDir>/checkpoints/last.safetensors`, where the trainer keeps the latest checkpoint. */
export function checkpointPath(outDir: string): string {
  return join(outDir, 'checkpoints', 'last.safetensors');
}

interface RunState {
  config: ExperimentConfig;
  command: string;
  /** Seconds spent by earlier invocations that stopped gracefully. */
  elapsedBefore: number;
}

const RUN_FILE = 'run.json';

function readRunState(outDir: string): RunState | undefined {
  const p = join(outDir, RUN_FILE);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

/** Dotted paths where two JSON values differ. */
export function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffPaths((a as any)[k], (b as any)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path || '(root)'];
}

/** Config keys that may change between an interrupted run and its resumption. */
const RESUMABLE_CHANGES = new Set<string>(); // none: the trainer refuses a checkpoint written by another config

function describeBackend(b: BackendReport): string {
  const short = (r = '') => (/not installed|Cannot find package/.test(r) ? 'not installed' : r.slice(0, 80));
  const skipped = b.attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${short(a.reason)}`);
  const note = b.attempts.find((a) => a.ok)?.reason;
  return `backend: ${b.backend}${note ? ` (${note})` : ''}${skipped.length ? ` · skipped ${skipped.join('; ')}` : ''}`;
}

function isAbort(err: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (err instanceof Error && err.name === 'AbortError');
}

/** Runs the experiment and writes the report; returns the exit code. */
export async function trainAndReport(req: TrainRequest, io: RunIo, reporter: Reporter): Promise<number> {
  const { config, outDir } = req;
  const t0 = Date.now();
  const ckpt = checkpointPath(outDir);
  const previous = readRunState(outDir);

  if (req.resume && previous) {
    const changed = diffPaths(previous.config, config).filter((p) => !RESUMABLE_CHANGES.has(p));
    if (changed.length > 0) {
      throw new UsageError(
        `--resume: the config differs from the run in ${outDir} at ${changed.join(', ')}; ` +
          `resume with the same flags (see ${join(outDir, RUN_FILE)}), or start a new run with another --out`,
      );
    }
  }

  const backend = await initBackend(config.runtime.backend);
  reporter.log(describeBackend(backend));
  reporter.event('backend', { backend: backend.backend, attempts: backend.attempts });
  // The data is opened (and its files checked) before anything is written: bad input fails here.
  const data = await openData(config);
  try {
    return await train(req, io, reporter, data, { t0, ckpt, previous });
  } finally {
    data.dispose();
  }
}

async function train(
  req: TrainRequest,
  io: RunIo,
  reporter: Reporter,
  data: DataModule,
  ctx: { t0: number; ckpt: string; previous: RunState | undefined },
): Promise<number> {
  const { config, outDir } = req;
  const { t0, ckpt, previous } = ctx;

  mkdirSync(outDir, { recursive: true });
  // A report in outDir always belongs to the latest run: remove an older one before training.
  for (const f of ['report.json', 'report.md']) rmSync(join(outDir, f), { force: true });
  const resuming = req.resume && existsSync(ckpt);
  if (req.resume && !resuming) reporter.log(`--resume: no checkpoint at ${ckpt}; starting from step 0`);
  if (!req.resume && existsSync(ckpt)) {
    reporter.log(`note: ${ckpt} exists and will be overwritten (add --resume to continue it instead)`);
  }
  const elapsedBefore = resuming && previous ? previous.elapsedBefore : 0;
  const saveState = (extra: number) =>
    writeFileAtomic(
      join(outDir, RUN_FILE),
      `${JSON.stringify({ config, command: req.command, elapsedBefore: elapsedBefore + extra } satisfies RunState, null, 2)}\n`,
    );
  saveState(0);

  const total = totalSteps(config);
  const control = (config.data as { control?: string }).control;
  reporter.log(
    `${config.name}: ${config.data.type}, unseen ${config.data.unseen.join(', ')} · recipe ${config.model.type} · ` +
      `self-training ${config.selfTraining.type}${control && control !== 'none' ? ` · control ${control}` : ''} · seed ${config.seed} · ` +
      `${total} steps${req.maxSteps !== undefined && req.maxSteps < total ? ` (stopping at ${req.maxSteps}: --max-steps)` : ''}${resuming ? ' · resuming' : ''} → ${outDir}`,
  );

  const ac = new AbortController();
  let signals = 0;
  let lastSignal = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // One key press can arrive twice when a wrapper relays it (tsx, some task runners).
    const now = Date.now();
    if (now - lastSignal < 500) return;
    lastSignal = now;
    signals++;
    if (signals > 1) {
      reporter.finish();
      io.stderr.write(`\n${sig} again: quitting without waiting for the checkpoint\n`);
      process.exit(EXIT.interrupted);
    }
    reporter.log(`\n${sig}: stopping after the current step and writing a checkpoint (press Ctrl-C again to quit at once)`);
    ac.abort();
  };
  if (io.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  let result: RunResult;
  try {
    result = await runExperiment(config, {
      outDir,
      data,
      resume: req.resume,
      signal: ac.signal,
      skipBackendInit: true,
      ...(req.maxSteps !== undefined ? { maxSteps: req.maxSteps } : {}),
      callbacks: [
        {
          onStepEnd: (_s, e) => reporter.step(e),
          onEvaluation: (e) => reporter.evaluation(e),
          onLog: (m) => reporter.log(m),
          onCheckpoint: (p) => reporter.checkpoint(p),
        },
      ],
    });
  } catch (err) {
    reporter.finish();
    if (isAbort(err, ac.signal)) {
      saveState((Date.now() - t0) / 1000);
      const at = reporter.lastStep ? ` at step ${reporter.lastStep.step}/${reporter.lastStep.total}` : '';
      const saved = existsSync(ckpt) ? ckpt : reporter.lastCheckpoint;
      reporter.event('interrupted', { step: reporter.lastStep?.step ?? 0, checkpoint: saved ?? null, resume: req.resumeCommand });
      reporter.log(`Interrupted${at}. ${saved ? `Checkpoint: ${saved}` : 'No checkpoint was written yet.'}`);
      reporter.log(`To continue, run the same command with --resume:\n  ${req.resumeCommand}`);
      return EXIT.interrupted;
    }
    throw err;
  } finally {
    if (io.handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
  reporter.finish();

  let samples: ReportSample[] = [];
  let legend: ReportImage | undefined;
  const notes: string[] = [];
  try {
    const model = await loadModel(result.checkpoint);
    try {
      ({ samples, legend } = await writeSamples(model, config, outDir, { count: 4, data }));
    } finally {
      model.dispose();
    }
  } catch (err) {
    const msg = `prediction images skipped: ${(err as Error).message}`;
    reporter.log(`warning: ${msg}`);
    notes.push(msg);
  }
  notes.push(`checkpoint: ${result.checkpoint}`);

  const report = buildReport({
    metrics: result.metrics,
    perClassIoU: result.perClassIoU,
    seen: result.seen,
    unseen: result.unseen,
    backend: result.backend,
    seconds: elapsedBefore + (Date.now() - t0) / 1000,
    // with the release's protocol, both protocols' scores go into config.protocol (report.json keeps its 11 keys)
    config: result.protocols.release ? { ...config, protocol: protocolSummary(result.protocol, result.protocols) } : config,
  });
  if (result.protocols.release) notes.push(...protocolNotes(result.protocol, result.protocols));
  const md = formatMarkdown(report, { title: req.title, command: req.command, samples, legend, notes, zsl: result.zsl });
  const zslFile = writeZsl(outDir, result.zsl);
  const files = writeReport(outDir, report, md);
  if (reporter.mode === 'json') {
    reporter.event('report', { report, zsl: result.zsl, files: { ...files, zsl: zslFile, checkpoint: result.checkpoint } });
  } else {
    io.stdout.write(`\n${formatTable(report, `${config.name} · ${outDir}`, result.zsl)}`);
    io.stderr.write(`report: ${files.md} · ${files.json}\n`);
  }
  return EXIT.ok;
}
