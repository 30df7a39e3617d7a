/**
 * Evaluation: C's predictions at image resolution over a set of test samples, one confusion
 * matrix, the GZS3 metrics and the ZSL protocol. Reads from the backend with `await data()` only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { labelsToGrid, releaseEvalInput, type Sample } from '@sign/datasets';
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

/** One protocol's scores: the GZS3 metrics and per-class IoU by name. */
export interface ProtocolResult {
  metrics: Gzs3Result;
  perClassIoU: Record<string, number>;
}

export interface EvaluationResult {
  /** The primary protocol's metrics (`opts.protocol`: the release's, or the standard one). */
  metrics: Gzs3Result;
  perClassIoU: Record<string, number>;
  /** The ZSL protocol on the primary protocol's predictions. */
  zsl: NamedZslResult;
  /** Which protocol `metrics` is, and every protocol computed (with 'release': both). */
  protocol: 'standard' | 'release';
  protocols: { standard: ProtocolResult; release?: ProtocolResult };
}

export interface EvaluateOptions {
  /** γ subtracted from the logits of every class that is not unseen (calibrated stacking). */
  calibrate: number;
  /** Count the background class in the metrics (ZS3Net's protocol). */
  countBackground: boolean;
  /**
   * 'standard' (default): the network on each sample as given, logits upsampled bilinearly to its
   * size. 'release': the sample (normalised) warped to `inputSize`² as the release's test loader
   * does (`releaseEvalInput`), argmax of C on the feature grid scored against the label map
   * nearest-resized to that grid (`labelsToGrid`); the standard scores come from the same run.
   */
  protocol?: 'standard' | 'release';
  /** The release protocol's input side (default 513). */
  inputSize?: number;
  /** Consecutive samples of the same size are predicted together, up to this many (default 16; 1 with 'release'). */
  batchSize?: number;
}

/**
 * Test samples whose label ids follow `from` (the data's class names), relabelled to the ids of
 * `to` (the model's) by name: for a model whose class list differs from its data's, e.g. a
 * class excluded from training and added by name afterwards (`addClass`). Every class of the
 * data must be in the model (an error names the first that is not); ignored pixels stay
 * ignored. The samples are passed through untouched when both lists are equal.
 *
 * @example
 * relabelByName(dm.testSamples(), ['background', 'bag', 'boot'], ['background', 'boot', 'bag']); // label 1 → 2, 2 → 1
 */
export async function* relabelByName(samples: AsyncIterable<Sample> | Iterable<Sample>, from: readonly string[], to: readonly string[]): AsyncGenerator<Sample> {
  const same = from.length === to.length && from.every((n, i) => n === to[i]);
  let lut: Uint8Array | null = null;
  if (!same) {
    lut = new Uint8Array(256).map((_, v) => v);
    from.forEach((name, id) => {
      const target = to.indexOf(name);
      if (target < 0) throw new Error(`evaluate: the data has class '${name}', which the model does not know (its classes: ${to.join(', ')})`);
      lut![id] = target;
    });
    // ids past the data's classes are not class ids: keep them out of the model's range
    for (let v = from.length; v < 256; v++) if (v !== IGNORE) lut[v] = v < to.length ? IGNORE : v;
  }
  for await (const s of samples) yield lut ? { ...s, label: s.label.map((v) => lut![v]!) } : s;
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

/** Samples as the release's test loader gives them (warped to size², labels nearest), each with its original. */
async function* releaseInputs(samples: AsyncIterable<Sample> | Iterable<Sample>, size: number): AsyncGenerator<Sample & { original: Sample }> {
  for await (const s of samples) yield { ...releaseEvalInput(s, { size }), original: s };
}

/**
 * Evaluates a model on test samples (labels intact, any size), with one confusion matrix per
 * protocol over all samples: the standard protocol (C's logits upsampled bilinearly to each
 * sample's size, corners aligned) and, with `protocol: 'release'`, the release's (the sample
 * warped to `inputSize`², argmax on the feature grid against the label map nearest-resized to
 * it; both from one network run). `calibrate` is subtracted from the classes that are not unseen;
 * `gzs3Metrics` with the background excluded unless `countBackground`; the ZSL protocol (unseen
 * classes alone) on the primary protocol's predictions.
 *
 * @example
 * const { metrics, perClassIoU, zsl } = await evaluate(model, dataModule.testSamples(), { calibrate: 0, countBackground: false });
 * const paper = await evaluate(model, dm.testSamples(), { calibrate: 0, countBackground: false, protocol: 'release' });
 * paper.protocols.release!.metrics.hIoU; paper.protocols.standard.metrics.hIoU;
 */
export async function evaluate(
  model: GzsModel,
  samples: AsyncIterable<Sample> | Iterable<Sample>,
  opts: EvaluateOptions,
): Promise<EvaluationResult> {
  const K = model.numClasses;
  const { unseen, background, classNames } = model.classes;
  const release = opts.protocol === 'release';
  const cm = new ConfusionMatrix(K);
  const gridCm = new ConfusionMatrix(K);
  const zslCm = new ConfusionMatrix(K);
  const ids = unseen.length > 0 ? tf.tensor1d(unseen, 'int32') : null;
  const source = release ? releaseInputs(samples, opts.inputSize ?? 513) : samples;
  try {
    for await (const group of sameSizeGroups(source, opts.batchSize ?? (release ? 1 : 16))) {
      const { height: H, width: W, channels: C } = group[0];
      const px = H * W;
      const pixels = new Float32Array(group.length * px * C);
      group.forEach((s, i) => {
        if (s.image.length !== px * C) throw new Error(`evaluate: sample '${s.id}' has ${s.image.length} values, expected ${H}×${W}×${C}`);
        pixels.set(s.image, i * px * C);
      });
      const grid = tf.tidy(() => model.gridLogits(tf.tensor4d(pixels, [group.length, H, W, C]), opts.calibrate));
      try {
        const [gh, gw] = [grid.shape[1], grid.shape[2]];
        // ZSL protocol: the best unseen class per pixel (calibration only shifts the other classes)
        const bestUnseen = (logits: tf.Tensor4D) => (ids ? tf.gather(ids, tf.argMax(tf.gather(logits, ids, 3), 3)) : null);
        if (release) {
          const [p, z] = tf.tidy(() => [tf.argMax(grid, 3), bestUnseen(grid)]);
          try {
            const [pv, zv] = await Promise.all([p.data(), z ? z.data() : null]);
            group.forEach((s, i) => {
              const target = labelsToGrid(s.label, s.height, s.width, gh, gw);
              gridCm.update(pv.subarray(i * gh * gw, (i + 1) * gh * gw), target);
              if (zv) zslCm.update(zv.subarray(i * gh * gw, (i + 1) * gh * gw), unseenTargets(target, unseen, IGNORE));
            });
          } finally {
            tf.dispose([p, z ?? []]);
          }
        }
        for (const [i, s] of group.entries()) {
          const truth = release ? (s as Sample & { original: Sample }).original : s;
          const [p, z] = tf.tidy(() => {
            const one = group.length === 1 ? grid : tf.slice(grid, [i, 0, 0, 0], [1, gh, gw, K]);
            const up = tf.image.resizeBilinear(one, [truth.height, truth.width], true) as tf.Tensor4D;
            return [tf.argMax(up, 3), release ? null : bestUnseen(up)];
          });
          try {
            const [pv, zv] = await Promise.all([p.data(), z ? z.data() : null]);
            cm.update(pv, truth.label);
            if (zv) zslCm.update(zv, unseenTargets(truth.label, unseen, IGNORE));
          } finally {
            tf.dispose([p, z ?? []]);
          }
        }
      } finally {
        grid.dispose();
      }
    }
  } finally {
    ids?.dispose();
  }
  const score = (m: ConfusionMatrix): ProtocolResult => {
    const r = gzs3Metrics(m, {
      seen: model.classes.seen,
      unseen,
      ...(background !== null ? { background } : {}),
      countBackground: opts.countBackground,
    });
    const perClassIoU: Record<string, number> = {};
    r.perClassIoU.forEach((v, c) => {
      if (c === background && !opts.countBackground) return;
      perClassIoU[classNames[c]] = v;
    });
    return { metrics: { ...r, perClassIoU: [...r.perClassIoU] }, perClassIoU };
  };
  const standard = score(cm);
  const primary = release ? score(gridCm) : standard;
  let zsl: NamedZslResult = { mIoU: NaN, pixelAccuracy: NaN, perClassIoU: {}, pixels: 0 };
  if (unseen.length > 0) {
    const z = zslMetrics(zslCm, unseen);
    zsl = { ...z, perClassIoU: Object.fromEntries(unseen.map((c, j) => [classNames[c], z.perClassIoU[j]])) };
  }
  return {
    metrics: primary.metrics,
    perClassIoU: primary.perClassIoU,
    zsl,
    protocol: release ? 'release' : 'standard',
    protocols: release ? { standard, release: primary } : { standard },
  };
}
