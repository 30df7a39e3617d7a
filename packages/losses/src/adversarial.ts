import * as tf from '@tensorflow/tfjs-core';
import { assertFiniteNumber, assertFloat, maskAsFloat } from './internal/checks';
import { maskedMean } from './kl';

/**
 * The adversarial loss that the public SIGN/CaGNet code runs under the name "lsgan": an L1
 * distance between the discriminator's sigmoid output and the target (1 for real, 0 for fake),
 * averaged over the selected pixels (METHOD §3):
 *
 *   L = mean over pixels p with mask(p) = 1 of |pred_p − target|
 *
 * Use target 1 on fake features for the generator's loss, and 1 on real / 0 on fake for the
 * discriminator's. Returns 0 when the mask selects nothing.
 *
 * @param pred discriminator outputs, any shape, e.g. [P, 1] or [N, H, W, 1] float32
 * @param target the value pred should reach, normally 0 or 1
 * @param mask optional 0/1 mask, same shape as pred or pred's shape without its trailing 1
 *   ([P] for [P, 1], [N, H, W] for [N, H, W, 1]); any numeric dtype
 * @returns scalar
 *
 * @example
 * const pred = tf.tensor2d([[0.9], [0.2], [0.6]]);
 * l1AdversarialLoss(pred, 1); // (0.1 + 0.8 + 0.4) / 3 ≈ 0.4333
 * l1AdversarialLoss(pred, 1, tf.tensor1d([1, 0, 1])); // (0.1 + 0.4) / 2 = 0.25
 */
export function l1AdversarialLoss(pred: tf.Tensor, target: number, mask?: tf.Tensor): tf.Scalar {
  return adversarial('l1AdversarialLoss', pred, target, mask, (d) => tf.abs(d));
}

/**
 * Least-squares GAN loss (Mao et al., 2017) in the same form as {@link l1AdversarialLoss}:
 *
 *   L = mean over pixels p with mask(p) = 1 of (pred_p − target)²
 *
 * The discriminator in sign-ts ends in a sigmoid, so here the squares are of probabilities;
 * this is the "true" least-squares option METHOD §3 allows besides the L1 form.
 *
 * @param pred discriminator outputs, any shape, e.g. [P, 1] float32
 * @param target normally 0 or 1
 * @param mask optional 0/1 mask, as in {@link l1AdversarialLoss}
 * @returns scalar
 *
 * @example
 * const pred = tf.tensor2d([[0.9], [0.2]]);
 * leastSquaresAdversarialLoss(pred, 0); // (0.81 + 0.04) / 2 = 0.425
 */
export function leastSquaresAdversarialLoss(
  pred: tf.Tensor,
  target: number,
  mask?: tf.Tensor,
): tf.Scalar {
  return adversarial('leastSquaresAdversarialLoss', pred, target, mask, (d) => tf.square(d));
}

function adversarial(
  fn: string,
  pred: tf.Tensor,
  target: number,
  mask: tf.Tensor | undefined,
  distance: (d: tf.Tensor) => tf.Tensor,
): tf.Scalar {
  if (!(pred instanceof tf.Tensor)) throw new TypeError(`${fn}: pred must be a tf.Tensor`);
  assertFloat(fn, 'pred', pred);
  assertFiniteNumber(fn, 'target', target);
  if (pred.size === 0) throw new Error(`${fn}: pred is empty (shape [${pred.shape.join(', ')}])`);
  let maskShape: number[] | undefined;
  if (mask !== undefined) {
    if (!(mask instanceof tf.Tensor)) throw new TypeError(`${fn}: mask must be a tf.Tensor`);
    const full = pred.shape;
    const trimmed = full[full.length - 1] === 1 ? full.slice(0, -1) : undefined;
    const same = (s: readonly number[]) =>
      s.length === mask.shape.length && s.every((d, i) => d === mask.shape[i]);
    if (same(full)) maskShape = full;
    else if (trimmed && same(trimmed)) maskShape = trimmed;
    else {
      throw new Error(
        `${fn}: mask [${mask.shape.join(', ')}] must have pred's shape [${full.join(', ')}]` +
          (trimmed ? ` or [${trimmed.join(', ')}]` : ''),
      );
    }
  }
  return tf.tidy(() => {
    const d = distance(tf.sub(pred, target));
    if (mask === undefined) return tf.mean(d) as tf.Scalar;
    const m = tf.reshape(maskAsFloat(fn, 'mask', mask, maskShape!), pred.shape);
    return maskedMean(d, m);
  });
}
