/**
 * The training flow shared by `sign demo` and `sign train`: backend, signals, runExperiment with
 * progress callbacks, prediction images, and the report (written only when the run completes).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendReport } from '@sign/core';
import { NonFiniteError, RESUMABLE_KEYS, describeChanges, diffPaths, resumeChanges, totalSteps, type ExperimentConfig } from '@sign/trainer';
import { findResumeCheckpoint, listCheckpoints, loadModel, runExperiment, type RunResult } from '@sign/trainer/node';
import type { DataModule } from '@sign/datasets';
import { openData } from './data.js';
import { EXIT, UsageError } from './errors.js';
import { removeStrayTempFiles, writeFileAtomic } from '@sign/core/node';
import { acquireRunLock } from './lock.js';
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
  /** Step checkpoints to keep (default 2). */
  keep?: number;
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

/**
 * `<outDir>/run.json` (the config, command and time of the run in the folder), checked: `state`
 * when it is there and well-formed, else `problem` says what is wrong with it (missing,
 * unreadable, not JSON, not a run record).
 */
function readRunState(outDir: string): { state?: RunState; problem?: string } {
  const p = join(outDir, RUN_FILE);
  if (!existsSync(p)) return { problem: `${p} is missing` };
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    return { problem: `${p} is unreadable (${(err as Error).message.slice(0, 80)})` };
  }
  const r = v as Partial<RunState>;
  if (typeof r !== 'object' || r === null || typeof r.config !== 'object' || r.config === null || typeof r.command !== 'string' || !(Number(r.elapsedBefore) >= 0))
    return { problem: `${p} is not a run record ({ config, command, elapsedBefore })` };
  return { state: { config: r.config, command: r.command, elapsedBefore: Number(r.elapsedBefore) } };
}

export { diffPaths };

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
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) throw new UsageError(`--out: ${outDir} is a file, not a folder; give a folder for the run's files`);
  const keep = req.keep ?? 2;
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep: expected an integer >= 1, got ${keep}`);

  // --resume: run.json, the config and the checkpoint are checked before any file is touched
  const { state: previous, problem } = req.resume ? readRunState(outDir) : {};
  if (req.resume && previous) {
    const { allowed, refused } = resumeChanges(previous.config, config);
    if (refused.length > 0) {
      throw new UsageError(
        `--resume: the config differs from the run in ${outDir} at ${describeChanges(previous.config, config, refused)}; ` +
          `resume with the same flags (see ${join(outDir, RUN_FILE)}; only ${RESUMABLE_KEYS.join(', ')} may change), or start a new run with another --out`,
      );
    }
    if (allowed.length > 0) reporter.log(`warning: --resume with changed settings: ${describeChanges(previous.config, config, allowed)}`);
  } else if (req.resume && existsSync(outDir) && listCheckpoints(outDir).length > 0) {
    reporter.log(`warning: ${problem}; the config is checked against the checkpoint's instead`);
  }

  const backend = await initBackend(config.runtime.backend);
  reporter.log(describeBackend(backend));
  reporter.event('backend', { backend: backend.backend, attempts: backend.attempts });
  let resumeFrom: { path: string; step: number } | undefined;
  if (req.resume) {
    try {
      resumeFrom = await findResumeCheckpoint(outDir, config, (m) => reporter.log(m));
    } catch (err) {
      throw new UsageError(`--resume: ${(err as Error).message}`);
    }
  }
  // The data is opened (and its files checked) before anything is written: bad input fails here.
  const data = await openData(config);
  try {
    mkdirSync(outDir, { recursive: true });
    const release = acquireRunLock(outDir, req.command, (m) => reporter.log(m));
    try {
      for (const dir of [outDir, join(outDir, 'checkpoints')])
        for (const f of removeStrayTempFiles(dir)) reporter.log(`removed ${f} (left by a run that was killed while writing it)`);
      return await train(req, io, reporter, data, { t0, ckpt, previous, resumeFrom, keep });
    } finally {
      release();
    }
  } finally {
    data.dispose();
  }
}

async function train(
  req: TrainRequest,
  io: RunIo,
  reporter: Reporter,
  data: DataModule,
  ctx: { t0: number; ckpt: string; previous: RunState | undefined; resumeFrom: { path: string; step: number } | undefined; keep: number },
): Promise<number> {
  const { config, outDir } = req;
  const { t0, ckpt, previous, resumeFrom, keep } = ctx;

  const resuming = resumeFrom !== undefined;
  if (req.resume && !resuming) reporter.log(`--resume: no checkpoint in ${join(outDir, 'checkpoints')}; starting from step 0`);
  if (!req.resume) {
    // A report in outDir belongs to the latest run: a new run removes an older one before training
    // (a resumed run keeps it until its own replaces it).
    for (const f of ['report.json', 'report.md']) rmSync(join(outDir, f), { force: true });
    if (existsSync(ckpt)) reporter.log(`note: ${ckpt} exists and will be overwritten (add --resume to continue it instead)`);
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
      resume: resuming,
      resumeFrom: resumeFrom?.path,
      keep,
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
    if (err instanceof NonFiniteError) {
      const last = listCheckpoints(outDir)[0];
      throw new Error(
        `${err.message}\n  training stopped; ${last ? `the last finite checkpoint is ${last.path}${last.step !== null ? ` (step ${last.step})` : ''}` : 'no checkpoint was written'}` +
          (last ? `; after fixing the config (learning rates may change on resume) continue with:\n  ${req.resumeCommand}` : ''),
      );
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
