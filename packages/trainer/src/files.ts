/**
 * The trainer's files (Node only, exported by `@sign/trainer/node`): a run's checkpoint
 * `<outDir>/checkpoints/last.safetensors` (written atomically by `saveTrainingState` and the
 * `checkpointing` callback, read back by `loadTrainingState` to resume), and trained models read
 * from a checkpoint file (`readModel`, `loadModel`). The in-memory halves are in the main entry
 * (`withTrainingTensors`, `restoreTrainingState`, `modelFromCheckpoint`, `loadModelFromBytes`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type LoadCheckpointOptions } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import type { GzsModel } from '@sign/recipes';
import { modelFromCheckpoint, restoreTrainingState, withTrainingTensors, type CheckpointMeta, type TrainingState } from './checkpoint';
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
  const checkpoint = await loadCheckpoint(path);
  try {
    return restoreTrainingState(checkpoint, s, path);
  } finally {
    tf.dispose(Object.values(checkpoint.tensors));
  }
}

/**
 * Rebuilds the trained model of a checkpoint file (the backend must be initialised), with the
 * config, the class table and the dataset metadata it records.
 *
 * @example
 * const { model, meta } = await readModel('runs/demo/checkpoints/last.safetensors');
 * console.log(meta.classes.classNames); model.dispose();
 */
export async function readModel(path: string, opts: LoadCheckpointOptions = {}): Promise<{ model: GzsModel; meta: CheckpointMeta }> {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const checkpoint = await loadCheckpoint(path, opts);
  try {
    return await modelFromCheckpoint(checkpoint, path);
  } finally {
    tf.dispose(Object.values(checkpoint.tensors));
  }
}

/**
 * Loads a trained model from a trainer checkpoint file (the backend must already be
 * initialised). From bytes (browsers): `loadModelFromBytes` of the main entry.
 *
 * @example
 * const m = await loadModel('runs/demo/checkpoints/last.safetensors');
 * const { labels } = await m.predict({ images, n: 1, height: 64, width: 64 }); // labels [64·64]
 * m.dispose();
 */
export async function loadModel(checkpointPath: string, opts: LoadCheckpointOptions = {}): Promise<TrainedModel> {
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
