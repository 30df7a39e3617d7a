import { PAPER_GENERATOR_DROPOUT, PAPER_GENERATOR_HIDDEN } from './mlp-generator';
import type { GeneratorConfig } from './types';

/**
 * Width presets. `paper`: SIGN/CaGNet at the paper's sizes (600-d embeddings and features,
 * 600-d latent, so a 1200-d generator input). `paperGmmn`: ZS3Net's GMMN at the same widths.
 * `small`: hidden widths for the embedded fashion-scenes benchmark; its embedding and feature
 * widths come from the data, so they are given on use.
 *
 * @example
 * const cfg = { ...GENERATOR_PRESETS.small, embeddingDim: 32, featureDim: 32 };
 */
export const GENERATOR_PRESETS = {
  paper: {
    embeddingDim: 600,
    featureDim: 600,
    latentDim: 600,
    hidden: [...PAPER_GENERATOR_HIDDEN],
    dropout: [...PAPER_GENERATOR_DROPOUT],
  },
  paperGmmn: { embeddingDim: 600, featureDim: 600, hidden: [256], dropout: [0.5] },
  small: { hidden: [128, 96], dropout: [0.1, 0.3] },
} as const satisfies Record<string, Partial<GeneratorConfig>>;
