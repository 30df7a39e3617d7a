/**
 * The SIGN training pipeline (METHOD §4): stages, schedules, evaluation, checkpoints, resume.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, currentBackend, initBackend } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import type { SceneBatch } from '@sign/data';
import { ConfusionMatrix, gzs3Metrics, unseenTargets, zslMetrics, type Gzs3Metrics, type ZslMetrics } from '@sign/metrics';
import { annealedSelfTrainingTargets, topPPseudoLabels } from '@sign/losses';
import { validateConfig, type ExperimentConfig } from './config';
import { buildClassInfo, buildScenes } from './data';
import { SignModel, type ClassInfo } from './model';
import { Adam, SgdMomentum, polyLr } from './optim';
import { IGNORE, downsampleLabels, step1Update, transferUpdate, type HostBatch, type Optimizers } from './stages';

/** GZS3 metrics in percent (0–100), as returned by `@sign/metrics`' gzs3Metrics (its `Gzs3Metrics`). */
export type Gzs3Result = Gzs3Metrics;

/** Metrics with per-class IoU keyed by class name (classes the protocol counts). */
export type NamedGzs3Result = Omit<Gzs3Result, 'perClassIoU'> & { perClassIoU: Record<string, number> };

/**
 * The ZSL protocol's metrics (percent): only the unseen classes compete and only unseen pixels
 * count (see @sign/metrics' zslMetrics); `perClassIoU` by class name.
 */
export type NamedZslResult = Omit<ZslMetrics, 'perClassIoU'> & { perClassIoU: Record<string, number> };

export type Phase = 'step1' | 'transfer' | 'self-training';

export interface StepEvent {
  /** The stage: 'step1' (step 1 alone), 'transfer' (step 1/step 2 alternating), 'self-training'. */
  phase: Phase;
  /** Which update ran: METHOD §4 step 1 ('step1') or step 2 ('step2'). */
  update: 'step1' | 'step2';
  /** Global step, 1-based, counted over all stages. */
  step: number;
  /** Total steps of the run. */
  total: number;
  /** Loss values of this step (clsReal, kl, advD, clsFakeD, mmd, adv, clsFakeG / clsTransfer). */
  losses: Record<string, number>;
}

export interface TrainerCallbacks {
  onStep?(e: StepEvent): void;
  onEval?(e: { step: number; metrics: Gzs3Result }): void;
  onLog?(msg: string): void;
  onCheckpoint?(path: string): void;
}

export interface RunOptions {
  outDir: string;
  callbacks?: TrainerCallbacks;
  /** Continue from `<outDir>/checkpoints/last.safetensors` when it exists. */
  resume?: boolean;
  /** Checked between steps: writes a checkpoint, then rejects with an error named 'AbortError'. */
  signal?: AbortSignal;
  /** Skip `initBackend(config.runtime.backend)` (the caller initialised a backend). */
  skipBackendInit?: boolean;
}

export interface RunResult {
  metrics: Gzs3Result;
  perClassIoU: Record<string, number>;
  /** The ZSL protocol on the same test scenes: unseen classes alone (see {@link NamedZslResult}). */
  zsl: NamedZslResult;
  seen: string[];
  unseen: string[];
  backend: string;
  seconds: number;
  checkpoint: string;
  /** Steps completed (equals the schedule's total). */
  steps: number;
}

export interface TrainedModel {
  config: ExperimentConfig;
  /** All class names, index = class id (0 = background). */
  classNames: string[];
  seen: number[];
  unseen: number[];
  /**
   * images [N, H, W, 1] in 0..1 → labels [N·H·W] (class ids) and probs [N·H·W·K] at image
   * resolution; `calibrate` (default: the config's) is subtracted from seen-class logits.
   */
  predict(images: tf.Tensor4D | SceneBatch, opts?: { calibrate?: number }): { labels: Int32Array; probs: Float32Array };
  dispose(): void;
}

/** Where the run's checkpoint lives. */
export function checkpointPath(outDir: string): string {
  return join(outDir, 'checkpoints', 'last.safetensors');
}

/** Total steps of a config's schedule. */
export function totalSteps(config: ExperimentConfig): number {
  const s = config.schedule;
  return s.step1Iters + s.transferIters + (config.selfTraining.mode === 'none' ? 0 : s.selfTrainingIters);
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

function abortError(): Error {
  const e = new Error('training aborted; resume with resume: true');
  e.name = 'AbortError';
  return e;
}

export function makeOptimizers(config: ExperimentConfig): Optimizers {
  const s = config.schedule;
  return {
    encoder:
      s.encoderOptimizer === 'sgd'
        ? new SgdMomentum(s.lr.backbone, s.momentum, s.weightDecay)
        : new Adam(s.lr.backbone, s.momentum, 0.999, 1e-8, s.weightDecay),
    disc: new Adam(s.lr.discriminator),
    gen: new Adam(s.lr.generator),
  };
}

function disposeOptimizers(o: Optimizers): void {
  o.encoder.dispose();
  o.disc.dispose();
  o.gen.dispose();
}

/** A random training batch (indices from `rng`), targets downsampled to the feature grid. */
export function sampleBatch(train: SceneBatch, batchSize: number, rng: Rng, featureGrid: [number, number]): HostBatch {
  const { height: H, width: W } = train;
  const [fh, fw] = featureGrid;
  const n = Math.min(batchSize, train.n);
  const order = rng.shuffle(Array.from({ length: train.n }, (_, i) => i)).slice(0, n);
  const images = new Float32Array(n * H * W);
  const full = new Uint8Array(n * H * W);
  order.forEach((idx, b) => {
    images.set(train.images.subarray(idx * H * W, (idx + 1) * H * W), b * H * W);
    full.set(train.labels.subarray(idx * H * W, (idx + 1) * H * W), b * H * W);
  });
  return { images, n, height: H, width: W, labels: downsampleLabels(full, n, H, W, fh, fw), fh, fw };
}

/** The feature grid a model produces for images of the given size. */
export function featureGrid(model: SignModel, height: number, width: number): [number, number] {
  const s = model.backbone.outputStride;
  return [Math.ceil(height / s), Math.ceil(width / s)];
}

/**
 * Self-training targets (METHOD §4.4): the frozen teacher labels the ignored pixels of the
 * batch; 'ast' weights them `exp(T·(p − p_max))` per image, 'top-p' keeps a pixel where an
 * unseen class is in the teacher's top p. Labelled pixels keep their label and weight 1.
 */
export function pseudoLabel(teacher: SignModel, batch: HostBatch, config: ExperimentConfig, temperature: number): HostBatch {
  const { n, height, width, fh, fw } = batch;
  const { labels, weights } = tf.tidy(() => {
    const images = tf.tensor4d(batch.images, [n, height, width, 1]);
    const { feature } = teacher.features(images, { training: false, rng: new Rng(0), noise: 'zero' });
    const probs = tf.softmax(teacher.disc.applyMap(feature, { training: false, rng: new Rng(0) }).logits) as tf.Tensor4D;
    const target = tf.tensor3d(batch.labels, [n, fh, fw], 'int32');
    const unseen = teacher.classes.unseen;
    const out =
      config.selfTraining.mode === 'top-p'
        ? topPPseudoLabels(probs, target, unseen, { topP: config.selfTraining.topP })
        : annealedSelfTrainingTargets(probs, target, unseen, { temperature });
    return { labels: tf.cast(out.labels, 'int32'), weights: tf.cast(out.weights, 'float32') };
  });
  const l = labels.dataSync() as Int32Array;
  const w = weights.dataSync() as Float32Array;
  const result: HostBatch = { ...batch, labels: Int32Array.from(l), weights: Float32Array.from(w) };
  labels.dispose();
  weights.dispose();
  return result;
}

/**
 * Evaluates a model on scenes (all labels kept): one confusion matrix over the set, GZS3
 * metrics with background excluded unless `countBackground`.
 */
export function evaluate(
  model: SignModel,
  test: SceneBatch,
  opts: { calibrate: number; countBackground: boolean; batchSize?: number },
): { metrics: Gzs3Result; perClassIoU: Record<string, number>; zsl: NamedZslResult } {
  const K = model.numClasses;
  const cm = new ConfusionMatrix(K);
  const zslCm = new ConfusionMatrix(K);
  const unseen = model.classes.unseen;
  const { height: H, width: W } = test;
  const bs = opts.batchSize ?? 16;
  for (let i = 0; i < test.n; i += bs) {
    const n = Math.min(bs, test.n - i);
    const [pred, zslPred] = tf.tidy(() => {
      const images = tf.tensor4d(test.images.subarray(i * H * W, (i + n) * H * W), [n, H, W, 1]);
      const logits = model.predictLogits(images, opts.calibrate);
      if (unseen.length === 0) return [tf.argMax(logits, 3), null];
      // ZSL protocol: the best unseen class per pixel (calibration only shifts seen classes, so it
      // does not change this ranking)
      const ids = tf.tensor1d(unseen, 'int32');
      return [tf.argMax(logits, 3), tf.gather(ids, tf.argMax(tf.gather(logits, ids, 3), 3))];
    });
    const target = test.labels.subarray(i * H * W, (i + n) * H * W);
    cm.update(pred.dataSync(), target);
    if (zslPred) zslCm.update(zslPred.dataSync(), unseenTargets(target, unseen, IGNORE));
    tf.dispose([pred, zslPred ?? []]);
  }
  const m = gzs3Metrics(cm, {
    seen: model.classes.seen,
    unseen: model.classes.unseen,
    background: 0,
    countBackground: opts.countBackground,
  });
  const perClassIoU: Record<string, number> = {};
  m.perClassIoU.forEach((v, c) => {
    if (c === 0 && !opts.countBackground) return;
    perClassIoU[model.classes.classNames[c]] = v;
  });
  let zsl: NamedZslResult = { mIoU: NaN, pixelAccuracy: NaN, perClassIoU: {}, pixels: 0 };
  if (unseen.length > 0) {
    const z = zslMetrics(zslCm, unseen);
    zsl = { ...z, perClassIoU: Object.fromEntries(unseen.map((c, j) => [model.classes.classNames[c], z.perClassIoU[j]])) };
  }
  return { metrics: { ...m, perClassIoU: [...m.perClassIoU] }, perClassIoU, zsl };
}

interface TrainState {
  step: number;
  teacher: SignModel | null;
}

async function saveState(
  path: string,
  config: ExperimentConfig,
  model: SignModel,
  opts: Optimizers,
  state: TrainState,
  extra: Record<string, unknown>,
): Promise<void> {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(model.stateDict())) tensors[`model.${k}`] = v;
  if (state.teacher) for (const [k, v] of Object.entries(state.teacher.stateDict())) tensors[`teacher.${k}`] = v;
  for (const [g, o] of Object.entries(opts)) for (const [k, v] of Object.entries((o as Optimizers['gen']).state())) tensors[`opt.${g}.${k}`] = v;
  const emb = tf.tensor2d(model.classes.embeddings, [model.numClasses, model.classes.embeddingDim]);
  tensors['classes.embeddings'] = emb;
  try {
    await saveCheckpoint(path, tensors, {
      format: 'sign-trainer/1',
      step: state.step,
      total: totalSteps(config),
      phase: state.step < totalSteps(config) ? scheduleAt(config, state.step).phase : 'done',
      config,
      classes: { classNames: model.classes.classNames, seen: model.classes.seen, unseen: model.classes.unseen },
      optimizers: Object.fromEntries(Object.entries(opts).map(([g, o]) => [g, (o as Optimizers['gen']).scalars()])),
      // All randomness of step s comes from new Rng(seed).fork('step-' + s): no stream state to store.
      rng: { seed: config.seed, scheme: "per-step: new Rng(seed).fork('train').fork('step-<s>')" },
      ...extra,
    });
  } finally {
    emb.dispose();
  }
}

function prefixed(tensors: Record<string, tf.Tensor>, prefix: string): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

function cloneModel(model: SignModel): SignModel {
  const copy = new SignModel(model.config, model.classes, new Rng(0));
  copy.loadStateDict(model.stateDict());
  copy.eval();
  return copy;
}

/**
 * Runs an experiment end to end: builds the data, trains through the stages of METHOD §4,
 * evaluates, and writes `<outDir>/checkpoints/last.safetensors` (every
 * `runtime.checkpointEvery` steps, on abort, and at the end).
 *
 * @example
 * const r = await runExperiment(QUICK_CONFIG, { outDir: 'runs/quick', callbacks: { onStep: (e) => console.log(e.step, e.losses) } });
 * console.log(r.metrics.hIoU);
 */
export async function runExperiment(config: ExperimentConfig, opts: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  const { errors } = validateConfig(config);
  if (errors.length > 0) throw new Error(`invalid config:\n  ${errors.join('\n  ')}`);
  const cb = opts.callbacks ?? {};
  const log = (m: string) => cb.onLog?.(m);
  if (!opts.skipBackendInit) await initBackend(config.runtime.backend);
  const backend = currentBackend();
  log(`backend ${backend}`);

  const classes = buildClassInfo(config);
  const { train, test } = buildScenes(config);
  log(`data: ${train.n} train / ${test.n} test scenes of ${train.height}x${train.width} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const rootRng = new Rng(config.seed);
  const model = new SignModel(config, classes, rootRng.fork('init'));
  const optimizers = makeOptimizers(config);
  const state: TrainState = { step: 0, teacher: null };
  const ckpt = checkpointPath(opts.outDir);
  mkdirSync(join(opts.outDir, 'checkpoints'), { recursive: true });
  const total = totalSteps(config);
  let elapsedBefore = 0;

  try {
    if (opts.resume && existsSync(ckpt)) {
      const { tensors, metadata } = await loadCheckpoint(ckpt);
      try {
        if (metadata.format !== 'sign-trainer/1') throw new Error(`${ckpt}: not a sign-trainer checkpoint`);
        if (JSON.stringify(metadata.config) !== JSON.stringify(config))
          throw new Error(`${ckpt}: the checkpoint was written by a different config; use another outDir or the same config`);
        model.loadStateDict(prefixed(tensors, 'model.'));
        const scalars = (metadata.optimizers ?? {}) as Record<string, Record<string, number>>;
        for (const [g, o] of Object.entries(optimizers)) (o as Optimizers['gen']).load(prefixed(tensors, `opt.${g}.`), scalars[g] ?? {});
        const teacherTensors = prefixed(tensors, 'teacher.');
        if (Object.keys(teacherTensors).length > 0) {
          state.teacher = new SignModel(config, classes, new Rng(0));
          state.teacher.loadStateDict(teacherTensors);
          state.teacher.eval();
        }
        state.step = Number(metadata.step);
        elapsedBefore = Number(metadata.trainSeconds ?? 0);
        log(`resumed from ${ckpt} at step ${state.step}/${total}`);
      } finally {
        tf.dispose(Object.values(tensors));
      }
    }

    const grid = featureGrid(model, train.height, train.width);
    const trainRng = rootRng.fork('train');
    const tTrain = Date.now();
    const save = async () => {
      await saveState(ckpt, config, model, optimizers, state, { trainSeconds: elapsedBefore + (Date.now() - tTrain) / 1000 });
      cb.onCheckpoint?.(ckpt);
    };

    while (state.step < total) {
      if (opts.signal?.aborted) {
        await save();
        throw abortError();
      }
      const { phase, update, offset } = scheduleAt(config, state.step);
      if (phase === 'self-training' && !state.teacher) {
        state.teacher = cloneModel(model);
        log(`self-training (${config.selfTraining.mode}): teacher = frozen copy at step ${state.step}`);
      }
      const rng = trainRng.fork(`step-${state.step}`);
      optimizers.encoder.lr = polyLr(config.schedule.lr.backbone, state.step, total, config.schedule.lrPower);
      let batch = sampleBatch(train, config.schedule.batchSize, rng.fork('batch'), grid);
      if (phase === 'self-training' && state.teacher) {
        const st = config.selfTraining;
        const iters = Math.max(1, config.schedule.selfTrainingIters - 1);
        const T = st.temperatureEnd === undefined ? st.temperature : st.temperature + ((st.temperatureEnd - st.temperature) * offset) / iters;
        batch = pseudoLabel(state.teacher, batch, config, T);
      }
      model.train();
      const losses =
        update === 'step1'
          ? step1Update(model, optimizers, batch, rng.fork('update'), config)
          : transferUpdate(model, optimizers, batch, rng.fork('update'), config);
      for (const [k, v] of Object.entries(losses))
        if (!Number.isFinite(v)) throw new Error(`step ${state.step + 1} (${phase}/${update}): loss ${k} is ${v}`);
      state.step += 1;
      cb.onStep?.({ phase, update, step: state.step, total, losses });
      if (config.eval.every > 0 && state.step % config.eval.every === 0 && state.step < total) {
        model.eval();
        const { metrics } = evaluate(model, test, config.eval);
        cb.onEval?.({ step: state.step, metrics });
      }
      if (config.runtime.checkpointEvery > 0 && state.step % config.runtime.checkpointEvery === 0 && state.step < total) await save();
      // Let timers / signal handlers run between steps.
      await new Promise((r) => setImmediate(r));
    }
    await save();
    model.eval();
    const { metrics, perClassIoU, zsl } = evaluate(model, test, config.eval);
    cb.onEval?.({ step: state.step, metrics });
    return {
      metrics,
      perClassIoU,
      zsl,
      seen: classes.seen.map((c) => classes.classNames[c]),
      unseen: classes.unseen.map((c) => classes.classNames[c]),
      backend,
      seconds: (Date.now() - t0) / 1000,
      checkpoint: ckpt,
      steps: state.step,
    };
  } finally {
    model.dispose();
    state.teacher?.dispose();
    disposeOptimizers(optimizers);
  }
}

async function readModel(path: string): Promise<{ model: SignModel; config: ExperimentConfig; metadata: Record<string, unknown> }> {
  if (!existsSync(path)) throw new Error(`checkpoint not found: ${path}`);
  const { tensors, metadata } = await loadCheckpoint(path);
  try {
    if (metadata.format !== 'sign-trainer/1') throw new Error(`${path}: not a sign-trainer checkpoint (metadata.format = ${String(metadata.format)})`);
    const config = metadata.config as ExperimentConfig;
    const cls = metadata.classes as { classNames: string[]; seen: number[]; unseen: number[] };
    const emb = tensors['classes.embeddings'];
    if (!emb) throw new Error(`${path}: missing tensor 'classes.embeddings'`);
    const classes: ClassInfo = {
      classNames: cls.classNames,
      seen: cls.seen,
      unseen: cls.unseen,
      embeddings: Float32Array.from(emb.dataSync()),
      embeddingDim: emb.shape[1] as number,
    };
    const model = new SignModel(config, classes, new Rng(0));
    model.loadStateDict(prefixed(tensors, 'model.'));
    model.eval();
    return { model, config, metadata };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * Loads a trained model from a trainer checkpoint (the backend must already be initialised).
 *
 * @example
 * const m = await loadModel('runs/demo/checkpoints/last.safetensors');
 * const { labels } = m.predict(scenes); // scenes: a SceneBatch or images [N,H,W,1]
 * m.dispose();
 */
export async function loadModel(checkpointPath: string): Promise<TrainedModel> {
  const { model, config } = await readModel(checkpointPath);
  return {
    config,
    classNames: model.classes.classNames,
    seen: model.classes.seen,
    unseen: model.classes.unseen,
    predict(images, opts = {}) {
      const calibrate = opts.calibrate ?? config.eval.calibrate;
      const probsT = tf.tidy(() => {
        const x =
          images instanceof tf.Tensor
            ? images
            : tf.tensor4d(images.images, [images.n, images.height, images.width, 1]);
        if (x.rank !== 4 || x.shape[3] !== 1) throw new Error(`predict: expected images [N, H, W, 1], got [${x.shape.join(', ')}]`);
        return tf.softmax(model.predictLogits(x as tf.Tensor4D, calibrate));
      });
      const labelsT = tf.argMax(probsT, 3);
      const out = { labels: Int32Array.from(labelsT.dataSync()), probs: probsT.dataSync() as Float32Array };
      tf.dispose([probsT, labelsT]);
      return out;
    },
    dispose() {
      model.dispose();
    },
  };
}

/**
 * Re-evaluates a checkpoint on its config's test scenes (regenerated from the seed), with an
 * optional calibration gamma (default: the config's).
 */
export async function evaluateCheckpoint(
  checkpointPath: string,
  opts: { calibrate?: number } = {},
): Promise<NamedGzs3Result & { zsl: NamedZslResult }> {
  const { model, config } = await readModel(checkpointPath);
  try {
    const { test } = buildScenes(config);
    const { metrics, perClassIoU, zsl } = evaluate(model, test, {
      calibrate: opts.calibrate ?? config.eval.calibrate,
      countBackground: config.eval.countBackground,
    });
    return { ...metrics, perClassIoU, zsl };
  } finally {
    model.dispose();
  }
}

export { IGNORE };
