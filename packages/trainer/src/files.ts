/**
 * The trainer's files (Node only, exported by `@sign/trainer/node`): a run's checkpoint
 * `<outDir>/checkpoints/last.safetensors` (written atomically by `saveTrainingState` and the
 * `checkpointing` callback, read back by `loadTrainingState` to resume), and trained models read
 * from a checkpoint file (`readModel`, `loadModel`). The in-memory halves are in the main entry
 * (`withTrainingTensors`, `restoreTrainingState`, `modelFromCheckpoint`, `loadModelFromBytes`).
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { findNonFiniteTensor, type Checkpoint } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import type { GzsModel } from '@sign/recipes';
import { namedTensors, toTfTensors, type PyValue } from '@sign/torch-io';
import { readPth } from '@sign/torch-io/node';
import {
  CHECKPOINT_FORMAT,
  modelFromCheckpoint,
  restoreTrainingState,
  withTrainingTensors,
  type CheckpointMeta,
  type ModelFromCheckpointOptions,
  type TrainingState,
} from './checkpoint';
import type { ExperimentConfig } from './config/schema';
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

/**
 * Saves model, teacher and optimizer state atomically to `path` (see `withTrainingTensors` for
 * what is in it).
 *
 * @example
 * await saveTrainingState('runs/a/checkpoints/last.safetensors', { config, model, teacher: null, optimizers, dataset, step, total, phase: 'step1' });
 */
export async function saveTrainingState(path: string, s: TrainingState): Promise<void> {
  await withTrainingTensors(s, (tensors, meta) => saveCheckpoint(path, tensors, meta));
}

/**
 * Restores a run from its checkpoint file into `model` and `optimizers` (created for the same
 * config), and returns the step, the teacher (rebuilt when the checkpoint has one) and the time
 * trained. Refuses a checkpoint written by a different config.
 *
 * @example
 * const { step, teacher } = await loadTrainingState(checkpointPath('runs/a'), { config, model, optimizers });
 */
export async function loadTrainingState(
  path: string,
  s: { config: ExperimentConfig; model: GzsModel; optimizers: Optimizers },
): Promise<{ step: number; teacher: GzsModel | null; trainSeconds: number }> {
  const checkpoint = await readCheckpointFile(path);
  try {
    return restoreTrainingState(checkpoint, s, path);
  } finally {
    tf.dispose(Object.values(checkpoint.tensors));
  }
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
      throw new Error(`${path}: tensor '${bad.name}' holds non-finite values`);
    }
  }
  return { tensors, metadata: {}, kind: 'pth' } as CheckpointFile;
}

/** Options of {@link readModel} / {@link loadModel}: a config for a SIGN release checkpoint, and the finite check. */
export interface ReadModelOptions extends ModelFromCheckpointOptions {
  /** Refuse non-finite weights, naming the tensor. */
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
  const checkpoint = await readCheckpointFile(path, opts);
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
 * Writes `<outDir>/checkpoints/last.safetensors` (atomically) every `every` steps (0: never in
 * between), when the run is interrupted, and after the last step; reports the path through
 * `onCheckpoint`.
 *
 * @example
 * callbacks: [checkpointing({ outDir: 'runs/a', every: 100 })]
 */
export function checkpointing(opts: { outDir: string; every: number }): Callback {
  const path = checkpointPath(opts.outDir);
  const save = async (s: TrainState) => {
    await saveTrainingState(path, {
      config: s.config,
      model: s.model,
      teacher: s.teacher,
      optimizers: s.optimizers,
      dataset: s.data.meta,
      step: s.step,
      total: s.total,
      phase: s.step < s.total ? scheduleAt(s.config, s.step).phase : 'done',
      extra: { trainSeconds: s.secondsBefore + (Date.now() - s.startedAt) / 1000 },
    });
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
 * Atomic; no optimizer state (it cannot be resumed).
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
    await saveCheckpoint(path, tensors, meta);
  } finally {
    emb.dispose();
  }
}
