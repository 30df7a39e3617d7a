import type { Rng } from '@sign/core';
import type { Backbone, BackboneFactory } from './backbone';
import { createSmallBackbone } from './small';

/**
 * A name → factory table of backbones, built explicitly here (no registration by import
 * side effects). Adding a backbone = one file exporting a factory + one line below.
 */
export class BackboneRegistry {
  private readonly factories = new Map<string, BackboneFactory<any>>();

  constructor(entries: [string, BackboneFactory<any>][] = []) {
    for (const [name, f] of entries) this.register(name, f);
  }

  /** The factory registered under `name`; throws listing the known names otherwise. */
  get(name: string): BackboneFactory<any> {
    const f = this.factories.get(name);
    if (!f) {
      throw new Error(`backbones: unknown backbone '${name}' (known: ${this.names().join(', ') || 'none'})`);
    }
    return f;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return [...this.factories.keys()];
  }

  /** Adds a factory; a name can be registered once. */
  register(name: string, factory: BackboneFactory<any>): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new Error(`backbones.register: name must be a non-empty string, got ${JSON.stringify(name)}`);
    }
    if (typeof factory !== 'function') {
      throw new Error(`backbones.register: factory for '${name}' must be a function`);
    }
    if (this.factories.has(name)) {
      throw new Error(`backbones.register: a backbone named '${name}' is already registered`);
    }
    this.factories.set(name, factory);
  }
}

/** The backbones this package ships. */
export const registry = new BackboneRegistry([
  ['small', createSmallBackbone],
  // ['deeplabv2-resnet101', createDeepLabV2ResNet101],   // later: see README
]);

/** The same object as {@link registry}, under a name that does not clash with other packages' registries. */
export const backboneRegistry = registry;

/**
 * Builds the backbone registered as `name`.
 *
 * @example
 * const backbone = createBackbone('small', new Rng(0), { channels: 32 });
 * const h = backbone.apply(images, { training: true, rng }); // [N, H/4, W/4, 32]
 */
export function createBackbone(name: 'small' | (string & {}), rng: Rng, cfg?: Record<string, unknown>): Backbone {
  return registry.get(name)(rng, cfg);
}
