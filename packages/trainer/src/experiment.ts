/**
 * `runExperiment` (Node: it reads the data through `nodeIo` by default and writes checkpoints;
 * exported by `@sign/trainer/node`): a config (and optionally a data module) in, a trained and evaluated model
 * out. It composes the pieces: data module → class table → the recipe's model → optimizers from
 * the registry → the loop with its callbacks (checkpoints, periodic evaluation, the caller's) →
 * the final evaluation.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, currentBackend, initBackend, warnIfSlowBackend } from '@sign/core';
import { createDataModule, type DataModule, type DatasetIo, type DatasetMeta } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { EmbeddingTable } from '@sign/embeddings';
import type { GzsModel } from '@sign/recipes';
import { periodicEvaluation } from './callbacks';
import { createModel, type CheckpointMeta } from './checkpoint';
import { checkpointing, checkpointPath, findResumeCheckpoint, listCheckpoints, loadTrainingState, readModel } from './files';
import type { ExperimentConfig, ExperimentConfigInput } from './config/schema';
import { parseConfig } from './config/validate';
import { loadPretrainedBackbone } from './pretrained';
import { classInfo } from './data';
import { evaluate, relabelByName, type EvaluationResult, type Gzs3Result, type NamedGzs3Result, type NamedZslResult } from './evaluation';
import { fit, totalSteps, type Callback, type TrainState } from './loop';
import { createOptimizers } from './optim/create';
import type { Optimizers } from './updates';

export interface RunOptions {
  outDir: string;
  /** Callbacks of the loop (progress, logging, extra evaluations); checkpoints and `eval.every` are added. */
  callbacks?: Callback[];
  /** The data to train and test on; default: `createDataModule(config.data, { io, seed })`. */
  data?: DataModule;
  /** File access for the default data module (default: `nodeIo` of @sign/datasets/node). */
  io?: DatasetIo;
  /**
   * Continue from the newest usable checkpoint of `outDir` when there is one (see
   * `findResumeCheckpoint`: an unreadable or non-finite newest file falls back to the one before,
   * with a warning through `onLog`; a config that differs outside `RESUMABLE_KEYS` is refused).
   */
  resume?: boolean;
  /** With `resume`: continue from this checkpoint (found and checked by the caller with `findResumeCheckpoint`). */
  resumeFrom?: string;
  /** How many step checkpoints to keep in `<outDir>/checkpoints` (default 2). */
  keep?: number;
  /** Checked between steps: writes a checkpoint, then rejects with an error named 'AbortError'. */
  signal?: AbortSignal;
  /** Skip `initBackend(config.runtime.backend)` (the caller initialised a backend). */
  skipBackendInit?: boolean;
  /**
   * Stop after this many steps in all (see `fit`'s `maxSteps`): the full schedule's learning
   * rates, a checkpoint at the stop, the final evaluation; `resume` continues from there.
   */
  maxSteps?: number;
  /**
   * Where warnings go (default `console.warn`): one when training runs on tfjs' plain cpu
   * backend (@sign/core's `warnIfSlowBackend`), several times slower than wasm.
   */
  onWarning?: (message: string) => void;
}

export interface RunResult {
  metrics: Gzs3Result;
  perClassIoU: Record<string, number>;
  /** The ZSL protocol on the same test samples: unseen classes alone. */
  zsl: NamedZslResult;
  /** Seen object classes (background apart) and unseen classes, by name. */
  seen: string[];
  unseen: string[];
  /** The validated config the run used (defaults filled in). */
  config: ExperimentConfig;
  dataset: DatasetMeta;
  backend: string;
  seconds: number;
  checkpoint: string;
  /** Steps completed (the schedule's total, or `maxSteps` when that is smaller). */
  steps: number;
  /** Which protocol `metrics` is (`config.eval.protocol`), and every protocol computed (with 'release': both). */
  protocol: EvaluationResult['protocol'];
  protocols: EvaluationResult['protocols'];
}

function disposeOptimizers(o: Optimizers): void {
  for (const opt of Object.values(o)) opt.dispose();
}

function namesOf(dm: DataModule) {
  const { classNames, background } = dm.meta;
  return {
    seen: dm.seen.filter((c) => c !== background).map((c) => classNames[c]),
    unseen: [...dm.unseen].sort((a, b) => a - b).map((c) => classNames[c]),
  };
}

/**
 * Runs an experiment end to end: validates the config, builds the data module (unless given),
 * the recipe's model and the optimizers, trains through the stages of METHOD §4 (resuming from
 * the checkpoint when asked), writes `<outDir>/checkpoints/last.safetensors` (every
 * `runtime.checkpointEvery` steps, on abort, and at the end) and evaluates on the test samples.
 * An invalid config throws a ConfigError before anything is written.
 *
 * @example
 * const r = await runExperiment(config, { outDir: 'runs/quick', callbacks: [{ onStepEnd: (_, e) => console.log(e.step, e.losses) }] });
 * console.log(r.metrics.hIoU);
 */
export async function runExperiment(input: ExperimentConfig | ExperimentConfigInput, opts: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  const config = parseConfig(input);
  const callbacks = opts.callbacks ?? [];
  const log = (m: string) => callbacks.forEach((c) => c.onLog?.(m));
  if (!opts.skipBackendInit) await initBackend(config.runtime.backend);
  const backend = currentBackend();
  log(`backend ${backend}`);
  warnIfSlowBackend({ what: `training '${config.name}'`, warn: opts.onWarning ?? ((m) => console.warn(m)) });

  const data = opts.data ?? (await createDataModule(config.data, { io: opts.io ?? nodeIo, seed: config.seed }));
  let model: GzsModel | null = null;
  let optimizers: Optimizers | null = null;
  let state: TrainState | null = null;
  try {
    log(`data: ${data.meta.type}, ${data.trainSize} train / ${data.testSize} test samples (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const classes = classInfo(data);
    model = createModel(config, classes, data.meta.channels, new Rng(config.seed).fork('init'));
    optimizers = createOptimizers(config, model);
    const ckpt = checkpointPath(opts.outDir);
    let step = 0;
    let teacher: GzsModel | null = null;
    let secondsBefore = 0;
    const total = totalSteps(config);
    const from = !opts.resume ? undefined : opts.resumeFrom !== undefined ? { path: opts.resumeFrom } : await findResumeCheckpoint(opts.outDir, config, log);
    // a new run starts from the pretrained weights: read and checked before anything is written
    if (!from && config.model.backbone.pretrained !== undefined) {
      const file = config.model.backbone.pretrained;
      const r = await loadPretrainedBackbone(model, file, data.meta, { weightsInput: config.model.backbone.pretrainedInput });
      log(
        `backbone: ${r.loaded} pretrained tensors from ${file} (${r.naming} names${r.adapted ? `; first conv rewritten from ${r.weightsInput} input for the data's` : ''}); ` +
          `${r.ignored.length} keys ignored (heads, counters); left at their initialisation: ${r.initialised.length ? r.initialised.join(', ') : 'none'}`,
      );
    }
    mkdirSync(join(opts.outDir, 'checkpoints'), { recursive: true });
    // a new run replaces an older run's checkpoints (a later resume must not pick one of those)
    if (!from) for (const c of listCheckpoints(opts.outDir)) rmSync(c.path, { force: true });
    if (from) {
      ({ step, teacher, trainSeconds: secondsBefore } = await loadTrainingState(from.path, { config, model, optimizers }));
      log(`resumed from ${from.path} at step ${step}/${total}`);
    }
    const all: Callback[] = [
      ...callbacks,
      periodicEvaluation({ every: config.eval.every }),
      checkpointing({ outDir: opts.outDir, every: config.runtime.checkpointEvery, keep: opts.keep }),
    ];
    state = {
      config,
      model,
      data,
      optimizers,
      teacher,
      step,
      total,
      secondsBefore,
      startedAt: Date.now(),
      log,
      reportEvaluation: (e) => all.forEach((c) => c.onEvaluation?.(e)),
      reportCheckpoint: (p) => all.forEach((c) => c.onCheckpoint?.(p)),
    };
    await fit(state, all, { signal: opts.signal, ...(opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps } : {}) });
    model.eval();
    const { metrics, perClassIoU, zsl, protocol, protocols } = await evaluate(model, data.testSamples(), config.eval);
    state.reportEvaluation({ step: state.step, metrics });
    return {
      metrics,
      perClassIoU,
      zsl,
      protocol,
      protocols,
      ...namesOf(data),
      config,
      dataset: data.meta,
      backend,
      seconds: (Date.now() - t0) / 1000,
      checkpoint: ckpt,
      steps: state.step,
    };
  } finally {
    model?.dispose();
    state?.teacher?.dispose();
    if (optimizers) disposeOptimizers(optimizers);
    if (!opts.data) data.dispose();
  }
}

/**
 * Re-evaluates a checkpoint on the test samples of the data it records (rebuilt from its config
 * with `dataOverrides`, e.g. another `root`, or `opts.data`), with an optional calibration γ
 * (default: the config's), under the config's protocol (`eval.protocol`; with 'release' the
 * standard scores come too, in `protocols`). A SIGN release checkpoint (`.pth`) records no
 * config: `opts.config` gives it (see `readModel`).
 *
 * @example
 * const m = await evaluateCheckpoint('runs/demo/checkpoints/last.safetensors', { calibrate: 1 });
 * console.log(m.hIoU, m.perClassIoU, m.zsl.pixelAccuracy);
 */
export async function evaluateCheckpoint(
  path: string,
  opts: { calibrate?: number; data?: DataModule; io?: DatasetIo; dataOverrides?: Record<string, unknown>; config?: ExperimentConfig } = {},
): Promise<NamedGzs3Result & { zsl: NamedZslResult; protocol: EvaluationResult['protocol']; protocols: EvaluationResult['protocols']; config: ExperimentConfig; classes: CheckpointMeta['classes'] }> {
  const { model, meta } = await readModel(path, opts.config ? { config: opts.config } : {});
  const config = meta.config;
  let data: DataModule;
  try {
    // the model carries its class embeddings: the data module needs no embeddings file to score it
    const c = meta.classes;
    const E = model.classes.embeddingDim;
    const embeddings = new EmbeddingTable({
      classNames: c.classNames,
      vectors: c.classNames.map((_, i) => Array.from(model.classes.embeddings.subarray(i * E, (i + 1) * E))),
      source: path,
    });
    data = opts.data ?? (await createDataModule({ ...config.data, ...opts.dataOverrides }, { io: opts.io ?? nodeIo, seed: config.seed, embeddings }));
  } catch (err) {
    model.dispose();
    throw err;
  }
  try {
    // a model with classes added after training numbers them after its data's: relabel by name
    const samples = relabelByName(data.testSamples(), data.meta.classNames, model.classes.classNames);
    const { metrics, perClassIoU, zsl, protocol, protocols } = await evaluate(model, samples, {
      calibrate: opts.calibrate ?? config.eval.calibrate,
      countBackground: config.eval.countBackground,
      protocol: config.eval.protocol,
      inputSize: config.eval.inputSize,
    });
    return { ...metrics, perClassIoU, zsl, protocol, protocols, config, classes: meta.classes };
  } finally {
    model.dispose();
    if (!opts.data) data.dispose();
  }
}
