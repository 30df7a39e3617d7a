/**
 * Transforms: small functions `(sample, rng) → sample` that return a new {@link Sample} (the
 * input is never modified), composed with {@link compose}. Geometric transforms move the image
 * (bilinear, as OpenCV's INTER_LINEAR) and the label map (nearest, as INTER_NEAREST) together;
 * padding fills images with 0 and labels with the ignore index. Random ones draw only from the
 * rng they are given, a fixed number of draws per call, so that a batch is reproducible from
 * its rng.
 */
import type { Rng } from '@sign/core';
import { IGNORE_INDEX, type Normalization, type Sample } from '../types';
import { resize, scaledSize } from './resize';

/** One step of a pipeline. */
export type Transform = (sample: Sample, rng: Rng) => Sample;

function positiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
}

function checkSample(where: string, s: Sample): void {
  const { height: h, width: w, channels: c } = s;
  if (s.image.length !== h * w * c) throw new Error(`${where}: sample '${s.id}' has ${s.image.length} image values, expected ${h}×${w}×${c}`);
  if (s.label.length !== h * w) throw new Error(`${where}: sample '${s.id}' has ${s.label.length} label values, expected ${h}×${w}`);
}

/** Image and label resized together to `height`×`width` (`fx`/`fy`: OpenCV's factor form). */
function resizeSample(s: Sample, height: number, width: number, fx?: number, fy?: number): Sample {
  if (height === s.height && width === s.width && fx === undefined) return s;
  const opts = fx !== undefined && fy !== undefined ? { fx, fy } : {};
  return {
    ...s,
    height,
    width,
    image: resize(s.image, s.height, s.width, s.channels, height, width, 'linear', opts),
    label: resize(s.label, s.height, s.width, 1, height, width, 'nearest', opts),
  };
}

/** How {@link resizeLongSide} rounds the shorter side. */
export type LongSideRounding = 'round' | 'floor';

/**
 * Resizes so that the longer side is `longSide` (aspect ratio kept), image bilinear, labels
 * nearest. The shorter side is, with `rounding`:
 * - `'round'` (default): `⌊side·s + 0.5⌋` with `s = longSide / longer side` (mmsegmentation's
 *   keep-ratio resize);
 * - `'floor'`: `⌊longSide · shorter / longer⌋`, the SIGN release's loader with `warp` off
 *   (`int(base_size * w / h)`), computed in the same float64 order.
 *
 * @example
 * resizeLongSide(512)(sample, rng)          // a 480×640 sample becomes 384×512
 * resizeLongSide(513, 'floor')(sample, rng) // a 333×500 sample becomes 341×513
 */
export function resizeLongSide(longSide: number, rounding: LongSideRounding = 'round'): Transform {
  positiveInt('resize: longSide', longSide);
  if (rounding !== 'round' && rounding !== 'floor') throw new Error(`resize: rounding must be 'round' or 'floor', got '${String(rounding)}'`);
  return (s) => {
    checkSample('resize', s);
    if (rounding === 'floor') {
      const { height: h, width: w } = s;
      if (h > w) return resizeSample(s, longSide, Math.max(1, Math.floor((longSide * w) / h)));
      return resizeSample(s, Math.max(1, Math.floor((longSide * h) / w)), longSide);
    }
    const scale = longSide / Math.max(s.height, s.width);
    return resizeSample(s, Math.max(1, Math.floor(s.height * scale + 0.5)), Math.max(1, Math.floor(s.width * scale + 0.5)));
  };
}

/**
 * Resizes to exactly `height`×`width` whatever the aspect ratio (the SIGN release's `warp`:
 * every image and label map becomes 513×513), image bilinear, labels nearest, as
 * `cv2.resize(x, (width, height))`.
 *
 * @example
 * resizeTo(513, 513)(sample, rng) // a 333×500 sample becomes 513×513
 */
export function resizeTo(height: number, width: number): Transform {
  positiveInt('resize: height', height);
  positiveInt('resize: width', width);
  return (s) => {
    checkSample('resize', s);
    return resizeSample(s, height, width);
  };
}

/**
 * Rescales by a factor drawn uniformly from [min, max] (one draw), as
 * `cv2.resize(img, None, fx=f, fy=f)`: output size `round(side·f)`.
 *
 * @example
 * randomScale(0.5, 2)(sample, rng) // e.g. 100×80 → 137×110 (f ≈ 1.37)
 */
export function randomScale(min: number, max: number): Transform {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) throw new Error(`randomScale: need 0 < min ≤ max, got min=${min}, max=${max}`);
  return (s, rng) => {
    checkSample('randomScale', s);
    const f = min + (max - min) * rng.uniform();
    const { height, width } = scaledSize(s.height, s.width, f);
    return resizeSample(s, height, width, f, f);
  };
}

/** The sample padded at the bottom and right to at least `height`×`width`. */
function padTo(s: Sample, height: number, width: number, ignoreIndex: number): Sample {
  const H = Math.max(height, s.height);
  const W = Math.max(width, s.width);
  if (H === s.height && W === s.width) return s;
  const c = s.channels;
  const image = s.image instanceof Uint8Array ? new Uint8Array(H * W * c) : new Float32Array(H * W * c);
  const label = new Uint8Array(H * W).fill(ignoreIndex);
  for (let y = 0; y < s.height; y++) {
    image.set(s.image.subarray(y * s.width * c, (y + 1) * s.width * c), y * W * c);
    label.set(s.label.subarray(y * s.width, (y + 1) * s.width), y * W);
  }
  return { ...s, height: H, width: W, image, label };
}

/** The sample padded to at least `height`×`width`, centred: ⌊pad/2⌋ above and left, the rest below and right. */
function padCentred(s: Sample, height: number, width: number, ignoreIndex: number): Sample {
  const H = Math.max(height, s.height);
  const W = Math.max(width, s.width);
  if (H === s.height && W === s.width) return s;
  const top = Math.floor((H - s.height) / 2);
  const left = Math.floor((W - s.width) / 2);
  const c = s.channels;
  const image = s.image instanceof Uint8Array ? new Uint8Array(H * W * c) : new Float32Array(H * W * c);
  const label = new Uint8Array(H * W).fill(ignoreIndex);
  for (let y = 0; y < s.height; y++) {
    image.set(s.image.subarray(y * s.width * c, (y + 1) * s.width * c), ((top + y) * W + left) * c);
    label.set(s.label.subarray(y * s.width, (y + 1) * s.width), (top + y) * W + left);
  }
  return { ...s, height: H, width: W, image, label };
}

/** The `height`×`width` window of `s` at (`top`, `left`) (inside `s`). */
function window(s: Sample, top: number, left: number, height: number, width: number): Sample {
  if (s.height === height && s.width === width) return s;
  const c = s.channels;
  const image = s.image instanceof Uint8Array ? new Uint8Array(height * width * c) : new Float32Array(height * width * c);
  const label = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = (top + y) * s.width + left;
    image.set(s.image.subarray(row * c, (row + width) * c), y * width * c);
    label.set(s.label.subarray(row, row + width), y * width);
  }
  return { ...s, height, width, image, label };
}

/**
 * Pads at the bottom and right to at least `height`×`width`: image with 0, labels with
 * `ignoreIndex` (255). Larger samples pass unchanged.
 *
 * @example
 * pad(512, 512)(sample, rng) // a 384×512 sample becomes 512×512, the new rows ignored
 */
export function pad(height: number, width: number, ignoreIndex: number = IGNORE_INDEX): Transform {
  positiveInt('pad: height', height);
  positiveInt('pad: width', width);
  return (s) => {
    checkSample('pad', s);
    return padTo(s, height, width, ignoreIndex);
  };
}

/**
 * A random `height`×`width` window: the sample is first padded (bottom/right; image 0, labels
 * `ignoreIndex`) to at least that size, then the window's top-left corner is drawn uniformly
 * (two draws: row, then column), as the paper's data loader does.
 *
 * @example
 * randomCrop(64, 64)(sample, rng) // always 64×64
 */
export function randomCrop(height: number, width: number, ignoreIndex: number = IGNORE_INDEX): Transform {
  positiveInt('randomCrop: height', height);
  positiveInt('randomCrop: width', width);
  return (s0, rng) => {
    checkSample('randomCrop', s0);
    const s = padTo(s0, height, width, ignoreIndex);
    const top = rng.int(s.height - height + 1);
    const left = rng.int(s.width - width + 1);
    return window(s, top, left, height, width);
  };
}

/**
 * The SIGN release's scale–pad–crop step (its data loader, for each training image): rescale by
 * a factor `f` drawn uniformly from [min, max] (as `cv2.resize(x, None, fx=f, fy=f)`), pad
 * centred (⌊pad/2⌋ above and left, the rest below and right; image 0, labels `ignoreIndex`) to
 * at least `max(size before scaling, crop size)` in each direction, then take a random
 * `height`×`width` window (three draws: f, row, column). Padding back to the size before
 * scaling, not only to the crop, is what makes a shrunken image sit in a border of ignore.
 *
 * @example
 * randomScaleCrop(0.5, 1.5, 368, 368)(sample, rng) // a 513×513 sample: 368×368, f ~ U[0.5, 1.5]
 */
export function randomScaleCrop(min: number, max: number, height: number, width: number, ignoreIndex: number = IGNORE_INDEX): Transform {
  if (!(min > 0) || !(max >= min) || !Number.isFinite(max)) throw new Error(`randomScaleCrop: need 0 < min ≤ max, got min=${min}, max=${max}`);
  positiveInt('randomScaleCrop: height', height);
  positiveInt('randomScaleCrop: width', width);
  return (s0, rng) => {
    checkSample('randomScaleCrop', s0);
    const f = min + (max - min) * rng.uniform();
    const size = scaledSize(s0.height, s0.width, f);
    const scaled = resizeSample(s0, size.height, size.width, f, f);
    const s = padCentred(scaled, Math.max(s0.height, height), Math.max(s0.width, width), ignoreIndex);
    const top = rng.int(s.height - height + 1);
    const left = rng.int(s.width - width + 1);
    return window(s, top, left, height, width);
  };
}

/**
 * Mirrors left–right with probability `probability` (one draw per call, also when not flipping).
 *
 * @example
 * flip()(sample, rng) // mirrored half of the time
 */
export function flip(probability = 0.5): Transform {
  if (!(probability >= 0 && probability <= 1)) throw new Error(`flip: probability must be in [0, 1], got ${probability}`);
  return (s, rng) => {
    checkSample('flip', s);
    if (!(rng.uniform() < probability)) return s;
    const { height: h, width: w, channels: c } = s;
    const image = s.image instanceof Uint8Array ? new Uint8Array(s.image.length) : new Float32Array(s.image.length);
    const label = new Uint8Array(s.label.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = y * w + x;
        const to = y * w + (w - 1 - x);
        label[to] = s.label[from]!;
        for (let k = 0; k < c; k++) image[to * c + k] = s.image[from * c + k]!;
      }
    }
    return { ...s, image, label };
  };
}

/**
 * Checks a {@link Normalization} against the number of channels; throws naming what is wrong.
 */
export function checkNormalization(n: Normalization, channels: 1 | 3, where = 'normalization'): void {
  if (!n || typeof n !== 'object') throw new Error(`${where}: expected { order, scale, mean, std }`);
  const want = n.order === 'grey' ? 1 : 3;
  if (n.order !== 'grey' && n.order !== 'rgb' && n.order !== 'bgr') throw new Error(`${where}.order: must be 'rgb', 'bgr' or 'grey', got '${String(n.order)}'`);
  if (want !== channels) throw new Error(`${where}.order: '${n.order}' is for ${want}-channel images, the dataset has ${channels}`);
  if (!(Number.isFinite(n.scale) && n.scale > 0)) throw new Error(`${where}.scale: must be a positive number, got ${n.scale}`);
  if (!Array.isArray(n.mean) || n.mean.length !== channels || !n.mean.every(Number.isFinite))
    throw new Error(`${where}.mean: expected ${channels} finite number(s), got ${JSON.stringify(n.mean)}`);
  if (!Array.isArray(n.std) || n.std.length !== channels || !n.std.every((v) => Number.isFinite(v) && v > 0))
    throw new Error(`${where}.std: expected ${channels} positive number(s), got ${JSON.stringify(n.std)}`);
}

/**
 * Model input: `out[c] = (in[src(c)]·scale − mean[c]) / std[c]` as float32, where `src(c)` is
 * `c` for 'rgb' and 'grey' and `2 − c` for 'bgr' (images are decoded as RGB). Labels unchanged.
 *
 * @example
 * const imagenet = { order: 'rgb', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
 * normalize(imagenet)(sample, rng).image // Float32Array [H, W, 3]
 */
export function normalize(n: Normalization): Transform {
  const c = n.order === 'grey' ? 1 : 3;
  checkNormalization(n, c as 1 | 3);
  const scale = n.scale;
  const mean = Float64Array.from(n.mean);
  const std = Float64Array.from(n.std);
  const swap = n.order === 'bgr';
  return (s) => {
    checkSample('normalize', s);
    if (s.channels !== c) throw new Error(`normalize: sample '${s.id}' has ${s.channels} channel(s), the normalization ('${n.order}') expects ${c}`);
    const px = s.height * s.width;
    const out = new Float32Array(px * c);
    const src = s.image;
    for (let i = 0; i < px; i++) {
      for (let k = 0; k < c; k++) {
        const v = src[i * c + (swap ? 2 - k : k)]!;
        out[i * c + k] = (v * scale - mean[k]!) / std[k]!;
      }
    }
    return { ...s, image: out };
  };
}

/**
 * Applies transforms in order.
 *
 * @example
 * const t = compose([randomScale(0.5, 2), randomCrop(64, 64), flip(), normalize(meta.normalization)]);
 * const out = t(sample, rng.fork('augment'));
 */
export function compose(transforms: readonly Transform[]): Transform {
  const ts = [...transforms];
  return (s, rng) => ts.reduce((acc, t) => t(acc, rng), s);
}
