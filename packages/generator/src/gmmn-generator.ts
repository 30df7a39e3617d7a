import * as tf from '@tensorflow/tfjs-core';
import { dropout, leakyRelu, Linear, Module, randomUniform, type Rng } from '@sign/core';
import type { GenerateOptions, Generator, GeneratorConfig, GeneratorInput } from './types';
import { checkBaseConfig, checkInput, checkPositiveInt, checkRate } from './validate';

/** Extra configuration of the GMMN generator. */
export interface GmmnGeneratorConfig extends GeneratorConfig {
  /** width of the U(0,1) noise; default embeddingDim (ZS3Net) */
  noiseDim?: number;
}

/**
 * ZS3Net's generative moment-matching network (METHOD §6): `concat(w_c, u)` with
 * u ~ U(0, 1) of the embedding's width → Linear hidden (256) → LeakyReLU(0.2) → dropout 0.5 →
 * Linear featureDim, no output activation. It draws its own noise and takes no latent code.
 *
 * Parameters: `layer1.kernel`, `layer1.bias`, `out.kernel`, `out.bias`.
 */
export class GmmnGenerator extends Module implements Generator {
  readonly name: string;
  readonly needsLatent = false;
  readonly latentDim = 0;
  readonly embeddingDim: number;
  readonly featureDim: number;
  readonly noiseDim: number;
  readonly hiddenDim: number;
  readonly dropoutRate: number;
  readonly leakySlope: number;
  private readonly layer1: Linear;
  private readonly out: Linear;

  constructor(rng: Rng, cfg: GmmnGeneratorConfig, name = 'gmmn') {
    super();
    const where = `generator '${name}'`;
    checkBaseConfig(where, cfg);
    this.name = name;
    this.embeddingDim = cfg.embeddingDim;
    this.featureDim = cfg.featureDim;
    this.noiseDim = checkPositiveInt(where, 'noiseDim', cfg.noiseDim ?? cfg.embeddingDim);
    if (cfg.hidden && cfg.hidden.length !== 1) {
      throw new Error(`@sign/generator ${where}: hidden must hold exactly one width, got ${JSON.stringify(cfg.hidden)}`);
    }
    if (cfg.dropout && cfg.dropout.length !== 1) {
      throw new Error(`@sign/generator ${where}: dropout must hold exactly one rate, got ${JSON.stringify(cfg.dropout)}`);
    }
    this.hiddenDim = checkPositiveInt(where, 'hidden[0]', cfg.hidden?.[0] ?? 256);
    this.dropoutRate = checkRate(where, 'dropout[0]', cfg.dropout?.[0] ?? 0.5);
    this.leakySlope = cfg.leakySlope ?? 0.2;
    this.layer1 = this.child(
      'layer1',
      new Linear(rng.fork('layer1'), { inFeatures: this.embeddingDim + this.noiseDim, outFeatures: this.hiddenDim }),
    );
    this.out = this.child('out', new Linear(rng.fork('out'), { inFeatures: this.hiddenDim, outFeatures: this.featureDim }));
  }

  /**
   * @param input embeddings [P, E] (a latent, if given, is ignored)
   * @returns features [P, featureDim]
   */
  generate(input: GeneratorInput, opts: GenerateOptions): tf.Tensor2D {
    const p = checkInput(`'${this.name}'`, input, this.embeddingDim, null);
    return tf.tidy(() => {
      const u = randomUniform([p, this.noiseDim], opts.rng);
      const x = tf.concat([input.embeddings, u], 1) as tf.Tensor2D;
      let y = leakyRelu(this.layer1.apply(x), this.leakySlope);
      y = dropout(y, this.dropoutRate, opts.rng, opts.training) as tf.Tensor2D;
      return this.out.apply(y);
    });
  }
}
