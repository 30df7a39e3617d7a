import { fashionScenesDataset } from '@sign/data/node';
import { createDataModule, datasets, type DataConfig, type DataModule } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { mergeConfig, parseConfig, type DeepPartial, type ExperimentConfig, type ExperimentConfigInput } from '../src/index';

// The demo benchmark is a plug-in the app registers; tests that use it do the same.
datasets.provide('fashion-scenes', fashionScenesDataset);

/** The data module of a `data` section (Node file access). */
export function openData(data: DataConfig | Record<string, unknown>, seed: number): Promise<DataModule> {
  return createDataModule(data, { io: nodeIo, seed });
}

/**
 * A complete config small enough for unit tests (seconds per run): fashion-scenes at 32 px, the
 * 'sign' recipe with tiny widths, the demo's optimizers and loss weights.
 */
export const TINY: ExperimentConfigInput = {
  name: 'tiny',
  seed: 0,
  data: { type: 'fashion-scenes', layout: 'outfit', size: 32, trainCount: 12, testCount: 4, unseen: ['pullover', 'dress', 'sandal'], embeddings: 'both', control: 'none' },
  model: {
    type: 'sign',
    backbone: { name: 'small', channels: 8, width: 4, headChannels: 8, convsPerStage: 1 },
    sim: { positional: 'relative', hidden: 4, dilations: [1, 2, 5] },
    generator: { hidden: [8], dropout: [0.1] },
    discriminator: { hidden: 8, dropout: 0.5 },
    losses: {
      clsReal: { backbone: 1, classifier: 1 },
      kl: { backbone: 0.05 },
      advD: { classifier: 1 },
      clsFake: { classifier: 0, generator: 0 },
      mmd: { generator: 50, sigmas: [2, 5, 10, 20, 40, 60] },
      advG: { generator: 1 },
      clsTransfer: { classifier: 1, generator: 0 },
    },
    transferPrior: { type: 'mixture', unseenRate: 0.5 },
  },
  schedule: { batchSize: 2, step1Iters: 2, transferIters: 4, alternateEvery: 2, selfTrainingIters: 2, pixelsPerClass: 8, transferPixels: 32, transferMixReal: 0.5 },
  optimizers: {
    backbone: { type: 'adam', lr: 0.002, betas: [0.9, 0.999], weightDecay: 0.0005, lrSchedule: { type: 'poly', power: 0.9 } },
    classifier: { type: 'adam', lr: 0.01, betas: [0.5, 0.999] },
    generator: { type: 'adam', lr: 0.001, betas: [0.5, 0.999] },
  },
  selfTraining: { type: 'ast', temperature: 0 },
  eval: { every: 0, calibrate: 0, countBackground: false },
  runtime: { backend: 'wasm', checkpointEvery: 2 },
};

/** {@link TINY} with overrides, validated (defaults filled in). */
export function tinyConfig(over: DeepPartial<ExperimentConfigInput> | Record<string, unknown> = {}): ExperimentConfig {
  return parseConfig(mergeConfig(TINY, over as Record<string, unknown>), 'tiny config');
}
