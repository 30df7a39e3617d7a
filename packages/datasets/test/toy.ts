import { EmbeddingTable } from '@sign/embeddings';
import { z } from 'zod';
import type { Dataset, DatasetDefinition, Sample } from '../src/index';

/** Samples of a toy dataset: sample i is (4 + i%3)×(5 + i%2), RGB, label = (x + y + i) % 4. */
export function toySample(split: string, i: number): Sample {
  const height = 4 + (i % 3);
  const width = 5 + (i % 2);
  const image = new Uint8Array(height * width * 3);
  const label = new Uint8Array(height * width);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      label[y * width + x] = (x + y + i) % 4;
      for (let k = 0; k < 3; k++) image[(y * width + x) * 3 + k] = (i * 17 + y * 5 + x * 3 + k * 50) % 256;
    }
  return { id: `${split}-${i}`, height, width, channels: 3, image, label };
}

export const TOY_CLASSES = ['background', 'cat', 'dog', 'cow'];

/** Counts of `get` calls, to check caching. */
export const toyReads = { count: 0 };

/** An in-memory 'toy' dataset: 4 classes (background 0), train/val splits of `trainCount`/`valCount` samples. */
export const toyDataset: DatasetDefinition<{ type: string; unseen: string[]; trainCount: number; valCount: number; withEmbeddings: boolean }> = {
  type: 'toy',
  description: 'in-memory test dataset',
  schema: z.object({
    trainCount: z.number().int().min(0).default(10),
    valCount: z.number().int().min(0).default(3),
    withEmbeddings: z.boolean().default(true),
  }),
  async open(config) {
    const sizes: Record<string, number> = { train: config.trainCount, val: config.valCount };
    const dataset: Dataset = {
      meta: {
        type: 'toy',
        classNames: [...TOY_CLASSES],
        background: 0,
        ignoreIndex: 255,
        channels: 3,
        normalization: { order: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] },
        splits: ['train', 'val'],
      },
      split(name) {
        const size = sizes[name];
        if (size === undefined) throw new Error(`toy has no split '${name}'; known: train, val`);
        return {
          name,
          size,
          async get(i) {
            toyReads.count++;
            return toySample(name, i);
          },
        };
      },
      async embeddings() {
        if (!config.withEmbeddings) return null;
        return new EmbeddingTable({ classNames: [...TOY_CLASSES].reverse(), vectors: [[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 1]].reverse() });
      },
    };
    return dataset;
  },
};
