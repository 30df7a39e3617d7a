/**
 * Inference from a checkpoint: the trained model with its classes and its dataset's metadata
 * (channels, normalisation), predicting label maps and class probabilities at image resolution.
 * From bytes here (browser-safe: `loadModelFromBytes`); from a file: `loadModel` of
 * `@sign/trainer/node`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, decodeSafetensors, type LoadCheckpointOptions } from '@sign/core';
import { buildPipeline, releaseEvalInput, resize, type DatasetMeta, type DecodedImage, type TransformConfig } from '@sign/datasets';
import type { GzsModel } from '@sign/recipes';
import { modelFromCheckpoint, type CheckpointMeta } from './checkpoint';
import type { ExperimentConfig } from './config/schema';

/** A class added to a trained model by name (`addClass`), as its checkpoint records it (`added`). */
export interface AddedClass {
  name: string;
  /** Class id in the model that has it. */
  id: number;
  /** Where the embedding came from (free text: 'glove', a file, 'random control', …). */
  source: string;
  /** Classifier retraining: what was retrained, steps and generated pixels per step, the seed. */
  train: 'head' | 'new-class' | 'classifier';
  steps: number;
  pixels: number;
  seed: number;
  seconds: number;
}

/** Images for {@link TrainedModel.predict}: normalised like the training data, [N, H, W, C] row-major. */
export interface ImageBatch {
  images: Float32Array;
  n: number;
  height: number;
  width: number;
  /** default: the model's channels */
  channels?: number;
}

/** What {@link TrainedModel.predictImage} gives: class ids at the image's size and on the feature grid. */
export interface PredictedImage {
  /** [height·width] class ids at the image's own size */
  labels: Uint8Array;
  width: number;
  height: number;
  /** The argmax of C on the feature grid (the backbone's output for the model input): [height·width] */
  grid: { labels: Uint8Array; width: number; height: number };
}

export interface TrainedModel {
  config: ExperimentConfig;
  /** The metadata of the dataset it was trained on (channels, normalisation, class names, …). */
  dataset: DatasetMeta;
  /** All class names, index = class id. */
  classNames: string[];
  seen: number[];
  unseen: number[];
  background: number | null;
  /** The network (E, SIM, G, D/C and M), owned by this object: disposed by {@link TrainedModel.dispose}. */
  net: GzsModel;
  /** Classes added after training (`addClass`), in order; empty for a model as trained. */
  added: AddedClass[];
  /**
   * images [N, H, W, C] (normalised as the dataset's test samples are; any H, W) → labels [N·H·W]
   * (class ids) and probs [N·H·W·K] at image resolution; `calibrate` (default: the config's) is
   * subtracted from the logits of every class that is not unseen. Reads back asynchronously.
   */
  predict(images: tf.Tensor4D | ImageBatch, opts?: { calibrate?: number }): Promise<{ labels: Int32Array; probs: Float32Array }>;
  /**
   * One decoded image (8-bit, grey or RGB, any size; e.g. `nodeIo.decodeImage(path)`) as the
   * dataset's test images were read: converted to the dataset's channels, through its test
   * pipeline (`data.test.pipeline`, normalisation last), and with `eval.protocol: 'release'`
   * warped to `eval.inputSize`² as the release's test loader does → labels [H·W] at the image's
   * own size (standard: logits to the pipeline's size, nearest to the image's when it resized;
   * release: logits from the feature grid to the image's size) and the argmax on the feature
   * grid (`grid`, the release's protocol). One network run.
   */
  predictImage(image: DecodedImage, opts?: { calibrate?: number }): Promise<PredictedImage>;
  /**
   * One decoded image (8-bit, grey or RGB, any size) as the model's input: converted to the
   * dataset's channels, scaled by its `inputScale` (1/255 for fashion-scenes) and through its
   * test pipeline → normalised pixels [height, width, channels] (the pipeline's size).
   */
  prepare(image: DecodedImage): { images: Float32Array; height: number; width: number; channels: number };
  dispose(): void;
}

/**
 * 8-bit pixels [H, W, from] to `to` channels: grey replicated to RGB, or RGB to grey with Rec. 601
 * weights, rounded.
 *
 * @example
 * toChannels(Uint8Array.from([7]), 1, 3) // [7, 7, 7]
 */
export function toChannels(data: Uint8Array, from: 1 | 3, to: 1 | 3): Uint8Array {
  if (from === to) return data;
  const px = data.length / from;
  const out = new Uint8Array(px * to);
  for (let i = 0; i < px; i++) {
    if (to === 3) out.fill(data[i], 3 * i, 3 * i + 3);
    else out[i] = Math.round(0.299 * data[3 * i] + 0.587 * data[3 * i + 1] + 0.114 * data[3 * i + 2]);
  }
  return out;
}

/**
 * Loads a trained model from the bytes of a trainer checkpoint (`.safetensors`, e.g. fetched by a
 * web page or read from an `<input type="file">`); the backend must already be initialised. The
 * bytes are checked as `loadCheckpoint` checks a file (`opts.requireFinite` refuses NaN/±Inf);
 * errors name `opts.source` (default `'<memory>'`).
 *
 * @example
 * const bytes = await (await fetch('demo.safetensors')).arrayBuffer();
 * const m = await loadModelFromBytes(bytes, { source: 'demo.safetensors' });
 * const { labels } = await m.predictImage({ data: rgb, width: 64, height: 64, channels: 3 }); // labels [64·64]
 * m.dispose();
 */
export async function loadModelFromBytes(
  bytes: ArrayBuffer | Uint8Array,
  opts: LoadCheckpointOptions & { source?: string } = {},
): Promise<TrainedModel> {
  const source = opts.source ?? '<memory>';
  const decoded = await decodeSafetensors(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), source, opts);
  try {
    const { model, meta } = await modelFromCheckpoint(decoded, source);
    return trainedModel(model, meta);
  } finally {
    tf.dispose(Object.values(decoded.tensors));
  }
}

/**
 * Wraps a rebuilt model (`modelFromCheckpoint`) as a {@link TrainedModel}; the TrainedModel owns
 * it (its `dispose` disposes the model).
 *
 * @example
 * const { model, meta } = await modelFromCheckpoint(decoded, 'demo.safetensors');
 * const trained = trainedModel(model, meta);
 */
export function trainedModel(model: GzsModel, meta: Pick<CheckpointMeta, 'config' | 'dataset'> & { added?: unknown }): TrainedModel {
  const config = meta.config;
  const dataset = meta.dataset;
  const predict: TrainedModel['predict'] = async (images, opts = {}) => {
    const calibrate = opts.calibrate ?? config.eval.calibrate;
    const probsT = tf.tidy(() => {
      const x =
        images instanceof tf.Tensor ? images : tf.tensor4d(images.images, [images.n, images.height, images.width, images.channels ?? model.channels]);
      if (x.rank !== 4 || x.shape[3] !== model.channels)
        throw new Error(`predict: expected images [N, H, W, ${model.channels}], got [${x.shape.join(', ')}]`);
      return tf.softmax(model.predictLogits(x as tf.Tensor4D, calibrate));
    });
    const labelsT = tf.argMax(probsT, 3);
    try {
      const [l, p] = await Promise.all([labelsT.data(), probsT.data()]);
      return { labels: Int32Array.from(l), probs: p as Float32Array };
    } finally {
      tf.dispose([probsT, labelsT]);
    }
  };
  const test = (config.data as { test?: { pipeline: TransformConfig[] } }).test?.pipeline ?? [];
  const testPipeline = buildPipeline(test, { normalization: dataset.normalization, ignoreIndex: dataset.ignoreIndex });
  const inputScale = dataset.inputScale ?? 1;
  /** 8-bit pixels in the dataset's channels, scaled to its samples' units (`inputScale`). */
  const scaled = (image: DecodedImage): Uint8Array | Float32Array => {
    const pixels = toChannels(image.data, image.channels, dataset.channels);
    return inputScale === 1 ? pixels : Float32Array.from(pixels, (v) => v * inputScale);
  };
  /** The image through the dataset's test pipeline (an unlabelled sample). */
  const testSample = (image: Parameters<TrainedModel['prepare']>[0]) =>
    testPipeline(
      {
        id: 'image',
        height: image.height,
        width: image.width,
        channels: dataset.channels,
        image: scaled(image),
        label: new Uint8Array(image.height * image.width),
      },
      new Rng(0),
    );
  const prepare: TrainedModel['prepare'] = (image) => {
    const t = testSample(image);
    return { images: t.image as Float32Array, height: t.height, width: t.width, channels: dataset.channels };
  };
  return {
    config,
    dataset,
    classNames: model.classes.classNames,
    seen: model.classes.seen,
    unseen: model.classes.unseen,
    background: model.classes.background,
    net: model,
    added: Array.isArray(meta.added) ? [...(meta.added as AddedClass[])] : [],
    predict,
    prepare,
    async predictImage(image, opts = {}) {
      const channels = dataset.channels;
      const calibrate = opts.calibrate ?? config.eval.calibrate;
      let t = testSample(image);
      const release = config.eval.protocol === 'release';
      if (release) t = releaseEvalInput(t, { size: config.eval.inputSize, normalization: dataset.normalization });
      const grid = tf.tidy(() => model.gridLogits(tf.tensor4d(t.image as Float32Array, [1, t.height, t.width, channels]), calibrate));
      const [gh, gw] = [grid.shape[1], grid.shape[2]];
      // release: logits from the grid to the image's size; standard: to the model input's size
      const [th, tw] = release ? [image.height, image.width] : [t.height, t.width];
      const [gridLabels, labels] = tf.tidy(() => [tf.argMax(grid, 3), tf.argMax(tf.image.resizeBilinear(grid, [th, tw], true), 3)]);
      try {
        const [g, l] = await Promise.all([gridLabels.data(), labels.data()]);
        const small = Uint8Array.from(l);
        const same = th === image.height && tw === image.width;
        return {
          labels: same ? small : resize(small, th, tw, 1, image.height, image.width, 'nearest'),
          width: image.width,
          height: image.height,
          grid: { labels: Uint8Array.from(g), width: gw, height: gh },
        };
      } finally {
        tf.dispose([grid, gridLabels, labels]);
      }
    },
    dispose() {
      model.dispose();
    },
  };
}
