import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng } from '@sign/core';
import { createBackbone, type Backbone } from '@sign/backbones';
import { createSpatialInformationModule, type SimModule } from '@sign/sim';
import { createGenerator, Discriminator, type Generator } from '@sign/generator';
import { TRAINER_BACKBONE_KEYS } from './schema';
import type { ClassInfo, ModuleSpec, ParameterGroupSpec, Part } from './types';

/** Outputs of {@link GzsModel.features}; all owned by the caller. */
export interface FeatureOutput {
  /** F, the feature the classifier sees, [N, h, w, D] */
  feature: tf.Tensor4D;
  /** z, the latent code G is conditioned on (absent without a SIM), [N, h, w, D] */
  latent?: tf.Tensor4D;
  /** the latent code's mean and log-variance (absent without a SIM), [N, h, w, D] each */
  mu?: tf.Tensor4D;
  logvar?: tf.Tensor4D;
  /** σ² = exp(logvar) when z was sampled (for the KL: one exponential fewer), [N, h, w, D] */
  variance?: tf.Tensor4D;
}

/** What {@link buildModel} needs besides the recipe's modules. */
export interface BuildContext {
  classes: ClassInfo;
  /** Image channels the backbone reads (1 grey, 3 colour), from the dataset. */
  channels: number;
  rng: Rng;
  /** The recipe's parameter groups (every parameter must fall in exactly one). */
  groups: readonly ParameterGroupSpec[];
}

/** A backbone section without the keys the trainer reads (`pretrained`, …): what the factory gets. */
function factoryOptions(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([k]) => !TRAINER_BACKBONE_KEYS.includes(k)));
}

/**
 * The generative zero-shot segmentation model shared by every recipe: the learnable parts of
 * METHOD §2 plus the fixed mapping M, as one Module so that it checkpoints through `stateDict()`:
 * `backbone.*` (E), `sim.*` (the SIM, when the recipe has one), `generator.*` (G), `disc.*` (D and
 * C). Without a SIM, F = sigmoid(h) and G takes no latent code (ZS3Net).
 *
 * @example
 * const model = buildModel(recipes.get('sign'), modelConfig, { classes, channels: 1, rng: new Rng(0) });
 * const { feature } = model.features(images, { training: false, rng: new Rng(1) }); // [N, H/4, W/4, D]
 */
export class GzsModel extends Module {
  readonly backbone: Backbone;
  readonly sim: SimModule | null;
  readonly generator: Generator;
  readonly disc: Discriminator;
  readonly featureDim: number;
  readonly numClasses: number;
  /** M as a constant tensor [K, E] (not a parameter; disposed with the model). */
  readonly embeddingMatrix: tf.Tensor2D;
  /** Parameter groups by name: the variables under their model paths. */
  readonly groups: ReadonlyMap<string, { part: Part; variables: Map<string, tf.Variable> }>;

  constructor(
    readonly spec: ModuleSpec,
    readonly classes: ClassInfo,
    readonly channels: number,
    rng: Rng,
    groups: readonly ParameterGroupSpec[],
  ) {
    super();
    this.featureDim = spec.backbone.options.channels;
    this.numClasses = classes.classNames.length;
    if (classes.embeddings.length !== this.numClasses * classes.embeddingDim) {
      throw new Error(
        `GzsModel: the class embeddings hold ${classes.embeddings.length} values, expected ${this.numClasses} classes × ${classes.embeddingDim}`,
      );
    }
    this.backbone = this.child(
      'backbone',
      createBackbone(spec.backbone.name, rng.fork('backbone'), { inChannels: channels, ...factoryOptions(spec.backbone.options) }),
    );
    this.generator = this.child(
      'generator',
      createGenerator(spec.generator.name, rng.fork('generator'), {
        embeddingDim: classes.embeddingDim,
        featureDim: this.featureDim,
        ...spec.generator.options,
      }),
    );
    if ((spec.latent !== null) !== this.generator.needsLatent) {
      throw new Error(
        `GzsModel: generator '${spec.generator.name}' ${this.generator.needsLatent ? 'needs' : 'takes no'} latent code, but the recipe ${spec.latent ? 'has' : 'has no'} SIM`,
      );
    }
    this.sim = spec.latent
      ? this.child(
          'sim',
          createSpatialInformationModule(rng.fork('sim'), simConfig(spec.latent, this.featureDim)),
        )
      : null;
    this.disc = this.child(
      'disc',
      new Discriminator(rng.fork('disc'), {
        featureDim: this.featureDim,
        hidden: spec.discriminator.hidden,
        numClasses: this.numClasses,
        dropout: spec.discriminator.dropout,
        ganHead: spec.discriminator.ganHead,
      }),
    );
    this.embeddingMatrix = tf.tensor2d(classes.embeddings, [this.numClasses, classes.embeddingDim]);
    this.groups = splitGroups(this.namedParameters(), groups);
  }

  /** The variables of one part (the union of its groups), by model path. */
  partVariables(part: Part): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const g of this.groups.values()) if (g.part === part) for (const [k, v] of g.variables) out.set(k, v);
    return out;
  }

  /** Whether D has its GAN head (the adversarial terms need it). */
  get hasGanHead(): boolean {
    return this.disc.hasGanHead;
  }

  /**
   * E then the SIM: images [N, H, W, C] → F, z, mu, logvar at the backbone's output resolution.
   * `noise`: 'sample' in training, 'zero' (z = mu) at inference.
   */
  features(images: tf.Tensor4D, opts: { training: boolean; rng: Rng; noise?: 'sample' | 'zero' }): FeatureOutput {
    if (images.rank !== 4 || images.shape[3] !== this.channels)
      throw new Error(`GzsModel.features: expected images [N, H, W, ${this.channels}], got [${images.shape.join(', ')}]`);
    return tf.tidy(() => {
      const h = this.backbone.apply(images, { training: opts.training, rng: opts.rng.fork('backbone') });
      if (!this.sim) return { feature: tf.sigmoid(h) as tf.Tensor4D };
      const out = this.sim.apply(h, {
        training: opts.training,
        rng: opts.rng.fork('sim'),
        noise: opts.noise ?? (opts.training ? 'sample' : 'zero'),
      });
      return { feature: out.feature, latent: out.latent, mu: out.mu, logvar: out.logvar, ...(out.variance ? { variance: out.variance } : {}) };
    }) as FeatureOutput;
  }

  /**
   * G on a set of pixels: class ids [P] and latent codes [P, D] (or N(0, I) samples when
   * `latent` is omitted and G needs one; ignored by generators without latent). Returns fake
   * features [P, D].
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
   * C's class logits on the feature grid (the backbone's output resolution, no upsampling):
   * images [N, H, W, C] → logits [N, h, w, K], with `calibrate` subtracted from every class that
   * is not unseen (calibrated stacking). The release's evaluation protocol scores their argmax.
   *
   * @example
   * const logits = model.gridLogits(x, 0); // x [1, 513, 513, 3] → [1, 65, 65, K] for DeepLabv2
   */
  gridLogits(images: tf.Tensor4D, calibrate = 0): tf.Tensor4D {
    return tf.tidy(() => {
      const rng = new Rng(0);
      const { feature } = this.features(images, { training: false, rng, noise: 'zero' });
      let logits = this.disc.applyMap(feature, { training: false, rng }).logits;
      if (calibrate !== 0) {
        const shift = new Float32Array(this.numClasses);
        for (let c = 0; c < this.numClasses; c++) if (!this.classes.unseen.includes(c)) shift[c] = calibrate;
        logits = tf.sub(logits, tf.tensor1d(shift));
      }
      return logits as tf.Tensor4D;
    });
  }

  /**
   * Class logits at image resolution for evaluation and prediction: images [N, H, W, C] →
   * logits [N, H, W, K] ({@link gridLogits} upsampled bilinearly, corners aligned), with
   * `calibrate` subtracted from every class that is not unseen (calibrated stacking).
   */
  predictLogits(images: tf.Tensor4D, calibrate = 0): tf.Tensor4D {
    return tf.tidy(() => tf.image.resizeBilinear(this.gridLogits(images, calibrate), [images.shape[1], images.shape[2]], true));
  }

  override dispose(): void {
    super.dispose();
    this.embeddingMatrix.dispose();
  }
}

/** Each parameter into the one group whose prefix it starts with; a parameter in none or in two is an error. */
function splitGroups(
  params: Map<string, tf.Variable>,
  groups: readonly ParameterGroupSpec[],
): Map<string, { part: Part; variables: Map<string, tf.Variable> }> {
  const out = new Map<string, { part: Part; variables: Map<string, tf.Variable> }>();
  for (const g of groups) {
    if (out.has(g.name)) throw new Error(`parameter group '${g.name}' is declared twice`);
    out.set(g.name, { part: g.part, variables: new Map() });
  }
  // specificity of a group for a path: the longest matching prefix, plus ½ when a suffix matches too (-1: no match)
  const score = (g: ParameterGroupSpec, path: string): number => {
    if (g.suffixes && !g.suffixes.some((x) => path.endsWith(x))) return -1;
    const len = Math.max(-1, ...g.prefixes.filter((p) => path.startsWith(p)).map((p) => p.length));
    return len < 0 ? -1 : len + (g.suffixes ? 0.5 : 0);
  };
  for (const [path, v] of params) {
    const scores = groups.map((g) => score(g, path));
    const best = Math.max(-1, ...scores);
    const hits = groups.filter((_, i) => best >= 0 && scores[i] === best);
    if (hits.length !== 1) {
      throw new Error(
        `parameter '${path}' is in ${hits.length === 0 ? 'no parameter group' : `${hits.length} equally specific parameter groups (${hits.map((g) => g.name).join(', ')})`}; groups: ${groups.map((g) => `${g.name} (${g.prefixes.join(', ')}${g.suffixes ? ` … ${g.suffixes.join(', ')}` : ''})`).join('; ')}`,
      );
    }
    out.get(hits[0].name)!.variables.set(path, v);
  }
  return out;
}

/** The @sign/sim factory config of a recipe's `latent` spec (release variants: relative encoding and encoding module only). */
function simConfig(latent: NonNullable<ModuleSpec['latent']>, channels: number): Parameters<typeof createSpatialInformationModule>[1] {
  const variant = latent.variant ?? 'paper';
  if (variant === 'paper')
    return { channels, hidden: latent.hidden, dilations: latent.dilations, positional: latent.positional, encodingModule: latent.encodingModule };
  if (latent.positional !== 'relative' || !latent.encodingModule)
    throw new Error(`GzsModel: SIM variant '${variant}' has the relative positional encoding and the encoding module; got positional '${latent.positional}'${latent.encodingModule ? '' : ' without encoding module'}`);
  return {
    variant,
    channels,
    hidden: latent.hidden,
    dilations: latent.dilations,
    ...(latent.positionalPoolChannels !== undefined ? { positionalPoolChannels: latent.positionalPoolChannels } : {}),
  };
}
