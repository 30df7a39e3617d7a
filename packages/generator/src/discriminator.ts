import * as tf from '@tensorflow/tfjs-core';
import { dropout, Linear, Module, type Rng } from '@sign/core';
import { checkPositiveInt, checkRate } from './validate';

/** Configuration of {@link Discriminator}. */
export interface DiscriminatorConfig {
  /** D: width of the (real or generated) features */
  featureDim: number;
  /** width of the shared layer; default 1024 */
  hidden?: number;
  /** |S ∪ U|: classes of the classification head C */
  numClasses: number;
  /** dropout after the shared layer; default 0.5 */
  dropout?: number;
  /**
   * Whether D has its GAN head (default true). ZS3Net's classifier has none (it is trained
   * without an adversarial term): then `gan` is null and there are no `gan.*` parameters.
   */
  ganHead?: boolean;
}

/** Options of {@link Discriminator.apply}. */
export interface DiscriminatorApplyOptions {
  training: boolean;
  rng: Rng;
}

/**
 * The discriminator D with the classification head C (METHOD §2): a shared per-pixel layer
 * featureDim → hidden with ReLU and dropout, then a GAN head (1 channel, sigmoid) and the
 * classifier head (numClasses logits). C is what segments at test time.
 *
 * Parameters: `shared.kernel`, `shared.bias`, `gan.kernel`, `gan.bias` (unless `ganHead: false`), `classifier.kernel`,
 * `classifier.bias`.
 *
 * @example
 * const d = new Discriminator(new Rng(0), { featureDim: 8, hidden: 16, numClasses: 5 });
 * const { gan, logits } = d.apply(features, { training: false, rng: new Rng(1) }); // [P,1], [P,5]
 */
export class Discriminator extends Module {
  readonly featureDim: number;
  readonly hidden: number;
  readonly numClasses: number;
  readonly dropoutRate: number;
  /** Whether the GAN head exists (see {@link DiscriminatorConfig.ganHead}). */
  readonly hasGanHead: boolean;
  private readonly shared: Linear;
  private readonly ganHead: Linear | null;
  private readonly classifier: Linear;

  constructor(rng: Rng, cfg: DiscriminatorConfig) {
    super();
    const where = 'Discriminator';
    this.featureDim = checkPositiveInt(where, 'featureDim', cfg?.featureDim);
    this.hidden = checkPositiveInt(where, 'hidden', cfg.hidden ?? 1024);
    this.numClasses = checkPositiveInt(where, 'numClasses', cfg.numClasses);
    this.dropoutRate = checkRate(where, 'dropout', cfg.dropout ?? 0.5);
    this.shared = this.child('shared', new Linear(rng.fork('shared'), { inFeatures: this.featureDim, outFeatures: this.hidden }));
    if (cfg.ganHead !== undefined && typeof cfg.ganHead !== 'boolean') {
      throw new Error(`@sign/generator ${where}: ganHead must be a boolean, got ${String(cfg.ganHead)}`);
    }
    this.hasGanHead = cfg.ganHead ?? true;
    this.ganHead = this.hasGanHead
      ? this.child('gan', new Linear(rng.fork('gan'), { inFeatures: this.hidden, outFeatures: 1 }))
      : null;
    this.classifier = this.child(
      'classifier',
      new Linear(rng.fork('classifier'), { inFeatures: this.hidden, outFeatures: this.numClasses }),
    );
  }

  /**
   * @param features [P, featureDim]
   * @returns gan [P, 1] in (0, 1) (probability of "real"; null without a GAN head), logits [P, numClasses]
   */
  apply(features: tf.Tensor2D, opts: DiscriminatorApplyOptions): { gan: tf.Tensor2D | null; logits: tf.Tensor2D } {
    if (!features || features.rank !== 2 || features.shape[1] !== this.featureDim) {
      throw new Error(
        `@sign/generator Discriminator.apply: expected features of shape [P, ${this.featureDim}], got ${features ? `[${features.shape.join(', ')}]` : String(features)}`,
      );
    }
    const [logits, gan] = tf.tidy(() => {
      let s = tf.relu(this.shared.apply(features));
      s = dropout(s, this.dropoutRate, opts.rng, opts.training) as tf.Tensor2D;
      const c = this.classifier.apply(s);
      return this.ganHead ? [c, tf.sigmoid(this.ganHead.apply(s)) as tf.Tensor2D] : [c];
    });
    return { gan: gan ?? null, logits };
  }

  /**
   * {@link apply} over a feature map, pixel by pixel.
   * @param features [N, H, W, featureDim]
   * @returns gan [N, H, W, 1] (null without a GAN head), logits [N, H, W, numClasses]
   */
  applyMap(features: tf.Tensor4D, opts: DiscriminatorApplyOptions): { gan: tf.Tensor4D | null; logits: tf.Tensor4D } {
    if (!features || features.rank !== 4 || features.shape[3] !== this.featureDim) {
      throw new Error(
        `@sign/generator Discriminator.applyMap: expected features of shape [N, H, W, ${this.featureDim}], got ${features ? `[${features.shape.join(', ')}]` : String(features)}`,
      );
    }
    const [n, h, w] = features.shape;
    const [logits, gan] = tf.tidy(() => {
      const out = this.apply(tf.reshape(features, [n * h * w, this.featureDim]), opts);
      const l = tf.reshape(out.logits, [n, h, w, this.numClasses]) as tf.Tensor4D;
      return out.gan ? [l, tf.reshape(out.gan, [n, h, w, 1]) as tf.Tensor4D] : [l];
    });
    return { gan: gan ?? null, logits };
  }
}
