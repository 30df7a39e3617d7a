export type { Backbone, BackboneApplyOptions, BackboneFactory } from './backbone';
export { backboneRegistry, createBackbone, registry } from './registry';
export {
  PatchDownsample,
  SMALL_BACKBONE_DEFAULTS,
  SmallBackbone,
  createSmallBackbone,
  resolveSmallBackboneConfig,
} from './small';
export type { SmallBackboneConfig } from './small';
