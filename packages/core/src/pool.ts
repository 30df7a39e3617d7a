import * as tf from '@tensorflow/tfjs-core';
import { type ConvGeometry, addN, scatterTap, tapSlice } from './ops';
import { assert, assertRank, pair } from './util';

/** Options of {@link maxPool2d} (PyTorch's `nn.MaxPool2d` arguments). */
export interface MaxPool2dOptions {
  /** Window size (kh, kw). */
  kernelSize: number | [number, number];
  /** Default: kernelSize. */
  stride?: number | [number, number];
  /** Implicit −∞ padding on both sides of each axis; default 0; at most half the window. */
  padding?: number | [number, number];
  /** Round the output size up instead of down (PyTorch's `ceil_mode`); default false. */
  ceilMode?: boolean;
}

/**
 * Output length of one axis of PyTorch's max pooling (dilation 1): `⌊(len + 2p − k)/s⌋ + 1`,
 * or with ceilMode `⌈(len + 2p − k)/s⌉ + 1`, less one when the last window would start in the
 * right padding (PyTorch drops it).
 *
 * @example
 * maxPoolOutputLength(49, 3, 2, 1, true);   // 25
 * maxPoolOutputLength(50, 3, 2, 1, true);   // 26 (floor mode: 25)
 */
export function maxPoolOutputLength(
  length: number,
  kernel: number,
  stride: number,
  pad: number,
  ceilMode: boolean,
): number {
  const span = length + 2 * pad - kernel;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= length + pad) out -= 1;
  return out;
}

/**
 * 2-D max pooling with PyTorch's geometry (NHWC): symmetric padding that never wins the max,
 * and `ceilMode` (the stem of DeepLabv2-ResNet101 uses 3×3, stride 2, padding 1, ceil mode).
 * Computed as an explicit −∞ pad (extra rows/columns at the end where ceil mode needs them)
 * followed by tfjs' 'valid' max pool. The gradient is this module's own (tfjs-backend-wasm
 * 4.22's MaxPoolGrad returns wrong values for some geometries, e.g. 2×2/2 windows): each
 * window's gradient goes to its first maximum in row-major order, as PyTorch's CPU kernel does.
 *
 * @param x [n, h, w, c]
 * @returns [n, oh, ow, c] with oh = {@link maxPoolOutputLength}(h, kh, sh, ph, ceilMode), same for w
 * @example
 * const y = maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });   // [1,49,65,64] → [1,25,33,64]
 */
export function maxPool2d(x: tf.Tensor4D, opts: MaxPool2dOptions): tf.Tensor4D {
  const where = 'maxPool2d';
  assertRank(x, 4, where, 'x');
  assert(
    opts !== null && typeof opts === 'object',
    where,
    'opts { kernelSize, stride?, padding?, ceilMode? } is required',
  );
  const [kh, kw] = pair(opts.kernelSize, 1, where, 'kernelSize');
  const [sh, sw] = pair(opts.stride ?? opts.kernelSize, 1, where, 'stride');
  const p = opts.padding ?? 0;
  const [ph, pw] = typeof p === 'number' ? [p, p] : [p[0], p[1]];
  assert(
    [ph, pw].every((v) => Number.isInteger(v) && v >= 0),
    where,
    `padding must be a non-negative integer or a pair of them, got ${JSON.stringify(p)}`,
  );
  assert(
    ph * 2 <= kh && pw * 2 <= kw,
    where,
    `padding ${JSON.stringify(p)} must be at most half the window ${kh}x${kw} (as in PyTorch)`,
  );
  const [n, h, w, c] = x.shape;
  const ceil = opts.ceilMode ?? false;
  const oh = maxPoolOutputLength(h, kh, sh, ph, ceil);
  const ow = maxPoolOutputLength(w, kw, sw, pw, ceil);
  assert(
    oh >= 1 && ow >= 1,
    where,
    `input ${h}x${w} is smaller than the window ${kh}x${kw} (padding ${ph},${pw})`,
  );
  // The oh×ow windows read the padded extent (o − 1)·s + k; in ceil mode the end pad may exceed
  // p, in floor mode rows/columns at the end may stay unread (then no end pad).
  const bottom = Math.max((oh - 1) * sh + kh - h - ph, 0);
  const right = Math.max((ow - 1) * sw + kw - w - pw, 0);
  const hp = h + ph + bottom;
  const wp = w + pw + right;
  const g: ConvGeometry = {
    n,
    h,
    w,
    cin: c,
    kh,
    kw,
    cout: c,
    sh,
    sw,
    dh: 1,
    dw: 1,
    pads: [
      [ph, bottom],
      [pw, right],
    ],
    oh,
    ow,
  };
  const pool = tf.customGrad(((xx: tf.Tensor4D, save: tf.GradSaveFunc) => {
    const xp =
      ph || pw || bottom || right
        ? tf.pad(
            xx,
            [
              [0, 0],
              [ph, bottom],
              [pw, right],
              [0, 0],
            ],
            -Infinity,
          )
        : xx;
    const y = tf.maxPool(xp, [kh, kw], [sh, sw], 'valid') as tf.Tensor4D;
    save([xp, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sxp, sy] = saved as tf.Tensor4D[];
        let taken: tf.Tensor | null = null;
        const parts: tf.Tensor4D[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const hit = tf.equal(tapSlice(sxp, g, i, j), sy);
            const first = taken ? tf.logicalAnd(hit, tf.logicalNot(taken)) : hit;
            taken = taken ? tf.logicalOr(taken, hit) : hit;
            parts.push(scatterTap(tf.where(first, dy, tf.zerosLike(dy)), g, i, j, hp, wp));
          }
        }
        const dxp = parts.length === 1 ? parts[0] : addN(parts); // 9 taps: chunked for webgpu
        return hp === h && wp === w ? dxp : tf.slice(dxp, [0, ph, pw, 0], [n, h, w, c]);
      },
    };
  }) as any) as (x: tf.Tensor4D) => tf.Tensor4D;
  return tf.tidy(() => {
    const y = pool(x);
    assert(
      y.shape[1] === oh && y.shape[2] === ow,
      where,
      `internal: got [${y.shape}] for expected ${oh}x${ow}`,
    );
    return y;
  });
}
