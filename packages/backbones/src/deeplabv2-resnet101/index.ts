export { DeepLabV2ResNet101, createDeepLabV2ResNet101 } from './model';
export { DEEPLABV2_DEFAULTS, resolveDeepLabV2Config } from './config';
export type { DeepLabV2Config } from './config';
export { deeplabReleaseKey } from './release-keys';
export { PRETRAINED_INPUTS, adaptStemToInput, detectPretrainedNaming, loadPretrainedResNet } from './pretrained';
export type { DetectedNaming, PretrainedNaming } from './pretrained';
