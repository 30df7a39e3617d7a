import * as tf from '@tensorflow/tfjs-core';
import { defineKernel, hostIo, runKernel } from '@sign/core';

/**
 * One kernel for the Gaussian-kernel mean of the MMD (the part of the loss that is not a matrix
 * product): from the squared norms and the cross products of two row sets,
 *
 *   d²[i,j] = max(0, ‖a_i‖² + ‖b_j‖² − 2·(a·bᵀ)[i,j]),
 *   mean    = 1/(m·n) · Σ_ij Σ_σ exp(max(−d²[i,j]/(2σ), floor)),
 *
 * with, as a second output kept for the backward pass, g = ∂mean/∂d² masked where d² was clamped.
 * Written out as tfjs ops this is ~8 ops per σ, each keeping its inputs for the backward pass (for
 * the paper's 6 widths, 8 classes and 3 blocks per class: ~1,200 ops and ~0.3 GB); on the wasm and
 * cpu backends it is one pass over host memory in float64 (for the paper's widths, with the
 * exponentials taken as powers of one).
 */
const NAME = 'SignGaussianKernelMean';

interface Attrs {
  sigmas: number[];
  floor: number;
}

defineKernel({
  name: NAME,
  kernelFunc: (backendName) => (args) => {
    const { sqA, sqB, cross } = args.inputs as { sqA: tf.Tensor1D; sqB: tf.Tensor1D; cross: tf.Tensor2D };
    const { sigmas, floor } = args.attrs as unknown as Attrs;
    const io = hostIo(args.backend, backendName);
    if (io && cross.dtype === 'float32' && sqA.dtype === 'float32' && sqB.dtype === 'float32') {
      const [m, n] = cross.shape;
      const mean = io.alloc([]);
      const g = io.alloc([m, n]);
      hostKernelMean(io.view(sqA), io.view(sqB), io.view(cross), m, n, sigmas, floor, io.view(mean), io.view(g));
      return [mean, g];
    }
    return tf.tidy(() => portableKernelMean(sqA, sqB, cross, sigmas, floor));
  },
  gradient: {
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      const g = saved[0];
      return {
        cross: () => tf.mul(g, tf.mul(dy, -2)),
        sqA: () => tf.mul(tf.sum(g, 1), dy),
        sqB: () => tf.mul(tf.sum(g, 0), dy),
      };
    },
  },
});

/**
 * The mean over all pairs of Σ_σ exp(max(−d²/(2σ), floor)), d² from squared norms [m], [n] and
 * cross products [m, n]; differentiable with respect to all three.
 */
export function gaussianKernelMean(
  sqA: tf.Tensor1D,
  sqB: tf.Tensor1D,
  cross: tf.Tensor2D,
  sigmas: readonly number[],
  floor: number,
): tf.Scalar {
  const [mean, g] = runKernel<tf.Tensor>(NAME, { sqA, sqB, cross }, { sigmas: [...sigmas], floor }) as unknown as tf.Tensor[];
  g.dispose();
  return mean as tf.Scalar;
}

/** The paper's widths (σ = 2, 5, 10, 20, 40, 60): a specialised loop takes them as powers. */
const PAPER_SIGMAS = [2, 5, 10, 20, 40, 60];

function hostKernelMean(
  sqA: Float32Array,
  sqB: Float32Array,
  cross: Float32Array,
  m: number,
  n: number,
  sigmas: readonly number[],
  floor: number,
  meanOut: Float32Array,
  g: Float32Array,
): void {
  const sorted = [...sigmas].sort((a, b) => a - b);
  const paper = floor <= -2 && sorted.length === PAPER_SIGMAS.length && sorted.every((v, i) => v === PAPER_SIGMAS[i]);
  const scale = 1 / (m * n);
  const total = paper ? paperWidths(sqA, sqB, cross, m, n, floor, scale, g) : anyWidths(sqA, sqB, cross, m, n, sigmas, floor, scale, g);
  meanOut[0] = total * scale;
}

/**
 * σ = 60, 40, 20, 10, 5, 2 are E^r for E = exp(−d²/120) and r = 1, 1.5, 3, 6, 12, 30: one
 * exponential, one square root and seven products per pair instead of six exponentials (in
 * float64, so the powers lose nothing that float32 would keep). Powers are kept above
 * exp(floor − 1) on the way, which changes nothing (anything at or below exp(floor) is floored)
 * and keeps the arithmetic out of the slow subnormal range. Pairs closer than the narrowest
 * width's floor (d² < −4·floor, nearly all of them) skip the floor tests.
 */
function paperWidths(
  sqA: Float32Array,
  sqB: Float32Array,
  cross: Float32Array,
  m: number,
  n: number,
  floor: number,
  scale: number,
  g: Float32Array,
): number {
  const eF = Math.exp(floor);
  const lo = Math.exp(floor - 1);
  // Below this d² no width reaches the floor (the narrowest, σ = 2, reaches it at −4·floor).
  const free = -4 * floor;
  let total = 0;
  for (let i = 0; i < m; i++) {
    const ai = sqA[i];
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const z = ai + sqB[j] - 2 * cross[row + j];
      const x = z > 0 ? z : 0;
      if (x < free) {
        const e60 = Math.exp(-x / 120);
        const e40 = e60 * Math.sqrt(e60);
        const e20 = e40 * e40;
        const e10 = e20 * e20;
        const e5 = e10 * e10;
        const e2 = e5 * e5 * e10;
        total += e60 + e40 + e20 + e10 + e5 + e2;
        const dk = e60 / 120 + e40 / 80 + e20 / 40 + e10 / 20 + e5 / 10 + e2 / 4;
        g[row + j] = z > 0 ? -dk * scale : 0;
        continue;
      }
      const e60 = Math.max(Math.exp(-x / 120), lo);
      const e40 = Math.max(e60 * Math.sqrt(e60), lo);
      const e20 = Math.max(e40 * e40, lo);
      const e10 = Math.max(e20 * e20, lo);
      const e5 = Math.max(e10 * e10, lo);
      const e2 = Math.max(e5 * e5 * e10, lo);
      total += Math.max(e60, eF) + Math.max(e40, eF) + Math.max(e20, eF) + Math.max(e10, eF) + Math.max(e5, eF) + Math.max(e2, eF);
      const dk =
        (e60 > eF ? e60 / 120 : 0) +
        (e40 > eF ? e40 / 80 : 0) +
        (e20 > eF ? e20 / 40 : 0) +
        (e10 > eF ? e10 / 20 : 0) +
        (e5 > eF ? e5 / 10 : 0) +
        (e2 > eF ? e2 / 4 : 0);
      g[row + j] = -dk * scale;
    }
  }
  return total;
}

/**
 * Any widths: one exponential per width and pair. (The pair loop is written out here and in
 * paperWidths on purpose: one loop calling a per-pair function measured 25 % slower.)
 */
function anyWidths(
  sqA: Float32Array,
  sqB: Float32Array,
  cross: Float32Array,
  m: number,
  n: number,
  sigmas: readonly number[],
  floor: number,
  scale: number,
  g: Float32Array,
): number {
  const inv2s = Float64Array.from(sigmas, (s) => 1 / (2 * s));
  const eF = Math.exp(floor);
  let total = 0;
  for (let i = 0; i < m; i++) {
    const ai = sqA[i];
    const row = i * n;
    for (let j = 0; j < n; j++) {
      const z = ai + sqB[j] - 2 * cross[row + j];
      const x = z > 0 ? z : 0;
      let k = 0;
      let dk = 0;
      for (let s = 0; s < inv2s.length; s++) {
        const t = -x * inv2s[s];
        if (t > floor) {
          const e = Math.exp(t);
          k += e;
          dk -= inv2s[s] * e;
        } else {
          k += eF;
        }
      }
      total += k;
      g[row + j] = z > 0 ? dk * scale : 0;
    }
  }
  return total;
}

/** The same computation from tfjs ops (any backend); exported for the tests. */
export function portableKernelMean(
  sqA: tf.Tensor1D,
  sqB: tf.Tensor1D,
  cross: tf.Tensor2D,
  sigmas: readonly number[],
  floor: number,
): [tf.Scalar, tf.Tensor2D] {
  const z = tf.sub(tf.add(tf.reshape(sqA, [-1, 1]), tf.reshape(sqB, [1, -1])), tf.mul(cross, 2));
  const d2 = tf.relu(z);
  let k: tf.Tensor = tf.zerosLike(d2);
  let dk: tf.Tensor = tf.zerosLike(d2);
  for (const s of sigmas) {
    const t = tf.mul(d2, -1 / (2 * s));
    const e = tf.exp(tf.maximum(t, floor));
    k = tf.add(k, e);
    dk = tf.add(dk, tf.mul(tf.mul(e, tf.cast(tf.greater(t, floor), 'float32')), -1 / (2 * s)));
  }
  const mn = cross.shape[0] * cross.shape[1];
  const g = tf.div(tf.mul(dk, tf.cast(tf.greater(z, 0), 'float32')), mn) as tf.Tensor2D;
  return [tf.mean(k) as tf.Scalar, g];
}
