import type * as tf from '@tensorflow/tfjs-core';
import type { Module, Rng } from '@sign/core';

/** Options of {@link Backbone.apply}. */
export interface BackboneApplyOptions {
  /** Training mode (dropout, batch statistics, … where a backbone has them). */
  training: boolean;
  /** Source of randomness for training-time stochastic layers. */
  rng: Rng;
}

/**
 * How the images a model gets were normalised: @sign/datasets' `normalize` transform,
 * `(pixel[src(c)]·scale − mean[c]) / std[c]` of a decoded RGB pixel, `src(c) = 2 − c` for 'bgr'
 * (structurally the same as its `Normalization`).
 */
export interface InputNormalization {
  order: 'rgb' | 'bgr' | 'grey';
  scale: number;
  mean: readonly number[];
  std: readonly number[];
}

/** The input pretrained weights were trained on: torchvision's (RGB, ImageNet mean/std) or Caffe's (BGR minus the mean pixel). */
export type PretrainedWeightsInput = 'torchvision' | 'caffe';

/** Options of {@link Backbone.loadPretrained}. */
export interface PretrainedOptions {
  /** Names the weights in messages (their file). */
  source?: string;
  /** How the model's images are normalised: the first conv is rewritten when the weights saw another input. Omitted: no rewriting. */
  input?: InputNormalization;
  /** The input the weights were trained on, when it is not the usual one of their naming. */
  weightsInput?: PretrainedWeightsInput;
}

/** What {@link Backbone.loadPretrained} did. */
export interface PretrainedReport {
  /** The naming found in the keys (e.g. 'torchvision', 'deeplab-pytorch'). */
  naming: string;
  /** What the keys start with ('', 'scale.', 'Scale.', …). */
  prefix: string;
  /** The input the weights were taken to be trained on. */
  weightsInput: PretrainedWeightsInput;
  /** Whether the first conv was rewritten for `opts.input`. */
  adapted: boolean;
  /** Tensors loaded. */
  loaded: number;
  /** Keys of the file that were left out: heads (e.g. an ImageNet classifier) and BatchNorm counters. */
  ignored: string[];
  /** Parameters with no pretrained counterpart, left as initialised (e.g. DeepLab's ASPP). */
  initialised: string[];
}

/**
 * E of METHOD §2: maps images to a feature map.
 *
 * `apply(images [N,H,W,C]) → [N, H', W', D]` with `D = outputChannels` and
 * `[H', W'] = outputShape(H, W)`, about `⌈H/s⌉ × ⌈W/s⌉` for `s = outputStride` (exactly that for
 * `'small'`; DeepLabv2's ceil-mode pool gives 65 for both 512 and 513). Implementations are `Module`s, so their parameters have stable dotted
 * paths (`namedParameters()`), can be frozen (`setTrainable(false)`) and saved (`stateDict()`).
 */
export interface Backbone extends Module {
  /** Registry name of the architecture, e.g. `'small'`. */
  readonly name: string;
  /** Channels of the input images C. */
  readonly inputChannels: number;
  /** D, the channels of the feature map. */
  readonly outputChannels: number;
  /** s, the ratio of input to output resolution. */
  readonly outputStride: number;
  /** [H', W'], the feature-map size `apply` gives for an `height × width` image. */
  outputShape(height: number, width: number): [number, number];
  apply(images: tf.Tensor4D, opts: BackboneApplyOptions): tf.Tensor4D;
  /**
   * Optional: loads pretrained weights (PyTorch tensors, keyed as in their file) into the backbone
   * before training; parameters without a pretrained counterpart keep their initialisation.
   * Throws, naming the source and the keys, when it cannot place the weights (nothing written).
   * The trainer calls it for `model.backbone.pretrained`.
   */
  loadPretrained?(weights: Record<string, tf.Tensor>, opts?: PretrainedOptions): PretrainedReport;
}

/** Builds a backbone from a seeded generator and an architecture-specific config. */
export type BackboneFactory<C = Record<string, unknown>> = (rng: Rng, cfg?: C) => Backbone;
