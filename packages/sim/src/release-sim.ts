import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, Module, type Rng } from '@sign/core';
import { modulatedFeature } from './feature';
import { relativePositionalEncoding } from './positional';
import { ReleaseGatedBlock } from './release-gated-block';
import type { NoiseMode, SimOutput } from './sim';

/** The SIM variants of the SIGN release (its `network_type` 1, and 2 / 2.1). */
export type ReleaseSimVariant = 'release-v1' | 'release-v2';

/** Configuration of {@link ReleaseSpatialInformationModule}. */
export interface ReleaseSimConfig {
  /**
   * `'release-v1'` (network type 1): positional module → residual `h' = h + pool(...)`, then
   * the contextual module. `'release-v2'` (types 2 / 2.1): the positional module has its own
   * mu / logvar and gives `h' = h + h·sigmoid(z_pos)`.
   */
  variant: ReleaseSimVariant;
  /** D: channels of h, z and F (600 in the release; a multiple of 4) */
  channels: number;
  /** channels of every dilated 3×3 branch; default 256 */
  hidden?: number;
  /** dilations of the branches, in sequence; default [1, 2, 5] */
  dilations?: number[];
  /** L of the relative positional encoding; default 512 */
  standardLength?: number;
  /**
   * `'release-v2'` only: channels of the positional pool conv, from which the positional mu /
   * logvar convs start. Default D (type 2.1); 128 is type 2.
   */
  positionalPoolChannels?: number;
  /** 'pytorch' (default: PyTorch's default conv init) or 'zeros' (for weights loaded right after) */
  init?: 'pytorch' | 'zeros';
}

/** Options of {@link ReleaseSpatialInformationModule.apply}. */
export interface ReleaseSimApplyOptions {
  /** defaults to the module's `training` flag; only changes the default noise mode */
  training?: boolean;
  /** source of the noise; defaults to the module's own stream */
  rng?: Rng;
  /**
   * The contextual latent z: `'sample'` (training default) z = mu + exp(logvar/2)·eps,
   * `'zero'` (eval default, the release's test path) z = mu, `'prior'` z ~ N(0, I).
   * `'release-v2'`'s positional latent is z_pos = mu_pos with `'zero'` and sampled otherwise
   * (the release samples whenever the module is in training mode).
   */
  noise?: NoiseMode;
  /** an explicit eps [N, H, W, D] for the contextual latent (overrides `noise` for it) */
  eps?: tf.Tensor4D;
  /** `'release-v2'`: an explicit eps [N, H, W, D] for the positional latent */
  positionalEps?: tf.Tensor4D;
}

/** The positional module's own latent (`'release-v2'`). */
export interface ReleasePositionalLatent {
  /** z_pos [N, H, W, D] */
  latent: tf.Tensor4D;
  mu: tf.Tensor4D;
  logvar: tf.Tensor4D;
}

/** {@link SimOutput} plus, for `'release-v2'`, the positional latent. The caller disposes them. */
export interface ReleaseSimOutput extends SimOutput {
  positional?: ReleasePositionalLatent;
}

/** mu (3×3 conv) and logvar (3×3 conv + ReLU), no bias: the release's `*localmu` / `*localsigma`. */
class ReleaseLatent extends Module {
  private readonly mu: Conv2d;
  private readonly logvar: Conv2d;

  constructor(rng: Rng, inChannels: number, channels: number, init: 'pytorch' | 'zeros') {
    super();
    const cfg = { inChannels, outChannels: channels, kernelSize: 3, padding: 1, bias: false, init };
    this.mu = this.child('mu', new Conv2d(rng.fork('mu'), cfg));
    this.logvar = this.child('logvar', new Conv2d(rng.fork('logvar'), cfg));
  }

  apply(x: tf.Tensor4D): { mu: tf.Tensor4D; logvar: tf.Tensor4D } {
    return tf.tidy(() => ({ mu: this.mu.apply(x), logvar: tf.relu(this.logvar.apply(x)) }));
  }
}

/**
 * z from (mu, logvar): explicit eps, eps = 0 (z = mu), N(0, I) itself ('prior'), or a sample
 * (one `rng.tfSeed()` per draw, so successive calls differ; v2 draws the positional latent first).
 */
function drawLatent(
  mu: tf.Tensor4D,
  logvar: tf.Tensor4D,
  mode: NoiseMode,
  rng: Rng,
  eps?: tf.Tensor4D,
): tf.Tensor4D {
  if (eps) return tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps));
  if (mode === 'zero') return tf.clone(mu);
  const e = tf.randomNormal(mu.shape, 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  return mode === 'prior' ? e : tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), e));
}

/**
 * The spatial information module as the SIGN release builds it (METHOD §2b), a variant of
 * METHOD §2's {@link SpatialInformationModule} (see the package README for every departure):
 *
 * - positional module: `p = block_pos(concat(sigmoid(h), RPE))` ({@link ReleaseGatedBlock});
 *   `'release-v1'`: `h' = h + p`; `'release-v2'`: `mu_pos = conv3x3(p)`,
 *   `logvar_pos = relu(conv3x3(p))`, `z_pos = mu_pos (+ noise)`, `h' = h + h·sigmoid(z_pos)`;
 * - contextual module: `c = block_ctx(sigmoid(h'))`, `mu = conv3x3(c)`,
 *   `logvar = relu(conv3x3(c))`, `z = mu (+ noise)`;
 * - feature `F = sigmoid(h' + h'·sigmoid(z))`.
 *
 * Parameter paths (release key in brackets): `positional.branch1..3.kernel` [positional1..3],
 * `positional.gate.kernel` [fc_2], `positional.pool.kernel` [positionalpool],
 * `positionalLatent.mu.kernel` / `.logvar.kernel` [positionallocalmu / positionallocalsigma,
 * v2 only], `contextual.branch1..3.kernel` [contextual1..3], `contextual.gate.kernel` [fc_1],
 * `contextual.pool.kernel` [contextualpool], `contextualLatent.mu.kernel` / `.logvar.kernel`
 * [contextuallocalmu / contextuallocalsigma]; {@link releaseSimKey} maps the keys.
 *
 * @example
 * const sim = new ReleaseSpatialInformationModule(new Rng(0), { variant: 'release-v1', channels: 8, hidden: 4 });
 * const { feature, latent, mu, logvar } = sim.apply(h, { noise: 'zero' });   // h [N,H,W,8] → [N,H,W,8] each
 */
export class ReleaseSpatialInformationModule extends Module {
  readonly variant: ReleaseSimVariant;
  readonly channels: number;
  readonly hidden: number;
  readonly dilations: number[];
  readonly standardLength: number;
  /** `'release-v2'`: channels of the positional pool (D for type 2.1, 128 for type 2); else D */
  readonly positionalPoolChannels: number;
  private readonly positional: ReleaseGatedBlock;
  private readonly positionalLatent: ReleaseLatent | null;
  private readonly contextual: ReleaseGatedBlock;
  private readonly contextualLatent: ReleaseLatent;
  private readonly noiseRng: Rng;

  constructor(rng: Rng, config: ReleaseSimConfig) {
    super();
    const where = '@sign/sim ReleaseSpatialInformationModule';
    const {
      variant,
      channels,
      hidden = 256,
      dilations = [1, 2, 5],
      standardLength = 512,
      init = 'pytorch',
    } = config;
    if (variant !== 'release-v1' && variant !== 'release-v2') {
      throw new Error(
        `${where}: variant must be 'release-v1' or 'release-v2', got '${String(variant)}'`,
      );
    }
    if (!Number.isInteger(channels) || channels < 1 || channels % 4 !== 0) {
      throw new Error(
        `${where}: channels must be a positive multiple of 4 (the positional encoding has D channels), got ${channels}`,
      );
    }
    if (!(typeof standardLength === 'number' && standardLength > 0)) {
      throw new Error(`${where}: standardLength must be a positive number, got ${standardLength}`);
    }
    if (init !== 'pytorch' && init !== 'zeros')
      throw new Error(`${where}: init must be 'pytorch' or 'zeros', got ${JSON.stringify(init)}`);
    const poolChannels = config.positionalPoolChannels ?? channels;
    if (
      variant === 'release-v1' &&
      config.positionalPoolChannels !== undefined &&
      poolChannels !== channels
    ) {
      throw new Error(
        `${where}: positionalPoolChannels applies to 'release-v2' only ('release-v1' adds the pool's output to h: it has D channels)`,
      );
    }
    if (!Number.isInteger(poolChannels) || poolChannels < 1) {
      throw new Error(
        `${where}: positionalPoolChannels must be a positive integer, got ${poolChannels}`,
      );
    }
    this.variant = variant;
    this.channels = channels;
    this.hidden = hidden;
    this.dilations = [...dilations];
    this.standardLength = standardLength;
    this.positionalPoolChannels = poolChannels;
    this.positional = this.child(
      'positional',
      new ReleaseGatedBlock(rng.fork('positional'), {
        inChannels: 2 * channels,
        outChannels: poolChannels,
        hidden,
        dilations,
        init,
      }),
    );
    this.positionalLatent =
      variant === 'release-v2'
        ? this.child(
            'positionalLatent',
            new ReleaseLatent(rng.fork('positionalLatent'), poolChannels, channels, init),
          )
        : null;
    this.contextual = this.child(
      'contextual',
      new ReleaseGatedBlock(rng.fork('contextual'), {
        inChannels: channels,
        outChannels: channels,
        hidden,
        dilations,
        init,
      }),
    );
    this.contextualLatent = this.child(
      'contextualLatent',
      new ReleaseLatent(rng.fork('contextualLatent'), channels, channels, init),
    );
    this.noiseRng = rng.fork('noise');
  }

  private checkInput(fn: string, name: string, t: tf.Tensor | undefined, like?: tf.Tensor): void {
    const ok = t instanceof tf.Tensor && t.rank === 4 && t.shape[3] === this.channels;
    if (!ok) {
      const got = t instanceof tf.Tensor ? `[${t.shape.join(', ')}]` : String(t);
      throw new Error(
        `@sign/sim ReleaseSpatialInformationModule.${fn}: expected ${name} of shape [N, H, W, ${this.channels}], got ${got}`,
      );
    }
    if (like && !t.shape.every((d, i) => d === like.shape[i])) {
      throw new Error(
        `@sign/sim ReleaseSpatialInformationModule.${fn}: ${name} [${t.shape.join(', ')}] must have the shape of h [${like.shape.join(', ')}]`,
      );
    }
  }

  /** The relative positional encoding (D channels, L = standardLength) tiled over the batch: [N, H, W, D]. */
  positionalEncoding(n: number, height: number, width: number): tf.Tensor4D {
    return tf.tidy(() => {
      const pe = relativePositionalEncoding(this.channels, height, width, {
        standardLength: this.standardLength,
      });
      return tf.tile(tf.expandDims(pe, 0), [n, 1, 1, 1]) as tf.Tensor4D;
    });
  }

  private resolveNoise(fn: string, opts: { training?: boolean; noise?: NoiseMode }): NoiseMode {
    const noise: NoiseMode = opts.noise ?? ((opts.training ?? this.training) ? 'sample' : 'zero');
    if (noise !== 'sample' && noise !== 'zero' && noise !== 'prior') {
      throw new Error(
        `@sign/sim ReleaseSpatialInformationModule.${fn}: noise must be 'sample', 'zero' or 'prior', got '${String(noise)}'`,
      );
    }
    return noise;
  }

  /**
   * The positional module: `h'` from h (`'release-v1'`: `h + block_pos(...)`; `'release-v2'`:
   * `h + h·sigmoid(z_pos)`, with z_pos = mu_pos for noise `'zero'`, sampled otherwise).
   * @param h [N, H, W, D]
   * @returns hPrime [N, H, W, D]; for `'release-v2'` also `positional` (z_pos, mu_pos, logvar_pos)
   */
  positionalModule(
    h: tf.Tensor4D,
    opts: Pick<ReleaseSimApplyOptions, 'training' | 'rng' | 'noise' | 'positionalEps'> = {},
  ): { hPrime: tf.Tensor4D; positional?: ReleasePositionalLatent } {
    this.checkInput('positionalModule', 'h', h);
    const noise = this.resolveNoise('positionalModule', opts);
    if (opts.positionalEps) {
      if (this.variant !== 'release-v2') {
        throw new Error(
          `@sign/sim ReleaseSpatialInformationModule: positionalEps needs 'release-v2' (this module is '${this.variant}')`,
        );
      }
      this.checkInput('positionalModule', 'positionalEps', opts.positionalEps, h);
    }
    const rng = opts.rng ?? this.noiseRng;
    return tf.tidy(() => {
      const [n, height, width] = h.shape;
      const p = this.positional.apply(
        tf.concat([tf.sigmoid(h), this.positionalEncoding(n, height, width)], 3) as tf.Tensor4D,
      );
      if (!this.positionalLatent) return { hPrime: tf.add(h, p) as tf.Tensor4D };
      const { mu, logvar } = this.positionalLatent.apply(p);
      const latent = drawLatent(
        mu,
        logvar,
        noise === 'zero' ? 'zero' : 'sample',
        rng,
        opts.positionalEps,
      );
      return {
        hPrime: tf.add(h, tf.mul(h, tf.sigmoid(latent))) as tf.Tensor4D,
        positional: { latent, mu, logvar },
      };
    });
  }

  /**
   * The contextual module and the feature: `c = block_ctx(sigmoid(h'))`, mu, logvar, z, and
   * `F = sigmoid(h' + h'·sigmoid(z))`.
   * @param hPrime [N, H, W, D]
   * @returns feature, latent, mu, logvar [N, H, W, D] (the KL term: @sign/losses' klDivergence(mu, logvar, mask))
   */
  contextualModule(
    hPrime: tf.Tensor4D,
    opts: Pick<ReleaseSimApplyOptions, 'training' | 'rng' | 'noise' | 'eps'> = {},
  ): Omit<SimOutput, 'hPrime'> {
    this.checkInput('contextualModule', 'hPrime', hPrime);
    const noise = this.resolveNoise('contextualModule', opts);
    if (opts.eps) this.checkInput('contextualModule', 'eps', opts.eps, hPrime);
    const rng = opts.rng ?? this.noiseRng;
    return tf.tidy(() => {
      const c = this.contextual.apply(tf.sigmoid(hPrime));
      const { mu, logvar } = this.contextualLatent.apply(c);
      const latent = drawLatent(mu, logvar, noise, rng, opts.eps);
      return {
        feature: modulatedFeature(hPrime, latent),
        latent,
        mu,
        logvar,
      };
    });
  }

  /**
   * The positional module alone: h' [N, H, W, D] (`'release-v2'`: with z_pos = mu_pos, the
   * release's test path, unless `opts.noise` is `'sample'` or `'prior'`).
   * @param h [N, H, W, D]
   */
  encode(h: tf.Tensor4D, opts: { noise?: NoiseMode; rng?: Rng } = {}): tf.Tensor4D {
    const { hPrime, positional } = this.positionalModule(h, {
      noise: opts.noise ?? 'zero',
      rng: opts.rng,
    });
    if (positional)
      tf.dispose([positional.latent, positional.mu, positional.logvar]);
    return hPrime;
  }

  /** `F = sigmoid(h' + h'·sigmoid(z))` for any latent code (the transfer phase feeds N(0, I)). */
  featureFromLatent(hPrime: tf.Tensor4D, z: tf.Tensor4D): tf.Tensor4D {
    this.checkInput('featureFromLatent', 'hPrime', hPrime);
    this.checkInput('featureFromLatent', 'z', z, hPrime);
    return modulatedFeature(hPrime, z);
  }

  /**
   * Runs the whole module.
   * @param h backbone features (the ASPP output) [N, H, W, D]
   * @returns feature, latent, mu, logvar, hPrime [N, H, W, D]; for `'release-v2'` also
   *   `positional` (z_pos, mu_pos, logvar_pos); the KL terms: @sign/losses' klDivergence(mu, logvar)
   */
  apply(h: tf.Tensor4D, opts: ReleaseSimApplyOptions = {}): ReleaseSimOutput {
    this.checkInput('apply', 'h', h);
    const noise = this.resolveNoise('apply', opts);
    if (opts.eps) this.checkInput('apply', 'eps', opts.eps, h);
    const rng = opts.rng ?? this.noiseRng;
    const { hPrime, positional } = this.positionalModule(h, {
      noise,
      rng,
      positionalEps: opts.positionalEps,
    });
    let rest: Omit<SimOutput, 'hPrime'>;
    try {
      rest = this.contextualModule(hPrime, { noise, rng, eps: opts.eps });
    } catch (e) {
      tf.dispose([hPrime, ...(positional ? Object.values(positional) : [])]);
      throw e;
    }
    const out: ReleaseSimOutput = { ...rest, hPrime };
    if (positional) out.positional = positional;
    return out;
  }
}
