import type { Rng } from '@sign/core';
import { GmmnGenerator } from './gmmn-generator';
import { LatentMlpGenerator } from './mlp-generator';
import type { Generator, GeneratorConfig, GeneratorFactory } from './types';

/**
 * A registry of generator factories by name. The built-in one, {@link registry}, is filled
 * explicitly below; `register` adds a generator without touching the trainer, which only calls
 * `createGenerator(name, rng, cfg)`.
 */
export class GeneratorRegistry {
  private readonly factories = new Map<string, GeneratorFactory>();

  /** Adds a factory; throws if the name is taken (use a new name rather than overriding). */
  register(name: string, factory: GeneratorFactory): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new Error('@sign/generator registry.register: name must be a non-empty string');
    }
    if (typeof factory !== 'function') {
      throw new Error(`@sign/generator registry.register('${name}'): factory must be a function (rng, cfg) => Generator`);
    }
    if (this.factories.has(name)) {
      throw new Error(`@sign/generator registry.register: a generator named '${name}' is already registered`);
    }
    this.factories.set(name, factory);
  }

  /** The factory registered under `name`; throws listing the known names if there is none. */
  get(name: string): GeneratorFactory {
    const f = this.factories.get(name);
    if (!f) {
      throw new Error(
        `@sign/generator: unknown generator '${String(name)}'; known generators: ${this.names().join(', ')}`,
      );
    }
    return f;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  /** Registered names in registration order. */
  names(): string[] {
    return [...this.factories.keys()];
  }
}

/** The generators of @sign/generator, registered explicitly here. */
export const registry = new GeneratorRegistry();
// SIGN (METHOD §2 G): latent from the SIM with relative positional encoding.
registry.register('sign', (rng, cfg) => new LatentMlpGenerator(rng, cfg, { name: 'sign', latentSource: 'relative' }));
// CaGNet: the same generator; its latent comes from the contextual module without positional encoding.
registry.register('cagnet', (rng, cfg) => new LatentMlpGenerator(rng, cfg, { name: 'cagnet', latentSource: 'none' }));
// ZS3Net (METHOD §6): GMMN on concat(embedding, uniform noise); no latent.
registry.register('gmmn', (rng, cfg) => new GmmnGenerator(rng, cfg, 'gmmn'));

/**
 * Creates a generator by registry name.
 * @example
 * const g = createGenerator('sign', new Rng(0), { embeddingDim: 600, featureDim: 600 }); // paper widths
 */
export function createGenerator(name: 'sign' | 'cagnet' | 'gmmn' | (string & {}), rng: Rng, cfg: GeneratorConfig): Generator {
  return registry.get(name)(rng, cfg);
}
