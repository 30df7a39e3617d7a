import * as tf from '@tensorflow/tfjs-core';
import { Conv1x1, Module, randomNormal, type Rng } from '@sign/core';
import { modulatedFeature } from './feature';
import { GatedDilatedBlock } from './gated-block';
import { positionalTable } from './positional';

/** Which positional encoding the encoding module concatenates to sigmoid(h). */
export type PositionalKind = 'relative' | 'absolute' | 'none';

/**
 * How the latent code z is drawn:
 * - `'sample'`: z = mu + exp(logvar/2)·eps, eps ~ N(0, I) (training);
 * - `'zero'`: eps = 0, so z = mu (evaluation; deterministic);
 * - `'prior'`: z ~ N(0, I), ignoring mu and logvar (the transfer phase, METHOD §4).
 */
export type NoiseMode = 'sample' | 'zero' | 'prior';

/** Configuration of {@link SpatialInformationModule}. */
export interface SpatialInformationModuleConfig {
  /** D: channels of the backbone feature h, of the latent z and of the output feature F */
  channels: number;
  /** channels of every dilated 3×3 branch; default 256 */
  hidden?: number;
  /** dilations of the branches, applied in sequence; default [1, 2, 5] */
  dilations?: number[];
  /**
   * `'relative'` (SIGN, default), `'absolute'` (the paper's ablation) or `'none'` (CaGNet's
   * contextual module: nothing is concatenated, so the encoding module sees sigmoid(h) alone
   * and its first conv has D input channels instead of 2D).
   */
  positional?: PositionalKind;
  /** L of the relative encoding; default 512 */
  standardLength?: number;
  /**
   * Whether the residual encoding module exists (default true). With `false`, h' = h and the
   * latent code comes from the reparameterization module alone (the strict reading of
   * METHOD §6 for CaGNet); only valid with `positional: 'none'`.
   */
  encodingModule?: boolean;
}

/** Options of {@link SpatialInformationModule.apply}. */
export interface SimApplyOptions {
  /** defaults to the module's `training` flag; only changes the default noise mode */
  training?: boolean;
  /** source of the noise for `'sample'` and `'prior'`; defaults to the module's own stream */
  rng?: Rng;
  /** default: `'sample'` when training, `'zero'` otherwise */
  noise?: NoiseMode;
  /** an explicit eps [N, H, W, D]: z = mu + exp(logvar/2)·eps (overrides `noise`) */
  eps?: tf.Tensor4D;
}

/** Outputs of {@link SpatialInformationModule.apply}; the caller disposes them. */
export interface SimOutput {
  /** F = sigmoid(h' + h'·sigmoid(z)), [N, H, W, D]: the feature handed to the classifier */
  feature: tf.Tensor4D;
  /** z, the space-aware latent code, [N, H, W, D] */
  latent: tf.Tensor4D;
  /** [N, H, W, D] */
  mu: tf.Tensor4D;
  /** [N, H, W, D] */
  logvar: tf.Tensor4D;
  /**
   * σ² = exp(logvar) [N, H, W, D] when z was sampled (computed as the square of σ): give it to
   * @sign/losses' `klDivergence(mu, logvar, mask, { variance })` to spare an exponential.
   */
  variance?: tf.Tensor4D;
  /** h' = h + pool(...), the output of the encoding module, [N, H, W, D] */
  hPrime: tf.Tensor4D;
}

/**
 * The spatial information module of SIGN (METHOD §2).
 *
 * - Encoding module (residual): `h' = h + encoder(concat(sigmoid(h), P))`, with P the
 *   relative (or absolute) positional encoding of D channels, or nothing for `'none'`.
 * - Reparameterization module: `c = reparam(sigmoid(h'))`, `mu = muConv(c)`,
 *   `logvar = logvarConv(c)`, `z = mu + exp(logvar/2)·eps`.
 * - Feature: `F = sigmoid(h' + h'·sigmoid(z))`.
 *
 * `encoder` and `reparam` are {@link GatedDilatedBlock}s (three chained dilated 3×3 convs with
 * ReLU, sigmoid gates, 1×1 pool). Parameter paths: `encoder.branch1.kernel`, …,
 * `encoder.gate.kernel`, `encoder.pool.kernel`, `reparam.branch1.kernel`, …, `mu.kernel`,
 * `mu.bias`, `logvar.kernel`, `logvar.bias`. Works for any input height and width.
 *
 * @example
 * const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
 * const h = tf.randomNormal([2, 7, 9, 8]) as tf.Tensor4D;
 * const { feature, latent, mu, logvar } = sim.apply(h, { training: true, rng: new Rng(2) });
 * // feature, latent, mu, logvar: [2, 7, 9, 8]; the KL term is @sign/losses' klDivergence(mu, logvar, mask)
 */
export class SpatialInformationModule extends Module {
  /** The variant switch of {@link createSpatialInformationModule}: this class is `'paper'`. */
  readonly variant = 'paper' as const;
  readonly channels: number;
  readonly hidden: number;
  readonly dilations: number[];
  readonly positional: PositionalKind;
  readonly standardLength: number;
  readonly hasEncodingModule: boolean;
  private readonly encoder: GatedDilatedBlock | null;
  private readonly reparam: GatedDilatedBlock;
  private readonly muConv: Conv1x1;
  private readonly logvarConv: Conv1x1;
  private readonly noiseRng: Rng;
  /** Positional encoding values by map size (host arrays, a few sizes: no tensors are kept). */
  private readonly peCache = new Map<string, Float32Array>();

  constructor(rng: Rng, config: SpatialInformationModuleConfig) {
    super();
    const {
      channels,
      hidden = 256,
      dilations = [1, 2, 5],
      positional = 'relative',
      standardLength = 512,
      encodingModule = true,
    } = config;
    if (!Number.isInteger(channels) || channels < 1) {
      throw new Error(`@sign/sim SpatialInformationModule: channels must be a positive integer, got ${channels}`);
    }
    if (positional !== 'relative' && positional !== 'absolute' && positional !== 'none') {
      throw new Error(
        `@sign/sim SpatialInformationModule: positional must be 'relative', 'absolute' or 'none', got '${String(positional)}'`,
      );
    }
    if (positional !== 'none' && channels % 4 !== 0) {
      throw new Error(
        `@sign/sim SpatialInformationModule: with positional '${positional}' channels must be a multiple of 4 (the encoding has D channels), got ${channels}`,
      );
    }
    if (!encodingModule && positional !== 'none') {
      throw new Error(
        `@sign/sim SpatialInformationModule: encodingModule: false leaves nowhere to add the '${positional}' positional encoding; use positional: 'none'`,
      );
    }
    this.channels = channels;
    this.hidden = hidden;
    this.dilations = [...dilations];
    this.positional = positional;
    this.standardLength = standardLength;
    this.hasEncodingModule = encodingModule;
    this.encoder = encodingModule
      ? this.child(
          'encoder',
          new GatedDilatedBlock(rng.fork('encoder'), {
            inChannels: positional === 'none' ? channels : 2 * channels,
            outChannels: channels,
            hidden,
            dilations,
          }),
        )
      : null;
    this.reparam = this.child(
      'reparam',
      new GatedDilatedBlock(rng.fork('reparam'), {
        inChannels: channels,
        outChannels: channels,
        hidden,
        dilations,
      }),
    );
    this.muConv = this.child('mu', new Conv1x1(rng.fork('mu'), { inChannels: channels, outChannels: channels }));
    this.logvarConv = this.child(
      'logvar',
      new Conv1x1(rng.fork('logvar'), { inChannels: channels, outChannels: channels }),
    );
    this.noiseRng = rng.fork('noise');
  }

  private checkInput(fn: string, name: string, t: tf.Tensor): void {
    if (t.rank !== 4 || t.shape[3] !== this.channels) {
      throw new Error(
        `@sign/sim SpatialInformationModule.${fn}: expected ${name} of shape [N, H, W, ${this.channels}], got [${t.shape.join(', ')}]`,
      );
    }
  }

  /**
   * The positional encoding this module concatenates, tiled over the batch: [N, H, W, D]
   * (null for `'none'`).
   */
  positionalEncoding(n: number, height: number, width: number): tf.Tensor4D | null {
    const pe = this.cachedEncoding(height, width);
    if (!pe || n === 1) return pe;
    const tiled = tf.tile(pe, [n, 1, 1, 1]) as tf.Tensor4D;
    pe.dispose();
    return tiled;
  }

  /**
   * The encoding [1, H, W, D] for one map size; its values are computed once per size and kept
   * on the host (a copy into a tensor per call, not the sin/cos table).
   */
  private cachedEncoding(height: number, width: number): tf.Tensor4D | null {
    if (this.positional === 'none') return null;
    const key = `${height}x${width}`;
    let table = this.peCache.get(key);
    if (!table) {
      table = positionalTable(this.positional, this.channels, height, width, this.standardLength);
      if (this.peCache.size >= PE_CACHE_SIZE) this.peCache.delete(this.peCache.keys().next().value as string);
      this.peCache.set(key, table);
    }
    return tf.tensor4d(table, [1, height, width, this.channels], 'float32');
  }

  override dispose(): void {
    this.peCache.clear();
    super.dispose();
  }

  /**
   * The encoding module alone: `h' = h + encoder(concat(sigmoid(h), P))` (h' = h without an
   * encoding module).
   * @param h [N, H, W, D]
   * @returns h' [N, H, W, D]
   */
  encode(h: tf.Tensor4D): tf.Tensor4D {
    this.checkInput('encode', 'h', h);
    if (!this.encoder) return tf.clone(h);
    const encoder = this.encoder;
    return tf.tidy(() => {
      const [, height, width] = h.shape;
      const s = tf.sigmoid(h);
      // concat(sigmoid(h), P) without concatenating: P [1, H, W, D] is convolved once and
      // broadcast over the batch (see GatedDilatedBlock.apply).
      const pe = this.cachedEncoding(height, width);
      return tf.add(h, encoder.apply(pe ? [s, pe] : s));
    });
  }

  /**
   * `F = sigmoid(h' + h'·sigmoid(z))`, the feature for a given latent code; the transfer phase
   * calls it with z ~ N(0, I).
   * @param hPrime [N, H, W, D]
   * @param z [N, H, W, D]
   * @returns F [N, H, W, D]
   * @example
   * const z = tf.randomNormal(hPrime.shape) as tf.Tensor4D;
   * const f = sim.featureFromLatent(hPrime, z);
   */
  featureFromLatent(hPrime: tf.Tensor4D, z: tf.Tensor4D): tf.Tensor4D {
    this.checkInput('featureFromLatent', 'hPrime', hPrime);
    this.checkInput('featureFromLatent', 'z', z);
    if (!sameShape(hPrime.shape, z.shape)) {
      throw new Error(
        `@sign/sim SpatialInformationModule.featureFromLatent: hPrime [${hPrime.shape.join(', ')}] and z [${z.shape.join(', ')}] differ in shape`,
      );
    }
    return modulatedFeature(hPrime, z);
  }

  /**
   * Runs the whole module.
   * @param h backbone features [N, H, W, D]
   * @returns feature, latent, mu, logvar, hPrime [N, H, W, D] (the KL term: `klDivergence(mu, logvar, mask)` of @sign/losses)
   */
  apply(h: tf.Tensor4D, opts: SimApplyOptions = {}): SimOutput {
    this.checkInput('apply', 'h', h);
    const training = opts.training ?? this.training;
    const noise: NoiseMode = opts.noise ?? (training ? 'sample' : 'zero');
    if (noise !== 'sample' && noise !== 'zero' && noise !== 'prior') {
      throw new Error(
        `@sign/sim SpatialInformationModule.apply: noise must be 'sample', 'zero' or 'prior', got '${String(noise)}'`,
      );
    }
    if (opts.eps) {
      this.checkInput('apply', 'eps', opts.eps);
      if (!sameShape(opts.eps.shape, h.shape)) {
        throw new Error(
          `@sign/sim SpatialInformationModule.apply: eps [${opts.eps.shape.join(', ')}] must have the shape of h [${h.shape.join(', ')}]`,
        );
      }
    }
    const rng = opts.rng ?? this.noiseRng;
    return tf.tidy(() => {
      const hPrime = this.encode(h);
      const c = this.reparam.apply(tf.sigmoid(hPrime));
      const mu = this.muConv.apply(c);
      const logvar = this.logvarConv.apply(c);
      let latent: tf.Tensor4D;
      // σ = exp(logvar/2); σ² = exp(logvar) goes out as `variance` for the KL (one exponential, not two).
      let std: tf.Tensor4D | null = null;
      const sigma = () => tf.exp(tf.mul(logvar, 0.5)) as tf.Tensor4D;
      if (opts.eps) {
        std = sigma();
        latent = tf.add(mu, tf.mul(std, opts.eps));
      } else if (noise === 'zero') {
        latent = tf.clone(mu);
      } else {
        const eps = randomNormal(mu.shape, rng) as tf.Tensor4D;
        if (noise === 'prior') latent = eps;
        else {
          std = sigma();
          latent = tf.add(mu, tf.mul(std, eps));
        }
      }
      const feature = this.featureFromLatent(hPrime, latent);
      if (!std) return { feature, latent, mu, logvar, hPrime };
      return { feature, latent, mu, logvar, hPrime, variance: tf.square(std) as tf.Tensor4D };
    });
  }
}

/** How many map sizes' positional encodings a module keeps. */
const PE_CACHE_SIZE = 8;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
