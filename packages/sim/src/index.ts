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
