/**
 * Resizing as OpenCV's `cv2.resize` does it (imgproc/src/resize.cpp, OpenCV 4.x), because the
 * paper's data pipeline uses it: `INTER_LINEAR` for images, `INTER_NEAREST` for label maps.
 * Checked against outputs of OpenCV 4.6 (test/fixtures/opencv-resize.json, made by
 * scripts/make-opencv-fixtures.py).
 *
 * - `linear`: half-pixel centres (`sx = (dx + 0.5)·scale − 0.5`, computed in float32), source
 *   coordinates clamped to the edge, no antialiasing when shrinking. On uint8 images OpenCV works
 *   in fixed point: weights are rounded to 11 bits (×2048), the horizontal pass is exact integer
 *   arithmetic and the vertical pass rounds as OpenCV's SIMD code does.
 *   An exact 2× reduction in both directions is OpenCV's `INTER_AREA` (mean of each 2×2 block,
 *   rounded half up), as cv2.resize switches to it.
 * - `nearest`: OpenCV's `INTER_NEAREST`: source index `⌊dx·scale⌋` (not half-pixel), clamped.
 *
 * Float32 images are interpolated in float32 with the same coordinates and weights.
 */

/** Pixel data, HWC row-major. */
export type PixelArray = Uint8Array | Float32Array;

export type Interpolation = 'linear' | 'nearest';

/** Options of {@link resize}. */
export interface ResizeOptions {
  /**
   * The coordinate scale factors OpenCV uses (`inv_scale_x`, `inv_scale_y`), as given to
   * `cv2.resize(src, None, fx, fy)`. Default: `dstWidth / width` and `dstHeight / height` (what
   * `cv2.resize(src, (dstWidth, dstHeight))` uses).
   */
  fx?: number;
  fy?: number;
}

const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS; // INTER_RESIZE_COEF_SCALE
const f32 = Math.fround;

/** Round half to even, as `cvRound` / `saturate_cast<int>` (SSE2 `cvtsd2si`) do. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The output size cv2.resize gives for a scale factor (`cv2.resize(src, None, fx=f, fy=f)`):
 * `round(width·f)` × `round(height·f)` (half to even), at least 1.
 *
 * @example
 * scaledSize(37, 23, 0.73) // { height: 27, width: 17 }
 */
export function scaledSize(height: number, width: number, fy: number, fx: number = fy): { height: number; width: number } {
  return { height: Math.max(1, rint(height * fy)), width: Math.max(1, rint(width * fx)) };
}

/** Per output coordinate: source index, and (linear) the weights of it and the next. */
interface Axis {
  ofs: Int32Array;
  /** float weight of `ofs + 1` (float32-rounded, as OpenCV's `cbuf`) */
  t: Float32Array;
  /** 11-bit fixed-point weights of `ofs` and `ofs + 1` */
  a0: Int32Array;
  a1: Int32Array;
}

/**
 * Source indices and weights along one axis. OpenCV clamps the coordinate to the edge along x
 * (`clampEdges`), but not along y: there the first and last output rows may have `ofs` −1 or
 * the last source row with a non-zero weight, and the rows themselves are clamped when read (the
 * same value, rounded differently).
 */
function linearAxis(src: number, dst: number, invScale: number, clampEdges: boolean): Axis {
  const scale = 1 / invScale;
  const ofs = new Int32Array(dst);
  const t = new Float32Array(dst);
  const a0 = new Int32Array(dst);
  const a1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = f32((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = f32(f - s);
    if (clampEdges && s < 0) {
      f = 0;
      s = 0;
    }
    if (clampEdges && s >= src - 1) {
      f = 0;
      s = src - 1;
    }
    ofs[d] = s;
    t[d] = f;
    a0[d] = rint(f32(f32(1 - f) * COEF_SCALE));
    a1[d] = rint(f32(f * COEF_SCALE));
  }
  return { ofs, t, a0, a1 };
}

function nearestAxis(src: number, dst: number, invScale: number): Int32Array {
  const ifx = 1 / invScale;
  const ofs = new Int32Array(dst);
  for (let d = 0; d < dst; d++) ofs[d] = Math.min(Math.floor(d * ifx), src - 1);
  return ofs;
}

function checkArgs(src: PixelArray, height: number, width: number, channels: number, dstHeight: number, dstWidth: number): void {
  for (const [k, v] of Object.entries({ height, width, channels, dstHeight, dstWidth }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`resize: ${k} must be a positive integer, got ${v}`);
  if (!(src instanceof Uint8Array) && !(src instanceof Float32Array))
    throw new Error('resize: pixels must be a Uint8Array or a Float32Array');
  if (src.length !== height * width * channels)
    throw new Error(`resize: expected ${height}×${width}×${channels} = ${height * width * channels} values, got ${src.length}`);
}

/**
 * Resizes an `[height, width, channels]` image (HWC row-major) to `[dstHeight, dstWidth,
 * channels]` exactly as `cv2.resize(src, (dstWidth, dstHeight), interpolation=INTER_LINEAR or
 * INTER_NEAREST)` does (see the module comment); `opts.fx/fy` emulate `cv2.resize(src, None,
 * fx, fy)`. Returns a new array of the input's type.
 *
 * @example
 * const small = resize(rgb, 480, 640, 3, 240, 320, 'linear');     // Uint8Array [240, 320, 3]
 * const labels = resize(label, 480, 640, 1, 240, 320, 'nearest'); // class ids stay class ids
 */
export function resize<T extends PixelArray>(
  src: T,
  height: number,
  width: number,
  channels: number,
  dstHeight: number,
  dstWidth: number,
  interpolation: Interpolation,
  opts: ResizeOptions = {},
): T {
  checkArgs(src, height, width, channels, dstHeight, dstWidth);
  const fx = opts.fx ?? dstWidth / width;
  const fy = opts.fy ?? dstHeight / height;
  if (!(fx > 0) || !(fy > 0) || !Number.isFinite(fx) || !Number.isFinite(fy))
    throw new Error(`resize: scale factors must be positive and finite, got fx=${fx}, fy=${fy}`);
  const c = channels;
  const out = (src instanceof Uint8Array ? new Uint8Array(dstHeight * dstWidth * c) : new Float32Array(dstHeight * dstWidth * c)) as T;
  if (interpolation === 'nearest') {
    const xs = nearestAxis(width, dstWidth, fx);
    const ys = nearestAxis(height, dstHeight, fy);
    for (let dy = 0; dy < dstHeight; dy++) {
      const row = ys[dy] * width;
      for (let dx = 0; dx < dstWidth; dx++) {
        const s = (row + xs[dx]) * c;
        const d = (dy * dstWidth + dx) * c;
        for (let k = 0; k < c; k++) out[d + k] = src[s + k];
      }
    }
    return out;
  }
  if (interpolation !== 'linear') throw new Error(`resize: interpolation must be 'linear' or 'nearest', got '${String(interpolation)}'`);
  const scaleX = 1 / fx;
  const scaleY = 1 / fy;
  if (Math.abs(scaleX - 2) < Number.EPSILON && Math.abs(scaleY - 2) < Number.EPSILON) {
    return area2x(src, width, c, dstHeight, dstWidth, out);
  }
  const xs = linearAxis(width, dstWidth, fx, true);
  const ys = linearAxis(height, dstHeight, fy, false);
  const clampRow = (r: number) => (r < 0 ? 0 : r > height - 1 ? height - 1 : r);
  const n = dstWidth * c;
  if (src instanceof Uint8Array) {
    const o = out as Uint8Array;
    const rows = new Map<number, Int32Array>(); // horizontally resized source rows, by index
    const hrow = (sy: number): Int32Array => {
      let r = rows.get(sy);
      if (r) return r;
      r = new Int32Array(n);
      const base = sy * width * c;
      for (let dx = 0; dx < dstWidth; dx++) {
        const s0 = base + xs.ofs[dx] * c;
        const s1 = xs.ofs[dx] + 1 < width ? s0 + c : s0; // weight 0 at the clamped edge
        const a0 = xs.a0[dx];
        const a1 = xs.a1[dx];
        for (let k = 0; k < c; k++) r[dx * c + k] = src[s0 + k] * a0 + src[s1 + k] * a1;
      }
      if (rows.size > 4) rows.clear();
      rows.set(sy, r);
      return r;
    };
    for (let dy = 0; dy < dstHeight; dy++) {
      const sy = ys.ofs[dy];
      const S0 = hrow(clampRow(sy));
      const S1 = hrow(clampRow(sy + 1));
      const b0 = ys.a0[dy];
      const b1 = ys.a1[dy];
      const base = dy * n;
      for (let x = 0; x < n; x++) {
        // OpenCV's SIMD vertical pass (VResizeLinearVec_32s8u): (S >> 4) packed to int16, the
        // high half of the 16×16-bit product with the weight, then a rounding shift by 2. The
        // fixtures match it on every value of every row, tails included (not the scalar
        // `(S0·b0 + S1·b1 + 2^21) >> 22`, which differs by one grey level on ~9 % of values).
        const m0 = ((S0[x] >> 4) * b0) >> 16;
        const m1 = ((S1[x] >> 4) * b1) >> 16;
        const v = (m0 + m1 + 2) >> 2;
        o[base + x] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    return out;
  }
  return linearFloat(src as Float32Array, width, c, out as Float32Array, dstHeight, dstWidth, xs, ys, clampRow) as T;
}

/**
 * The float32 linear pass: each horizontally resized source row is computed once and kept while
 * consecutive output rows need it (two rows in hand), with the same float32 roundings.
 */
function linearFloat(src: Float32Array, width: number, c: number, o: Float32Array, dstHeight: number, dstWidth: number, xs: Axis, ys: Axis, clampRow: (r: number) => number): Float32Array {
  const n = dstWidth * c;
  let rowA = new Float32Array(n);
  let rowB = new Float32Array(n);
  let idxA = -1;
  let idxB = -1;
  const w0s = new Float32Array(dstWidth);
  for (let dx = 0; dx < dstWidth; dx++) w0s[dx] = f32(1 - xs.t[dx]!);
  const hrow = (sy: number, r: Float32Array): void => {
    const base = sy * width * c;
    for (let dx = 0; dx < dstWidth; dx++) {
      const s0 = base + xs.ofs[dx]! * c;
      const s1 = xs.ofs[dx]! + 1 < width ? s0 + c : s0;
      const t = xs.t[dx]!;
      const w0 = w0s[dx]!;
      const d = dx * c;
      for (let k = 0; k < c; k++) r[d + k] = f32(src[s0 + k]! * w0) + f32(src[s1 + k]! * t);
    }
  };
  for (let dy = 0; dy < dstHeight; dy++) {
    const sy0 = clampRow(ys.ofs[dy]!);
    const sy1 = clampRow(ys.ofs[dy]! + 1);
    // rows in hand: A = sy0 and B = sy1 when possible (B of the previous output row often becomes A)
    if (idxA !== sy0) {
      if (idxB === sy0) {
        [rowA, rowB] = [rowB, rowA];
        [idxA, idxB] = [idxB, idxA];
      } else {
        hrow(sy0, rowA);
        idxA = sy0;
      }
    }
    if (idxB !== sy1) {
      if (sy1 === sy0) {
        rowB.set(rowA);
      } else hrow(sy1, rowB);
      idxB = sy1;
    }
    const t = ys.t[dy]!;
    const w0 = f32(1 - t);
    const base = dy * n;
    for (let x = 0; x < n; x++) o[base + x] = f32(rowA[x]! * w0) + f32(rowB[x]! * t);
  }
  return o;
}

/** cv2.resize's INTER_AREA for an exact 2× reduction: the mean of each 2×2 block. */
function area2x<T extends PixelArray>(src: T, width: number, c: number, dstHeight: number, dstWidth: number, out: T): T {
  const stride = width * c;
  for (let dy = 0; dy < dstHeight; dy++) {
    const r0 = 2 * dy * stride;
    const r1 = r0 + stride;
    for (let dx = 0; dx < dstWidth; dx++) {
      for (let k = 0; k < c; k++) {
        const i = 2 * dx * c + k;
        const sum = src[r0 + i] + src[r0 + i + c] + src[r1 + i] + src[r1 + i + c];
        out[(dy * dstWidth + dx) * c + k] = src instanceof Uint8Array ? (sum + 2) >> 2 : f32(sum * 0.25);
      }
    }
  }
  return out;
}
