import * as tf from '@tensorflow/tfjs-core';
import { assert, assertRank, pair } from './util';

/** Padding of a convolution: TF-style 'same'/'valid', a symmetric amount, or [[top,bottom],[left,right]]. */
export type Conv2dPadding = 'same' | 'valid' | number | [[number, number], [number, number]];

export interface Conv2dOptions {
  /** Stride along height and width (default 1). */
  strides?: number | [number, number];
  /** Dilation (atrous rate) along height and width (default 1). */
  dilations?: number | [number, number];
  /** Default 'same'. */
  padding?: Conv2dPadding;
  /** [cout], added to every output position. */
  bias?: tf.Tensor1D;
}

/** The geometry of one convolution: explicit pads and output size. */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  kh: number;
  kw: number;
  cout: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** [[top, bottom], [left, right]] */
  pads: [[number, number], [number, number]];
  oh: number;
  ow: number;
}

/** Computes output size and explicit pads the way TensorFlow does (for 'same': extra pad at the end). */
export function convGeometry(
  xShape: number[],
  kShape: number[],
  strides: [number, number],
  dilations: [number, number],
  padding: Conv2dPadding,
  where = 'conv2d',
): ConvGeometry {
  const [n, h, w, cin] = xShape;
  const [kh, kw, , cout] = kShape;
  const [sh, sw] = strides;
  const [dh, dw] = dilations;
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  let pads: [[number, number], [number, number]];
  if (padding === 'same') {
    const oh = Math.ceil(h / sh);
    const ow = Math.ceil(w / sw);
    const th = Math.max((oh - 1) * sh + ekh - h, 0);
    const tw = Math.max((ow - 1) * sw + ekw - w, 0);
    pads = [
      [Math.floor(th / 2), th - Math.floor(th / 2)],
      [Math.floor(tw / 2), tw - Math.floor(tw / 2)],
    ];
  } else if (padding === 'valid') {
    pads = [
      [0, 0],
      [0, 0],
    ];
  } else if (typeof padding === 'number') {
    assert(Number.isInteger(padding) && padding >= 0, where, `padding must be a non-negative integer, got ${padding}`);
    pads = [
      [padding, padding],
      [padding, padding],
    ];
  } else if (Array.isArray(padding) && padding.length === 2 && padding.every((p) => Array.isArray(p) && p.length === 2)) {
    pads = [
      [padding[0][0], padding[0][1]],
      [padding[1][0], padding[1][1]],
    ];
    assert(
      pads.flat().every((p) => Number.isInteger(p) && p >= 0),
      where,
      `explicit padding must be non-negative integers [[top,bottom],[left,right]], got ${JSON.stringify(padding)}`,
    );
  } else {
    throw new Error(`${where}: padding must be 'same', 'valid', a number or [[top,bottom],[left,right]], got ${JSON.stringify(padding)}`);
  }
  const hp = h + pads[0][0] + pads[0][1];
  const wp = w + pads[1][0] + pads[1][1];
  const oh = Math.floor((hp - ekh) / sh) + 1;
  const ow = Math.floor((wp - ekw) / sw) + 1;
  assert(
    oh >= 1 && ow >= 1,
    where,
    `input ${h}x${w} (padded ${hp}x${wp}) is smaller than the dilated kernel ${ekh}x${ekw}`,
  );
  return { n, h, w, cin, kh, kw, cout, sh, sw, dh, dw, pads, oh, ow };
}

// ---------------------------------------------------------------------------------------------
// matMul with explicit-transpose gradients

type Saver = tf.GradSaveFunc;

/**
 * a·b with a custom gradient that transposes explicitly: dA = dY·transpose(B), dB = transpose(A)·dY.
 * tfjs' own BatchMatMul gradient multiplies with transposeA/transposeB flags, which the wasm
 * backend runs 10–30x slower than a plain product.
 */
const matMulPlain = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: Saver) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return matMulGrads(sa, sb, dy);
    },
  };
}) as any) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * Gradients of y = a·b [m,n] given dy: dA = dy·bᵀ [m,k], dB = aᵀ·dy [k,n], using plain products
 * and explicit transposes. A transpose costs about as much as reading the matrix a few times
 * (wasm's transpose is not cache-blocked), so for each product we transpose whichever side moves
 * fewer elements: dB = aᵀ·dy transposes a (m·k), while (dyᵀ·a)ᵀ transposes dy and the result
 * (m·n + k·n).
 */
export function matMulGrads(a: tf.Tensor2D, b: tf.Tensor2D, dy: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const [m, k] = a.shape;
  const n = b.shape[1];
  let dyT: tf.Tensor2D | null = null;
  const getDyT = (): tf.Tensor2D => (dyT ??= tf.transpose(dy));
  const da = k * n <= m * n + m * k ? tf.matMul(dy, tf.transpose(b)) : tf.transpose(tf.matMul(b, getDyT()));
  const db = m * k <= m * n + k * n ? tf.matMul(tf.transpose(a), dy) : tf.transpose(tf.matMul(getDyT(), a));
  return [da as tf.Tensor2D, db as tf.Tensor2D];
}

/**
 * Matrix product `a·b` (optionally transposing either operand first) whose forward and backward
 * run at full speed on every backend: transposes are explicit `tf.transpose` ops, never the
 * transposeA/B flags of `tf.matMul`.
 *
 * @param a [m,k] (or [k,m] with transposeA)
 * @param b [k,n] (or [n,k] with transposeB)
 * @returns [m,n]
 * @example
 * const c = matMul(tf.ones([2, 3]), tf.ones([3, 4]));   // [2,4], every entry 3
 */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  assertRank(a, 2, 'matMul', 'a');
  assertRank(b, 2, 'matMul', 'b');
  const ka = transposeA ? a.shape[0] : a.shape[1];
  const kb = transposeB ? b.shape[1] : b.shape[0];
  assert(
    ka === kb,
    'matMul',
    `inner dimensions differ: a [${a.shape}]${transposeA ? 'ᵀ' : ''} · b [${b.shape}]${transposeB ? 'ᵀ' : ''}`,
  );
  return tf.tidy(() => {
    const aa = transposeA ? tf.transpose(a) : a;
    const bb = transposeB ? tf.transpose(b) : b;
    return matMulPlain(aa, bb);
  });
}

function checkBias(bias: tf.Tensor | undefined, n: number, where: string): void {
  if (bias === undefined) return;
  assertRank(bias, 1, where, 'bias');
  assert(bias.shape[0] === n, where, `bias has ${bias.shape[0]} entries, expected ${n} (output channels)`);
}

/**
 * Fully connected layer `x·kernel + bias`, fast forward and backward on every backend.
 *
 * @param x [batch, in]
 * @param kernel [in, out]
 * @param bias [out]
 * @returns [batch, out]
 * @example
 * const y = dense(tf.ones([8, 16]), tf.ones([16, 4]), tf.zeros([4]));   // [8,4], every entry 16
 */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  assertRank(x, 2, 'dense', 'x');
  assertRank(kernel, 2, 'dense', 'kernel');
  assert(
    x.shape[1] === kernel.shape[0],
    'dense',
    `x has ${x.shape[1]} features but kernel [${kernel.shape}] expects ${kernel.shape[0]}`,
  );
  checkBias(bias, kernel.shape[1], 'dense');
  return tf.tidy(() => {
    const y = matMulPlain(x, kernel);
    return bias ? tf.add(y, bias) : y;
  });
}

/**
 * 1×1 convolution (a per-pixel dense layer), fast forward and backward on every backend.
 *
 * @param x [n, h, w, cin]
 * @param kernel [cin, cout]
 * @param bias [cout]
 * @returns [n, h, w, cout]
 * @example
 * const y = conv1x1(tf.ones([1, 4, 4, 8]), tf.ones([8, 2]));   // [1,4,4,2], every entry 8
 */
export function conv1x1(x: tf.Tensor4D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor4D {
  assertRank(x, 4, 'conv1x1', 'x');
  assertRank(kernel, 2, 'conv1x1', 'kernel');
  const [n, h, w, c] = x.shape;
  assert(c === kernel.shape[0], 'conv1x1', `x has ${c} channels but kernel [${kernel.shape}] expects ${kernel.shape[0]}`);
  checkBias(bias, kernel.shape[1], 'conv1x1');
  return tf.tidy(() => {
    let y = matMulPlain(tf.reshape(x, [n * h * w, c]), kernel);
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [n, h, w, kernel.shape[1]]);
  });
}

// ---------------------------------------------------------------------------------------------
// conv2d

/** One tap's input window: xp[:, i*dh + a*sh, j*dw + b*sw, :] for a < oh, b < ow. */
export function tapSlice(xp: tf.Tensor4D, g: ConvGeometry, i: number, j: number): tf.Tensor4D {
  const r0 = i * g.dh;
  const c0 = j * g.dw;
  const n = xp.shape[0];
  const c = xp.shape[3];
  if (g.sh === 1 && g.sw === 1) return tf.slice(xp, [0, r0, c0, 0], [n, g.oh, g.ow, c]);
  return tf.stridedSlice(
    xp,
    [0, r0, c0, 0],
    [n, r0 + (g.oh - 1) * g.sh + 1, c0 + (g.ow - 1) * g.sw + 1, c],
    [1, g.sh, g.sw, 1],
  ) as tf.Tensor4D;
}

function padInput(x: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [[t, b], [l, r]] = g.pads;
  if (t === 0 && b === 0 && l === 0 && r === 0) return x;
  return tf.pad(x, [
    [0, 0],
    [t, b],
    [l, r],
    [0, 0],
  ]);
}

/** im2col matrix [n*oh*ow, kh*kw*cin], columns ordered (i, j, c) like a reshaped kernel. */
function im2col(x: tf.Tensor4D, g: ConvGeometry): tf.Tensor2D {
  const xp = padInput(x, g);
  const taps: tf.Tensor4D[] = [];
  for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) taps.push(tapSlice(xp, g, i, j));
  const cols = taps.length === 1 ? taps[0] : tf.concat(taps, 3);
  return tf.reshape(cols, [g.n * g.oh * g.ow, g.kh * g.kw * g.cin]);
}

/**
 * Puts each output position's gradient at stride spacing, zeros between:
 * [n,oh,ow,c] → [n,oh*sh,ow*sw,c]. Two rank-4 pads (rows as [n,oh,1,ow*c] → [n,oh,sh,ow*c], then
 * columns as [n*oh*sh,ow,1,c] → [n*oh*sh,ow,sw,c]): the webgpu backend cannot pad rank 5 or 6
 * (its shader fails to compile). Returns `d` itself for stride 1.
 */
function spreadToStride(d: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return d;
  const [n, oh, ow, c] = d.shape;
  let u: tf.Tensor4D = d;
  if (sh > 1) u = tf.pad(tf.reshape(u, [n, oh, 1, ow * c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
  if (sw > 1) u = tf.pad(tf.reshape(u, [n * oh * sh, ow, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(u, [n, oh * sh, ow * sw, c]);
}

/** Inputs per tfjs AddN call: with its output, 8 storage buffers, WebGPU's default per-shader limit. */
const ADD_N_CHUNK = 7;

/**
 * Element-wise sum of same-shaped tensors, like `tf.addN`, on every backend: at most 7 inputs go
 * to one AddN kernel (webgpu binds each input as a storage buffer, and devices may allow only 8
 * per shader), larger lists are summed chunk by chunk.
 *
 * @param xs one or more tensors of the same shape and dtype
 * @returns their sum, same shape
 * @example
 * const s = addN(Array.from({ length: 9 }, () => tf.ones([2, 2])));   // every entry 9
 */
export function addN<T extends tf.Tensor>(xs: T[]): T {
  assert(xs.length > 0, 'addN', 'needs at least one tensor');
  return tf.tidy(() => {
    let parts: tf.Tensor[] = xs;
    while (parts.length > 1) {
      const next: tf.Tensor[] = [];
      for (let i = 0; i < parts.length; i += ADD_N_CHUNK) {
        const chunk = parts.slice(i, i + ADD_N_CHUNK);
        next.push(chunk.length === 1 ? chunk[0] : tf.addN(chunk));
      }
      parts = next;
    }
    return (xs.length === 1 ? xs[0].clone() : parts[0]) as T;
  });
}

/** Adjoint of im2col: scatters column gradients [n*oh*ow, kh*kw*cin] back to the input [n,h,w,cin]. */
function col2im(dcols: tf.Tensor2D, g: ConvGeometry): tf.Tensor4D {
  const { n, cin, oh, ow, sh, sw } = g;
  const k = g.kh * g.kw;
  const hp = g.h + g.pads[0][0] + g.pads[0][1];
  const wp = g.w + g.pads[1][0] + g.pads[1][1];
  const up = spreadToStride(tf.reshape(dcols, [n, oh, ow, k * cin]) as tf.Tensor4D, sh, sw);
  const uh = oh * sh;
  const uw = ow * sw;
  const parts: tf.Tensor4D[] = [];
  let t = 0;
  for (let i = 0; i < g.kh; i++) {
    for (let j = 0; j < g.kw; j++, t++) {
      const r0 = i * g.dh;
      const c0 = j * g.dw;
      const lh = Math.min(uh, hp - r0);
      const lw = Math.min(uw, wp - c0);
      const piece = k === 1 && lh === uh && lw === uw ? up : tf.slice(up, [0, 0, 0, t * cin], [n, lh, lw, cin]);
      parts.push(
        tf.pad(piece, [
          [0, 0],
          [r0, hp - r0 - lh],
          [c0, wp - c0 - lw],
          [0, 0],
        ]),
      );
    }
  }
  const dxp = parts.length === 1 ? parts[0] : addN(parts);
  const [[pt], [pl]] = g.pads;
  if (hp === g.h && wp === g.w) return dxp;
  return tf.slice(dxp, [0, pt, pl, 0], [n, g.h, g.w, cin]);
}

/** conv2d as im2col + one matMul, with an explicit-transpose custom gradient (any backend). */
function conv2dIm2col(x: tf.Tensor4D, kernel: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const f = tf.customGrad(((xx: tf.Tensor4D, kk: tf.Tensor4D, save: Saver) => {
    const cols = im2col(xx, g);
    const k2 = tf.reshape(kk, [g.kh * g.kw * g.cin, g.cout]) as tf.Tensor2D;
    save([cols, k2]);
    const y = tf.matMul(cols, k2);
    return {
      value: tf.reshape(y, [g.n, g.oh, g.ow, g.cout]),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [scols, sk2] = saved as tf.Tensor2D[];
        const dy2 = tf.reshape(dy, [g.n * g.oh * g.ow, g.cout]) as tf.Tensor2D;
        const [dcols, dk2] = matMulGrads(scols, sk2, dy2);
        return [col2im(dcols, g), tf.reshape(dk2, [g.kh, g.kw, g.cin, g.cout])];
      },
    };
  }) as any) as (x: tf.Tensor4D, k: tf.Tensor4D) => tf.Tensor4D;
  return f(x, kernel);
}

/** Scatters one tap's input gradient [n,oh,ow,cin] into the padded input frame [n,hp,wp,cin]. */
export function scatterTap(d: tf.Tensor4D, g: ConvGeometry, i: number, j: number, hp: number, wp: number): tf.Tensor4D {
  const { n, cin, oh, ow, sh, sw } = g;
  let up = spreadToStride(d, sh, sw);
  const uh = oh * sh;
  const uw = ow * sw;
  const r0 = i * g.dh;
  const c0 = j * g.dw;
  const lh = Math.min(uh, hp - r0);
  const lw = Math.min(uw, wp - c0);
  if (lh !== uh || lw !== uw) up = tf.slice(up, [0, 0, 0, 0], [n, lh, lw, cin]);
  return tf.pad(up, [
    [0, 0],
    [r0, hp - r0 - lh],
    [c0, wp - c0 - lw],
    [0, 0],
  ]);
}

/**
 * conv2d as a sum over the kh·kw kernel taps of (shifted input window)·(kernel slice), each a
 * plain matMul; the custom gradient does the same per tap, so no large im2col matrix is built or
 * transposed (any backend).
 */
function conv2dTaps(x: tf.Tensor4D, kernel: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const { n, cin, cout, oh, ow, kh, kw } = g;
  const p = n * oh * ow;
  const hp = g.h + g.pads[0][0] + g.pads[0][1];
  const wp = g.w + g.pads[1][0] + g.pads[1][1];
  const window = (xp: tf.Tensor4D, i: number, j: number) => tf.reshape(tapSlice(xp, g, i, j), [p, cin]) as tf.Tensor2D;
  const f = tf.customGrad(((xx: tf.Tensor4D, kk: tf.Tensor4D, save: Saver) => {
    const xp = padInput(xx, g);
    const k3 = tf.reshape(kk, [kh * kw, cin, cout]);
    const parts: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const kt = tf.reshape(tf.slice(k3, [i * kw + j, 0, 0], [1, cin, cout]), [cin, cout]) as tf.Tensor2D;
        parts.push(tf.matMul(window(xp, i, j), kt));
      }
    }
    save([xp, k3]);
    const y = parts.length === 1 ? parts[0] : addN(parts);
    return {
      value: tf.reshape(y, [n, oh, ow, cout]),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sxp, sk3] = saved as [tf.Tensor4D, tf.Tensor3D];
        const dy2 = tf.reshape(dy, [p, cout]) as tf.Tensor2D;
        const dyT = tf.transpose(dy2);
        // [kh*kw, cout, cin]: every tap's kernel slice, transposed once.
        const kT = tf.transpose(sk3, [0, 2, 1]);
        const dks: tf.Tensor2D[] = [];
        const dxs: tf.Tensor4D[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const t = i * kw + j;
            dks.push(tf.matMul(dyT, window(sxp, i, j))); // [cout, cin]
            const kTt = tf.reshape(tf.slice(kT, [t, 0, 0], [1, cout, cin]), [cout, cin]) as tf.Tensor2D;
            dxs.push(scatterTap(tf.reshape(tf.matMul(dy2, kTt), [n, oh, ow, cin]), g, i, j, hp, wp));
          }
        }
        const dk = tf.reshape(tf.transpose(tf.stack(dks), [0, 2, 1]), [kh, kw, cin, cout]);
        const dxp = dxs.length === 1 ? dxs[0] : addN(dxs);
        const dx = hp === g.h && wp === g.w ? dxp : tf.slice(dxp, [0, g.pads[0][0], g.pads[1][0], 0], [n, g.h, g.w, cin]);
        return [dx, dk];
      },
    };
  }) as any) as (x: tf.Tensor4D, k: tf.Tensor4D) => tf.Tensor4D;
  return f(x, kernel);
}

/** Zero-inserts a gradient [n,oh,ow,c] at stride spacing: [n,(oh-1)*sh+1,(ow-1)*sw+1,c] (spreadToStride less its trailing zeros). */
function upsampleStride(d: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return d;
  const [n, oh, ow, c] = d.shape;
  return tf.slice(spreadToStride(d, sh, sw), [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c]) as tf.Tensor4D;
}

/** Explicit tfjs padding array for a 4-D NHWC tensor. */
function pads4(ph: [number, number], pw: [number, number]): [[0, 0], [number, number], [number, number], [0, 0]] {
  return [[0, 0], ph, pw, [0, 0]];
}

/**
 * kernel [kh,kw,cin,cout] rotated 180° with in/out swapped: [kh,kw,cout,cin], out[i,j,o,c] =
 * k[kh-1-i, kw-1-j, c, o]. Flipping both spatial axes reverses the flat tap index, done here by
 * unstack/stack: wasm's Reverse kernel is ~25x slower than that on a [3,3,600,256] kernel.
 */
function flipKernel(k: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = k.shape;
  const taps = tf.unstack(tf.transpose(tf.reshape(k, [kh * kw, cin, cout]), [0, 2, 1]));
  taps.reverse();
  return tf.reshape(taps.length === 1 ? taps[0] : tf.stack(taps), [kh, kw, cout, cin]);
}

/**
 * conv2d whose forward and both gradients are themselves forward convolutions (tf.conv2d), so
 * they run on the backend's native conv kernel with any dilation:
 * - dx = conv2d(zero-inserted dy, kernel rotated 180° with in/out swapped, dilation d), the
 *   "full" correlation, cropped to the unpadded input;
 * - dk = conv2d(x with batch and channels swapped, dy as the kernel, stride d, dilation s).
 * tf.conv2d refuses stride > 1 together with dilation > 1, so callers fall back to `conv2dTaps`.
 */
function conv2dNative(x: tf.Tensor4D, kernel: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const { kh, kw, sh, sw, dh, dw, oh, ow, h, w } = g;
  const f = tf.customGrad(((xx: tf.Tensor4D, kk: tf.Tensor4D, save: Saver) => {
    save([xx, kk]);
    const y = tf.conv2d(xx, kk, [sh, sw], pads4(g.pads[0], g.pads[1]), 'NHWC', [dh, dw]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sx, sk] = saved as tf.Tensor4D[];
        // dx: full correlation of the stride-upsampled dy with the flipped kernel.
        const u = upsampleStride(dy, sh, sw);
        const lu = [(oh - 1) * sh + 1, (ow - 1) * sw + 1];
        const before = [(kh - 1) * dh - g.pads[0][0], (kw - 1) * dw - g.pads[1][0]];
        const after = [h - before[0] - lu[0] + (kh - 1) * dh, w - before[1] - lu[1] + (kw - 1) * dw];
        const kflip = flipKernel(sk);
        let dx: tf.Tensor4D;
        if (Math.min(before[0], before[1], after[0], after[1]) >= 0) {
          const ph: [number, number] = [before[0], after[0]];
          const pw: [number, number] = [before[1], after[1]];
          dx = tf.conv2d(u, kflip, 1, pads4(ph, pw), 'NHWC', [dh, dw]);
        } else {
          // Padding beyond the kernel's reach: compute the whole padded frame, then crop.
          const hp = h + g.pads[0][0] + g.pads[0][1];
          const wp = w + g.pads[1][0] + g.pads[1][1];
          const ph: [number, number] = [(kh - 1) * dh, hp - lu[0]];
          const pw: [number, number] = [(kw - 1) * dw, wp - lu[1]];
          const dxp = tf.conv2d(u, kflip, 1, pads4(ph, pw), 'NHWC', [dh, dw]);
          dx = tf.slice(dxp, [0, g.pads[0][0], g.pads[1][0], 0], [g.n, h, w, g.cin]);
        }
        // dk[i,j,c,o] = Σ_{n,a,b} xp[n, a*sh + i*dh, b*sw + j*dw, c] · dy[n,a,b,o]
        const xT = tf.transpose(sx, [3, 1, 2, 0]) as tf.Tensor4D; // [cin, h, w, n]
        const dyK = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, n, cout]
        let dkT = tf.conv2d(xT, dyK, [dh, dw], pads4(g.pads[0], g.pads[1]), 'NHWC', [sh, sw]); // [cin, >=kh, >=kw, cout]
        if (dkT.shape[1] !== kh || dkT.shape[2] !== kw) dkT = tf.slice(dkT, [0, 0, 0, 0], [g.cin, kh, kw, g.cout]);
        const dk = tf.transpose(dkT, [1, 2, 0, 3]);
        return [dx, dk];
      },
    };
  }) as any) as (x: tf.Tensor4D, k: tf.Tensor4D) => tf.Tensor4D;
  return f(x, kernel);
}

/** How conv2d is computed: see `setConvImplementation`. */
export type ConvImplementation = 'im2col' | 'taps' | 'native';
const IMPLS: ConvImplementation[] = ['im2col', 'taps', 'native'];
let convImplOverride: ConvImplementation | null = null;

/**
 * Forces one conv2d implementation on every backend ('auto' restores the per-backend choice).
 * For benchmarks and debugging; results agree to float32 rounding.
 */
export function setConvImplementation(impl: ConvImplementation | 'auto'): void {
  if (impl !== 'auto' && !IMPLS.includes(impl)) {
    throw new Error(`setConvImplementation: unknown implementation '${String(impl)}' (auto, ${IMPLS.join(', ')})`);
  }
  convImplOverride = impl === 'auto' ? null : impl;
}

/**
 * The conv2d implementation used on the current backend: 'native' everywhere (measured fastest
 * for a training step on wasm and cpu; see the package README), unless overridden with
 * `setConvImplementation`. Convolutions with stride > 1 *and* dilation > 1, which tf.conv2d
 * refuses, use 'taps'.
 */
export function convImplementation(): ConvImplementation {
  return convImplOverride ?? 'native';
}

/**
 * 2-D convolution (NHWC) with stride, dilation, padding and bias whose forward and backward work
 * on every backend (wasm has no conv backprop kernels; tfjs has no dilated-conv gradient).
 *
 * @param x [n, h, w, cin]
 * @param kernel [kh, kw, cin, cout]
 * @param opts.strides default 1; opts.dilations default 1; opts.padding default 'same' (TF rules);
 *   opts.bias [cout]
 * @returns [n, oh, ow, cout]; with 'same', oh = ceil(h / stride)
 * @example
 * const y = conv2d(x, kernel, { dilations: 2, padding: 'same', bias });   // x [2,41,41,600], kernel [3,3,600,256]
 */
export function conv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, opts: Conv2dOptions = {}): tf.Tensor4D {
  assertRank(x, 4, 'conv2d', 'x');
  assertRank(kernel, 4, 'conv2d', 'kernel');
  assert(
    x.shape[3] === kernel.shape[2],
    'conv2d',
    `x has ${x.shape[3]} channels but kernel [${kernel.shape}] expects ${kernel.shape[2]} (kernel is [kh,kw,cin,cout])`,
  );
  checkBias(opts.bias, kernel.shape[3], 'conv2d');
  const strides = pair(opts.strides, 1, 'conv2d', 'strides');
  const dilations = pair(opts.dilations, 1, 'conv2d', 'dilations');
  const g = convGeometry(x.shape, kernel.shape, strides, dilations, opts.padding ?? 'same');
  return tf.tidy(() => {
    let impl = convImplementation();
    // tf.conv2d (hence 'native') refuses stride > 1 together with dilation > 1.
    if (impl === 'native' && (g.sh > 1 || g.sw > 1) && (g.dh > 1 || g.dw > 1)) impl = 'taps';
    const y =
      impl === 'native' ? conv2dNative(x, kernel, g) : impl === 'taps' ? conv2dTaps(x, kernel, g) : conv2dIm2col(x, kernel, g);
    return opts.bias ? tf.add(y, opts.bias) : y;
  });
}
