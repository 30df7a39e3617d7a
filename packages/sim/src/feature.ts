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
