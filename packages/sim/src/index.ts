export {
  relativePositionalEncoding,
  absolutePositionalEncoding,
  type RelativePositionalEncodingOptions,
} from './positional';
export { GatedDilatedBlock, type GatedDilatedBlockConfig } from './gated-block';
export {
  SpatialInformationModule,
  type SpatialInformationModuleConfig,
  type SimApplyOptions,
  type SimOutput,
  type PositionalKind,
  type NoiseMode,
} from './sim';
export { modulatedFeature } from './feature';
export { ReleaseGatedBlock, type ReleaseGatedBlockConfig } from './release-gated-block';
export {
  ReleaseSpatialInformationModule,
  type ReleaseSimConfig,
  type ReleaseSimVariant,
  type ReleaseSimApplyOptions,
  type ReleaseSimOutput,
  type ReleasePositionalLatent,
} from './release-sim';
export { releaseSimKey, releaseSimConfigFromKeys } from './release-keys';
export {
  createSpatialInformationModule,
  SIM_VARIANTS,
  type SimConfig,
  type SimModule,
  type SimVariant,
} from './variants';
