import * as tf from '@tensorflow/tfjs-core';
import { addN } from '@sign/core';
import { assertClassId, assertFloat, assertInt32, assertRank } from './internal/checks';
import { gaussianKernelMean } from './internal/gaussian-kernel';
import { gatherRows, matMulTransposeB, safeSqrt } from './internal/ops';

/** The kernel widths σ of SIGN's class-wise MMD (METHOD §3). */
export const DEFAULT_SIGMAS: readonly number[] = Object.freeze([2, 5, 10, 20, 40, 60]);

/**
 * Lower bound on the exponent −‖a−b‖²/(2σ) of every Gaussian kernel value.
 *
 * Kernels of distant points underflow into denormal floats (below ~1.2e−38), and arithmetic on
 * denormals is many times slower on common CPUs (a PyTorch port of this loss ran 2.5× slower
 * for it). exp(−60) ≈ 8.8e−27 stays a normal float even after the gradient scales it by the
 * 1/(M·N) of a mean, so neither pass touches denormals; a kernel value below it is raised to
 * it, which changes the loss by at most 6·exp(−60) per pair (nothing in float32 terms).
 */
export const KERNEL_EXPONENT_FLOOR = -60;

/** Options of {@link classwiseMmdLoss}. */
export interface ClasswiseMmdOptions {
  /** Kernel widths σ; default [2, 5, 10, 20, 40, 60]. */
  sigmas?: readonly number[];
  /** Rows with this label take no part; default 255. */
  ignoreIndex?: number;
}

/**
 * Maximum mean discrepancy between two sets of feature vectors (SIGN's content loss for the
 * generator, METHOD §3): with k_σ(a, b) = exp(−‖a−b‖² / (2σ)),
 *
 *   MMD(X, Y) = sqrt(max(0, Σ_σ [mean k_σ(X, X) + mean k_σ(Y, Y) − 2 mean k_σ(X, Y)]))
 *
 * the biased estimator (means over all pairs, diagonal included). Squared distances are computed
 * as ‖a‖² + ‖b‖² − 2a·b and clamped at 0; kernel exponents are clamped at
 * {@link KERNEL_EXPONENT_FLOOR} so that no denormal floats arise; the square root has gradient 0
 * where its argument is 0, so the loss and its gradient stay finite when X and Y coincide.
 *
 * @param real X, [M, D] float32 (M ≥ 1)
 * @param fake Y, [N, D] float32 (N ≥ 1, same D)
 * @param sigmas kernel widths σ (> 0); default [2, 5, 10, 20, 40, 60]
 * @returns a scalar ≥ 0, differentiable with respect to both sets
 *
 * @example
 * const real = tf.tensor2d([[0, 0], [1, 0]]);
 * const fake = tf.tensor2d([[0, 1], [1, 1]]);
 * const loss = mmdLoss(real, fake); // Scalar ≈ 0.8717
 */
export function mmdLoss(
  real: tf.Tensor2D,
  fake: tf.Tensor2D,
  sigmas: readonly number[] = DEFAULT_SIGMAS,
): tf.Scalar {
  const fn = 'mmdLoss';
  assertRank(fn, 'real', real, 2, '[M, D]');
  assertRank(fn, 'fake', fake, 2, '[N, D]');
  assertFloat(fn, 'real', real);
  assertFloat(fn, 'fake', fake);
  if (real.shape[1] !== fake.shape[1]) {
    throw new Error(
      `${fn}: real [${real.shape.join(', ')}] and fake [${fake.shape.join(', ')}] must have the same feature width D`,
    );
  }
  if (real.shape[0] === 0 || fake.shape[0] === 0) {
    throw new Error(
      `${fn}: both sets need at least one row, got real [${real.shape.join(', ')}] and fake [${fake.shape.join(', ')}]`,
    );
  }
  checkSigmas(fn, sigmas);
  return tf.tidy(() => mmdUnchecked(real, fake, sigmas));
}

/**
 * Class-wise MMD (METHOD §3, §5): the rows of `real` and `fake` are grouped by their class in
 * `labels` (every row of a class, wherever it is; the public SIGN code groups consecutive runs of
 * equal labels instead, which this does not copy), rows labelled `ignoreIndex` are dropped, and
 * the MMD of each class's real rows against its fake rows ({@link mmdLoss}) is averaged over the
 * classes present. Returns 0 (with zero gradient) when no row has a class.
 *
 * The groups are formed on the host: pass the labels as an `Int32Array` when the caller has them
 * there (the trainer samples its pixels on the host), otherwise a tensor is read back. Gradients
 * flow to `real` and `fake`.
 *
 * @param real real features, [P, D] float32 (one row per labelled pixel)
 * @param fake generated features for the same pixels, [P, D] float32
 * @param labels class id of each row, [P] int32 (tensor or Int32Array)
 * @param opts `sigmas` (default [2, 5, 10, 20, 40, 60]), `ignoreIndex` (default 255)
 * @returns scalar
 *
 * @example
 * const real = tf.tensor2d([[0, 0], [5, 5], [0, 1]]);
 * const fake = tf.tensor2d([[0, 1], [5, 4], [1, 1]]);
 * const labels = tf.tensor1d([3, 7, 3], 'int32');
 * const loss = classwiseMmdLoss(real, fake, labels); // (MMD of class 3 + MMD of class 7) / 2 ≈ 0.7613
 */
export function classwiseMmdLoss(
  real: tf.Tensor2D,
  fake: tf.Tensor2D,
  labels: tf.Tensor1D | Int32Array,
  opts: ClasswiseMmdOptions = {},
): tf.Scalar {
  const fn = 'classwiseMmdLoss';
  assertRank(fn, 'real', real, 2, '[P, D]');
  assertRank(fn, 'fake', fake, 2, '[P, D]');
  const onHost = labels instanceof Int32Array;
  if (!onHost) {
    assertRank(fn, 'labels', labels, 1, '[P] (or an Int32Array)');
    assertInt32(fn, 'labels', labels);
  }
  assertFloat(fn, 'real', real);
  assertFloat(fn, 'fake', fake);
  const numLabels = onHost ? labels.length : labels.shape[0];
  if (real.shape[0] !== fake.shape[0] || real.shape[1] !== fake.shape[1] || numLabels !== real.shape[0]) {
    throw new Error(
      `${fn}: real [${real.shape.join(', ')}], fake [${fake.shape.join(', ')}] and labels [${numLabels}] must be [P, D], [P, D] and [P]`,
    );
  }
  const sigmas = opts.sigmas ?? DEFAULT_SIGMAS;
  checkSigmas(fn, sigmas);
  const ignoreIndex = opts.ignoreIndex ?? 255;
  assertClassId(fn, 'opts.ignoreIndex', ignoreIndex);

  const groups = groupRowsByClass(onHost ? labels : (labels.dataSync() as Int32Array), ignoreIndex);
  return tf.tidy(() => {
    if (groups.length === 0) {
      // No class present: a zero that is still connected to both inputs, so gradients are 0.
      // (x·0 can be −0; adding +0 makes it +0.)
      return tf.add(tf.add(tf.mul(tf.sum(real), 0), tf.mul(tf.sum(fake), 0)), 0) as tf.Scalar;
    }
    // The rows in class order (one gather, none when they already are), split into classes:
    // the gradient of a split is one concatenation, not one full-size scatter per class.
    const order = new Int32Array(groups.reduce((n, g) => n + g.rows.length, 0));
    let at = 0;
    for (const g of groups) {
      order.set(g.rows, at);
      at += g.rows.length;
    }
    const inOrder = order.length === real.shape[0] && order.every((r, i) => r === i);
    const sizes = groups.map((g) => g.rows.length);
    const split = (t: tf.Tensor2D) => {
      const rows = inOrder ? t : gatherRows(t, order);
      return sizes.length === 1 ? [rows] : (tf.split(rows, sizes, 0) as tf.Tensor2D[]);
    };
    const xs = split(real);
    const ys = split(fake);
    const perClass = xs.map((x, c) => mmdUnchecked(x, ys[c], sigmas));
    return tf.div(addN(perClass), perClass.length) as tf.Scalar; // one term per class: may exceed webgpu's 7-input AddN
  });
}

/** The rows of each class, classes in increasing order, `ignoreIndex` left out. */
export function groupRowsByClass(
  labels: ArrayLike<number>,
  ignoreIndex: number,
): { classId: number; rows: Int32Array }[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c === ignoreIndex) continue;
    if (c < 0)
      throw new Error(`classwiseMmdLoss: labels must be ≥ 0 class ids, found ${c} at row ${i}`);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const rowsOf = new Map<number, { rows: Int32Array; n: number }>();
  for (const c of classes) rowsOf.set(c, { rows: new Int32Array(counts.get(c)!), n: 0 });
  for (let i = 0; i < labels.length; i++) {
    const g = rowsOf.get(labels[i]);
    if (g) g.rows[g.n++] = i;
  }
  return classes.map((classId) => ({ classId, rows: rowsOf.get(classId)!.rows }));
}

function checkSigmas(fn: string, sigmas: readonly number[]): void {
  if (!Array.isArray(sigmas) || sigmas.length === 0) {
    throw new Error(`${fn}: sigmas must be a non-empty array of positive numbers`);
  }
  for (const s of sigmas) {
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw new Error(`${fn}: every sigma must be a positive finite number, got ${String(s)}`);
    }
  }
}

function mmdUnchecked(x: tf.Tensor2D, y: tf.Tensor2D, sigmas: readonly number[]): tf.Scalar {
  // ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b loses precision in float32 when the norms are large compared
  // with the distance; distances do not change under a shift, so each block is computed on
  // centred rows (X about its mean, Y about its mean, X against Y about the midpoint).
  const cx = tf.mean(x, 0, true);
  const cy = tf.mean(y, 0, true);
  const cxy = tf.mul(tf.add(cx, cy), 0.5);
  const xc = tf.sub(x, cx) as tf.Tensor2D;
  const yc = tf.sub(y, cy) as tf.Tensor2D;
  const kxx = meanKernel(xc, xc, sigmas);
  const kyy = meanKernel(yc, yc, sigmas);
  const kxy = meanKernel(tf.sub(x, cxy) as tf.Tensor2D, tf.sub(y, cxy) as tf.Tensor2D, sigmas);
  const squared = tf.sub(tf.add(kxx, kyy), tf.mul(kxy, 2));
  return safeSqrt(squared) as tf.Scalar;
}

/**
 * mean over all pairs (a ∈ A, b ∈ B) of Σ_σ exp(max(−‖a−b‖²/(2σ), floor)), with
 * ‖a−b‖² = max(0, ‖a‖² + ‖b‖² − 2a·b): one product, then one fused kernel (gaussian-kernel.ts).
 */
function meanKernel(a: tf.Tensor2D, b: tf.Tensor2D, sigmas: readonly number[]): tf.Scalar {
  const sqA = tf.sum(tf.square(a), 1) as tf.Tensor1D;
  const sqB = a === b ? sqA : (tf.sum(tf.square(b), 1) as tf.Tensor1D);
  const cross = matMulTransposeB(a, b);
  return gaussianKernelMean(sqA, sqB, cross, sigmas, KERNEL_EXPONENT_FLOOR);
}
