import { Rng } from '@sign/core';
import { DatasetError, IGNORE_INDEX, type DataConfig, type Dataset, type DatasetDefinition, type DatasetSplit } from '@sign/datasets';
import { z } from 'zod';
import { BACKGROUND, FASHION_CLASSES } from './classes';
import { fashionEmbeddings } from './embeddings';
import { makeFashionScenes, type SceneBatch } from './scenes';

/** The keys of a fashion-scenes `data` section besides the common ones (defaults: the demo's). */
export const fashionScenesSchema = z.object({
  layout: z.enum(['outfit', 'random']).default('outfit').describe("'outfit': items where they are worn; 'random': anywhere"),
  size: z.number().int().min(32).max(128).default(64).describe('scene side in pixels'),
  trainCount: z.number().int().min(1).default(1000).describe('training scenes'),
  testCount: z.number().int().min(1).default(200).describe('test scenes'),
  embeddings: z.enum(['glove', 'attributes', 'both']).default('both').describe('class embeddings: GloVe, the attribute table, or both combined'),
  fashionMnistDir: z.string().min(1).optional().describe('folder with the full Fashion-MNIST idx files (default: the shipped subset)'),
});

/** A validated fashion-scenes `data` section. */
export type FashionScenesConfig = DataConfig & z.infer<typeof fashionScenesSchema>;

function sceneSplit(name: string, batch: SceneBatch): DatasetSplit {
  const { n, height, width } = batch;
  const px = height * width;
  return {
    name,
    size: n,
    async get(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`fashion-scenes ${name}: index ${index} is out of range [0, ${n})`);
      return {
        id: `${name}-${String(index).padStart(4, '0')}`,
        height,
        width,
        channels: 1,
        image: batch.images.subarray(index * px, (index + 1) * px),
        label: batch.labels.subarray(index * px, (index + 1) * px),
      };
    },
  };
}

/**
 * The fashion-scenes benchmark as a dataset plug-in (`data.type: 'fashion-scenes'`): train and
 * test scenes generated from the experiment seed exactly as the trainer always made them
 * (`makeFashionScenes` with seeds `new Rng(seed).fork('train-scenes' | 'test-scenes').nextUint32()`),
 * so that the demo's numbers do not change. Labels come intact; the data module sets unseen
 * pixels to ignore. Images are grey floats in 0..1 (normalisation: identity); 11 classes,
 * background 0. Not in @sign/datasets' built-in registry (it would make every install carry
 * Fashion-MNIST): register it where it is used.
 *
 * @example
 * import { datasets, createDataModule } from '@sign/datasets';
 * import { nodeIo } from '@sign/datasets/node';
 * datasets.provide('fashion-scenes', fashionScenesDataset);
 * const dm = await createDataModule({ type: 'fashion-scenes', unseen: ['pullover', 'dress', 'sandal'], trainCount: 150, testCount: 40 }, { io: nodeIo, seed: 0 });
 */
export const fashionScenesDataset: DatasetDefinition<FashionScenesConfig> = {
  type: 'fashion-scenes',
  description: 'generated scenes of Fashion-MNIST items (the demo benchmark): 10 item classes + background, grey',
  schema: fashionScenesSchema,
  async open(config, { seed }) {
    const common = { layout: config.layout, size: config.size, unseen: [], ...(config.fashionMnistDir ? { fashionMnistDir: config.fashionMnistDir } : {}) };
    const root = new Rng(seed);
    let train: SceneBatch;
    let test: SceneBatch;
    try {
      train = makeFashionScenes({ split: 'train', count: config.trainCount, seed: root.fork('train-scenes').nextUint32(), ...common });
      test = makeFashionScenes({ split: 'test', count: config.testCount, seed: root.fork('test-scenes').nextUint32(), ...common });
    } catch (err) {
      throw new DatasetError([`data: ${(err as Error).message}`]);
    }
    const splits = { train: sceneSplit('train', train), test: sceneSplit('test', test) };
    const dataset: Dataset = {
      meta: {
        type: 'fashion-scenes',
        classNames: [...FASHION_CLASSES],
        background: BACKGROUND,
        ignoreIndex: IGNORE_INDEX,
        channels: 1,
        normalization: { order: 'grey', scale: 1, mean: [0], std: [1] },
        splits: ['train', 'test'],
      },
      split(name) {
        const s = splits[name as keyof typeof splits];
        if (!s) throw new Error(`fashion-scenes has no split '${name}'; known: train, test`);
        return s;
      },
      async embeddings() {
        return fashionEmbeddings(config.embeddings, { includeBackground: true });
      },
    };
    return dataset;
  },
};
