import * as tf from '@tensorflow/tfjs-core';
import { matMul as coreMatMul } from '@sign/core';

/**
 * `a · bᵀ` for 2-D tensors ([m, k] · [n, k]ᵀ → [m, n]) through @sign/core's matMul, whose
 * backward pass avoids tfjs' transposed-product kernels (slow on wasm).
 */
export function matMulTransposeB(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return coreMatMul(a, b, false, true);
}

/**
 * Rows `rows` of `x` ([R, D] → [rows.length, D]), differentiable on every backend.
 *
 * tf.gather's gradient needs the UnsortedSegmentSum kernel, which the wasm backend lacks; here
 * the gradient is a ScatterNd of the incoming gradient into the selected rows (rows must be
 * distinct, which holds for the class groups this package builds).
 */
export function gatherRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const [numRows, dim] = x.shape;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const idx = tf.tensor1d(rows, 'int32');
    const value = tf.gather(input, idx);
    idx.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const at = tf.tensor2d(rows, [rows.length, 1], 'int32');
          return tf.scatterND(at, dy, [numRows, dim]);
        }),
    };
  });
  return f(x) as tf.Tensor2D;
}

/**
 * sqrt(max(x, 0)) with gradient 0.5/sqrt(x) for x > 0 and 0 where x ≤ 0. The plain gradient is
 * infinite at 0 (and NaN through a max(·, 0) clamp), which is what a loss hits when the two
 * sets it compares coincide; 0 is the subgradient that keeps training finite there.
 */
export function safeSqrt(x: tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const y = tf.sqrt(tf.relu(input));
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const ys = saved[0];
          const positive = tf.greater(ys, 0);
          const safe = tf.where(positive, ys, tf.onesLike(ys));
          return tf.where(positive, tf.div(tf.mul(dy, 0.5), safe), tf.zerosLike(ys));
        }),
    };
  });
  return f(x);
}
