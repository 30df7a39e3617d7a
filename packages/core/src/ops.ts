import * as tf from '@tensorflow/tfjs-core';
import { blasActive, blasContext } from './accel';
import {
  blasBatchMatMul,
  blasConv2d,
  blasConv2dBackpropFilter,
  blasConv2dBackpropInput,
  hostIo,
} from './host-kernels';
import { defineKernel, runKernel } from './kernels';
import { assert, assertRank, pair, recordingGradients } from './util';

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
  /**
   * x's channels are the kernel's input channels `[offset, offset + cin)` (default 0; the
   * kernel may have more input channels than x). Without a gradient being recorded the kernel
   * is read in place (no sliced copy); otherwise it is sliced, so the gradient reaches the whole
   * kernel. For a layer applied to parts of a concatenation without concatenating them.
   */
  kernelChannelOffset?: number;
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
// Kernels
//
// The products and convolutions below are tfjs kernels of their own ('SignMatMul',
// 'SignConv2D', 'SignConv2DBackpropInput', 'SignConv2DBackpropFilter') with registered
// gradients, rather than tf.customGrad functions: tfjs then asks a gradient only for the inputs
// that lead to the variables being differentiated (a customGrad computes every input's gradient,
// e.g. a first layer's gradient with respect to its constant data). Each kernel takes
// native sgemm (oneDNN or OpenBLAS) on the tensors' memory when `initBackend` installed it for
// the backend (see accel.ts), and otherwise a portable path built from tfjs ops.

const MATMUL = 'SignMatMul';
const CONV = 'SignConv2D';
const CONV_DX = 'SignConv2DBackpropInput';
const CONV_DK = 'SignConv2DBackpropFilter';

interface MatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

interface ConvAttrs {
  strides: [number, number];
  dilations: [number, number];
  pads: [[number, number], [number, number]];
  /** forward only, never recorded for a gradient: x's channels are the kernel's [offset, offset + cin) */
  kernelOffset?: number;
}

/** op(a)·op(b) (+ bias) through the SignMatMul kernel (op = transpose when the flag is set). */
function runMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean, bias?: tf.Tensor): tf.Tensor2D {
  return runKernel(MATMUL, bias ? { a, b, bias } : { a, b }, { transposeA, transposeB });
}

/**
 * op(a)·op(b) with plain products and explicit transposes: tfjs' transposed products run on a slow
 * path on wasm (0.2–3 GFLOP/s instead of 10–20). Either the transposed operands are formed, or the
 * product is computed as (op(b)ᵀ·op(a)ᵀ)ᵀ, whichever transposes fewer elements (a transpose costs
 * about as much as reading the matrix a few times).
 */
function plainMatMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const n = transposeB ? b.shape[0] : b.shape[1];
  const direct = (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
  if (direct === 0) return tf.matMul(a, b);
  const swapped = (transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + m * n;
  if (direct <= swapped) return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
  return tf.transpose(tf.matMul(transposeB ? b : tf.transpose(b), transposeA ? a : tf.transpose(a))) as tf.Tensor2D;
}

function matMulKernel(backendName: string): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { a, b, bias } = inputs as { a: tf.Tensor2D; b: tf.Tensor2D; bias?: tf.Tensor1D };
    const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
    const ctx = blasContext(backend, backendName);
    if (ctx && a.dtype === 'float32' && b.dtype === 'float32' && (!bias || bias.dtype === 'float32')) {
      const out = blasBatchMatMul(ctx.io, ctx.blas, a, b, transposeA, transposeB, bias);
      if (out) return out;
    }
    return tf.tidy(() => {
      const y = plainMatMul(a, b, transposeA, transposeB);
      return bias ? tf.add(y, bias) : y;
    });
  };
}

/** Geometry of a SignConv2D* kernel call from its attributes. */
function attrGeometry(xShape: number[], kShape: number[], attrs: ConvAttrs): ConvGeometry {
  return convGeometry(xShape, kShape, attrs.strides, attrs.dilations, attrs.pads, 'conv2d');
}

function convKernel(backendName: string, which: 'forward' | 'input' | 'filter'): tf.KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as ConvAttrs & { inputShape?: number[]; filterShape?: number[] };
    let g: ConvGeometry;
    let first: tf.Tensor4D;
    let second: tf.Tensor4D;
    const bias = (inputs as { bias?: tf.Tensor1D }).bias;
    const offset = which === 'forward' ? (a.kernelOffset ?? 0) : 0;
    if (which === 'forward') {
      ({ x: first, filter: second } = inputs as { x: tf.Tensor4D; filter: tf.Tensor4D });
      g = attrGeometry(first.shape, second.shape, a);
    } else if (which === 'input') {
      ({ dy: first, filter: second } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D });
      g = attrGeometry(a.inputShape!, second.shape, a);
    } else {
      ({ x: first, dy: second } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D });
      g = attrGeometry(first.shape, a.filterShape!, a);
    }
    const impl = implementationFor(backendName);
    const ctx = impl === 'blas' ? blasContext(backend, backendName) : null;
    if (ctx && first.dtype === 'float32' && second.dtype === 'float32' && (!bias || bias.dtype === 'float32')) {
      if (which === 'forward') return blasConv2d(ctx.io, ctx.blas, first, second, g, bias, offset);
      if (which === 'input') return blasConv2dBackpropInput(ctx.io, ctx.blas, first, second, g);
      return blasConv2dBackpropFilter(ctx.io, ctx.blas, first, second, g);
    }
    const fns = PORTABLE[impl === 'blas' ? 'native' : impl];
    return tf.tidy(() => {
      if (which === 'input') return fns.input(first, second, g);
      if (which === 'filter') return fns.filter(first, second, g);
      const k = second.shape[2] === g.cin ? second : tf.slice(second, [0, 0, offset, 0], [g.kh, g.kw, g.cin, g.cout]);
      const y = fns.forward(first, k, g);
      return bias ? tf.add(y, bias) : y;
    });
  };
}

defineKernel({
  name: MATMUL,
  kernelFunc: matMulKernel,
  gradient: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA: ta, transposeB: tb } = attrs as unknown as MatMulAttrs;
      const d = dy as tf.Tensor;
      const bias = () => tf.sum(d, 0);
      // y = op(a)·op(b) (+ bias): the four cases of tfjs' own BatchMatMul gradient.
      if (!ta && !tb) return { a: () => runMatMul(d, b, false, true), b: () => runMatMul(a, d, true, false), bias };
      if (ta && !tb) return { a: () => runMatMul(b, d, false, true), b: () => runMatMul(a, d, false, false), bias };
      if (!ta && tb) return { a: () => runMatMul(d, b, false, false), b: () => runMatMul(d, a, true, false), bias };
      return { a: () => runMatMul(b, d, true, true), b: () => runMatMul(d, a, true, true), bias };
    },
  },
});
defineKernel({
  name: CONV,
  kernelFunc: (b) => convKernel(b, 'forward'),
  gradient: {
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const a = attrs as unknown as ConvAttrs;
      // conv2d slices the kernel instead of passing an offset while a gradient is recorded
      if (a.kernelOffset !== undefined) throw new Error('conv2d: internal error: a kernel offset was recorded for a gradient');
      return {
        x: () => runKernel(CONV_DX, { dy: dy as tf.Tensor, filter }, { ...a, inputShape: x.shape }),
        filter: () => runKernel(CONV_DK, { x, dy: dy as tf.Tensor }, { ...a, filterShape: filter.shape }),
        bias: () => tf.sum(dy as tf.Tensor, [0, 1, 2]),
      };
    },
  },
});
defineKernel({ name: CONV_DX, kernelFunc: (b) => convKernel(b, 'input') });
defineKernel({ name: CONV_DK, kernelFunc: (b) => convKernel(b, 'filter') });

// ---------------------------------------------------------------------------------------------
// matMul, dense, conv1x1

/**
 * Matrix product `a·b` (optionally transposing either operand first) whose forward and backward
 * run at full speed on every backend: on wasm/cpu with native BLAS the transposes are sgemm flags;
 * otherwise they are explicit `tf.transpose` ops (never the transposeA/B flags of `tf.matMul`,
 * slow on wasm). Gradients are computed only for the operands that need one.
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
  return runMatMul(a, b, transposeA, transposeB);
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
  assert(x.shape[1] === kernel.shape[0], 'dense', `x has ${x.shape[1]} features but kernel [${kernel.shape}] expects ${kernel.shape[0]}`);
  checkBias(bias, kernel.shape[1], 'dense');
  return runMatMul(x, kernel, false, false, bias);
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
  return tf.tidy(() => tf.reshape(runMatMul(tf.reshape(x, [n * h * w, c]), kernel, false, false, bias), [n, h, w, kernel.shape[1]]));
}

// ---------------------------------------------------------------------------------------------
// conv2d: the portable implementations (tfjs ops; forward, input gradient, filter gradient)

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

/** The padded frame size [hp, wp] of a geometry. */
function paddedSize(g: ConvGeometry): [number, number] {
  return [g.h + g.pads[0][0] + g.pads[0][1], g.w + g.pads[1][0] + g.pads[1][1]];
}

/** Crops the padded-frame gradient [n,hp,wp,cin] to the input [n,h,w,cin]. */
function cropPadding(dxp: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const [hp, wp] = paddedSize(g);
  if (hp === g.h && wp === g.w) return dxp;
  return tf.slice(dxp, [0, g.pads[0][0], g.pads[1][0], 0], [g.n, g.h, g.w, g.cin]);
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
  const [hp, wp] = paddedSize(g);
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
  return cropPadding(parts.length === 1 ? parts[0] : addN(parts), g);
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
 * k[kh-1-i, kw-1-j, c, o]. Flipping both spatial axes reverses the flat tap index: one gather of
 * the taps in reverse order (wasm's Reverse kernel is ~25x slower on a [3,3,600,256] kernel, and
 * unstack/stack slices the whole kernel once per tap).
 */
function flipKernel(k: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = k.shape;
  const t = kh * kw;
  const reversed = tf.tensor1d(Int32Array.from({ length: t }, (_, i) => t - 1 - i), 'int32');
  const taps = tf.gather(tf.reshape(k, [t, cin, cout]), reversed);
  return tf.reshape(tf.transpose(taps, [0, 2, 1]), [kh, kw, cout, cin]);
}

/** One portable conv2d implementation: forward, input gradient, filter gradient (tfjs ops, no tape). */
interface PortableConv {
  /** x [n,h,w,cin], k [kh,kw,cin,cout] → y [n,oh,ow,cout] */
  forward(x: tf.Tensor4D, k: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D;
  /** dy [n,oh,ow,cout], k → dx [n,h,w,cin] */
  input(dy: tf.Tensor4D, k: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D;
  /** x, dy → dk [kh,kw,cin,cout] */
  filter(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D;
}

/** The taps' kernel slices [kh*kw, cin, cout] and the input windows [p, cin] of tap (i, j). */
function tapWindow(xp: tf.Tensor4D, g: ConvGeometry, i: number, j: number): tf.Tensor2D {
  return tf.reshape(tapSlice(xp, g, i, j), [g.n * g.oh * g.ow, g.cin]) as tf.Tensor2D;
}

function tapKernel(k: tf.Tensor4D, g: ConvGeometry, t: number): tf.Tensor2D {
  return tf.reshape(tf.slice(tf.reshape(k, [g.kh * g.kw, g.cin, g.cout]), [t, 0, 0], [1, g.cin, g.cout]), [g.cin, g.cout]) as tf.Tensor2D;
}

/**
 * conv2d as a sum over the kh·kw kernel taps of (shifted input window)·(kernel slice), each a
 * plain product; its gradients do the same per tap, so no large im2col matrix is built.
 */
const TAPS: PortableConv = {
  forward(x, k, g) {
    const xp = padInput(x, g);
    const parts: tf.Tensor2D[] = [];
    for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) parts.push(tf.matMul(tapWindow(xp, g, i, j), tapKernel(k, g, i * g.kw + j)));
    const y = parts.length === 1 ? parts[0] : addN(parts);
    return tf.reshape(y, [g.n, g.oh, g.ow, g.cout]);
  },
  input(dy, k, g) {
    const [hp, wp] = paddedSize(g);
    const dy2 = tf.reshape(dy, [g.n * g.oh * g.ow, g.cout]) as tf.Tensor2D;
    const dxs: tf.Tensor4D[] = [];
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const d = plainMatMul(dy2, tapKernel(k, g, i * g.kw + j), false, true);
        dxs.push(scatterTap(tf.reshape(d, [g.n, g.oh, g.ow, g.cin]), g, i, j, hp, wp));
      }
    }
    return cropPadding(dxs.length === 1 ? dxs[0] : addN(dxs), g);
  },
  filter(x, dy, g) {
    const xp = padInput(x, g);
    const dyT = tf.transpose(tf.reshape(dy, [g.n * g.oh * g.ow, g.cout]));
    const dks: tf.Tensor2D[] = [];
    for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) dks.push(tf.matMul(dyT, tapWindow(xp, g, i, j))); // [cout, cin]
    return tf.reshape(tf.transpose(tf.stack(dks), [0, 2, 1]), [g.kh, g.kw, g.cin, g.cout]);
  },
};

/** conv2d as one im2col matrix and one product (kept for comparison). */
const IM2COL: PortableConv = {
  forward(x, k, g) {
    const y = tf.matMul(im2col(x, g), tf.reshape(k, [g.kh * g.kw * g.cin, g.cout]) as tf.Tensor2D);
    return tf.reshape(y, [g.n, g.oh, g.ow, g.cout]);
  },
  input(dy, k, g) {
    const dy2 = tf.reshape(dy, [g.n * g.oh * g.ow, g.cout]) as tf.Tensor2D;
    return col2im(plainMatMul(dy2, tf.reshape(k, [g.kh * g.kw * g.cin, g.cout]) as tf.Tensor2D, false, true), g);
  },
  filter(x, dy, g) {
    const dy2 = tf.reshape(dy, [g.n * g.oh * g.ow, g.cout]) as tf.Tensor2D;
    return tf.reshape(plainMatMul(im2col(x, g), dy2, true, false), [g.kh, g.kw, g.cin, g.cout]);
  },
};

/** tf.conv2d refuses stride > 1 together with dilation > 1; those use the taps implementation. */
const nativeRefuses = (g: ConvGeometry): boolean => (g.sh > 1 || g.sw > 1) && (g.dh > 1 || g.dw > 1);

/**
 * conv2d whose forward and both gradients are themselves forward convolutions (tf.conv2d), so
 * they run on the backend's native conv kernel with any dilation:
 * - dx = conv2d(zero-inserted dy, kernel rotated 180° with in/out swapped, dilation d), the
 *   "full" correlation, cropped to the unpadded input;
 * - dk = conv2d(x with batch and channels swapped, dy as the kernel, stride d, dilation s).
 */
const NATIVE: PortableConv = {
  forward(x, k, g) {
    if (nativeRefuses(g)) return TAPS.forward(x, k, g);
    return tf.conv2d(x, k, [g.sh, g.sw], pads4(g.pads[0], g.pads[1]), 'NHWC', [g.dh, g.dw]);
  },
  input(dy, k, g) {
    const { kh, kw, sh, sw, dh, dw, oh, ow, h, w } = g;
    // dx: full correlation of the stride-upsampled dy with the flipped kernel.
    const u = upsampleStride(dy, sh, sw);
    const lu = [(oh - 1) * sh + 1, (ow - 1) * sw + 1];
    const before = [(kh - 1) * dh - g.pads[0][0], (kw - 1) * dw - g.pads[1][0]];
    const after = [h - before[0] - lu[0] + (kh - 1) * dh, w - before[1] - lu[1] + (kw - 1) * dw];
    const kflip = flipKernel(k);
    if (Math.min(before[0], before[1], after[0], after[1]) >= 0) {
      return tf.conv2d(u, kflip, 1, pads4([before[0], after[0]], [before[1], after[1]]), 'NHWC', [dh, dw]);
    }
    // Padding beyond the kernel's reach: compute the whole padded frame, then crop.
    const [hp, wp] = paddedSize(g);
    const dxp = tf.conv2d(u, kflip, 1, pads4([(kh - 1) * dh, hp - lu[0]], [(kw - 1) * dw, wp - lu[1]]), 'NHWC', [dh, dw]);
    return cropPadding(dxp, g);
  },
  filter(x, dy, g) {
    if (nativeRefuses(g)) return TAPS.filter(x, dy, g);
    const { kh, kw, sh, sw, dh, dw } = g;
    // dk[i,j,c,o] = Σ_{n,a,b} xp[n, a*sh + i*dh, b*sw + j*dw, c] · dy[n,a,b,o]
    const xT = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [cin, h, w, n]
    const dyK = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [oh, ow, n, cout]
    let dkT = tf.conv2d(xT, dyK, [dh, dw], pads4(g.pads[0], g.pads[1]), 'NHWC', [sh, sw]); // [cin, >=kh, >=kw, cout]
    if (dkT.shape[1] !== kh || dkT.shape[2] !== kw) dkT = tf.slice(dkT, [0, 0, 0, 0], [g.cin, kh, kw, g.cout]);
    return tf.transpose(dkT, [1, 2, 0, 3]);
  },
};

const PORTABLE: Record<Exclude<ConvImplementation, 'blas'>, PortableConv> = { native: NATIVE, taps: TAPS, im2col: IM2COL };

// ---------------------------------------------------------------------------------------------
// conv2d

/**
 * How conv2d is computed: 'blas' (native sgemm, oneDNN or OpenBLAS, on the tensors' memory,
 * wasm and cpu when `initBackend` loaded it), or one of the portable implementations built from
 * tfjs ops.
 */
export type ConvImplementation = 'blas' | 'native' | 'taps' | 'im2col';
const IMPLS: ConvImplementation[] = ['blas', 'im2col', 'taps', 'native'];
let convImplOverride: ConvImplementation | null = null;

/**
 * Forces one conv2d implementation on every backend ('auto' restores the per-backend choice).
 * For benchmarks and debugging; results agree to float32 rounding. 'blas' falls back to
 * 'native' on a backend where native BLAS is not in use.
 */
export function setConvImplementation(impl: ConvImplementation | 'auto'): void {
  if (impl !== 'auto' && !IMPLS.includes(impl)) {
    throw new Error(`setConvImplementation: unknown implementation '${String(impl)}' (auto, ${IMPLS.join(', ')})`);
  }
  convImplOverride = impl === 'auto' ? null : impl;
}

function implementationFor(backendName: string): ConvImplementation {
  const impl = convImplOverride ?? 'blas';
  return impl === 'blas' && !blasActive(backendName) ? 'native' : impl;
}

/**
 * The conv2d implementation used on the current backend: 'blas' where `initBackend` installed
 * native BLAS (wasm, cpu), else 'native' (measured fastest of the portable ones for a training step
 * on wasm and cpu; see the package README), unless overridden with `setConvImplementation`.
 * Within 'native', convolutions with stride > 1 *and* dilation > 1, which tf.conv2d refuses, use
 * 'taps'.
 */
export function convImplementation(): ConvImplementation {
  return implementationFor(tf.getBackend());
}

/**
 * 2-D convolution (NHWC) with stride, dilation, padding and bias whose forward and backward work
 * on every backend (wasm has no conv backprop kernels; tfjs has no dilated-conv gradient).
 * Gradients are computed only for the inputs that need one (no input gradient for constant data).
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
  const offset = opts.kernelChannelOffset ?? 0;
  assert(Number.isInteger(offset) && offset >= 0, 'conv2d', `kernelChannelOffset must be a non-negative integer, got ${String(offset)}`);
  const whole = opts.kernelChannelOffset === undefined;
  assert(
    whole ? x.shape[3] === kernel.shape[2] : offset + x.shape[3] <= kernel.shape[2],
    'conv2d',
    whole
      ? `x has ${x.shape[3]} channels but kernel [${kernel.shape}] expects ${kernel.shape[2]} (kernel is [kh,kw,cin,cout])`
      : `x has ${x.shape[3]} channels from kernelChannelOffset ${offset} but kernel [${kernel.shape}] has ${kernel.shape[2]} input channels (kernel is [kh,kw,cin,cout])`,
  );
  checkBias(opts.bias, kernel.shape[3], 'conv2d');
  const strides = pair(opts.strides, 1, 'conv2d', 'strides');
  const dilations = pair(opts.dilations, 1, 'conv2d', 'dilations');
  const g = convGeometry(x.shape, kernel.shape, strides, dilations, opts.padding ?? 'same');
  const attrs: ConvAttrs = { strides, dilations, pads: g.pads };
  if (x.shape[3] !== kernel.shape[2]) {
    if (recordingGradients()) {
      const [kh, kw, , cout] = kernel.shape;
      return tf.tidy(() => conv2d(x, tf.slice(kernel, [0, 0, offset, 0], [kh, kw, x.shape[3], cout]), { ...opts, kernelChannelOffset: undefined }));
    }
    attrs.kernelOffset = offset;
  }
  return runKernel<tf.Tensor4D>(CONV, opts.bias ? { x, filter: kernel, bias: opts.bias } : { x, filter: kernel }, attrs);
}

// ---------------------------------------------------------------------------------------------
// leakyRelu

const LEAKY = 'SignLeakyRelu';
const LEAKY_GRAD = 'SignLeakyReluGrad';

defineKernel({
  name: LEAKY,
  kernelFunc: (backendName) => (args) => {
    const { x } = args.inputs as { x: tf.Tensor };
    const { alpha } = args.attrs as unknown as { alpha: number };
    const io = x.dtype === 'float32' ? hostIo(args.backend, backendName) : null;
    if (!io) return tf.leakyRelu(x, alpha);
    const out = io.alloc(x.shape);
    const xv = io.view(x);
    const yv = io.view(out);
    // Branch-free (signs are random: a branch mispredicts half the time): v·[alpha, 1][v > 0].
    const factor = new Float64Array([Math.fround(alpha), 1]);
    for (let i = 0; i < xv.length; i++) {
      const v = xv[i];
      yv[i] = v * factor[((v > 0) as unknown as number) | 0];
    }
    return out;
  },
  gradient: {
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => ({ x: () => runKernel(LEAKY_GRAD, { dy: dy as tf.Tensor, x: saved[0] }, attrs) }),
  },
});

defineKernel({
  name: LEAKY_GRAD,
  kernelFunc: (backendName) => (args) => {
    const { dy, x } = args.inputs as { dy: tf.Tensor; x: tf.Tensor };
    const { alpha } = args.attrs as unknown as { alpha: number };
    const io = x.dtype === 'float32' && dy.dtype === 'float32' ? hostIo(args.backend, backendName) : null;
    if (!io) return tf.tidy(() => tf.where(tf.greater(x, 0), dy, tf.mul(dy, alpha)));
    const out = io.alloc(x.shape);
    const xv = io.view(x);
    const dv = io.view(dy);
    const gv = io.view(out);
    const factor = new Float64Array([Math.fround(alpha), 1]);
    for (let i = 0; i < xv.length; i++) gv[i] = dv[i] * factor[((xv[i] > 0) as unknown as number) | 0];
    return out;
  },
});

/**
 * LeakyReLU, max(x, alpha·x) for 0 ≤ alpha ≤ 1 (tf.leakyRelu's definition), whose forward and
 * gradient are one pass each over host memory on wasm and cpu (tfjs' gradient is three ops).
 *
 * @param x any shape, float32
 * @example
 * const y = leakyRelu(tf.tensor1d([-2, 3]), 0.2);   // [-0.4, 3]
 */
export function leakyRelu<T extends tf.Tensor>(x: T, alpha = 0.2): T {
  if (!(x instanceof tf.Tensor)) assertRank(x, 0, 'leakyRelu', 'x');
  assert(typeof alpha === 'number' && Number.isFinite(alpha), 'leakyRelu', `alpha must be a finite number, got ${String(alpha)}`);
  return runKernel<T>(LEAKY, { x }, { alpha });
}
