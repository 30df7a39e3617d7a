import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { Rng } from '../src/index';

export function randTensor(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1)), shape);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Compares tf.grads of `loss` at `inputs` with central finite differences, element by element.
 * For losses linear in each input (Σ op(x)⊙R with a bilinear op) the differences are exact up to
 * float32 rounding, so a large eps keeps that rounding small.
 */
export function expectGradsMatchFiniteDifferences(
  loss: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  opts: { eps?: number; tol?: number; names?: string[] } = {},
): void {
  const eps = opts.eps ?? 0.5;
  const tol = opts.tol ?? 2e-3;
  const grads = tf.grads((...xs: tf.Tensor[]) => loss(...xs))(inputs);
  for (let which = 0; which < inputs.length; which++) {
    const base = inputs[which].dataSync() as Float32Array;
    const g = grads[which].dataSync();
    const fd = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const f = (delta: number) =>
        tf.tidy(() => {
          const v = base.slice();
          v[i] += delta;
          const args: tf.Tensor[] = inputs.slice();
          args[which] = tf.tensor(v, inputs[which].shape);
          return loss(...args).dataSync()[0];
        });
      fd[i] = (f(eps) - f(-eps)) / (2 * eps);
    }
    let scale = 1;
    for (const v of fd) scale = Math.max(scale, Math.abs(v));
    const name = opts.names?.[which] ?? `input ${which}`;
    expect(maxAbsDiff(g, fd) / scale, `${name} gradient, relative error`).toBeLessThan(tol);
  }
  tf.dispose(grads);
}
