/**
 * The training loop (METHOD §4's schedule) and its callbacks, as PyTorch Lightning separates
 * them: the loop knows the stages, draws each step's batch and randomness, runs the update the
 * schedule says and reads the losses asynchronously; everything else (checkpoints, periodic
 * evaluation, logging, progress) is a {@link Callback}.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Rng, findNonFiniteTensor } from '@sign/core';
import type { Batch, DataModule } from '@sign/datasets';
import type { GzsModel } from '@sign/recipes';
import * as tfc from '@tensorflow/tfjs-core';
import type { ExperimentConfig } from './config/schema';
import { frozenCopy } from './checkpoint';
import type { Gzs3Result } from './evaluation';
import { scheduledLr } from './optim/registry';
import { selfTrainingRules, type StageProgress } from './self-training';
import { checkLabels, downsampleLabels, step1Update, transferUpdate, type HostBatch, type Optimizers } from './updates';
import type { Part } from '@sign/recipes';

export type Phase = 'step1' | 'transfer' | 'self-training';

export interface StepEvent {
  /** The stage: 'step1' (step 1 alone), 'transfer' (step 1/step 2 alternating), 'self-training'. */
  phase: Phase;
  /** Which update ran: METHOD §4 step 1 ('step1') or step 2 ('step2'). */
  update: 'step1' | 'step2';
  /** Global step, 1-based, counted over all stages. */
  step: number;
  /** Total steps of the run's schedule. */
  total: number;
  /** The step this invocation stops at: `total`, or less with a `maxSteps` cap (progress and ETA count to it). */
  until: number;
  /** Loss values of this step (clsReal, kl, advD, clsFakeD, mmd, advG, clsFakeG / clsTransfer). */
  losses: Record<string, number>;
}

/** What callbacks see: the run's state, and ways to report. */
export interface TrainState {
  readonly config: ExperimentConfig;
  readonly model: GzsModel;
  readonly data: DataModule;
  readonly optimizers: Optimizers;
  /** The frozen self-training teacher (null before self-training). */
  teacher: GzsModel | null;
  /** Steps completed. */
  step: number;
  readonly total: number;
  /** Seconds of training before this process (a resumed run's earlier time). */
  readonly secondsBefore: number;
  /** When this process started training (ms since the epoch). */
  readonly startedAt: number;
  /** Sends a line to every callback's `onLog`. */
  log(message: string): void;
  /** Sends an evaluation to every callback's `onEvaluation`. */
  reportEvaluation(e: { step: number; metrics: Gzs3Result }): void;
  /** Sends a written checkpoint's path to every callback's `onCheckpoint`. */
  reportCheckpoint(path: string): void;
}

/**
 * A training callback. Every hook is optional and may be async (the loop waits for it).
 *
 * @example
 * const printer: Callback = { onStepEnd: (_, e) => console.log(e.step, e.losses) };
 * await runExperiment(config, { outDir, callbacks: [printer, lossAverages({ every: 50 })] });
 */
export interface Callback {
  /** Before the first step (after a resume). */
  onFitStart?(s: TrainState): void | Promise<void>;
  onStepEnd?(s: TrainState, e: StepEvent): void | Promise<void>;
  /** After the last step of a stage. */
  onStageEnd?(s: TrainState, phase: Phase): void | Promise<void>;
  /** The run was aborted between steps; the loop rejects with an 'AbortError' afterwards. */
  onInterrupt?(s: TrainState): void | Promise<void>;
  /** After the last step (before the final evaluation). */
  onFitEnd?(s: TrainState): void | Promise<void>;
  onEvaluation?(e: { step: number; metrics: Gzs3Result }): void;
  onCheckpoint?(path: string): void;
  onLog?(message: string): void;
}

/** Total steps of a config's schedule. */
export function totalSteps(config: ExperimentConfig): number {
  const s = config.schedule;
  return s.step1Iters + s.transferIters + (selfTrainingRules.get(config.selfTraining.type).usesTeacher ? s.selfTrainingIters : 0);
}

/** The stage and update at a 0-based global step. */
export function scheduleAt(config: ExperimentConfig, step: number): { phase: Phase; update: 'step1' | 'step2'; offset: number } {
  const s = config.schedule;
  if (step < s.step1Iters) return { phase: 'step1', update: 'step1', offset: step };
  // Blocks of `alternateEvery` steps, counted from the end of the stage so that every stage
  // with step 2 ends on a step-2 block (C's last updates include the generated unseen features).
  const fromEnd = (o: number, len: number) => Math.floor((len - 1 - o) / s.alternateEvery) % 2;
  if (step < s.step1Iters + s.transferIters) {
    const o = step - s.step1Iters;
    return { phase: 'transfer', update: fromEnd(o, s.transferIters) === 0 ? 'step2' : 'step1', offset: o };
  }
  const o = step - s.step1Iters - s.transferIters;
  return { phase: 'self-training', update: fromEnd(o, s.selfTrainingIters) === 0 ? 'step2' : 'step1', offset: o };
}

/** The feature grid a model produces for images of the given size. */
export function featureGrid(model: GzsModel, height: number, width: number): [number, number] {
  return model.backbone.outputShape(height, width);
}

/** A data module's batch as the updates take it: targets downsampled to the feature grid and checked. */
export function hostBatch(batch: Batch, model: GzsModel): HostBatch {
  const { n, height, width, channels } = batch;
  const [fh, fw] = featureGrid(model, height, width);
  const labels = downsampleLabels(batch.labels, n, height, width, fh, fw);
  checkLabels(labels, model.numClasses, `training batch (${batch.ids.slice(0, 4).join(', ')}${batch.ids.length > 4 ? ', …' : ''})`);
  return { images: batch.images, n, height, width, channels, labels, fh, fw };
}

/**
 * Self-training targets (METHOD §4.4): the frozen teacher labels the ignored pixels of the batch
 * with the config's rule (registry 'self-training'). Labelled pixels keep their label and weight
 * 1. Reads back with `await data()`.
 */
export async function pseudoLabel(
  teacher: GzsModel,
  batch: HostBatch,
  rule: ExperimentConfig['selfTraining'],
  progress: StageProgress,
): Promise<HostBatch> {
  const { n, height, width, channels, fh, fw } = batch;
  const [probs, target] = tfc.tidy(() => {
    const images = tfc.tensor4d(batch.images, [n, height, width, channels]);
    const { feature } = teacher.features(images, { training: false, rng: new Rng(0), noise: 'zero' });
    return [
      tfc.softmax(teacher.disc.applyMap(feature, { training: false, rng: new Rng(0) }).logits) as tf.Tensor4D,
      tfc.tensor3d(batch.labels, [n, fh, fw], 'int32'),
    ];
  });
  let out: { labels: tf.Tensor3D; weights: tf.Tensor3D } | undefined;
  try {
    out = await selfTrainingRules.get(rule.type).targets(rule, probs as tf.Tensor4D, target as tf.Tensor3D, teacher.classes.unseen, progress);
    const [l, w] = await Promise.all([out.labels.data(), out.weights.data()]);
    return { ...batch, labels: Int32Array.from(l), weights: Float32Array.from(w) };
  } finally {
    tfc.dispose([probs, target]);
    if (out) tfc.dispose([out.labels, out.weights]);
  }
}

/**
 * Training stopped at the first non-finite value (the mmengine/Lightning anomaly check): `step`
 * (1-based), the `part` it was found in (or null for a loss) and the `quantity`: `loss <name>`,
 * `gradient` or `optimizer state`. The run's checkpoints are the last finite ones.
 */
export class NonFiniteError extends Error {
  constructor(
    readonly step: number,
    readonly part: Part | null,
    readonly quantity: string,
    message: string,
  ) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

/**
 * Throws a {@link NonFiniteError} for the first non-finite loss, gradient or optimizer state of a
 * step (probes as the updates leave them: NaN when not finite), naming the step, the part and the
 * quantity (for the optimizer state, the slot tensor too).
 */
async function checkFinite(values: Record<string, number>, optimizers: Optimizers, where: { step: number; phase: Phase; update: string }): Promise<void> {
  const at = `step ${where.step} (${where.phase}/${where.update})`;
  for (const [k, v] of Object.entries(values)) {
    if (Number.isFinite(v)) continue;
    const [kind, part] = k.split('.') as [string, Part | undefined];
    if (kind === 'gradient')
      throw new NonFiniteError(where.step, part!, 'gradient', `${at}: the gradient of the ${part} is not finite (NaN or ±Infinity); lower its learning rate or loss weights, or set optimizers.${part}.clipGradNorm`);
    if (kind === 'state') {
      const bad = await findNonFiniteTensor(optimizers[part!].state());
      const which = bad ? `: '${bad.name}' has ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (first: ${bad.value} at index ${bad.index})` : '';
      throw new NonFiniteError(where.step, part!, 'optimizer state', `${at}: the optimizer state of the ${part} is not finite${which}; lower its learning rate or loss weights`);
    }
    throw new NonFiniteError(where.step, null, `loss ${k}`, `${at}: loss ${k} is ${v}`);
  }
}

/** Reads the scalars of a step with one asynchronous read, and disposes them. */
async function readLosses(t: Record<string, tf.Scalar>): Promise<Record<string, number>> {
  const keys = Object.keys(t);
  if (keys.length === 0) return {};
  const stacked = tfc.stack(keys.map((k) => t[k]));
  try {
    const v = await stacked.data();
    return Object.fromEntries(keys.map((k, i) => [k, v[i]]));
  } finally {
    stacked.dispose();
    tfc.dispose(Object.values(t));
  }
}

function abortError(): Error {
  const e = new Error('training aborted; resume with resume: true');
  e.name = 'AbortError';
  return e;
}

/** Options of {@link fit}. */
export interface FitOptions {
  /** Checked between steps: `onInterrupt`, then an 'AbortError'. */
  signal?: AbortSignal;
  /**
   * Stop after this many steps in all (counted from the run's start, so a resumed run continues
   * to it): the schedule (learning rates, stages) stays the full one of the config, the run ends
   * early with `onFitEnd` (a checkpoint) and can be resumed to go further.
   */
  maxSteps?: number;
}

/**
 * Runs the schedule from `state.step` to `state.total` (or `maxSteps`). The randomness of step s is
 * `new Rng(seed).fork('train').fork('step-' + s)` (batch, pixels, dropout, noise), so a resumed run
 * ends exactly like an uninterrupted one. Checked between steps: `signal` (then `onInterrupt`
 * and an 'AbortError'), and every loss, each updated part's gradient and its optimizer state
 * (one reduction each, read with the losses): the first non-finite value stops the run with a
 * {@link NonFiniteError} naming the step, the part and the quantity, before any checkpoint of it
 * is written. `optimizers.<part>.clipGradNorm` clips that part's gradient.
 */
export async function fit(state: TrainState, callbacks: readonly Callback[], opts: FitOptions = {}): Promise<void> {
  if (opts.maxSteps !== undefined && !(Number.isInteger(opts.maxSteps) && opts.maxSteps >= 1))
    throw new Error(`fit: maxSteps must be an integer >= 1, got ${opts.maxSteps}`);
  const until = Math.min(state.total, opts.maxSteps ?? state.total);
  const { config, model, data, optimizers } = state;
  const each = async (f: (c: Callback) => void | Promise<void> | undefined) => {
    for (const c of callbacks) await f(c);
  };
  const trainRng = new Rng(config.seed).fork('train');
  const s = config.schedule;
  const clipGradNorm: Partial<Record<Part, number>> = {};
  for (const part of Object.keys(optimizers) as Part[]) {
    const clip = (config.optimizers[part] as { clipGradNorm?: number }).clipGradNorm;
    if (clip !== undefined) clipGradNorm[part] = clip;
  }
  const settings = {
    losses: config.model.losses,
    pixelsPerClass: s.pixelsPerClass,
    transferPixels: s.transferPixels,
    transferPrior: config.model.transferPrior,
    transferMixReal: s.transferMixReal,
    clipGradNorm,
  };
  await each((c) => c.onFitStart?.(state));
  while (state.step < until) {
    if (opts.signal?.aborted) {
      await each((c) => c.onInterrupt?.(state));
      throw abortError();
    }
    const { phase, update, offset } = scheduleAt(config, state.step);
    if (phase === 'self-training' && !state.teacher) {
      state.teacher = frozenCopy(model, config);
      state.log(`self-training (${config.selfTraining.type}): teacher = frozen copy at step ${state.step}`);
    }
    const rng = trainRng.fork(`step-${state.step}`);
    for (const part of Object.keys(optimizers) as Part[]) {
      const o = config.optimizers[part];
      optimizers[part].lr = scheduledLr(o.lr, o.lrSchedule, state.step, state.total);
    }
    const stBatch = phase === 'self-training';
    let batch = hostBatch(
      await data.trainBatch(stBatch ? (s.selfTrainingBatchSize ?? s.batchSize) : s.batchSize, rng.fork('batch'), stBatch ? { stage: 'self-training' } : {}),
      model,
    );
    if (phase === 'self-training' && state.teacher) {
      batch = await pseudoLabel(state.teacher, batch, config.selfTraining, { offset, iters: s.selfTrainingIters });
    }
    model.train();
    const probes: Record<string, tf.Scalar> = {};
    let lossTensors: Record<string, tf.Scalar>;
    try {
      lossTensors =
        update === 'step1'
          ? step1Update(model, optimizers, batch, rng.fork('update'), { ...settings, probes })
          : transferUpdate(model, optimizers, batch, rng.fork('update'), { ...settings, probes });
    } catch (err) {
      tfc.dispose(Object.values(probes));
      throw err;
    }
    // losses, then the probes: one read, one check (the losses first, so a loss names itself)
    const values = await readLosses({ ...lossTensors, ...probes });
    const losses: Record<string, number> = {};
    for (const k of Object.keys(lossTensors)) losses[k] = values[k];
    await checkFinite(values, optimizers, { step: state.step + 1, phase, update });
    state.step += 1;
    const e: StepEvent = { phase, update, step: state.step, total: state.total, until, losses };
    await each((c) => c.onStepEnd?.(state, e));
    if (state.step === state.total || scheduleAt(config, state.step).phase !== phase) await each((c) => c.onStageEnd?.(state, phase));
    // Let timers / signal handlers run between steps.
    await new Promise((r) => setImmediate(r));
  }
  await each((c) => c.onFitEnd?.(state));
}
