/**
 * Kernels that work on tensor memory in place for the two CPU backends of tfjs (wasm: the wasm
 * heap; cpu: JavaScript typed arrays): matrix products and convolutions through native sgemm
 * (oneDNN or OpenBLAS, see blas.ts), and a cache-blocked transpose. Everything is float32, NHWC, row-major.
 *
 * Convolutions with stride 1 use "shifted GEMMs": with the input zero-padded to [hp, wp, cin],
 * output row r = a·wp + b (a "wide" output that also computes wp − ow junk columns per row) of
 * tap (i, j) reads input row r + i·dh·wp + j·dw, so each tap is one sgemm over one image with a
 * plain row stride, and no im2col matrix is built. Their gradients are the same products with a
 * transposed operand, accumulated with beta = 1. Strided convolutions use a per-image im2col.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Blas } from './blas';
import type { ConvGeometry } from './ops';

type TensorInfo = tf.TensorInfo;

/** Reads and allocates float32 tensor memory of one backend. */
export interface HostIo {
  /**
   * A view of the tensor's data. On wasm a view is invalidated by any allocation (the heap may
   * grow), so take views after allocating the outputs.
   */
  view(t: TensorInfo): Float32Array;
  /** A new float32 tensor (contents unspecified). */
  alloc(shape: number[]): TensorInfo;
}

/** The HostIo of a wasm or cpu backend instance, or null for any other backend. */
export function hostIo(backend: any, backendName: string): HostIo | null {
  if (backendName === 'wasm' && typeof backend?.typedArrayFromHeap === 'function') {
    return {
      view: (t) => backend.typedArrayFromHeap(t) as Float32Array,
      alloc: (shape) => backend.makeOutput(shape, 'float32'),
    };
  }
  if (backendName === 'cpu' && typeof backend?.makeTensorInfo === 'function' && backend.data) {
    return {
      view: (t) => backend.data.get(t.dataId).values as Float32Array,
      alloc: (shape) => backend.makeTensorInfo(shape, 'float32', new Float32Array(size(shape))),
    };
  }
  return null;
}

export function size(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Scratch buffers (reused between calls; their size is that of the largest image seen)

const scratchPool = new Map<string, Float32Array>();

/** A reusable buffer of at least `n` floats for `role` (contents unspecified). */
function scratch(role: string, n: number): Float32Array {
  let buf = scratchPool.get(role);
  if (!buf || buf.length < n) {
    buf = new Float32Array(n);
    scratchPool.set(role, buf);
  }
  return buf.subarray(0, n);
}

/** Frees the scratch buffers (they are re-created on demand). */
export function releaseScratch(): void {
  scratchPool.clear();
}

// ---------------------------------------------------------------------------------------------
// Matrix product

/**
 * op(a)·op(b) for rank ≥ 2 tensors whose batch dimensions are equal or 1 (broadcast), like
 * tfjs' BatchMatMul; null when the shapes need more general broadcasting.
 */
export function blasBatchMatMul(
  io: HostIo,
  blas: Blas,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias?: TensorInfo,
): TensorInfo | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const k2 = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== k2) return null;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const ba = size(batchA);
  const bb = size(batchB);
  let batchShape: number[];
  if (ba === bb && batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i])) batchShape = batchA;
  else if (bb === 1 && batchB.length <= batchA.length) batchShape = batchA;
  else if (ba === 1 && batchA.length <= batchB.length) batchShape = batchB;
  else return null;
  const batch = size(batchShape);
  const out = io.alloc([...batchShape, m, n]);
  if (m * n === 0) return out;
  const av = io.view(a);
  const bv = io.view(b);
  const cv = io.view(out);
  // With a bias, C starts as the bias in every row and the product is added to it (beta = 1).
  const beta = bias ? 1 : 0;
  if (bias) fillRows(cv, io.view(bias), batch * m);
  else if (k === 0) cv.fill(0);
  if (k === 0) return out;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  for (let t = 0; t < batch; t++) {
    const aOff = ba === 1 ? 0 : t * m * k;
    const bOff = bb === 1 ? 0 : t * k * n;
    blas.sgemm(
      transposeA,
      transposeB,
      m,
      n,
      k,
      1,
      av.subarray(aOff, aOff + m * k),
      lda,
      bv.subarray(bOff, bOff + k * n),
      ldb,
      beta,
      cv.subarray(t * m * n, (t + 1) * m * n),
      n,
    );
  }
  return out;
}

/** Writes `row` into each of the first `rows` rows of `c` (row length = row.length). */
function fillRows(c: Float32Array, row: Float32Array, rows: number): void {
  const n = row.length;
  if (rows === 0) return;
  c.set(row, 0);
  // Doubling copies: 1, 2, 4, … rows at a time.
  let filled = 1;
  while (filled < rows) {
    const take = Math.min(filled, rows - filled);
    c.copyWithin(filled * n, 0, take * n);
    filled += take;
  }
}

// ---------------------------------------------------------------------------------------------
// Convolution

/** The geometry of one NHWC convolution with explicit pads (ops.ts `convGeometry`). */
export type HostConvGeometry = ConvGeometry;

interface Frame {
  hp: number;
  wp: number;
  /** rows of the wide output an image's taps cover: (oh − 1)·wp + ow */
  rows: number;
}

function frame(g: HostConvGeometry): Frame {
  const hp = g.h + g.pads[0][0] + g.pads[0][1];
  const wp = g.w + g.pads[1][0] + g.pads[1][1];
  return { hp, wp, rows: (g.oh - 1) * wp + g.ow };
}

const hasPads = (g: HostConvGeometry): boolean => g.pads[0][0] + g.pads[0][1] + g.pads[1][0] + g.pads[1][1] > 0;

/** Image `b` of x [n,h,w,cin] zero-padded into [hp, wp, cin] (x's own memory when unpadded). */
function paddedImage(xv: Float32Array, b: number, g: HostConvGeometry, f: Frame): Float32Array {
  const { h, w, cin } = g;
  const img = h * w * cin;
  if (!hasPads(g)) return xv.subarray(b * img, (b + 1) * img);
  const [[pt, pb], [pl, pr]] = g.pads;
  const xp = scratch('xp', f.hp * f.wp * cin);
  const rowLen = f.wp * cin;
  xp.fill(0, 0, pt * rowLen);
  xp.fill(0, (pt + h) * rowLen, (pt + h + pb) * rowLen);
  for (let r = 0; r < h; r++) {
    const dst = (r + pt) * rowLen;
    if (pl > 0) xp.fill(0, dst, dst + pl * cin);
    const src = (b * h + r) * w * cin;
    xp.set(xv.subarray(src, src + w * cin), dst + pl * cin);
    if (pr > 0) xp.fill(0, dst + (pl + w) * cin, dst + rowLen);
  }
  return xp;
}

/** Image `b` of dy [n,oh,ow,cout] laid out with row stride wp (zeros in the wp − ow extra columns). */
function wideGrad(dyv: Float32Array, b: number, g: HostConvGeometry, f: Frame): Float32Array {
  const { oh, ow, cout } = g;
  const img = oh * ow * cout;
  if (f.wp === ow) return dyv.subarray(b * img, (b + 1) * img);
  const wide = scratch('dyw', f.rows * cout);
  for (let a = 0; a < oh; a++) {
    const dst = a * f.wp * cout;
    wide.set(dyv.subarray(b * img + a * ow * cout, b * img + (a + 1) * ow * cout), dst);
    if (a < oh - 1) wide.fill(0, dst + ow * cout, dst + f.wp * cout);
  }
  return wide;
}

/** Rows of image b's im2col matrix [oh·ow, kh·kw·cin] (strided convolutions only). */
function im2colImage(xp: Float32Array, g: HostConvGeometry, f: Frame): Float32Array {
  const { kh, kw, cin, oh, ow, sh, sw, dh, dw } = g;
  const k2 = kh * kw * cin;
  const cols = scratch('cols', oh * ow * k2);
  for (let a = 0; a < oh; a++) {
    for (let c = 0; c < ow; c++) {
      const row = (a * ow + c) * k2;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const src = ((a * sh + i * dh) * f.wp + c * sw + j * dw) * cin;
          cols.set(xp.subarray(src, src + cin), row + (i * kw + j) * cin);
        }
      }
    }
  }
  return cols;
}

/** Input channels [offset, offset + cin) of every tap of k [kh,kw,kcin,cout], as [kh,kw,cin,cout]. */
function kernelBlock(kv: Float32Array, g: HostConvGeometry, kcin: number, offset: number): Float32Array {
  const { kh, kw, cin, cout } = g;
  const block = scratch('kblock', kh * kw * cin * cout);
  for (let t = 0; t < kh * kw; t++) block.set(kv.subarray((t * kcin + offset) * cout, (t * kcin + offset + cin) * cout), t * cin * cout);
  return block;
}

const strided = (g: HostConvGeometry): boolean => g.sh > 1 || g.sw > 1;
const pointwise = (g: HostConvGeometry): boolean => g.kh === 1 && g.kw === 1 && !strided(g) && !hasPads(g);

/**
 * y [n,oh,ow,cout] = conv(x [n,h,w,cin], k [kh,kw,cin,cout]) (+ bias [cout]). With
 * `kernelOffset`, k may have more input channels (k [kh,kw,kcin,cout]): x's channels are k's
 * [kernelOffset, kernelOffset + cin), read in place (each tap's block is contiguous).
 */
export function blasConv2d(
  io: HostIo,
  blas: Blas,
  x: TensorInfo,
  k: TensorInfo,
  g: HostConvGeometry,
  bias?: TensorInfo,
  kernelOffset = 0,
): TensorInfo {
  const { n, cin, cout, oh, ow, kh, kw } = g;
  const kcin = k.shape[2];
  const out = io.alloc([n, oh, ow, cout]);
  const xv = io.view(x);
  let kv = io.view(k);
  const yv = io.view(out);
  // tap t's [cin, cout] block starts at row t·tapRows + base of kv
  let tapRows = kcin;
  let base = kernelOffset;
  if (kcin !== cin && strided(g)) {
    kv = kernelBlock(kv, g, kcin, kernelOffset); // im2col needs the blocks as one [taps·cin, cout]
    tapRows = cin;
    base = 0;
  }
  const bv = bias ? io.view(bias) : null;
  // With a bias, each output starts as the bias and every product is added to it (beta = 1).
  const beta0 = bv ? 1 : 0;
  if (pointwise(g)) {
    if (bv) fillRows(yv, bv, n * g.h * g.w);
    blas.sgemm(false, false, n * g.h * g.w, cout, cin, 1, xv, cin, kv.subarray(base * cout, (base + cin) * cout), cout, beta0, yv, cout);
    return out;
  }
  const f = frame(g);
  const taps = kh * kw;
  for (let b = 0; b < n; b++) {
    const xp = paddedImage(xv, b, g, f);
    const yImg = yv.subarray(b * oh * ow * cout, (b + 1) * oh * ow * cout);
    if (strided(g)) {
      const cols = im2colImage(xp, g, f);
      if (bv) fillRows(yImg, bv, oh * ow);
      blas.sgemm(false, false, oh * ow, cout, taps * cin, 1, cols, taps * cin, kv, cout, beta0, yImg, cout);
      continue;
    }
    const wide = f.wp === ow ? yImg : scratch('yw', f.rows * cout);
    if (bv) fillRows(wide, bv, f.rows);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const t = i * kw + j;
        const off = (i * g.dh * f.wp + j * g.dw) * cin;
        blas.sgemm(
          false,
          false,
          f.rows,
          cout,
          cin,
          1,
          xp.subarray(off, off + f.rows * cin),
          cin,
          kv.subarray((t * tapRows + base) * cout, (t * tapRows + base + cin) * cout),
          cout,
          t === 0 ? beta0 : 1,
          wide,
          cout,
        );
      }
    }
    if (wide !== yImg) {
      for (let a = 0; a < oh; a++) yImg.set(wide.subarray(a * f.wp * cout, (a * f.wp + ow) * cout), a * ow * cout);
    }
  }
  return out;
}

/** dk [kh,kw,cin,cout] of y = conv(x, k), given x and dy [n,oh,ow,cout]. */
export function blasConv2dBackpropFilter(io: HostIo, blas: Blas, x: TensorInfo, dy: TensorInfo, g: HostConvGeometry): TensorInfo {
  const { n, cin, cout, kh, kw, oh, ow } = g;
  const out = io.alloc([kh, kw, cin, cout]);
  const xv = io.view(x);
  const dyv = io.view(dy);
  const dkv = io.view(out);
  if (pointwise(g)) {
    blas.sgemm(true, false, cin, cout, n * g.h * g.w, 1, xv, cin, dyv, cout, 0, dkv, cout);
    return out;
  }
  const f = frame(g);
  const taps = kh * kw;
  for (let b = 0; b < n; b++) {
    const beta = b === 0 ? 0 : 1;
    const xp = paddedImage(xv, b, g, f);
    if (strided(g)) {
      const cols = im2colImage(xp, g, f);
      const dyImg = dyv.subarray(b * oh * ow * cout, (b + 1) * oh * ow * cout);
      blas.sgemm(true, false, taps * cin, cout, oh * ow, 1, cols, taps * cin, dyImg, cout, beta, dkv, cout);
      continue;
    }
    const dyw = wideGrad(dyv, b, g, f);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const t = i * kw + j;
        const off = (i * g.dh * f.wp + j * g.dw) * cin;
        blas.sgemm(
          true,
          false,
          cin,
          cout,
          f.rows,
          1,
          xp.subarray(off, off + f.rows * cin),
          cin,
          dyw,
          cout,
          beta,
          dkv.subarray(t * cin * cout, (t + 1) * cin * cout),
          cout,
        );
      }
    }
  }
  return out;
}

/** dx [n,h,w,cin] of y = conv(x, k), given dy [n,oh,ow,cout] and k. */
export function blasConv2dBackpropInput(io: HostIo, blas: Blas, dy: TensorInfo, k: TensorInfo, g: HostConvGeometry): TensorInfo {
  const { n, h, w, cin, cout, kh, kw, oh, ow, sh, sw, dh, dw } = g;
  const out = io.alloc([n, h, w, cin]);
  const dyv = io.view(dy);
  const kv = io.view(k);
  const dxv = io.view(out);
  if (pointwise(g)) {
    blas.sgemm(false, true, n * h * w, cin, cout, 1, dyv, cout, kv, cout, 0, dxv, cin);
    return out;
  }
  const f = frame(g);
  const [[pt], [pl]] = g.pads;
  const taps = kh * kw;
  const dxp = scratch('dxp', f.hp * f.wp * cin);
  for (let b = 0; b < n; b++) {
    dxp.fill(0);
    if (strided(g)) {
      const k2 = taps * cin;
      const dcols = scratch('cols', oh * ow * k2);
      const dyImg = dyv.subarray(b * oh * ow * cout, (b + 1) * oh * ow * cout);
      blas.sgemm(false, true, oh * ow, k2, cout, 1, dyImg, cout, kv, cout, 0, dcols, k2);
      for (let a = 0; a < oh; a++) {
        for (let c = 0; c < ow; c++) {
          const row = (a * ow + c) * k2;
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const dst = ((a * sh + i * dh) * f.wp + c * sw + j * dw) * cin;
              const src = row + (i * kw + j) * cin;
              for (let q = 0; q < cin; q++) dxp[dst + q] += dcols[src + q];
            }
          }
        }
      }
    } else {
      const dyw = wideGrad(dyv, b, g, f);
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const t = i * kw + j;
          const off = (i * dh * f.wp + j * dw) * cin;
          blas.sgemm(
            false,
            true,
            f.rows,
            cin,
            cout,
            1,
            dyw,
            cout,
            kv.subarray(t * cin * cout, (t + 1) * cin * cout),
            cout,
            1,
            dxp.subarray(off, off + f.rows * cin),
            cin,
          );
        }
      }
    }
    for (let r = 0; r < h; r++) {
      const src = ((r + pt) * f.wp + pl) * cin;
      dxv.set(dxp.subarray(src, src + w * cin), (b * h + r) * w * cin);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Transpose

const BLOCK = 32;

/** out[j, i] = x[i, j] for `batch` consecutive [rows, cols] matrices, in cache-sized tiles. */
function transposeBlocks(x: Float32Array | Int32Array, out: Float32Array | Int32Array, batch: number, rows: number, cols: number): void {
  const mat = rows * cols;
  for (let t = 0; t < batch; t++) {
    const base = t * mat;
    for (let i0 = 0; i0 < rows; i0 += BLOCK) {
      const i1 = Math.min(rows, i0 + BLOCK);
      for (let j0 = 0; j0 < cols; j0 += BLOCK) {
        const j1 = Math.min(cols, j0 + BLOCK);
        for (let i = i0; i < i1; i++) {
          const src = base + i * cols;
          for (let j = j0; j < j1; j++) out[base + j * rows + i] = x[src + j];
        }
      }
    }
  }
}

/**
 * Merges neighbouring axes that stay neighbours under `perm` and drops size-1 axes, e.g.
 * [0,2,3,1] on [n,h,w,c] is the batched swap [n, h, w·c] → [n, w·c, h]. Returns the reduced
 * input shape and permutation.
 */
export function reducePermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
  const rank = new Map(kept.map((axis, r) => [axis, r]));
  const p = perm.filter((axis) => shape[axis] !== 1).map((axis) => rank.get(axis)!);
  const s = kept.map((axis) => shape[axis]);
  // Runs of consecutive input axes in output order; each run becomes one axis.
  const runs: number[][] = [];
  for (const axis of p) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] + 1 === axis) last.push(axis);
    else runs.push([axis]);
  }
  const byInput = [...runs].sort((a, b) => a[0] - b[0]);
  return {
    shape: byInput.map((r) => r.reduce((acc, axis) => acc * s[axis], 1)),
    perm: runs.map((r) => byInput.indexOf(r)),
  };
}

/**
 * Transpose of a float32/int32 tensor on host memory, when the permutation reduces to a plain
 * copy or a (batched) 2-D swap ([m,n]→[n,m], [b,m,n]→[b,n,m]); returns false otherwise (the
 * caller falls back to the backend's own kernel).
 */
export function hostTranspose(
  x: Float32Array | Int32Array,
  out: Float32Array | Int32Array,
  shape: readonly number[],
  perm: readonly number[],
): boolean {
  const r = reducePermutation(shape, perm);
  if (r.perm.every((axis, i) => axis === i)) {
    out.set(x);
    return true;
  }
  if (r.perm.length === 2) {
    transposeBlocks(x, out, 1, r.shape[0], r.shape[1]);
    return true;
  }
  if (r.perm.length === 3 && r.perm[0] === 0 && r.perm[1] === 2 && r.perm[2] === 1) {
    transposeBlocks(x, out, r.shape[0], r.shape[1], r.shape[2]);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Reductions over leading axes

/**
 * If `axes` are exactly the leading axes 0..k−1 of `shape` (k < rank), the [rows, cols] view
 * they reduce; else null. (The gradient of every broadcast add, e.g. a bias, is such a sum.)
 */
export function leadingReduction(shape: readonly number[], axes: readonly number[]): { rows: number; cols: number } | null {
  const k = axes.length;
  if (k === 0 || k >= shape.length) return null;
  const sorted = [...axes].sort((a, b) => a - b);
  if (!sorted.every((a, i) => a === i)) return null;
  return { rows: size(shape.slice(0, k)), cols: size(shape.slice(k)) };
}

/** out[c] = scale · Σ_r x[r·cols + c], accumulated in float64, row by row (sequential reads). */
export function columnSums(x: Float32Array | Int32Array, out: Float32Array | Int32Array, rows: number, cols: number, scale = 1): void {
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c] += x[base + c];
  }
  for (let c = 0; c < cols; c++) out[c] = acc[c] * scale;
}

// ---------------------------------------------------------------------------------------------
// Slice

/**
 * out = x[begin : begin + size] (any rank; begin and size already resolved): one block copy per
 * contiguous run (the trailing axes that are taken whole merge into the run). wasm's own Slice,
 * and so its SplitV, first copies the whole input out of the heap for every piece.
 */
export function hostSlice(
  x: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  begin: readonly number[],
  sliceSize: readonly number[],
  out: Float32Array | Int32Array | Uint8Array,
): void {
  let k = shape.length - 1;
  let inner = 1;
  while (k >= 0 && begin[k] === 0 && sliceSize[k] === shape[k]) inner *= shape[k--];
  if (k < 0) {
    out.set(x.subarray(0, inner));
    return;
  }
  const run = sliceSize[k] * inner;
  const strides = new Array<number>(k + 1);
  strides[k] = inner;
  for (let d = k - 1; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const idx = new Array<number>(k).fill(0);
  const count = size(sliceSize.slice(0, k));
  let o = 0;
  for (let c = 0; c < count; c++) {
    let src = begin[k] * inner;
    for (let d = 0; d < k; d++) src += (begin[d] + idx[d]) * strides[d];
    if (run >= 16) out.set(x.subarray(src, src + run), o);
    else for (let r = 0; r < run; r++) out[o + r] = x[src + r];
    o += run;
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d] < sliceSize[d]) break;
      idx[d] = 0;
    }
  }
}

/**
 * out = x tiled `reps` times along each axis (out shape[d] = shape[d]·reps[d]), by block copies:
 * each row of x is written reps[last] times, then, axis by axis outwards, each finished block
 * is copied reps[d] − 1 more times behind itself. (wasm's Tile computes an index per element.)
 */
export function hostTile(
  x: Float32Array | Int32Array | Uint8Array,
  shape: readonly number[],
  reps: readonly number[],
  out: Float32Array | Int32Array | Uint8Array,
): void {
  const r = shape.length;
  if (r === 0) {
    out[0] = x[0];
    return;
  }
  // block[d]: elements of out under one index of axes < d (the product of out's dims from d on)
  const block = new Array<number>(r + 1);
  block[r] = 1;
  for (let d = r - 1; d >= 0; d--) block[d] = block[d + 1] * shape[d] * reps[d];
  if (block[0] === 0) return;
  const len = shape[r - 1];
  const rows = size(shape.slice(0, r - 1));
  const at = (outerIndex: number, axes: number) => {
    // out offset of the x index `outerIndex` over axes 0..axes−1 (repetition 0 on each)
    let pos = 0;
    let rem = outerIndex;
    for (let d = axes - 1; d >= 0; d--) {
      const i = rem % shape[d];
      rem = (rem - i) / shape[d];
      pos += i * block[d + 1];
    }
    return pos;
  };
  for (let o = 0; o < rows; o++) {
    const pos = at(o, r - 1);
    const src = o * len;
    for (let k = 0; k < reps[r - 1]; k++) {
      if (len >= 16) out.set(x.subarray(src, src + len), pos + k * len);
      else for (let e = 0; e < len; e++) out[pos + k * len + e] = x[src + e];
    }
  }
  for (let d = r - 2; d >= 0; d--) {
    if (reps[d] === 1) continue;
    const chunk = shape[d] * block[d + 1];
    const count = size(shape.slice(0, d));
    for (let o = 0; o < count; o++) {
      const start = at(o, d);
      for (let k = 1; k < reps[d]; k++) out.copyWithin(start + k * chunk, start, start + chunk);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Gather

/**
 * out[o, i, :] = x[o, idx[i], :] for x viewed as [outer, dim, inner] (indices already checked to
 * be in [0, dim)): one block copy per gathered slice.
 */
export function gatherBlocks(
  x: Float32Array | Int32Array,
  idx: Int32Array,
  out: Float32Array | Int32Array,
  outer: number,
  dim: number,
  inner: number,
  count: number,
): void {
  for (let o = 0; o < outer; o++) {
    const src = o * dim * inner;
    const dst = o * count * inner;
    for (let i = 0; i < count; i++) {
      const from = src + idx[i] * inner;
      const to = dst + i * inner;
      if (inner >= 16) out.set(x.subarray(from, from + inner), to);
      else for (let k = 0; k < inner; k++) out[to + k] = x[from + k];
    }
  }
}
