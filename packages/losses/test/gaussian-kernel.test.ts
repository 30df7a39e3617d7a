import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { Rng } from '@sign/core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { gaussianKernelMean, portableKernelMean } from '../src/internal/gaussian-kernel';

/** float64 reference of the mean and of ∂mean/∂d² (0 where d² was clamped or floored). */
function reference(a: number[][], b: number[][], sigmas: number[], floor: number): { mean: number; g: number[][] } {
  const m = a.length;
  const n = b.length;
  let total = 0;
  const g = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const z = a[i].reduce((s, v) => s + v * v, 0) + b[j].reduce((s, v) => s + v * v, 0) - 2 * a[i].reduce((s, v, c) => s + v * b[j][c], 0);
      const x = Math.max(z, 0);
      for (const s of sigmas) {
        const t = -x / (2 * s);
        total += Math.exp(Math.max(t, floor));
        if (z > 0 && t > floor) g[i][j] -= Math.exp(t) / (2 * s) / (m * n);
      }
    }
  }
  return { mean: total / (m * n), g };
}

forEachBackend(['wasm', 'cpu'], (backend) => {
  it(`fused Gaussian-kernel mean: value and gradient match float64, for the paper's widths (power path) and others, with floored and coincident pairs (${backend})`, async () => {
    const rng = new Rng(5);
    // rows: near (d² ≪ 240), far (d² > 240, narrow widths floored), a duplicate (d² = 0), very far (every width floored)
    const a = [0, 1, 2, 3].map((r) => Array.from({ length: 3 }, () => rng.normal() + [0, 3, 0, 70][r] + (r === 2 ? 0 : 0)));
    const b = [a[0].map((v) => v + 0.3), a[2].slice(), a[1].map((v) => v + 12), [200, -200, 90]];
    for (const [sigmas, floor] of [[[2, 5, 10, 20, 40, 60], -60], [[60, 2, 40, 5, 20, 10], -60], [[0.7, 3], -8], [[1.5], -60]] as [number[], number][]) {
      const ref = reference(a, b, sigmas, floor);
      const A = tf.tensor2d(a);
      const B = tf.tensor2d(b);
      const f = (x: tf.Tensor, y: tf.Tensor, c: tf.Tensor) => gaussianKernelMean(x as tf.Tensor1D, y as tf.Tensor1D, c as tf.Tensor2D, sigmas, floor);
      const sqA = tf.sum(tf.square(A), 1) as tf.Tensor1D;
      const sqB = tf.sum(tf.square(B), 1) as tf.Tensor1D;
      const cross = tf.matMul(A, B, false, true) as tf.Tensor2D;
      const value = await expectNoLeaks(() => f(sqA, sqB, cross));
      expect(value.dataSync()[0]).toBeCloseTo(ref.mean, 5);
      const dy = tf.scalar(1.5);
      const [gA, gB, gC] = await expectNoLeaks(() => tf.grads(f)([sqA, sqB, cross], dy));
      const gc = gC.arraySync() as number[][];
      for (let i = 0; i < a.length; i++) {
        for (let j = 0; j < b.length; j++) expect(gc[i][j]).toBeCloseTo(-2 * 1.5 * ref.g[i][j], 6);
        expect(gA.dataSync()[i]).toBeCloseTo(1.5 * ref.g[i].reduce((s, v) => s + v, 0), 6);
      }
      for (let j = 0; j < b.length; j++) expect(gB.dataSync()[j]).toBeCloseTo(1.5 * ref.g.reduce((s, r) => s + r[j], 0), 6);
      // The tfjs-op version (used on backends without host memory) agrees.
      const [pMean, pG] = tf.tidy(() => portableKernelMean(sqA, sqB, cross, sigmas, floor));
      expect(pMean.dataSync()[0]).toBeCloseTo(ref.mean, 4);
      const pg = pG.arraySync() as number[][];
      for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) expect(pg[i][j]).toBeCloseTo(ref.g[i][j], 6);
      tf.dispose([A, B, sqA, sqB, cross, value, dy, gA, gB, gC, pMean, pG]);
    }
  });
});
