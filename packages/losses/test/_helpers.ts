import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** |actual − expected| ≤ 1e-4 · max(1, |expected|) elementwise: the project's parity tolerance. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-4,
): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= tol)) {
    throw new Error(
      `element ${at}: got ${actual[at]}, expected ${expected[at]} (scaled error ${worst} > ${tol})`,
    );
  }
}

/** The value of a scalar tensor, disposing it. */
export function take(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/**
 * Compares tf.grads of `f` with central finite differences of `f` itself (float32), for every
 * element of every input. Tolerance: |analytic − numeric| ≤ atol + rtol · |numeric|.
 */
export function checkGradients(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: { values: number[]; shape: number[] }[],
  opts: { eps?: number; atol?: number; rtol?: number } = {},
): { maxAbsErr: number; checked: number } {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 2e-2;
  const analytic = tf.tidy(() => {
    const xs = inputs.map((x) => tf.tensor(x.values, x.shape, 'float32'));
    const gs = tf.grads((...a: tf.Tensor[]) => f(...a))(xs);
    return gs.map((g) => Array.from(g.dataSync()));
  });
  const evalAt = (vals: number[][]): number =>
    tf.tidy(() => f(...vals.map((v, i) => tf.tensor(v, inputs[i].shape, 'float32'))).dataSync()[0]);
  let maxAbsErr = 0;
  let checked = 0;
  for (let i = 0; i < inputs.length; i++) {
    for (let j = 0; j < inputs[i].values.length; j++) {
      const plus = inputs.map((x) => x.values.slice());
      const minus = inputs.map((x) => x.values.slice());
      plus[i][j] += eps;
      minus[i][j] -= eps;
      const numeric = (evalAt(plus) - evalAt(minus)) / (2 * eps);
      const a = analytic[i][j];
      expect(Number.isFinite(a)).toBe(true);
      const err = Math.abs(a - numeric);
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        throw new Error(`input ${i} element ${j}: analytic ${a}, finite difference ${numeric}`);
      }
      maxAbsErr = Math.max(maxAbsErr, err);
      checked++;
    }
  }
  return { maxAbsErr, checked };
}

/** Deterministic pseudo-random numbers (mulberry32) for test inputs. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard-normal-ish numbers (sum of uniforms), deterministic. */
export function randn(n: number, seed: number, scale = 1): number[] {
  const r = seeded(seed);
  return Array.from({ length: n }, () => (r() + r() + r() + r() - 2) * scale * Math.sqrt(3));
}

/** Float64 reference of the biased multi-kernel MMD (no clamps), rows as arrays. */
export function mmdReference(x: number[][], y: number[][], sigmas: number[]): number {
  const k = (a: number[][], b: number[][]) => {
    let s = 0;
    for (const p of a)
      for (const q of b) {
        let d = 0;
        for (let i = 0; i < p.length; i++) d += (p[i] - q[i]) ** 2;
        for (const sg of sigmas) s += Math.exp(-d / (2 * sg));
      }
    return s / (a.length * b.length);
  };
  return Math.sqrt(Math.max(0, k(x, x) + k(y, y) - 2 * k(x, y)));
}
