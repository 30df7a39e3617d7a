import * as tf from '@tensorflow/tfjs-core';
import { assertFloat, assertRank, assertSameShape, maskAsFloat } from './internal/checks';

/**
 * KL divergence of the SIM's latent code from N(0, I) (METHOD §2, weight 100 in §3):
 *
 *   L_KL = mean over pixels p with mask(p) = 1 of −1/2 · Σ_c (1 + logvar − mu² − exp(logvar))
 *
 * Without a mask every pixel counts. With a mask that selects no pixel the loss is 0 (and its
 * gradient 0), not NaN.
 *
 * @param mu latent means, [N, H, W, D] float32
 * @param logvar latent log-variances, [N, H, W, D] float32
 * @param mask optional 0/1 mask of the pixels to average over (labelled pixels), [N, H, W], any
 *   numeric dtype
 * @param opts `variance`: exp(logvar) [N, H, W, D] when the caller has it already (the SIM's σ²
 *   from sampling z: one exponential fewer; its gradient then flows through it)
 * @returns scalar
 *
 * @example
 * const mu = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
 * const logvar = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
 * klDivergence(mu, logvar); // 0: the code already is N(0, I)
 * klDivergence(tf.ones([1, 1, 1, 2]) as tf.Tensor4D, tf.zeros([1, 1, 1, 2]) as tf.Tensor4D); // 1 = ½·(1² + 1²)
 */
export function klDivergence(
  mu: tf.Tensor4D,
  logvar: tf.Tensor4D,
  mask?: tf.Tensor3D,
  opts: { variance?: tf.Tensor4D } = {},
): tf.Scalar {
  const fn = 'klDivergence';
  assertRank(fn, 'mu', mu, 4, '[N, H, W, D]');
  assertRank(fn, 'logvar', logvar, 4, '[N, H, W, D]');
  assertFloat(fn, 'mu', mu);
  assertFloat(fn, 'logvar', logvar);
  assertSameShape(fn, 'mu', mu.shape, 'logvar', logvar.shape);
  if (mask !== undefined) assertRank(fn, 'mask', mask, 3, '[N, H, W]');
  const variance = opts.variance;
  if (variance !== undefined) {
    assertFloat(fn, 'opts.variance', variance);
    assertSameShape(fn, 'opts.variance', variance.shape, 'mu', mu.shape);
  }
  return tf.tidy(() => {
    const perPixel = tf.mul(
      tf.sum(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), variance ?? tf.exp(logvar)), -1),
      -0.5,
    );
    if (mask === undefined) return tf.mean(perPixel) as tf.Scalar;
    const m = maskAsFloat(fn, 'mask', mask, mu.shape.slice(0, 3));
    return maskedMean(perPixel, m);
  });
}

/**
 * Σ(values · mask) / Σ mask, and 0 when Σ mask = 0. Values where mask = 0 are replaced by 0
 * first, so an Inf there does not turn the sum into NaN.
 */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const selected = tf.greater(mask, 0);
  const num = tf.sum(tf.mul(tf.where(selected, values, tf.zerosLike(values)), mask));
  const den = tf.sum(mask);
  const nonEmpty = tf.greater(den, 0);
  return tf.where(
    nonEmpty,
    tf.div(num, tf.where(nonEmpty, den, tf.onesLike(den))),
    tf.zerosLike(num),
  ) as tf.Scalar;
}
