import { DEMO_CONFIG, mergeConfig, type ExperimentConfig, type DeepPartial } from '../src/index';

/** A config small enough for unit tests (seconds per run). */
export function tinyConfig(over: DeepPartial<ExperimentConfig> = {}): ExperimentConfig {
  const base = mergeConfig(DEMO_CONFIG, {
    name: 'tiny',
    data: { size: 32, trainCount: 12, testCount: 4 },
    model: {
      backbone: { name: 'small', channels: 8, width: 4, headChannels: 8, convsPerStage: 1 },
      sim: { hidden: 4 },
      generator: { hidden: [8], dropout: [0.1] },
      discriminator: { hidden: 8, dropout: 0.5 },
    },
    schedule: {
      batchSize: 2,
      step1Iters: 2,
      transferIters: 4,
      alternateEvery: 2,
      selfTrainingIters: 2,
      transferPixels: 32,
      pixelsPerClass: 8,
    },
    runtime: { backend: 'wasm', checkpointEvery: 2 },
  });
  return mergeConfig(base, over);
}
