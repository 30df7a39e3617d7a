/**
 * Inference from a checkpoint: the trained model with its classes and its dataset's metadata
 * (channels, normalisation), predicting label maps and class probabilities at image resolution.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DatasetMeta } from '@sign/datasets';
import { readModel } from './checkpoint';
import type { ExperimentConfig } from './config/schema';

/** Images for {@link TrainedModel.predict}: normalised like the training data, [N, H, W, C] row-major. */
export interface ImageBatch {
  images: Float32Array;
  n: number;
  height: number;
  width: number;
  /** default: the model's channels */
  channels?: number;
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
  /**
   * images [N, H, W, C] (normalised as the dataset's test samples are; any H, W) → labels [N·H·W]
   * (class ids) and probs [N·H·W·K] at image resolution; `calibrate` (default: the config's) is
   * subtracted from the logits of every class that is not unseen. Reads back asynchronously.
   */
  predict(images: tf.Tensor4D | ImageBatch, opts?: { calibrate?: number }): Promise<{ labels: Int32Array; probs: Float32Array }>;
  dispose(): void;
}

/**
 * Loads a trained model from a trainer checkpoint (the backend must already be initialised).
 *
 * @example
 * const m = await loadModel('runs/demo/checkpoints/last.safetensors');
 * const { labels } = await m.predict({ images, n: 1, height: 64, width: 64 }); // labels [64·64]
 * m.dispose();
 */
export async function loadModel(checkpointPath: string): Promise<TrainedModel> {
  const { model, meta } = await readModel(checkpointPath);
  const config = meta.config;
  return {
    config,
    dataset: meta.dataset,
    classNames: model.classes.classNames,
    seen: model.classes.seen,
    unseen: model.classes.unseen,
    background: model.classes.background,
    async predict(images, opts = {}) {
      const calibrate = opts.calibrate ?? config.eval.calibrate;
      const probsT = tf.tidy(() => {
        const x =
          images instanceof tf.Tensor
            ? images
            : tf.tensor4d(images.images, [images.n, images.height, images.width, images.channels ?? model.channels]);
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
    },
    dispose() {
      model.dispose();
    },
  };
}
