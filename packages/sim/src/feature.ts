import * as tf from '@tensorflow/tfjs-core';

/**
 * `F = sigmoid(h' + h'·sigmoid(z))`: the feature handed to the classifier, the same formula in
 * METHOD §2 and in the release (its `contextual_encoding` then `sigmoid`).
 *
 * @param hPrime [N, H, W, D]
 * @param z [N, H, W, D]
 * @returns [N, H, W, D] in (0, 1)
 * @example
 * const f = modulatedFeature(hPrime, z);
 */
export function modulatedFeature(hPrime: tf.Tensor4D, z: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sigmoid(tf.add(hPrime, tf.mul(hPrime, tf.sigmoid(z)))) as tf.Tensor4D);
}

/**
 * Per-pixel KL divergence of N(mu, exp(logvar)) to N(0, I), summed over channels:
 * `-1/2 · Σ_c (1 + logvar − mu² − exp(logvar))`.
 *
 * @param mu [N, H, W, D]
 * @param logvar [N, H, W, D]
 * @param variance exp(logvar) when the caller has it already (e.g. σ² of the reparameterization:
 *   one exponential fewer)
 * @returns [N, H, W]
 * @example
 * const kl = perPixelKl(mu, logvar);   // average over labelled pixels for the loss
 */
export function perPixelKl(mu: tf.Tensor4D, logvar: tf.Tensor4D, variance?: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(
    () =>
      tf.mul(
        tf.sum(tf.sub(tf.add(1, logvar), tf.add(tf.square(mu), variance ?? tf.exp(logvar))), 3),
        -0.5,
      ) as tf.Tensor3D,
  );
}
