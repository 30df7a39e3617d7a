import * as tf from '@tensorflow/tfjs-core';
import {
  assertClassId,
  assertFloat,
  assertInt32,
  assertRank,
  assertSameShape,
} from './internal/checks';

/** Options of {@link weightedCrossEntropy}. */
export interface WeightedCrossEntropyOptions {
  /** Pixels with this label take no part; default 255. */
  ignoreIndex?: number;
  /**
   * Read the labels back to the host to name an out-of-range label (default true). That read is
   * synchronous (`dataSync()`), which the WebGPU backend in Node does not have: pass false when
   * the caller has checked the labels itself (the trainer checks its batches on the host).
   */
  checkLabels?: boolean;
}

/**
 * Pixel-wise cross-entropy with per-pixel weights (METHOD §3, and the student loss of annealed
 * self-training, §4):
 *
 *   L = Σ_p w_p · CE_p / (Σ_p w_p + 1e−6),  CE_p = −log softmax(logits_p)[label_p]
 *
 * over the pixels whose label is not `ignoreIndex`; w = 1 everywhere when `weights` is absent
 * (then L is the mean CE up to the 1e−6). The log-softmax subtracts the per-pixel maximum
 * logit, so large logits do not overflow. Labels are checked on the host (unless
 * `checkLabels: false`): a label outside [0, C) that is not `ignoreIndex` is an error naming it.
 *
 * @param logits class scores, [N, H, W, C] float32
 * @param labels class ids, [N, H, W] int32 (`ignoreIndex` for unlabelled pixels)
 * @param weights optional per-pixel weights ≥ 0, [N, H, W] float32
 * @param opts `ignoreIndex` (default 255), `checkLabels` (default true)
 * @returns scalar
 *
 * @example
 * const logits = tf.tensor4d([[[[2, 0, 0], [0, 0, 0]]]]); // [1, 1, 2, 3]
 * const labels = tf.tensor3d([[[0, 255]]], undefined, 'int32');
 * weightedCrossEntropy(logits, labels); // −log(e²/(e²+2)) ≈ 0.2395 (pixel 2 is ignored)
 */
export function weightedCrossEntropy(
  logits: tf.Tensor4D,
  labels: tf.Tensor3D,
  weights?: tf.Tensor3D,
  opts: WeightedCrossEntropyOptions = {},
): tf.Scalar {
  const fn = 'weightedCrossEntropy';
  assertRank(fn, 'logits', logits, 4, '[N, H, W, C]');
  assertRank(fn, 'labels', labels, 3, '[N, H, W]');
  assertFloat(fn, 'logits', logits);
  assertInt32(fn, 'labels', labels);
  assertSameShape(fn, 'labels', labels.shape, 'logits [N, H, W]', logits.shape.slice(0, 3));
  if (weights !== undefined) {
    assertRank(fn, 'weights', weights, 3, '[N, H, W]');
    assertFloat(fn, 'weights', weights);
    assertSameShape(fn, 'weights', weights.shape, 'labels', labels.shape);
  }
  const ignoreIndex = opts.ignoreIndex ?? 255;
  assertClassId(fn, 'opts.ignoreIndex', ignoreIndex);
  const numClasses = logits.shape[3];
  if (opts.checkLabels ?? true) checkLabelRange(fn, labels.dataSync() as Int32Array, numClasses, ignoreIndex);

  return tf.tidy(() => {
    const valid = tf.notEqual(labels, ignoreIndex);
    const safeLabels = tf.where(valid, labels, tf.zerosLike(labels));
    const oneHot = tf.oneHot(safeLabels, numClasses);
    const logProb = tf.logSoftmax(logits);
    const ce = tf.neg(tf.sum(tf.mul(oneHot, logProb), -1));
    const validF = tf.cast(valid, 'float32');
    const w = weights === undefined ? validF : tf.mul(weights, validF);
    // Where the label is ignored, the CE of class 0 is computed and multiplied by 0; take it out
    // with `where` so that non-finite logits at ignored pixels cannot turn the sum into NaN.
    const weighted = tf.where(valid, tf.mul(w, ce), tf.zerosLike(ce));
    return tf.div(tf.sum(weighted), tf.add(tf.sum(w), 1e-6)) as tf.Scalar;
  });
}

function checkLabelRange(
  fn: string,
  labels: Int32Array,
  numClasses: number,
  ignoreIndex: number,
): void {
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c !== ignoreIndex && (c < 0 || c >= numClasses)) {
      throw new Error(
        `${fn}: label ${c} at flat pixel ${i} is outside [0, ${numClasses}) and is not the ignore index ${ignoreIndex}`,
      );
    }
  }
}
