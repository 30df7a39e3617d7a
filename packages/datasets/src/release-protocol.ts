/**
 * The SIGN release's preprocessing and the data side of its evaluation protocol (the release
 * inherits both from CaGNet's loader, `_CocoStuff._transform`, and test path, `resize_target`).
 * Checked against the release's own code run on the same inputs (test/release.test.ts, fixtures
 * made by scripts/make-release-fixtures.py).
 *
 * What the release does, in order:
 * - reads the image with OpenCV (BGR), as float32, and subtracts the Caffe means
 *   (104.008, 116.669, 122.675) first, so that every later padding is 0 = the mean colour;
 * - `warp` (true in every config the release and CaGNet ship): image and label map resized to
 *   base×base = 513×513, bilinear and nearest (aspect ratio not kept); with `warp` off, the long
 *   side to 513 and the other to `int(513·short/long)`;
 * - training: rescale by f ~ U[0.5, 1.5] (`cv2.resize(fx=f, fy=f)`), pad centred to
 *   max(513-size, crop) (image 0, labels 255), a random crop (368; 328 for VOC self-training),
 *   a horizontal flip with probability 0.5;
 * - testing: nothing more: the 513×513 input goes through the network; the label map, already
 *   nearest-resized to 513×513 by the loader, is nearest-resized again to the feature grid
 *   (65×65 for DeepLabv2 at 513) and the score is counted there.
 */
import { Rng } from '@sign/core';
import type { Normalization, Sample, TransformConfig } from './types';
import { resize } from './transforms/resize';
import { normalize, resizeLongSide, resizeTo } from './transforms/transforms';

/** The release's input normalisation: BGR, Caffe means, no scaling (`out = bgr − mean`). */
export const CAFFE_BGR_NORMALIZATION: Normalization = Object.freeze({ order: 'bgr', scale: 1, mean: [104.008, 116.669, 122.675], std: [1, 1, 1] }) as Normalization;

/** The release's base size: images are brought to 513 (both sides with `warp`, else the long side). */
export const RELEASE_BASE_SIZE = 513;
/** The release's training crop (`IMAGE.SIZE.TRAIN` of its configs). */
export const RELEASE_CROP = 368;
/** The crop of CaGNet's VOC self-training config (`configs_st_voc.yaml`; its Context and COCO-Stuff ones keep 368). */
export const RELEASE_VOC_SELF_TRAINING_CROP = 328;

/** Options of {@link releaseTrainPipeline}. */
export interface ReleaseTrainOptions {
  /** Square crop side. Default {@link RELEASE_CROP} (368). */
  crop?: number;
  /** Base size. Default 513. */
  base?: number;
  /** Resize to base×base (true, the release's configs) or the long side to base (false). Default true. */
  warp?: boolean;
  /** Random scale range. Default [0.5, 1.5]. */
  scale?: [number, number];
}

/**
 * The release's training preprocessing as a pipeline (data, for `data.train.pipeline`):
 * normalise first (BGR minus the Caffe means), resize to the base size, the scale–pad–crop step,
 * flip.
 *
 * @example
 * releaseTrainPipeline()            // crop 368
 * releaseTrainPipeline({ crop: 328 }) // VOC self-training
 * // [{ type: 'normalize' }, { type: 'resize', height: 513, width: 513 },
 * //  { type: 'randomScaleCrop', min: 0.5, max: 1.5, height: 368, width: 368 }, { type: 'flip' }]
 */
export function releaseTrainPipeline(opts: ReleaseTrainOptions = {}): TransformConfig[] {
  const crop = opts.crop ?? RELEASE_CROP;
  const base = opts.base ?? RELEASE_BASE_SIZE;
  const [min, max] = opts.scale ?? [0.5, 1.5];
  return [
    { type: 'normalize' },
    opts.warp === false ? { type: 'resize', longSide: base, rounding: 'floor' } : { type: 'resize', height: base, width: base },
    { type: 'randomScaleCrop', min, max, height: crop, width: crop },
    { type: 'flip' },
  ];
}

/**
 * The test pipeline the release's protocols start from: normalise only (test samples stay at
 * their own size with their own labels, for the standard protocol); {@link releaseEvalInput}
 * then makes the network input and the release's label map from each sample.
 */
export const RELEASE_TEST_PIPELINE: readonly TransformConfig[] = Object.freeze([{ type: 'normalize' }]) as readonly TransformConfig[];

/** The pipelines a preset of a paper dataset uses. */
export interface ReleasePipelines {
  /** Training (crop 368). */
  train: TransformConfig[];
  /** Self-training (crop 328 for VOC, 368 for PASCAL Context and COCO-Stuff, as CaGNet's configs). */
  selfTraining: TransformConfig[];
  /** Testing: normalise only; the protocol functions do the rest. */
  test: TransformConfig[];
}

/** The release's pipelines with the given self-training crop. */
export function releasePipelines(selfTrainingCrop: number): ReleasePipelines {
  return { train: releaseTrainPipeline(), selfTraining: releaseTrainPipeline({ crop: selfTrainingCrop }), test: [...RELEASE_TEST_PIPELINE] };
}

/** Options of {@link releaseEvalInput}. */
export interface ReleaseEvalOptions {
  /** Base size. Default 513. */
  size?: number;
  /** Resize to size×size (true: the release's configs) or the long side to size, the other `⌊size·short/long⌋` (false). Default true. */
  warp?: boolean;
  /** Applied first when the sample is not normalised yet (uint8). Default: none (a uint8 sample is an error). */
  normalization?: Normalization;
}

/**
 * The network input of the release's test path for one test sample: the normalised image
 * (BGR minus the means; a data module's test samples already are) resized bilinearly to
 * 513×513 (`warp`, the release's configs) or its long side to 513, and the label map resized
 * the same way by nearest neighbour, as the release's loader returns them. Both protocols run the
 * network on this input; the release's scores the argmax against
 * `labelsToGrid(input.label, …)`, the standard one upsamples the logits to the original sample's
 * size and scores against `sample.label`.
 *
 * Shapes: `sample.image [H, W, C]` → `image [S, S, C]` float32, `label [S, S]` (S = 513 with warp).
 *
 * @example
 * for await (const sample of dm.testSamples()) {
 *   const input = releaseEvalInput(sample);                    // 513×513
 *   const [gh, gw] = backbone.outputShape(input.height, input.width); // 65×65 for DeepLabv2
 *   const target = labelsToGrid(input.label, input.height, input.width, gh, gw);
 * }
 */
export function releaseEvalInput(sample: Sample, opts: ReleaseEvalOptions = {}): Sample {
  const size = opts.size ?? RELEASE_BASE_SIZE;
  let s = sample;
  if (s.image instanceof Uint8Array) {
    if (!opts.normalization)
      throw new Error(
        `releaseEvalInput: sample '${s.id}' is not normalised (uint8); the release subtracts the means before resizing: pass a data module's test sample, or give { normalization } (e.g. CAFFE_BGR_NORMALIZATION)`,
      );
    s = normalize(opts.normalization)(s, new Rng(0)); // deterministic: draws nothing
  }
  const t = opts.warp === false ? resizeLongSide(size, 'floor') : resizeTo(size, size);
  return t(s, new Rng(0));
}

/**
 * A label map `[height, width]` resized to the feature grid `[gridHeight, gridWidth]` by nearest
 * neighbour exactly as OpenCV's `cv2.resize(label, (gridWidth, gridHeight),
 * interpolation=INTER_NEAREST)` (source index `⌊dst·src/dstSize⌋`), which the release's
 * `resize_target` does before scoring. The grid is the backbone's output size for the network
 * input (`backbone.outputShape(height, width)`: 65×65 for DeepLabv2-ResNet101 at 513×513,
 * because of its ceil-mode pooling, not ⌊513/8⌋). Ignore pixels stay ignore; values are
 * copied, never mixed.
 *
 * @example
 * const target = labelsToGrid(input.label, 513, 513, 65, 65); // Uint8Array [65·65]
 */
export function labelsToGrid(label: Uint8Array, height: number, width: number, gridHeight: number, gridWidth: number): Uint8Array {
  if (!(label instanceof Uint8Array)) throw new Error('labelsToGrid: label must be a Uint8Array of class ids');
  return resize(label, height, width, 1, gridHeight, gridWidth, 'nearest');
}
