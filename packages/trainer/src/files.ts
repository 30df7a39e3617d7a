/**
 * The trainer's files (Node only, exported by `@sign/trainer/node`): a run's checkpoints
 * `<outDir>/checkpoints/step-<n>.safetensors` (the newest `keep` of them) and `last.safetensors`
 * (the newest, a hard link to it), written atomically by `saveTrainingState` and the
 * `checkpointing` callback (never with a non-finite value), found by `findResumeCheckpoint` and
 * read back by `loadTrainingState` to resume; and trained models read
 * from a checkpoint file (`readModel`, `loadModel`). The in-memory halves are in the main entry
 * (`withTrainingTensors`, `restoreTrainingState`, `modelFromCheckpoint`, `loadModelFromBytes`).
 */
import { closeSync, copyFileSync, existsSync, linkSync, openSync, readdirSync, readSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { findNonFiniteTensor, type Checkpoint } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import type { GzsModel } from '@sign/recipes';
import { namedTensors, toTfTensors, type PyValue } from '@sign/torch-io';
import { readPth } from '@sign/torch-io/node';
import {
  CHECKPOINT_FORMAT,
  assertFinite,
  checkResumable,
  modelFromCheckpoint,
  restoreTrainingState,
  withTrainingTensors,
  type CheckpointMeta,
  type ModelFromCheckpointOptions,
  type TrainingState,
} from './checkpoint';
import type { ExperimentConfig } from './config/schema';
import { ConfigError } from './config/validate';
import { trainedModel, type TrainedModel } from './inference';
import { scheduleAt, type Callback, type TrainState } from './loop';
import type { Optimizers } from './updates';

/**
 * Where a run's checkpoint lives.
 *
 * @example
 * checkpointPath('runs/demo') // 'runs/demo/checkpoints/last.safetensors'
 */
export function checkpointPath(outDir: string): string {
  return join(outDir, 'checkpoints', 'last.safetensors');
}

/** The checkpoint of step `step` (`<outDir>/checkpoints/step-00000120.safetensors`). */
export function stepCheckpointPath(outDir: string, step: number): string {
  return join(outDir, 'checkpoints', `step-${String(step).padStart(8, '0')}.safetensors`);
}

const STEP_FILE = /^step-(\d+)\.safetensors$/;

/**
 * A run's checkpoints, newest first: the `step-<n>` files by step, then `last.safetensors`
 * (alone in runs written before step files). Paths only; nothing is read.
 *
 * @example
 * listCheckpoints('runs/a') // [{ path: 'runs/a/checkpoints/step-00000120.safetensors', step: 120 }, …, { path: '…/last.safetensors', step: null }]
 */
export function listCheckpoints(outDir: string): { path: string; step: number | null }[] {
  const dir = join(outDir, 'checkpoints');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const steps = names
    .map((n) => STEP_FILE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ path: join(dir, m[0]), step: Number(m[1]) }))
    .sort((a, b) => b.step - a.step);
  return names.includes('last.safetensors') ? [...steps, { path: checkpointPath(outDir), step: null }] : steps;
}

/**
 * Writes the checkpoint of `step` with `write(path)` (an atomic write) as `step-<n>.safetensors`,
 * points `last.safetensors` at it (a hard link renamed into place; a copy where links fail), and
 * deletes all but the newest `keep` step files. Killed at any moment, the folder holds the older
 * checkpoints intact and at most one new file. Returns the path of `last.safetensors`.
 *
 * @example
 * const last = await writeCheckpointFiles('runs/a', 120, 2, (file) => saveTrainingState(file, state));
 */
export async function writeCheckpointFiles(outDir: string, step: number, keep: number, write: (path: string) => Promise<void>): Promise<string> {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep: expected an integer >= 1, got ${keep}`);
  const file = stepCheckpointPath(outDir, step);
  await write(file);
  const last = checkpointPath(outDir);
  const tmp = `${last}.tmp-${process.pid}-link`;
  rmSync(tmp, { force: true });
  try {
    linkSync(file, tmp);
  } catch {
    copyFileSync(file, tmp);
  }
  renameSync(tmp, last);
  for (const old of listCheckpoints(outDir).filter((c) => c.step !== null).slice(keep)) rmSync(old.path, { force: true });
  return last;
}

/**
 * Saves model, teacher and optimizer state atomically to `path` (see `withTrainingTensors` for
 * what is in it). A state with a NaN or ±Infinity is not written (an error naming the tensor):
 * the last finite checkpoint stays.
 *
 * @example
 * await saveTrainingState('runs/a/checkpoints/last.safetensors', { config, model, teacher: null, optimizers, dataset, step, total, phase: 'step1' });
 */
export async function saveTrainingState(path: string, s: TrainingState): Promise<void> {
  await withTrainingTensors(s, async (tensors, meta) => {
    await assertFinite(tensors, `checkpoint ${path} not written (step ${s.step})`);
    await saveCheckpoint(path, tensors, meta);
  });
}

/**
 * Restores a run from its checkpoint file into `model` and `optimizers` (created for the same
 * config), and returns the step, the teacher (rebuilt when the checkpoint has one) and the time
 * trained. Refuses non-finite values and a checkpoint whose stored config differs outside
 * `RESUMABLE_KEYS` (allowed differences are logged through `s.log` as warnings).
 *
 * @example
 * const { step, teacher } = await loadTrainingState(checkpointPath('runs/a'), { config, model, optimizers });
 */
export async function loadTrainingState(
  path: string,
  s: { config: ExperimentConfig; model: GzsModel; optimizers: Optimizers; log?: (message: string) => void },
): Promise<{ step: number; teacher: GzsModel | null; trainSeconds: number }> {
  const checkpoint = await readCheckpointFile(path, { requireFinite: true });
  try {
    return restoreTrainingState(checkpoint, s, path);
  } finally {
    tf.dispose(Object.values(checkpoint.tensors));
  }
}

/**
 * The newest checkpoint of `outDir` a run with `config` can resume from: each of
 * {@link listCheckpoints} is loaded and checked (checksums, finite values, the stored config, the
 * changes to it) until one passes; one that fails is skipped with a warning through `log`.
 * `undefined` when the folder has no checkpoint; an error listing every file's problem when none
 * passes. Writes nothing.
 *
 * @example
 * const found = await findResumeCheckpoint('runs/a', config, console.warn); // { path, step } | undefined
 */
export async function findResumeCheckpoint(
  outDir: string,
  config: ExperimentConfig,
  log?: (message: string) => void,
): Promise<{ path: string; step: number } | undefined> {
  const candidates = listCheckpoints(outDir);
  if (candidates.length === 0) return undefined;
  const problems: string[] = [];
  let configError: ConfigError | undefined;
  for (const c of candidates) {
    try {
      const { tensors, metadata } = await readCheckpointFile(c.path, { requireFinite: true });
      tf.dispose(Object.values(tensors));
      const { step } = checkResumable(c.path, metadata, config, log);
      if (problems.length > 0) log?.(`warning: resuming from the older checkpoint ${c.path} (step ${step})`);
      return { path: c.path, step };
    } catch (err) {
      if (err instanceof ConfigError && !configError) configError = err;
      problems.push((err as Error).message);
      log?.(`warning: cannot resume from ${c.path}: ${(err as Error).message}`);
    }
  }
  // the newest file's config problem is the user's to fix (the files are fine): say it as it is
  if (configError && problems.length === 1) throw configError;
  throw new ConfigError(problems, `${join(outDir, 'checkpoints')}: no checkpoint to resume from`, 'file');
}

/** What {@link readCheckpointFile} read: a decoded checkpoint and which kind of file it was. */
export interface CheckpointFile extends Checkpoint {
  /** `'safetensors'` or `'pth'` (PyTorch, zip or legacy format; `metadata` is then `{}`). */
  kind: 'safetensors' | 'pth';
}

/** Whether a file is a PyTorch checkpoint: by its extension (.pth, .pt), else by its first bytes (zip or pickle). */
function isPthFile(path: string): boolean {
  if (/\.(pth|pt)$/i.test(path)) return true;
  if (/\.safetensors$/i.test(path)) return false;
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(4);
      readSync(fd, b, 0, 4, 0);
      return (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04) || (b[0] === 0x80 && b[1] >= 2 && b[1] <= 5);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * Reads a checkpoint file, whatever wrote it: safetensors through @sign/core's `loadCheckpoint`
 * (checked against its size and checksums), or a PyTorch `.pth` through @sign/torch-io (its
 * restricted unpickler: a global other than what `torch.save` writes is refused by name, nothing
 * from the file runs; a dict with a `state_dict` gives that, its optimizer states are left out).
 * `requireFinite` refuses NaN / ±Inf, naming the tensor. Every error names the file. The one
 * reading step under every `--checkpoint` (`readModel`, `loadModel`, `loadTrainingState`,
 * `evaluateCheckpoint`).
 *
 * @example
 * const { tensors, metadata, kind } = await readCheckpointFile('voc12.pth'); // kind 'pth', tensors 'back.scale.layer1.conv1.conv.weight', …
 * tf.dispose(Object.values(tensors));
 */
export async function readCheckpointFile(path: string, opts: { requireFinite?: boolean } = {}): Promise<CheckpointFile> {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  if (!isPthFile(path)) return { ...(await loadCheckpoint(path, opts.requireFinite ? { requireFinite: true } : {})), kind: 'safetensors' };
  const root = (await readPth(path)).value;
  // Map, not PyDict: PyDict extends Map, and a Map is a Map whichever copy of torch-io made it
  const part = root instanceof Map && root.get('state_dict') instanceof Map ? (root.get('state_dict') as PyValue) : root;
  const { tensors: torch } = namedTensors(part, { source: path });
  if (Object.keys(torch).length === 0) throw new Error(`${path}: holds no tensors`);
  const tensors = toTfTensors(torch, path);
  if (opts.requireFinite) {
    const bad = await findNonFiniteTensor(tensors);
    if (bad) {
      tf.dispose(Object.values(tensors));
      throw new Error(`${path}: tensor '${bad.name}' has ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (first: ${bad.value} at index ${bad.index})`);
    }
  }
  return { tensors, metadata: {}, kind: 'pth' } as CheckpointFile;
}

/** Options of {@link readModel} / {@link loadModel}: a config for a SIGN release checkpoint, and the finite check. */
export interface ReadModelOptions extends ModelFromCheckpointOptions {
  /** Refuse non-finite weights, naming the tensor (default true; false only to inspect a broken file). */
  requireFinite?: boolean;
}

/**
 * Rebuilds the trained model of a checkpoint file (the backend must be initialised): the
 * trainer's checkpoints with the config, class table and dataset metadata they record, or a SIGN
 * release checkpoint (`.pth` as released, or its `sign import`ed safetensors) with `opts.config`
 * for its dataset (see `modelFromCheckpoint`).
 *
 * @example
 * const { model, meta } = await readModel('runs/demo/checkpoints/last.safetensors');
 * console.log(meta.classes.classNames); model.dispose();
 * const release = await readModel('voc12.pth', { config: preset }); // release.meta.format 'sign-release'
 */
export async function readModel(path: string, opts: ReadModelOptions = {}): Promise<{ model: GzsModel; meta: CheckpointMeta }> {
  const checkpoint = await readCheckpointFile(path, { requireFinite: opts.requireFinite ?? true });
  try {
    return await modelFromCheckpoint(checkpoint, path, opts);
  } finally {
    tf.dispose(Object.values(checkpoint.tensors));
  }
}

/**
 * Loads a trained model from a checkpoint file (the backend must already be initialised): the
 * trainer's, or a SIGN release checkpoint with `opts.config`. From bytes (browsers):
 * `loadModelFromBytes` of the main entry.
 *
 * @example
 * const m = await loadModel('runs/demo/checkpoints/last.safetensors');
 * const { labels } = await m.predict({ images, n: 1, height: 64, width: 64 }); // labels [64·64]
 * m.dispose();
 */
export async function loadModel(checkpointPath: string, opts: ReadModelOptions = {}): Promise<TrainedModel> {
  const { model, meta } = await readModel(checkpointPath, opts);
  return trainedModel(model, meta);
}

/**
 * Writes a checkpoint (atomically) every `every` steps (0: never in between), when the run is
 * interrupted, and after the last step: `<outDir>/checkpoints/step-<n>.safetensors`, the newest
 * `keep` of them kept (default 2), and `last.safetensors` = the newest; reports the path of
 * `last.safetensors` through `onCheckpoint`. A state with a non-finite value is not written.
 *
 * @example
 * callbacks: [checkpointing({ outDir: 'runs/a', every: 100, keep: 3 })]
 */
export function checkpointing(opts: { outDir: string; every: number; keep?: number }): Callback {
  const keep = opts.keep ?? 2;
  const save = async (s: TrainState) => {
    const path = await writeCheckpointFiles(opts.outDir, s.step, keep, (file) =>
      saveTrainingState(file, {
        config: s.config,
        model: s.model,
        teacher: s.teacher,
        optimizers: s.optimizers,
        dataset: s.data.meta,
        step: s.step,
        total: s.total,
        phase: s.step < s.total ? scheduleAt(s.config, s.step).phase : 'done',
        extra: { trainSeconds: s.secondsBefore + (Date.now() - s.startedAt) / 1000 },
      }),
    );
    s.reportCheckpoint(path);
  };
  return {
    onStepEnd: async (s) => {
      if (opts.every > 0 && s.step % opts.every === 0 && s.step < s.total) await save(s);
    },
    onInterrupt: save,
    onFitEnd: save,
  };
}

/**
 * Writes a trained model (e.g. one returned by `addClass`) as a checkpoint that `loadModel`,
 * `evaluateCheckpoint`, `sign eval` and `sign predict` read: the network, the class table and
 * embeddings, the config and dataset metadata, and `added` (the classes added after training).
 * Atomic; never with a non-finite value; no optimizer state (it cannot be resumed).
 *
 * @example
 * const bigger = await addClass(await loadModel('runs/demo/checkpoints/last.safetensors'), 'bag', vector);
 * await saveModel('runs/demo-bag.safetensors', bigger);
 */
export async function saveModel(path: string, m: TrainedModel, extra: Record<string, unknown> = {}): Promise<void> {
  const net = m.net;
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(net.stateDict())) tensors[`model.${k}`] = v;
  const c = net.classes;
  const emb = tf.tensor2d(c.embeddings, [net.numClasses, c.embeddingDim]);
  tensors['classes.embeddings'] = emb;
  const meta: CheckpointMeta = {
    ...extra,
    format: CHECKPOINT_FORMAT,
    step: 0,
    total: 0,
    phase: 'trained',
    config: m.config,
    classes: { classNames: c.classNames, seen: c.seen, unseen: c.unseen, background: c.background },
    dataset: m.dataset,
    optimizers: {},
    added: m.added,
  };
  try {
    await assertFinite(tensors, `model ${path} not written`);
    await saveCheckpoint(path, tensors, meta);
  } finally {
    emb.dispose();
  }
}
