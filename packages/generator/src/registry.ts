import { Registry, type Rng } from '@sign/core';
import { GmmnGenerator } from './gmmn-generator';
import { LatentMlpGenerator } from './mlp-generator';
import type { Generator, GeneratorConfig, GeneratorFactory } from './types';

/**
 * The process-wide generator registry (`Registry.shared('generator')` of @sign/core: the same
 * object from the ESM and the CJS build). The built-ins are provided explicitly here;
 * `registry.register(name, factory)` adds one without touching the trainer, which only calls
 * `createGenerator(name, rng, cfg)`.
 */
export const registry: Registry<GeneratorFactory> = Registry.shared<GeneratorFactory>('generator');
// SIGN (METHOD §2 G): latent from the SIM with relative positional encoding.
registry.provide('sign', (rng, cfg) => new LatentMlpGenerator(rng, cfg, { name: 'sign', latentSource: 'relative' }));
// CaGNet: the same generator; its latent comes from the contextual module without positional encoding.
registry.provide('cagnet', (rng, cfg) => new LatentMlpGenerator(rng, cfg, { name: 'cagnet', latentSource: 'none' }));
// ZS3Net (METHOD §6): GMMN on concat(embedding, uniform noise); no latent.
registry.provide('gmmn', (rng, cfg) => new GmmnGenerator(rng, cfg, 'gmmn'));

/**
 * Creates a generator by registry name.
 * @example
 * const g = createGenerator('sign', new Rng(0), { embeddingDim: 600, featureDim: 600 }); // paper widths
 */
export function createGenerator(name: 'sign' | 'cagnet' | 'gmmn' | (string & {}), rng: Rng, cfg: GeneratorConfig): Generator {
  return registry.get(name)(rng, cfg);
}
