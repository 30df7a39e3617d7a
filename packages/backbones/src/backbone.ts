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
}

/** Builds a backbone from a seeded generator and an architecture-specific config. */
export type BackboneFactory<C = Record<string, unknown>> = (rng: Rng, cfg?: C) => Backbone;
