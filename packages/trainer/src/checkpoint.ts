/**
 * Training checkpoints in memory: a checkpoint holds `model.*`, `teacher.*` (during
 * self-training), `opt.<part>.<variable>.<slot>` and `classes.embeddings`; its metadata the config,
 * the step, the class split, the dataset's metadata and the optimizers' scalars. A checkpoint is
 * enough to rebuild the model (`modelFromCheckpoint`) and to resume bit-identically. No file
 * access here (browser-safe): the files (`<outDir>/checkpoints/last.safetensors`) are in
 * `./files.ts`, exported by `@sign/trainer/node`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, type Checkpoint } from '@sign/core';
import type { DatasetMeta } from '@sign/datasets';
import { buildModel, recipes, type ClassInfo, type GzsModel } from '@sign/recipes';
import type { ExperimentConfig } from './config/schema';
import type { Optimizers } from './updates';

export const CHECKPOINT_FORMAT = 'sign-trainer/2';

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

/** What a training checkpoint records: the model, the teacher, the optimizers, the schedule position. */
export interface TrainingState {
  config: ExperimentConfig;
  model: GzsModel;
  teacher: GzsModel | null;
  optimizers: Optimizers;
  dataset: DatasetMeta;
  step: number;
  total: number;
  phase: string;
  extra?: Record<string, unknown>;
}

/**
 * The named tensors and the metadata record of a training checkpoint, handed to `use` (which
 * encodes or writes them: `encodeSafetensors` of @sign/core in memory, `saveTrainingState` of
 * `@sign/trainer/node` to a file); the tensors made here are disposed when `use` settles.
 * Tensors: `model.*`, `teacher.*`, `opt.<part>.<variable>.<slot>`, `classes.embeddings` [K, E].
 *
 * @example
 * const chunks = await withTrainingTensors(state, (tensors, meta) => encodeSafetensors(tensors, meta, 'run'));
 */
export async function withTrainingTensors<T>(
  s: TrainingState,
  use: (tensors: Record<string, tf.Tensor>, metadata: CheckpointMeta) => Promise<T>,
): Promise<T> {
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
    return await use(tensors, meta);
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
 * Restores a run from a decoded checkpoint into `model` and `optimizers` (created for the same
 * config), and returns the step, the teacher (rebuilt when the checkpoint has one) and the time
 * trained. Refuses a checkpoint written by a different config; `source` names it in errors. The
 * checkpoint's tensors stay the caller's (copied, not taken).
 *
 * @example
 * const { step, teacher } = restoreTrainingState(decoded, { config, model, optimizers }, 'last.safetensors');
 */
export function restoreTrainingState(
  checkpoint: Checkpoint,
  s: { config: ExperimentConfig; model: GzsModel; optimizers: Optimizers },
  source: string,
): { step: number; teacher: GzsModel | null; trainSeconds: number } {
  const { tensors, metadata } = checkpoint;
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${source}: not a ${CHECKPOINT_FORMAT} checkpoint (format ${String(metadata.format)})`);
  if (JSON.stringify(metadata.config) !== JSON.stringify(s.config))
    throw new Error(`${source}: the checkpoint was written by a different config; use another outDir or the same config`);
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
}

/** A copy of a model (same config and classes), frozen in eval mode: the self-training teacher. */
export function frozenCopy(model: GzsModel, config: ExperimentConfig): GzsModel {
  const copy = createModel(config, model.classes, model.channels, new Rng(0));
  copy.loadStateDict(model.stateDict());
  copy.eval();
  return copy;
}

/**
 * Rebuilds the trained model of a decoded checkpoint (the backend must be initialised), with the
 * config, the class table and the dataset metadata it records; `source` names the checkpoint in
 * errors. The checkpoint's tensors stay the caller's. From bytes: `decodeSafetensors` of
 * @sign/core first (or `loadModelFromBytes`); from a file: `readModel` of `@sign/trainer/node`.
 *
 * @example
 * const decoded = await decodeSafetensors(new Uint8Array(await (await fetch('demo.safetensors')).arrayBuffer()), 'demo.safetensors');
 * const { model, meta } = await modelFromCheckpoint(decoded, 'demo.safetensors');
 * tf.dispose(Object.values(decoded.tensors));
 */
export async function modelFromCheckpoint(checkpoint: Checkpoint, source: string): Promise<{ model: GzsModel; meta: CheckpointMeta }> {
  const { tensors, metadata } = checkpoint;
  if (metadata.format !== CHECKPOINT_FORMAT)
    throw new Error(`${source}: not a ${CHECKPOINT_FORMAT} checkpoint (metadata.format = ${String(metadata.format)})`);
  const meta = metadata as CheckpointMeta;
  const emb = tensors['classes.embeddings'];
  if (!emb) throw new Error(`${source}: missing tensor 'classes.embeddings'`);
  if (!meta.dataset || !meta.classes) throw new Error(`${source}: the metadata has no dataset or classes`);
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
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  model.eval();
  return { model, meta };
}
