/**
 * Training checkpoints: `<outDir>/checkpoints/last.safetensors` holds `model.*`, `teacher.*`
 * (during self-training), `opt.<part>.<variable>.<slot>` and `classes.embeddings`; its metadata
 * the config, the step, the class split, the dataset's metadata and the optimizers' scalars. A
 * checkpoint is enough to rebuild the model (`readModel`) and to resume bit-identically.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import type { DatasetMeta } from '@sign/datasets';
import { buildModel, recipes, type ClassInfo, type GzsModel } from '@sign/recipes';
import type { ExperimentConfig } from './config/schema';
import type { Optimizers } from './updates';

export const CHECKPOINT_FORMAT = 'sign-trainer/2';

/** Where a run's checkpoint lives. */
export function checkpointPath(outDir: string): string {
  return join(outDir, 'checkpoints', 'last.safetensors');
}

/** What a checkpoint's metadata holds besides the config. */
export interface CheckpointMeta {
  format: string;
  step: number;
  total: number;
  phase: string;
  config: ExperimentConfig;
  classes: { classNames: string[]; seen: number[]; unseen: number[]; background: number | null };
  dataset: DatasetMeta;
  optimizers: Record<string, Record<string, number>>;
  trainSeconds?: number;
  [key: string]: unknown;
}

/** Builds a model for a config and class table (the recipe from the registry). */
export function createModel(config: ExperimentConfig, classes: ClassInfo, channels: number, rng: Rng): GzsModel {
  return buildModel(recipes.get(config.model.type), config.model, { classes, channels, rng });
}

/** Saves model, teacher and optimizer state atomically. */
export async function saveTrainingState(
  path: string,
  s: {
    config: ExperimentConfig;
    model: GzsModel;
    teacher: GzsModel | null;
    optimizers: Optimizers;
    dataset: DatasetMeta;
    step: number;
    total: number;
    phase: string;
    extra?: Record<string, unknown>;
  },
): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(s.model.stateDict())) tensors[`model.${k}`] = v;
  if (s.teacher) for (const [k, v] of Object.entries(s.teacher.stateDict())) tensors[`teacher.${k}`] = v;
  for (const [part, o] of Object.entries(s.optimizers)) for (const [k, v] of Object.entries(o.state())) tensors[`opt.${part}.${k}`] = v;
  const c = s.model.classes;
  const emb = tf.tensor2d(c.embeddings, [s.model.numClasses, c.embeddingDim]);
  tensors['classes.embeddings'] = emb;
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    step: s.step,
    total: s.total,
    phase: s.phase,
    config: s.config,
    classes: { classNames: c.classNames, seen: c.seen, unseen: c.unseen, background: c.background },
    dataset: s.dataset,
    optimizers: Object.fromEntries(Object.entries(s.optimizers).map(([g, o]) => [g, o.scalars()])),
    // All randomness of step s comes from new Rng(seed).fork('train').fork('step-' + s): no stream state to store.
    rng: { seed: s.config.seed, scheme: "per-step: new Rng(seed).fork('train').fork('step-<s>')" },
    ...s.extra,
  };
  try {
    await saveCheckpoint(path, tensors, meta);
  } finally {
    emb.dispose();
  }
}

function prefixed(tensors: Record<string, tf.Tensor>, prefix: string): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/**
 * Restores a run from its checkpoint into `model` and `optimizers` (created for the same config),
 * and returns the step, the teacher (rebuilt when the checkpoint has one) and the time trained.
 * Refuses a checkpoint written by a different config.
 */
export async function loadTrainingState(
  path: string,
  s: { config: ExperimentConfig; model: GzsModel; optimizers: Optimizers },
): Promise<{ step: number; teacher: GzsModel | null; trainSeconds: number }> {
  const { tensors, metadata } = await loadCheckpoint(path);
  try {
    if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${path}: not a ${CHECKPOINT_FORMAT} checkpoint (format ${String(metadata.format)})`);
    if (JSON.stringify(metadata.config) !== JSON.stringify(s.config))
      throw new Error(`${path}: the checkpoint was written by a different config; use another outDir or the same config`);
    s.model.loadStateDict(prefixed(tensors, 'model.'));
    const scalars = (metadata.optimizers ?? {}) as Record<string, Record<string, number>>;
    for (const [part, o] of Object.entries(s.optimizers)) o.load(prefixed(tensors, `opt.${part}.`), scalars[part] ?? {});
    let teacher: GzsModel | null = null;
    const teacherTensors = prefixed(tensors, 'teacher.');
    if (Object.keys(teacherTensors).length > 0) {
      teacher = createModel(s.config, s.model.classes, s.model.channels, new Rng(0));
      teacher.loadStateDict(teacherTensors);
      teacher.eval();
    }
    return { step: Number(metadata.step), teacher, trainSeconds: Number(metadata.trainSeconds ?? 0) };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** A copy of a model (same config and classes), frozen in eval mode: the self-training teacher. */
export function frozenCopy(model: GzsModel, config: ExperimentConfig): GzsModel {
  const copy = createModel(config, model.classes, model.channels, new Rng(0));
  copy.loadStateDict(model.stateDict());
  copy.eval();
  return copy;
}

/**
 * Rebuilds the trained model of a checkpoint (the backend must be initialised), with the config,
 * the class table and the dataset metadata it records.
 */
export async function readModel(path: string): Promise<{ model: GzsModel; meta: CheckpointMeta }> {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const { tensors, metadata } = await loadCheckpoint(path);
  try {
    if (metadata.format !== CHECKPOINT_FORMAT)
      throw new Error(`${path}: not a ${CHECKPOINT_FORMAT} checkpoint (metadata.format = ${String(metadata.format)})`);
    const meta = metadata as CheckpointMeta;
    const emb = tensors['classes.embeddings'];
    if (!emb) throw new Error(`${path}: missing tensor 'classes.embeddings'`);
    if (!meta.dataset || !meta.classes) throw new Error(`${path}: the metadata has no dataset or classes`);
    const classes: ClassInfo = {
      ...meta.classes,
      embeddings: Float32Array.from(await emb.data()),
      embeddingDim: emb.shape[1] as number,
    };
    const model = createModel(meta.config, classes, meta.dataset.channels, new Rng(0));
    try {
      model.loadStateDict(prefixed(tensors, 'model.'));
    } catch (err) {
      model.dispose();
      throw new Error(`${path}: ${(err as Error).message}`);
    }
    model.eval();
    return { model, meta };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
