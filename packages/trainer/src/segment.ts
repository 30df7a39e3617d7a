/**
 * One-call segmentation (issue 13): decoded pixels in (RGBA, RGB or grey, any size, as a canvas'
 * `ImageData` or an image decoder gives them), a label map and per-class scores out. The same
 * code in Node and in the browser (no Node imports).
 */
import * as tf from '@tensorflow/tfjs-core';
import { closestName } from '@sign/core';
import type { TrainedModel } from './inference';

/** Decoded 8-bit pixels [height, width, channels], row-major (`ImageData` is `channels: 4`). */
export interface SegmentImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Options of {@link segment}. */
export interface SegmentOptions {
  /** Only these classes compete (by name; default: every class of the model). */
  classes?: string[];
  /** γ subtracted from the logits of every class that is not unseen (default: the config's `eval.calibrate`). */
  calibrate?: number;
}

/** What {@link segment} returns. */
export interface Segmentation {
  /** [height · width] indices into `classes` (the model's class ids when `classes` was not given). */
  labels: Uint8Array;
  width: number;
  height: number;
  /** The classes that competed, in the order `labels` and `scores` index them. */
  classes: string[];
  /** [classes.length] the mean over pixels of each class's probability (softmax over `classes`). */
  scores: Float32Array;
}

function checkImage(image: SegmentImage): void {
  if (!image || typeof image !== 'object') throw new Error('segment: expected an image { data, width, height, channels }');
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1)
    throw new Error(`segment: width and height must be positive integers, got ${String(width)}×${String(height)}`);
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new Error(`segment: channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  if (!(data instanceof Uint8Array) && !(data instanceof Uint8ClampedArray)) throw new Error('segment: data must be a Uint8Array or Uint8ClampedArray of 8-bit pixels');
  if (data.length !== width * height * channels)
    throw new Error(`segment: data has ${data.length} values, expected ${width}×${height}×${channels} = ${width * height * channels}`);
}

/** RGBA → RGB (alpha dropped); grey and RGB as they are, as a Uint8Array view. */
function withoutAlpha(image: SegmentImage): { data: Uint8Array; channels: 1 | 3 } {
  const bytes = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length);
  if (image.channels !== 4) return { data: bytes, channels: image.channels };
  const px = image.width * image.height;
  const rgb = new Uint8Array(px * 3);
  for (let i = 0; i < px; i++) {
    rgb[3 * i] = bytes[4 * i]!;
    rgb[3 * i + 1] = bytes[4 * i + 1]!;
    rgb[3 * i + 2] = bytes[4 * i + 2]!;
  }
  return { data: rgb, channels: 3 };
}

function classIds(model: TrainedModel, names: string[] | undefined): number[] {
  if (names === undefined) return model.classNames.map((_, i) => i);
  if (!Array.isArray(names) || names.length === 0) throw new Error('segment: classes must be a non-empty array of class names');
  return names.map((n, i) => {
    const id = model.classNames.indexOf(n);
    if (id < 0) {
      const near = closestName(String(n), model.classNames);
      throw new Error(`segment: unknown class '${String(n)}'${near ? ` (did you mean '${near}'?)` : ''}; the model's classes: ${model.classNames.join(', ')}`);
    }
    if (names.indexOf(n) !== i) throw new Error(`segment: class '${n}' is listed twice`);
    return id;
  });
}

/**
 * Segments one image: converted to the model's channels (alpha dropped; grey ↔ RGB), through
 * its dataset's test pipeline, C's logits upsampled bilinearly to the image's own size (the
 * same path as `model.predict`), calibrated stacking (`calibrate`), then softmax and argmax over
 * the chosen `classes` only. Reads back asynchronously; no tensor survives the call.
 *
 * @returns labels [height · width] (indices into `classes`), scores [classes.length]
 * @example
 * const model = await loadModel('runs/demo/checkpoints/last.safetensors');
 * const { labels, classes, scores } = await segment(model, { data: imageData.data, width: 64, height: 64, channels: 4 });
 * classes[labels[0]]; // the class of the top-left pixel, e.g. 'background'
 * const two = await segment(model, image, { classes: ['background', 'bag'] }); // labels are 0 or 1
 */
export async function segment(model: TrainedModel, image: SegmentImage, opts: SegmentOptions = {}): Promise<Segmentation> {
  checkImage(image);
  const ids = classIds(model, opts.classes);
  const rgb = withoutAlpha(image);
  const x = model.prepare({ data: rgb.data, width: image.width, height: image.height, channels: rgb.channels });
  const calibrate = opts.calibrate ?? model.config.eval.calibrate;
  const [labelsT, scoresT] = tf.tidy(() => {
    let logits = model.net.predictLogits(tf.tensor4d(x.images, [1, x.height, x.width, x.channels]), calibrate);
    if (x.height !== image.height || x.width !== image.width) logits = tf.image.resizeBilinear(logits, [image.height, image.width], true);
    const chosen = ids.length === model.classNames.length && ids.every((id, i) => id === i) ? logits : tf.gather(logits, tf.tensor1d(ids, 'int32'), 3);
    const probs = tf.softmax(chosen);
    return [tf.argMax(probs, 3), tf.mean(probs, [0, 1, 2])];
  });
  try {
    const [l, s] = await Promise.all([labelsT.data(), scoresT.data()]);
    return { labels: Uint8Array.from(l), width: image.width, height: image.height, classes: ids.map((i) => model.classNames[i]!), scores: Float32Array.from(s) };
  } finally {
    tf.dispose([labelsT, scoresT]);
  }
}
