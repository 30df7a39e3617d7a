export type {
  Backbone,
  BackboneApplyOptions,
  BackboneFactory,
  InputNormalization,
  PretrainedOptions,
  PretrainedReport,
  PretrainedWeightsInput,
} from './backbone';
export { backboneRegistry, createBackbone, registry } from './registry';
export {
  PatchDownsample,
  SMALL_BACKBONE_DEFAULTS,
  SmallBackbone,
  createSmallBackbone,
  resolveSmallBackboneConfig,
} from './small';
export type { SmallBackboneConfig } from './small';
export {
  DEEPLABV2_DEFAULTS,
  DeepLabV2ResNet101,
  PRETRAINED_INPUTS,
  adaptStemToInput,
  createDeepLabV2ResNet101,
  deeplabReleaseKey,
  detectPretrainedNaming,
  loadPretrainedResNet,
  resolveDeepLabV2Config,
} from './deeplabv2-resnet101';
export type { DeepLabV2Config, DetectedNaming, PretrainedNaming } from './deeplabv2-resnet101';
