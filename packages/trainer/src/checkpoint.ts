/**
 * Training checkpoints in memory: a checkpoint holds `model.*`, `teacher.*` (during
 * self-training), `opt.<part>.<variable>.<slot>` and `classes.embeddings`; its metadata the config,
 * the step, the class split, the dataset's metadata and the optimizers' scalars. A checkpoint is
 * enough to rebuild the model (`modelFromCheckpoint`) and to resume bit-identically. No file
 * access here (browser-safe): the files (`<outDir>/checkpoints/step-<n>.safetensors`, the newest
 * `keep` of them, and `last.safetensors`) are in `./files.ts`, exported by `@sign/trainer/node`.
 * Every load refuses non-finite weights (naming the tensor) and validates the config stored
 * inside like a config file (`storedConfig`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, findNonFiniteTensor, type Checkpoint } from '@sign/core';
import { datasets, type DatasetMeta } from '@sign/datasets';
import {
  buildModel,
  isReleaseStateDict,
  loadReleaseStateDict,
  recipes,
  releaseClassEmbeddings,
  releaseClassRows,
  releaseModelConfig,
  releaseStructure,
  type ClassInfo,
  type GzsModel,
  type SignModelConfig,
} from '@sign/recipes';
import { describeChanges, resumeChanges, RESUMABLE_KEYS } from './config/changes';
import type { ExperimentConfig } from './config/schema';
import { ConfigError, closedConfigProblems, parseConfig } from './config/validate';
import { totalSteps } from './loop';
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
  s: { config: ExperimentConfig; model: GzsModel; optimizers: Optimizers; log?: (message: string) => void },
  source: string,
): { step: number; teacher: GzsModel | null; trainSeconds: number } {
  const { tensors, metadata } = checkpoint;
  const { step } = checkResumable(source, metadata, s.config, s.log);
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
  return { step, teacher, trainSeconds: Number(metadata.trainSeconds ?? 0) };
}

/**
 * The config a checkpoint records, validated like a config file (bounds, closed keys, the
 * plug-ins registered now): a {@link ConfigError} naming the file otherwise.
 */
export function storedConfig(path: string, metadata: Record<string, unknown>): ExperimentConfig {
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${path}: not a ${CHECKPOINT_FORMAT} checkpoint (metadata.format = ${String(metadata.format)})`);
  return parseConfig(metadata.config, `${path} (the config stored in the checkpoint)`);
}

/**
 * Whether a run with `config` may continue from a checkpoint with this metadata: its stored
 * config validates, differs from `config` only in {@link RESUMABLE_KEYS} (each difference is
 * logged as a warning), and its step is within the run's total. Returns the step. `path` names
 * the checkpoint in errors (used by `restoreTrainingState` and `findResumeCheckpoint`).
 */
export function checkResumable(path: string, metadata: Record<string, unknown>, config: ExperimentConfig, log?: (message: string) => void): { step: number } {
  const stored = storedConfig(path, metadata);
  const { allowed, refused } = resumeChanges(stored, config);
  if (refused.length > 0)
    throw new ConfigError(
      [`the checkpoint was written by a different config (${describeChanges(stored, config, refused)}); use another outDir or the same config (a resumed run may change only ${RESUMABLE_KEYS.join(', ')})`],
      path,
      'file',
    );
  if (allowed.length > 0) log?.(`warning: resuming ${path} with changed settings: ${describeChanges(stored, config, allowed)}`);
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${path}: the metadata's step is not a step count (${String(metadata.step)})`);
  const newTotal = totalSteps(config);
  if (step > newTotal)
    throw new ConfigError([`the checkpoint is at step ${step}, beyond the changed schedule's ${newTotal} steps`], path, 'file');
  return { step };
}

/**
 * Throws an error naming the tensor when one of `tensors` holds NaN or ±Infinity (one reduction
 * per tensor; see core's `findNonFiniteTensor`): what a checkpoint must never be written with.
 */
export async function assertFinite(tensors: Record<string, tf.Tensor>, what: string): Promise<void> {
  const bad = await findNonFiniteTensor(tensors);
  if (bad) throw new Error(`${what}: tensor '${bad.name}' has ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (first: ${bad.value} at index ${bad.index})`);
}

/** A copy of a model (same config and classes), frozen in eval mode: the self-training teacher. */
export function frozenCopy(model: GzsModel, config: ExperimentConfig): GzsModel {
  const copy = createModel(config, model.classes, model.channels, new Rng(0));
  copy.loadStateDict(model.stateDict());
  copy.eval();
  return copy;
}

/** Options of {@link modelFromCheckpoint} (and `readModel` / `loadModel` of `@sign/trainer/node`). */
export interface ModelFromCheckpointOptions {
  /**
   * The config for a checkpoint that records none: a SIGN release state dict (its `.pth` as
   * released, or the safetensors `sign import` made of it). Its `data` section names the dataset
   * and the unseen classes; its `model` section (a 'sign' one) is overridden by the structure the
   * tensors hold (@sign/recipes' `releaseModelConfig`). Ignored for the trainer's own checkpoints.
   */
  config?: ExperimentConfig;
  /** The dataset's metadata, when the caller has the data open (default: its definition's `meta(config)`). */
  dataset?: DatasetMeta;
}

/**
 * Rebuilds the trained model of a decoded checkpoint (the backend must be initialised), with the
 * config, the class table and the dataset metadata it records; `source` names the checkpoint in
 * errors. The checkpoint's tensors stay the caller's. Reads the trainer's checkpoints (format
 * `sign-trainer/2`) and the SIGN release's trained models (a state dict with `back.scale.*`,
 * `dis.*`, `Em_all.weight`, in PyTorch's layout: `opts.config` then supplies the dataset; the
 * network's structure and SIM variant come from the keys, the class embeddings from `Em_all`, the
 * classifier's rows are put in the order of the dataset's class ids, and the model is scored with
 * the release's protocol, `meta.format: 'sign-release'`). From bytes: `decodeSafetensors` of
 * @sign/core first (or `loadModelFromBytes`); from a file (safetensors or `.pth`): `readModel` of
 * `@sign/trainer/node`.
 *
 * @example
 * const decoded = await decodeSafetensors(new Uint8Array(await (await fetch('demo.safetensors')).arrayBuffer()), 'demo.safetensors');
 * const { model, meta } = await modelFromCheckpoint(decoded, 'demo.safetensors');
 * tf.dispose(Object.values(decoded.tensors));
 * const release = await modelFromCheckpoint(voc12, 'voc12.pth', { config: preset }); // release.meta.format 'sign-release'
 */
export async function modelFromCheckpoint(
  checkpoint: Checkpoint,
  source: string,
  opts: ModelFromCheckpointOptions = {},
): Promise<{ model: GzsModel; meta: CheckpointMeta }> {
  const { tensors, metadata } = checkpoint;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    if (isReleaseStateDict(Object.keys(tensors))) return releaseModel(source, tensors, opts);
    throw new Error(`${source}: not a ${CHECKPOINT_FORMAT} checkpoint (metadata.format = ${String(metadata.format)}), nor a SIGN release state dict (no 'back.scale.*', 'dis.cls.weight' and 'Em_all.weight')`);
  }
  const meta = { ...metadata, config: modelConfig(source, metadata) } as CheckpointMeta;
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

/**
 * The config of a checkpoint loaded as a model: {@link storedConfig} when its dataset is registered
 * here; otherwise (a web page that registers no dataset: a model needs only the name) its keys are
 * still checked (`closedConfigProblems`: no `__proto__`, bounded depth), the rest is not validated.
 */
function modelConfig(source: string, metadata: Record<string, unknown>): ExperimentConfig {
  const raw = metadata.config as { data?: { type?: unknown } } | undefined;
  if (typeof raw?.data?.type === 'string' && !datasets.has(raw.data.type)) {
    const unsafe = closedConfigProblems(raw);
    if (unsafe.length > 0) throw new ConfigError(unsafe, `${source} (the config stored in the checkpoint)`);
    return raw as ExperimentConfig;
  }
  return storedConfig(source, metadata);
}

/** The dataset metadata for a config, without opening the data (its definition's `meta`). */
function datasetMetaOf(config: ExperimentConfig, source: string): DatasetMeta {
  const def = datasets.get(config.data.type);
  if (!def.meta)
    throw new Error(`${source}: a SIGN release checkpoint records no classes, and dataset '${config.data.type}' cannot name them without its data: open the data and pass its meta`);
  return def.meta(config.data as never);
}

/** A SIGN release state dict (PyTorch layout) → a model, with `opts.config` for the dataset. */
async function releaseModel(source: string, tensors: Record<string, tf.Tensor>, opts: ModelFromCheckpointOptions): Promise<{ model: GzsModel; meta: CheckpointMeta }> {
  if (!opts.config)
    throw new Error(`${source}: a SIGN release checkpoint records no config, dataset or classes: give a config (sign: --preset NAME or --config FILE)`);
  const entries = Object.entries(tensors).map(([name, t]) => ({ name, shape: t.shape }));
  const structure = releaseStructure(entries, source);
  const dataset = opts.dataset ?? datasetMetaOf(opts.config, source);
  const names = dataset.classNames;
  const unseen = opts.config.data.unseen.map((n) => {
    const id = names.indexOf(n);
    if (id < 0) throw new Error(`${source}: unseen class '${n}' of the config is not a class of dataset '${dataset.type}'`);
    return id;
  });
  const seen = names.map((_, i) => i).filter((i) => i !== dataset.background && !unseen.includes(i));
  const base = { classNames: [...names], seen, unseen: [...unseen].sort((a, b) => a - b), background: dataset.background };
  const { rowOf } = releaseClassRows(base, structure.discriminator.classifierRows, structure.embeddings.classes, source);
  const classes: ClassInfo = {
    ...base,
    embeddings: releaseClassEmbeddings(Float32Array.from(await tensors['Em_all.weight'].data()), structure.embeddings.dim, rowOf),
    embeddingDim: structure.embeddings.dim,
  };
  // the release's models are scored with the release's protocol (the standard one comes beside it)
  const config: ExperimentConfig = {
    ...opts.config,
    model: releaseModelConfig(opts.config.model as SignModelConfig, structure) as ExperimentConfig['model'],
    eval: { ...opts.config.eval, protocol: 'release' },
  };
  const model = createModel(config, classes, dataset.channels, new Rng(0));
  try {
    loadReleaseStateDict(model, tensors, rowOf, source);
  } catch (err) {
    model.dispose();
    throw err;
  }
  model.eval();
  const meta: CheckpointMeta = {
    format: 'sign-release',
    step: 0,
    total: 0,
    phase: 'release',
    config,
    classes: { classNames: classes.classNames, seen: classes.seen, unseen: classes.unseen, background: classes.background },
    dataset,
    optimizers: {},
    source: { file: source, structure },
  };
  return { model, meta };
}
