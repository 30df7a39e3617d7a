import * as tf from '@tensorflow/tfjs-core';
import { dropout, leakyRelu, Linear, Module, type Rng } from '@sign/core';
import type { GenerateOptions, Generator, GeneratorConfig, GeneratorInput, LatentSource } from './types';
import { checkBaseConfig, checkInput, checkPositiveInt, checkRate } from './validate';

/** Hidden widths of SIGN's generator in the paper (METHOD §2). */
export const PAPER_GENERATOR_HIDDEN: readonly number[] = [1024, 960, 864, 784, 720];
/** Dropout rates after those hidden layers (METHOD §2). */
export const PAPER_GENERATOR_DROPOUT: readonly number[] = [0.1, 0.1, 0.3, 0.5, 0.5];

/**
 * The latent-conditioned per-pixel MLP of SIGN and CaGNet (METHOD §2 G):
 * `concat(w_label, z)` (E + Z) → hidden[0] → … → hidden[k-1] → featureDim, LeakyReLU(0.2)
 * and dropout after every hidden layer, sigmoid at the end. A 1×1 conv over a feature map is
 * the same map as a Linear layer over its pixels, so it works on [P, ·] rows.
 *
 * Parameters: `layer1.kernel`, `layer1.bias`, …, `out.kernel`, `out.bias`.
 */
export class LatentMlpGenerator extends Module implements Generator {
  readonly name: string;
  readonly needsLatent = true;
  readonly latentDim: number;
  readonly embeddingDim: number;
  readonly featureDim: number;
  readonly latentSource: LatentSource;
  readonly hidden: readonly number[];
  readonly dropoutRates: readonly number[];
  readonly leakySlope: number;
  private readonly layers: Linear[] = [];
  private readonly out: Linear;

  constructor(rng: Rng, cfg: GeneratorConfig, opts: { name: string; latentSource: LatentSource }) {
    super();
    const where = `generator '${opts.name}'`;
    checkBaseConfig(where, cfg);
    this.name = opts.name;
    this.embeddingDim = cfg.embeddingDim;
    this.featureDim = cfg.featureDim;
    this.latentDim = checkPositiveInt(where, 'latentDim', cfg.latentDim ?? cfg.featureDim);
    this.latentSource = cfg.latentSource ?? opts.latentSource;
    const hidden = cfg.hidden ?? [...PAPER_GENERATOR_HIDDEN];
    const rates =
      cfg.dropout ?? (cfg.hidden ? hidden.map((_, i) => PAPER_GENERATOR_DROPOUT[i] ?? 0.5) : [...PAPER_GENERATOR_DROPOUT]);
    if (!Array.isArray(hidden)) throw new Error(`@sign/generator ${where}: hidden must be an array of widths`);
    hidden.forEach((h, i) => checkPositiveInt(where, `hidden[${i}]`, h));
    if (!Array.isArray(rates) || rates.length !== hidden.length) {
      throw new Error(
        `@sign/generator ${where}: dropout must have one rate per hidden layer (${hidden.length}), got ${JSON.stringify(rates)}`,
      );
    }
    rates.forEach((r, i) => checkRate(where, `dropout[${i}]`, r));
    this.hidden = [...hidden];
    this.dropoutRates = [...rates];
    this.leakySlope = cfg.leakySlope ?? 0.2;
    let d = this.embeddingDim + this.latentDim;
    hidden.forEach((h, i) => {
      const name = `layer${i + 1}`;
      this.layers.push(this.child(name, new Linear(rng.fork(name), { inFeatures: d, outFeatures: h })));
      d = h;
    });
    this.out = this.child('out', new Linear(rng.fork('out'), { inFeatures: d, outFeatures: this.featureDim }));
  }

  /**
   * @param input embeddings [P, E], latent [P, Z]
   * @returns features [P, featureDim] in (0, 1)
   * @example
   * const g = createGenerator('sign', new Rng(0), { embeddingDim: 8, featureDim: 8, hidden: [16] });
   * const f = g.generate({ embeddings: w, latent: z }, { training: true, rng: new Rng(1) });
   */
  generate(input: GeneratorInput, opts: GenerateOptions): tf.Tensor2D {
    checkInput(`'${this.name}'`, input, this.embeddingDim, this.latentDim);
    return tf.tidy(() => {
      let x = tf.concat([input.embeddings, input.latent as tf.Tensor2D], 1) as tf.Tensor2D;
      this.layers.forEach((layer, i) => {
        x = leakyRelu(layer.apply(x), this.leakySlope);
        x = dropout(x, this.dropoutRates[i], opts.rng, opts.training) as tf.Tensor2D;
      });
      return tf.sigmoid(this.out.apply(x));
    });
  }
}
