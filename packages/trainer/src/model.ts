import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng } from '@sign/core';
import { createBackbone, type Backbone } from '@sign/backbones';
import { SpatialInformationModule } from '@sign/sim';
import { createGenerator, Discriminator, type Generator } from '@sign/generator';
import type { ExperimentConfig } from './config';

/** Everything a model needs to know about its classes. */
export interface ClassInfo {
  /** All class names, index = class id; 0 = background. */
  classNames: string[];
  /** Seen class ids (items only, background excluded). */
  seen: number[];
  /** Unseen class ids. */
  unseen: number[];
  /** Class embedding matrix M, one row per class id (background included), [K, E]. */
  embeddings: Float32Array;
  embeddingDim: number;
}

/** Outputs of {@link SignModel.features}; all owned by the caller. */
export interface FeatureOutput {
  /** F, the feature the classifier sees, [N, h, w, D] */
  feature: tf.Tensor4D;
  /** z, the latent code G is conditioned on (absent for 'gmmn'), [N, h, w, D] */
  latent?: tf.Tensor4D;
  /** per-pixel KL to N(0, I), [N, h, w] (absent for 'gmmn') */
  kl?: tf.Tensor3D;
}

/**
 * The five learnable parts of METHOD §2 plus the fixed mapping M, as one Module so that the
 * whole model checkpoints through `stateDict()`:
 * `backbone.*` (E), `sim.*` (SIM; absent for 'gmmn'), `generator.*` (G), `disc.*` (D and C).
 *
 * Generator switch (config.model.generator.name):
 * - 'sign': SIM with the positional encoding of config.model.sim.positional (default relative);
 * - 'cagnet': SIM with positional 'none' (CaGNet's contextual module);
 * - 'gmmn': no SIM; F = sigmoid(h) and G draws its own uniform noise (ZS3Net).
 */
export class SignModel extends Module {
  readonly backbone: Backbone;
  readonly sim: SpatialInformationModule | null;
  readonly generator: Generator;
  readonly disc: Discriminator;
  readonly featureDim: number;
  readonly numClasses: number;
  /** M as a constant tensor [K, E] (not a parameter; disposed with the model). */
  readonly embeddingMatrix: tf.Tensor2D;

  constructor(
    readonly config: ExperimentConfig,
    readonly classes: ClassInfo,
    rng: Rng,
  ) {
    super();
    const m = config.model;
    const { name: backboneName, ...backboneCfg } = m.backbone;
    this.featureDim = m.backbone.channels;
    this.numClasses = classes.classNames.length;
    this.backbone = this.child(
      'backbone',
      createBackbone(backboneName, rng.fork('backbone'), { inChannels: 1, ...backboneCfg }),
    );
    const genName = m.generator.name;
    this.generator = this.child(
      'generator',
      createGenerator(genName, rng.fork('generator'), {
        embeddingDim: classes.embeddingDim,
        featureDim: this.featureDim,
        ...(m.generator.hidden ? { hidden: m.generator.hidden } : {}),
        ...(m.generator.dropout ? { dropout: m.generator.dropout } : {}),
        ...(genName === 'sign' ? { latentSource: m.sim.positional } : {}),
      }),
    );
    if (this.generator.needsLatent) {
      this.sim = this.child(
        'sim',
        new SpatialInformationModule(rng.fork('sim'), {
          channels: this.featureDim,
          hidden: m.sim.hidden,
          dilations: m.sim.dilations,
          positional: this.generator.latentSource ?? 'none',
        }),
      );
    } else {
      this.sim = null;
    }
    this.disc = this.child(
      'disc',
      new Discriminator(rng.fork('disc'), {
        featureDim: this.featureDim,
        hidden: m.discriminator.hidden,
        numClasses: this.numClasses,
        dropout: m.discriminator.dropout,
      }),
    );
    this.embeddingMatrix = tf.tensor2d(classes.embeddings, [this.numClasses, classes.embeddingDim]);
  }

  /** Variables of E and SIM (the backbone optimizer's group). */
  encoderVariables(): Map<string, tf.Variable> {
    return this.group(['backbone.', 'sim.']);
  }
  discriminatorVariables(): Map<string, tf.Variable> {
    return this.group(['disc.']);
  }
  generatorVariables(): Map<string, tf.Variable> {
    return this.group(['generator.']);
  }

  group0(prefix: string): Map<string, tf.Variable> {
    return this.group([prefix]);
  }

  private group(prefixes: string[]): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [k, v] of this.namedParameters()) if (prefixes.some((p) => k.startsWith(p))) out.set(k, v);
    return out;
  }

  /**
   * E then SIM: images [N, H, W, 1] → F, z, KL at the backbone's output resolution.
   * `noise`: 'sample' in training, 'zero' (z = mu) at inference.
   */
  features(images: tf.Tensor4D, opts: { training: boolean; rng: Rng; noise?: 'sample' | 'zero' }): FeatureOutput {
    if (images.rank !== 4 || images.shape[3] !== 1)
      throw new Error(`SignModel.features: expected images [N, H, W, 1], got [${images.shape.join(', ')}]`);
    return tf.tidy(() => {
      const h = this.backbone.apply(images, { training: opts.training, rng: opts.rng.fork('backbone') });
      if (!this.sim) return { feature: tf.sigmoid(h) as tf.Tensor4D };
      const out = this.sim.apply(h, {
        training: opts.training,
        rng: opts.rng.fork('sim'),
        noise: opts.noise ?? (opts.training ? 'sample' : 'zero'),
      });
      return { feature: out.feature, latent: out.latent, kl: out.kl };
    }) as FeatureOutput;
  }

  /**
   * G on a set of pixels: class ids [P] and latent codes [P, D] (or N(0, I) samples when
   * `latent` is omitted and G needs one; ignored by 'gmmn'). Returns fake features [P, D].
   */
  generate(labels: tf.Tensor1D, latent: tf.Tensor2D | undefined, opts: { training: boolean; rng: Rng }): tf.Tensor2D {
    return tf.tidy(() => {
      const emb = tf.gather(this.embeddingMatrix, labels) as tf.Tensor2D;
      let z = latent;
      if (this.generator.needsLatent && !z) {
        z = tf.randomNormal([labels.shape[0], this.generator.latentDim], 0, 1, 'float32', opts.rng.fork('prior').tfSeed()) as tf.Tensor2D;
      }
      return this.generator.generate(
        { embeddings: emb, ...(this.generator.needsLatent ? { latent: z } : {}) },
        { training: opts.training, rng: opts.rng.fork('generator') },
      );
    });
  }

  /**
   * Class logits at image resolution for evaluation/prediction: images [N, H, W, 1] →
   * logits [N, H, W, K] (bilinear upsampling of C's logits), with `calibrate` subtracted from
   * the seen classes' (and background's) logits (calibrated stacking).
   */
  predictLogits(images: tf.Tensor4D, calibrate = 0): tf.Tensor4D {
    return tf.tidy(() => {
      const rng = new Rng(0);
      const { feature } = this.features(images, { training: false, rng, noise: 'zero' });
      let logits = this.disc.applyMap(feature, { training: false, rng }).logits;
      logits = tf.image.resizeBilinear(logits, [images.shape[1], images.shape[2]], true);
      if (calibrate !== 0) {
        const shift = new Float32Array(this.numClasses);
        for (let c = 0; c < this.numClasses; c++) if (!this.classes.unseen.includes(c)) shift[c] = calibrate;
        logits = tf.sub(logits, tf.tensor1d(shift));
      }
      return logits;
    });
  }

  override dispose(): void {
    super.dispose();
    this.embeddingMatrix.dispose();
  }
}
