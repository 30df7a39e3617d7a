/**
 * Segments decoded pixels with a trained model (the page's and the test's one call): RGBA (a
 * canvas' ImageData), RGB or grey, any size → class ids at the image's size and each class's mean
 * probability. The pixels are read as the fashion-scenes images the demo was trained on (grey,
 * 0..1: byte / 255; RGB to grey with Rec. 601 weights, `toChannels`), then `model.predict`.
 * Until `segment` of @sign/trainer (issue 13, one-call inference) is on main, the page uses this.
 */
import { toChannels, type TrainedModel } from '@sign/trainer';

/** Decoded 8-bit pixels [height, width, channels], row-major. */
export interface PageImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** A label map whose values index `classes`, with each class's mean probability over the image. */
export interface PageSegmentation {
  labels: Int32Array;
  width: number;
  height: number;
  classes: string[];
  scores: Float32Array;
}

/**
 * @example
 * const seg = await segmentImage(model, { data: ctx.getImageData(0, 0, 64, 64).data, width: 64, height: 64, channels: 4 });
 * seg.labels.length // 64·64; seg.classes[seg.labels[0]] is the first pixel's class
 */
export async function segmentImage(model: TrainedModel, image: PageImage): Promise<PageSegmentation> {
  const { width, height, channels } = image;
  if (model.dataset.type !== 'fashion-scenes') throw new Error(`this page reads images as fashion-scenes images; the checkpoint was trained on '${model.dataset.type}'`);
  if (image.data.length !== width * height * channels) throw new Error(`image: ${image.data.length} values do not fill ${width}×${height}×${channels}`);
  const px = width * height;
  let rgbOrGrey: Uint8Array;
  if (channels === 4) {
    rgbOrGrey = new Uint8Array(px * 3);
    for (let i = 0; i < px; i++) for (let c = 0; c < 3; c++) rgbOrGrey[3 * i + c] = image.data[4 * i + c]!;
  } else {
    rgbOrGrey = Uint8Array.from(image.data);
  }
  const want = model.dataset.channels as 1 | 3;
  const bytes = toChannels(rgbOrGrey, channels === 1 ? 1 : 3, want);
  const images = Float32Array.from(bytes, (v) => v / 255);
  const { labels, probs } = await model.predict({ images, n: 1, height, width, channels: want });
  const K = model.classNames.length;
  const scores = new Float32Array(K);
  for (let i = 0; i < px; i++) for (let k = 0; k < K; k++) scores[k] += probs[i * K + k]! / px;
  return { labels, width, height, classes: [...model.classNames], scores };
}
