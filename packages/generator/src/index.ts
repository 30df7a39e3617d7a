export type {
  Generator,
  GeneratorConfig,
  GeneratorFactory,
  GeneratorInput,
  GenerateOptions,
  LatentSource,
} from './types';
export { registry, createGenerator } from './registry';
export { LatentMlpGenerator, PAPER_GENERATOR_DROPOUT, PAPER_GENERATOR_HIDDEN } from './mlp-generator';
export { GmmnGenerator, type GmmnGeneratorConfig } from './gmmn-generator';
export { GENERATOR_PRESETS } from './presets';
export { Discriminator, type DiscriminatorConfig, type DiscriminatorApplyOptions } from './discriminator';
export { releaseHeadKey, releaseGeneratorKey } from './release-keys';
