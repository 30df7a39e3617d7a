/**
 * Evaluation: C's predictions at image resolution over a set of test samples, one confusion
 * matrix, the GZS3 metrics and the ZSL protocol. Reads from the backend with `await data()` only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Sample } from '@sign/datasets';
import { ConfusionMatrix, gzs3Metrics, unseenTargets, zslMetrics, type Gzs3Metrics, type ZslMetrics } from '@sign/metrics';
import type { GzsModel } from '@sign/recipes';
import { IGNORE } from './updates';

/** GZS3 metrics in percent (0–100), as returned by `@sign/metrics`' gzs3Metrics. */
export type Gzs3Result = Gzs3Metrics;

/** Metrics with per-class IoU keyed by class name (the classes the protocol counts). */
export type NamedGzs3Result = Omit<Gzs3Result, 'perClassIoU'> & { perClassIoU: Record<string, number> };

/**
 * The ZSL protocol's metrics (percent): only the unseen classes compete and only unseen pixels
 * count (see @sign/metrics' zslMetrics); `perClassIoU` by class name.
 */
export type NamedZslResult = Omit<ZslMetrics, 'perClassIoU'> & { perClassIoU: Record<string, number> };

export interface EvaluationResult {
  metrics: Gzs3Result;
  perClassIoU: Record<string, number>;
  zsl: NamedZslResult;
}

export interface EvaluateOptions {
  /** γ subtracted from the logits of every class that is not unseen (calibrated stacking). */
  calibrate: number;
  /** Count the background class in the metrics (ZS3Net's protocol). */
  countBackground: boolean;
  /** Consecutive samples of the same size are predicted together, up to this many (default 16). */
  batchSize?: number;
}

/** Consecutive samples of equal size and channels, at most `max` per group. */
async function* sameSizeGroups(samples: AsyncIterable<Sample> | Iterable<Sample>, max: number): AsyncGenerator<Sample[]> {
  let group: Sample[] = [];
  for await (const s of samples) {
    const g = group[0];
    if (g && (g.height !== s.height || g.width !== s.width || g.channels !== s.channels || group.length >= max)) {
      yield group;
      group = [];
    }
    group.push(s);
  }
  if (group.length > 0) yield group;
}

/**
 * Evaluates a model on test samples (labels intact, any size): C's logits upsampled bilinearly
 * to each image, `calibrate` subtracted from the classes that are not unseen, argmax, one
 * confusion matrix over all samples, `gzs3Metrics` with the background excluded unless
 * `countBackground`, and the ZSL protocol (unseen classes alone) on the same predictions.
 *
 * @example
 * const { metrics, perClassIoU, zsl } = await evaluate(model, dataModule.testSamples(), { calibrate: 0, countBackground: false });
 */
export async function evaluate(
  model: GzsModel,
  samples: AsyncIterable<Sample> | Iterable<Sample>,
  opts: EvaluateOptions,
): Promise<EvaluationResult> {
  const K = model.numClasses;
  const { unseen, background, classNames } = model.classes;
  const cm = new ConfusionMatrix(K);
  const zslCm = new ConfusionMatrix(K);
  for await (const group of sameSizeGroups(samples, opts.batchSize ?? 16)) {
    const { height: H, width: W, channels: C } = group[0];
    const px = H * W;
    const pixels = new Float32Array(group.length * px * C);
    group.forEach((s, i) => {
      if (s.image.length !== px * C) throw new Error(`evaluate: sample '${s.id}' has ${s.image.length} values, expected ${H}×${W}×${C}`);
      pixels.set(s.image, i * px * C);
    });
    const [pred, zslPred] = tf.tidy(() => {
      const logits = model.predictLogits(tf.tensor4d(pixels, [group.length, H, W, C]), opts.calibrate);
      if (unseen.length === 0) return [tf.argMax(logits, 3), null];
      // ZSL protocol: the best unseen class per pixel (calibration only shifts the other classes,
      // so it does not change this ranking)
      const ids = tf.tensor1d(unseen, 'int32');
      return [tf.argMax(logits, 3), tf.gather(ids, tf.argMax(tf.gather(logits, ids, 3), 3))];
    });
    try {
      const [p, z] = await Promise.all([pred.data(), zslPred ? zslPred.data() : null]);
      group.forEach((s, i) => {
        const predicted = p.subarray(i * px, (i + 1) * px);
        cm.update(predicted, s.label);
        if (z) zslCm.update(z.subarray(i * px, (i + 1) * px), unseenTargets(s.label, unseen, IGNORE));
      });
    } finally {
      tf.dispose([pred, zslPred ?? []]);
    }
  }
  const m = gzs3Metrics(cm, {
    seen: model.classes.seen,
    unseen,
    ...(background !== null ? { background } : {}),
    countBackground: opts.countBackground,
  });
  const perClassIoU: Record<string, number> = {};
  m.perClassIoU.forEach((v, c) => {
    if (c === background && !opts.countBackground) return;
    perClassIoU[classNames[c]] = v;
  });
  let zsl: NamedZslResult = { mIoU: NaN, pixelAccuracy: NaN, perClassIoU: {}, pixels: 0 };
  if (unseen.length > 0) {
    const z = zslMetrics(zslCm, unseen);
    zsl = { ...z, perClassIoU: Object.fromEntries(unseen.map((c, j) => [classNames[c], z.perClassIoU[j]])) };
  }
  return { metrics: { ...m, perClassIoU: [...m.perClassIoU] }, perClassIoU, zsl };
}
