import type * as tf from '@tensorflow/tfjs-core';
import type { Module, Rng } from '@sign/core';

/**
 * Which spatial information module produces the latent code a generator consumes:
 * `'relative'` (SIGN), `'absolute'` (SIGN's ablation), `'none'` (CaGNet's contextual module,
 * no positional encoding). Mirrors `PositionalKind` of `@sign/sim` without depending on it.
 */
export type LatentSource = 'relative' | 'absolute' | 'none';

/** Per-pixel input of a generator (pixels flattened to rows). */
export interface GeneratorInput {
  /** class embedding of every pixel, [P, E] */
  embeddings: tf.Tensor2D;
  /** latent code of every pixel, [P, Z]; required when `needsLatent` */
  latent?: tf.Tensor2D;
}

/** Options of {@link Generator.generate}. */
export interface GenerateOptions {
  /** dropout (and anything else train-only) is active when true */
  training: boolean;
  /** randomness for dropout and for generators that draw their own noise */
  rng: Rng;
}

/**
 * A feature generator: maps per-pixel class embeddings (and, for SIGN/CaGNet, latent codes)
 * to fake features [P, featureDim]. Implementations are {@link Module}s, so the trainer
 * optimises `trainableVariables()` and checkpoints `stateDict()` without knowing the class.
 */
export interface Generator extends Module {
  /** the registry name it was created under */
  readonly name: string;
  /** whether `generate` needs `input.latent` */
  readonly needsLatent: boolean;
  /** width Z of the latent code it takes (0 when `needsLatent` is false) */
  readonly latentDim: number;
  readonly embeddingDim: number;
  readonly featureDim: number;
  /**
   * The SIM variant whose latent code this generator is trained with (undefined when it takes
   * no latent code). The trainer builds its `SpatialInformationModule` with
   * `positional: generator.latentSource`.
   */
  readonly latentSource?: LatentSource;
  /** @returns fake features [P, featureDim] */
  generate(input: GeneratorInput, opts: GenerateOptions): tf.Tensor2D;
}

/** Configuration every factory accepts; factories may read more fields. */
export interface GeneratorConfig {
  /** E: width of the class embeddings */
  embeddingDim: number;
  /** D: width of the generated features */
  featureDim: number;
  /** Z: width of the latent code (defaults to featureDim for SIGN/CaGNet: z has D channels) */
  latentDim?: number;
  /** hidden widths of the MLP */
  hidden?: number[];
  /** dropout rate after each hidden layer (same length as hidden) */
  dropout?: number[];
  /** slope of the LeakyReLU after hidden layers; default 0.2 */
  leakySlope?: number;
  /** override of the SIM variant (SIGN defaults to 'relative', CaGNet to 'none') */
  latentSource?: LatentSource;
}

/** A factory the registry stores. */
export type GeneratorFactory = (rng: Rng, cfg: GeneratorConfig) => Generator;
