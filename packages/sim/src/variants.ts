import type * as tf from '@tensorflow/tfjs-core';
import type { Module, Rng } from '@sign/core';
import {
  type ReleaseSimConfig,
  type ReleaseSimOutput,
  ReleaseSpatialInformationModule,
} from './release-sim';
import {
  type NoiseMode,
  type SimApplyOptions,
  SpatialInformationModule,
  type SpatialInformationModuleConfig,
} from './sim';

/**
 * Which SIM: `'paper'` (METHOD §2, the default for training), or the SIGN release's network
 * types 1 (`'release-v1'`) and 2 / 2.1 (`'release-v2'`), needed to run its checkpoints.
 */
export type SimVariant = 'paper' | ReleaseSimVariantName;
type ReleaseSimVariantName = ReleaseSimConfig['variant'];

/** All SIM variants, the default first. */
export const SIM_VARIANTS: readonly SimVariant[] = ['paper', 'release-v1', 'release-v2'];

/** Config of {@link createSpatialInformationModule}: `variant` picks the class, the rest is its config. */
export type SimConfig = ({ variant?: 'paper' } & SpatialInformationModuleConfig) | ReleaseSimConfig;

/** What every SIM variant offers (the trainer and the apps use only this). */
export interface SimModule extends Module {
  readonly variant: SimVariant;
  /** D */
  readonly channels: number;
  /** feature, latent, mu, logvar, hPrime [N,H,W,D] (+ `positional` for release-v2) */
  apply(h: tf.Tensor4D, opts?: SimApplyOptions): ReleaseSimOutput;
  /** `F = sigmoid(h' + h'·sigmoid(z))` */
  featureFromLatent(hPrime: tf.Tensor4D, z: tf.Tensor4D): tf.Tensor4D;
  /** h' alone */
  encode(h: tf.Tensor4D, opts?: { noise?: NoiseMode; rng?: Rng }): tf.Tensor4D;
}

/**
 * Builds the SIM variant named by `config.variant` (default `'paper'`).
 *
 * @example
 * const paper = createSpatialInformationModule(rng, { channels: 600 });                        // METHOD §2
 * const release = createSpatialInformationModule(rng, { variant: 'release-v2', channels: 600 }); // network type 2.1
 * const { feature } = release.apply(h, { noise: 'zero' });
 */
export function createSpatialInformationModule(rng: Rng, config: SimConfig): SimModule {
  const variant = (config as { variant?: unknown })?.variant ?? 'paper';
  if (variant === 'paper') {
    const { variant: _v, ...rest } = config as {
      variant?: 'paper';
    } & SpatialInformationModuleConfig;
    return new SpatialInformationModule(rng, rest);
  }
  if (variant === 'release-v1' || variant === 'release-v2')
    return new ReleaseSpatialInformationModule(rng, config as ReleaseSimConfig);
  throw new Error(
    `@sign/sim createSpatialInformationModule: unknown variant '${String(variant)}' (known: ${SIM_VARIANTS.join(', ')})`,
  );
}
