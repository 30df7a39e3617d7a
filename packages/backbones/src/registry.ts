import { Registry, type Rng } from '@sign/core';
import type { Backbone, BackboneFactory } from './backbone';
import { createDeepLabV2ResNet101 } from './deeplabv2-resnet101';
import { createSmallBackbone } from './small';

/**
 * The process-wide backbone registry (`Registry.shared('backbone')` of @sign/core: one object
 * for the ESM and the CJS build). Built explicitly here (no registration by import side
 * effects): adding a backbone = one folder exporting a factory + one `provide` line below.
 */
export const registry: Registry<BackboneFactory<any>> = Registry.shared<BackboneFactory<any>>('backbone')
  .provide('small', createSmallBackbone)
  .provide('deeplabv2-resnet101', createDeepLabV2ResNet101);

/** The same object as {@link registry}, under a name that does not clash with other packages' registries. */
export const backboneRegistry = registry;

/**
 * Builds the backbone registered as `name`.
 *
 * @example
 * const backbone = createBackbone('small', new Rng(0), { channels: 32 });
 * const h = backbone.apply(images, { training: true, rng }); // [N, H/4, W/4, 32]
 */
export function createBackbone(
  name: 'small' | 'deeplabv2-resnet101' | (string & {}),
  rng: Rng,
  cfg?: Record<string, unknown>,
): Backbone {
  return registry.get(name)(rng, cfg);
}
