import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link relativePositionalEncoding}. */
export interface RelativePositionalEncodingOptions {
  /**
   * Length L that the grid coordinates are stretched to: x runs over `linspace(0, L-1, width)`
   * and y over `linspace(0, L-1, height)`, whatever the feature map size. Default 512.
   */
  standardLength?: number;
}

function checkArgs(fn: string, channels: number, height: number, width: number): void {
  for (const [name, v] of [
    ['channels', channels],
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`@sign/sim ${fn}: ${name} must be a positive integer, got ${v}`);
    }
  }
  if (channels % 4 !== 0) {
    throw new Error(
      `@sign/sim ${fn}: channels must be a multiple of 4 (half for x, half for y, each as sin/cos pairs), got ${channels}`,
    );
  }
}

/** `linspace(0, end, n)` as numpy/torch compute it (n = 1 gives [0]). */
function linspace(end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) return out;
  const step = end / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step;
  // exact end point, as numpy does
  out[n - 1] = end;
  return out;
}

/**
 * Fills the sin/cos table for coordinates xs (width axis) and ys (height axis). Computed in
 * float64 on the host (the arguments reach ~511 rad, where float32 arithmetic would lose ~1e-5)
 * and handed to tfjs as float32.
 */
function encodeTable(channels: number, xs: Float64Array, ys: Float64Array): Float32Array {
  const height = ys.length;
  const width = xs.length;
  const half = channels / 2;
  const numFreq = half / 2; // k = 0, 2, 4, ... < half
  const freqs = new Float64Array(numFreq);
  for (let j = 0; j < numFreq; j++) freqs[j] = Math.exp((-(2 * j) * Math.log(10000)) / half);
  // rows of x-channels (shared by all y) and of y-channels (shared by all x)
  const xPart = new Float64Array(width * half);
  for (let x = 0; x < width; x++) {
    for (let j = 0; j < numFreq; j++) {
      const a = xs[x] * freqs[j];
      xPart[x * half + 2 * j] = Math.sin(a);
      xPart[x * half + 2 * j + 1] = Math.cos(a);
    }
  }
  const yPart = new Float64Array(height * half);
  for (let y = 0; y < height; y++) {
    for (let j = 0; j < numFreq; j++) {
      const a = ys[y] * freqs[j];
      yPart[y * half + 2 * j] = Math.sin(a);
      yPart[y * half + 2 * j + 1] = Math.cos(a);
    }
  }
  const out = new Float32Array(height * width * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = (y * width + x) * channels;
      for (let c = 0; c < half; c++) {
        out[base + c] = xPart[x * half + c];
        out[base + half + c] = yPart[y * half + c];
      }
    }
  }
  return out;
}

function encode(channels: number, xs: Float64Array, ys: Float64Array): tf.Tensor3D {
  return tf.tensor3d(encodeTable(channels, xs, ys), [ys.length, xs.length, channels], 'float32');
}

/**
 * Relative positional encoding of SIGN (METHOD §2): transformer-style sin/cos over a grid whose
 * coordinates are stretched to a fixed length L (default 512), so every feature map size spans
 * the same range of positions.
 *
 * With `half = channels/2` and `f_k = exp(-k·ln(10000)/half)` for k = 0, 2, 4, … < half,
 * `xs = linspace(0, L-1, width)`, `ys = linspace(0, L-1, height)`:
 * `P[y,x,2j] = sin(xs[x]·f_2j)`, `P[y,x,2j+1] = cos(xs[x]·f_2j)`,
 * `P[y,x,half+2j] = sin(ys[y]·f_2j)`, `P[y,x,half+2j+1] = cos(ys[y]·f_2j)`.
 *
 * @param channels number of channels C (a multiple of 4)
 * @param height grid height H (≥ 1)
 * @param width grid width W (≥ 1)
 * @returns float32 tensor [H, W, C]
 * @example
 * const pe = relativePositionalEncoding(16, 5, 7); // [5, 7, 16]
 * const batch = tf.tile(pe.expandDims(0), [n, 1, 1, 1]); // [n, 5, 7, 16]
 */
export function relativePositionalEncoding(
  channels: number,
  height: number,
  width: number,
  opts: RelativePositionalEncodingOptions = {},
): tf.Tensor3D {
  checkArgs('relativePositionalEncoding', channels, height, width);
  const L = opts.standardLength ?? 512;
  if (!Number.isFinite(L) || L <= 0) {
    throw new Error(`@sign/sim relativePositionalEncoding: standardLength must be a positive number, got ${L}`);
  }
  return tf.tidy(() => encode(channels, linspace(L - 1, width), linspace(L - 1, height)));
}

/**
 * Absolute positional encoding (the ablation baseline of the SIGN paper): the same sin/cos
 * table as {@link relativePositionalEncoding}, over the integer positions x = 0…W-1 and
 * y = 0…H-1 instead of the stretched range, so larger maps see larger positions.
 *
 * @returns float32 tensor [H, W, C]
 * @example
 * const pe = absolutePositionalEncoding(8, 3, 4); // pe[0, 1, 0] = sin(1)
 */
export function absolutePositionalEncoding(channels: number, height: number, width: number): tf.Tensor3D {
  checkArgs('absolutePositionalEncoding', channels, height, width);
  const xs = new Float64Array(width).map((_, i) => i);
  const ys = new Float64Array(height).map((_, i) => i);
  return tf.tidy(() => encode(channels, xs, ys));
}

/**
 * The values of {@link relativePositionalEncoding} (or, with `absolute`, of
 * {@link absolutePositionalEncoding}) as a host array [H·W·C] (for caching; internal).
 */
export function positionalTable(kind: 'relative' | 'absolute', channels: number, height: number, width: number, standardLength = 512): Float32Array {
  if (kind === 'relative') {
    checkArgs('relativePositionalEncoding', channels, height, width);
    return encodeTable(channels, linspace(standardLength - 1, width), linspace(standardLength - 1, height));
  }
  checkArgs('absolutePositionalEncoding', channels, height, width);
  return encodeTable(
    channels,
    new Float64Array(width).map((_, i) => i),
    new Float64Array(height).map((_, i) => i),
  );
}
