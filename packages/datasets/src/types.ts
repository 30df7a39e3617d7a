/**
 * The dataset contract (issue "Any dataset, faithful recipes", item 1). A dataset type is a
 * plug-in: one folder under `src/<name>/` exporting a {@link DatasetDefinition}, plus one line in
 * `src/registry.ts` (or `datasets.register(...)` from outside). The trainer only sees
 * {@link DatasetMeta}, training {@link Batch}es and test {@link Sample}s through a
 * {@link DataModule}; it never names a dataset.
 *
 * Conventions: images are HWC interleaved, row-major; label maps are [H, W] uint8 class ids with
 * `meta.ignoreIndex` (255) for pixels to ignore; every error names the file, key or class.
 */
import type { Rng } from '@sign/core';
import type { EmbeddingTable } from '@sign/embeddings';
import type { z } from 'zod';
import type { DatasetIo } from './io';
import type { TransformConfig } from './transforms/pipeline';

export type { TransformConfig } from './transforms/pipeline';

/** The label value of pixels to ignore (unlabelled, or unseen classes in training). */
export const IGNORE_INDEX = 255;

/**
 * How raw pixels become model input, applied by the `normalize` transform:
 * `out[c] = (in[order[c]] · scale − mean[c]) / std[c]`.
 */
export interface Normalization {
  /** Channel order the model sees: 'rgb', 'bgr' (the release's Caffe-converted models) or 'grey'. */
  order: 'rgb' | 'bgr' | 'grey';
  /** Multiplies the decoded value first (1/255 for 0..1 inputs; 1 for the Caffe convention). */
  scale: number;
  /** Per channel (after `scale`), length = channels. */
  mean: number[];
  /** Per channel, length = channels; all > 0. */
  std: number[];
}

/** What a model and the metrics need to know about a dataset (serialised into checkpoints). */
export interface DatasetMeta {
  /** Registry name of the dataset type ('folder', 'fashion-scenes', …). */
  type: string;
  /** Class names in id order (index = class id). At most 255 classes (255 is the ignore index). */
  classNames: string[];
  /** Id of the background class, or null when every class is an object class. */
  background: number | null;
  /** Label value of ignored pixels (255). */
  ignoreIndex: number;
  /** Channels of the images the model sees: 1 (grey) or 3 (colour). */
  channels: 1 | 3;
  normalization: Normalization;
  /**
   * What decoded 8-bit pixels are multiplied by to be in the units of the dataset's own samples,
   * before `normalization` (default 1: samples are decoded 8-bit images). A generated dataset
   * whose samples are 0..1 floats (fashion-scenes) says 1/255, so that a photo or a canvas given
   * to a trained model (`segment`, `predictImage`) reaches it as its training images did.
   */
  inputScale?: number;
  /** Names of the splits on disk / generated, e.g. ['train', 'val']. */
  splits: string[];
  /** Named unseen-class sets the dataset knows (e.g. VOC: 'cagnet' → 5 classes, 'zs3net-4' → 4). */
  unseenSplits?: Record<string, string[]>;
}

/** One image and its label map at the image's own size. */
export interface Sample {
  /** File stem or generated index, for messages and output names. */
  id: string;
  height: number;
  width: number;
  channels: 1 | 3;
  /** [H, W, C]: uint8 0..255 as decoded; Float32Array once normalised (or as generated). */
  image: Uint8Array | Float32Array;
  /** [H, W] class ids, `ignoreIndex` = ignore. */
  label: Uint8Array;
}

/** One split of a dataset: random access, asynchronous (a file may be read on each call). */
export interface DatasetSplit {
  readonly name: string;
  readonly size: number;
  /** The sample at `index` (0 ≤ index < size), decoded and checked; errors name the file. */
  get(index: number): Promise<Sample>;
}

/** An opened dataset: its metadata and splits (files listed and checked when it was opened). */
export interface Dataset {
  readonly meta: DatasetMeta;
  /** The split called `name`; an unknown name throws listing the known ones. */
  split(name: string): DatasetSplit;
  /**
   * The class embeddings the dataset brings (e.g. `DIR/embeddings.json` of a folder dataset, the
   * fashion-scenes tables), one row per class of `meta.classNames`, or null when it has none.
   */
  embeddings(): Promise<EmbeddingTable | null>;
  /**
   * A full check of every sample (decoding every file where the dataset reads files), throwing
   * one error that names each bad file. `open` already checks what it can cheaply; this is the
   * pass a CLI runs before training when `open` did not do it. Optional: generated datasets,
   * whose samples cannot be bad, leave it out.
   */
  validate?(): Promise<void>;
}

/** What {@link DatasetDefinition.open} gets besides the config. */
export interface OpenContext {
  /** File access and decoding (`nodeIo` from `@sign/datasets/node` in Node). */
  io: DatasetIo;
  /** The experiment seed, for datasets generated from it (fashion-scenes). */
  seed: number;
}

/**
 * A dataset type: the schema of its own config keys and how to open it. `open` checks
 * everything it can before returning (listing, pairing, sizes, label values where cheap) so that
 * bad input fails before any training, naming the file or class.
 */
export interface DatasetDefinition<C extends DataConfig = DataConfig> {
  /** Registry name, equal to the config's `data.type`. */
  readonly type: string;
  /** One line for `--help` and docs. */
  readonly description: string;
  /**
   * The zod schema of the dataset's own keys (e.g. `root` for 'folder'). The data-config schema
   * adds the common keys of {@link DataConfig} and `type: <this type>`, makes the object strict
   * (unknown keys are errors with "did you mean") and puts it into the discriminated union on
   * `type` over the registered datasets, so types, validation and the JSON schema come from one
   * place.
   */
  readonly schema: z.ZodObject;
  /** Opens the dataset described by a validated config (common keys included). */
  open(config: C, context: OpenContext): Promise<Dataset>;
  /**
   * The named unseen-class sets for a config of this type (the same as the opened dataset's
   * `meta.unseenSplits`), known without opening anything, so that `data.unseenSplit` resolves
   * when the config is validated. Optional: a type without named sets leaves it out.
   */
  unseenSplits?(config: C): Record<string, string[]>;
  /**
   * The dataset's metadata (classes, background, channels, normalisation) known without opening
   * anything, `splits` empty: what a model needs to run on single images when the data is not at
   * hand (e.g. `sign predict` with a SIGN release checkpoint, which records no classes).
   * Optional: a type whose classes come from its files leaves it out.
   */
  meta?(config: C): DatasetMeta;
}

/**
 * The `data` section of an experiment config: the keys every dataset shares, plus the
 * dataset's own (validated by its definition). Discriminated on `type`.
 */
export interface DataConfig {
  /** Registry name of the dataset type. */
  type: string;
  /**
   * Unseen class names (their pixels become ignore in training). Filled by `validateDataConfig`
   * from `unseenSplit` when the config names a set instead.
   */
  unseen: string[];
  /** A named set of unseen classes of the dataset (`DatasetMeta.unseenSplits`, e.g. 'cagnet', 'zs3net-4'). */
  unseenSplit?: string;
  /** Split names to train and test on (defaults: the dataset's 'train' and its test split). */
  trainSplit?: string;
  testSplit?: string;
  /** Training augmentation (applied per sample, then batched); test images are only normalised unless `test.pipeline` says more. */
  train?: { pipeline: TransformConfig[] };
  test?: { pipeline: TransformConfig[] };
  /** Augmentation of the self-training stage's batches (`trainBatch(n, rng, { stage: 'self-training' })`); default: `train`'s. */
  selfTraining?: { pipeline: TransformConfig[] };
  /** Class embeddings: a file (JSON table or `sign embed` output); default: what the dataset brings. */
  embeddingsFile?: string;
  /** Control: replace the unseen rows of M by random unit vectors, or permute them among the unseen classes. */
  control?: 'none' | 'random' | 'permuted';
  controlSeed?: number;
  /** Upper bound: unseen classes stay labelled in training (metrics still split seen/unseen). */
  supervised?: boolean;
  /**
   * Classes absent altogether (e.g. to add one by name after training): removed from the class
   * list (the ids after them move down), their pixels ignored in training and testing.
   */
  exclude?: string[];
  /** Dataset-specific keys (e.g. `root` for 'folder'). */
  [key: string]: unknown;
}

/** A training batch on the host, every image cropped/padded to the same size. */
export interface Batch {
  /** [n, H, W, C] normalised float32. */
  images: Float32Array;
  /** [n, H, W] class ids at image resolution; unseen classes already ignore (unless supervised). */
  labels: Uint8Array;
  n: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Sample ids, for messages. */
  ids: string[];
}

/**
 * What the trainer consumes: class split, embeddings, training batches and test images. Built by
 * `createDataModule(dataConfig, …)` from the registry; all of it deterministic in the rng given.
 */
export interface DataModule {
  readonly meta: DatasetMeta;
  /** Seen class ids (background included where the dataset has one: it is trained as seen). */
  readonly seen: number[];
  /** Unseen class ids, ascending. */
  readonly unseen: number[];
  /** M: one row per class id (controls applied). */
  readonly embeddings: EmbeddingTable;
  /** Number of training samples (before augmentation). */
  readonly trainSize: number;
  /** Number of test samples. */
  readonly testSize: number;
  /**
   * A training batch of `batchSize` samples drawn with `rng` (same rng → same batch: resume is
   * bit-identical), augmented by the train pipeline (with `stage: 'self-training'`, by the
   * `selfTraining` pipeline when the config has one), unseen labels set to ignore.
   */
  trainBatch(batchSize: number, rng: Rng, opts?: { stage?: 'train' | 'self-training' }): Promise<Batch>;
  /** Test samples one at a time at full size, normalised, labels intact. */
  testSamples(): AsyncIterable<Sample>;
  /** Releases caches and open handles. */
  dispose(): void;
}
