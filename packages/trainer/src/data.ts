/**
 * From a config's `data` section to a data module, and from a data module to the model's class
 * table. Until @sign/datasets' `createDataModule` lands, fashion-scenes is built here directly
 * (the only dataset type); the trainer consumes it through the DataModule contract of
 * @sign/datasets (meta, seen, unseen, embeddings, trainBatch, testSamples).
 */
import { Rng } from '@sign/core';
import { DEFAULT_UNSEEN, FASHION_CLASSES, controlEmbeddings, fashionEmbeddings, makeFashionScenes, type SceneBatch } from '@sign/data';
import type { Batch, DataModule, DatasetMeta, Sample } from '@sign/datasets';
import type { ClassInfo } from '@sign/recipes';
import { z } from 'zod';

const IGNORE = 255;

const fashionScenesSchema = z
  .strictObject({
    type: z.literal('fashion-scenes'),
    layout: z.enum(['outfit', 'random']),
    /** Scene side in pixels. */
    size: z.int().min(16),
    trainCount: z.int().min(1),
    testCount: z.int().min(1),
    /** Unseen class names (their pixels become ignore in training). */
    unseen: z.array(z.string()).min(1).default([...DEFAULT_UNSEEN]),
    embeddings: z.enum(['glove', 'attributes', 'both']).default('both'),
    /** Control: replace the unseen classes' embedding rows by random unit vectors, or permute them. */
    control: z.enum(['none', 'random', 'permuted']).default('none'),
    controlSeed: z.int().min(0).optional(),
    fashionMnistDir: z.string().optional(),
    /** Upper bound: unseen classes stay labelled in training (metrics still split seen/unseen). */
    supervised: z.boolean().optional(),
  })
  .superRefine((d, ctx) => {
    const items = FASHION_CLASSES.slice(1);
    const seenNames = new Set<string>();
    d.unseen.forEach((name, i) => {
      if (!items.includes(name))
        ctx.addIssue({ code: 'custom', path: ['unseen', i], input: name, message: `unknown class '${name}' (valid: ${items.join(', ')})` });
      if (seenNames.has(name)) ctx.addIssue({ code: 'custom', path: ['unseen', i], input: name, message: `class '${name}' listed twice` });
      seenNames.add(name);
    });
    if (d.unseen.length >= items.length)
      ctx.addIssue({ code: 'custom', path: ['unseen'], input: d.unseen, message: 'at least one non-background class must stay seen' });
  });

/** The zod schema of the `data` section (discriminated on `type`). */
export function dataSchema() {
  return z.discriminatedUnion('type', [fashionScenesSchema]);
}

export type FashionScenesConfig = z.output<typeof fashionScenesSchema>;

/** A data module for a validated `data` section. */
export async function createDataModule(config: { type: string } & Record<string, unknown>, seed: number): Promise<DataModule> {
  if (config.type !== 'fashion-scenes') throw new Error(`data.type: unknown dataset '${config.type}'; known: fashion-scenes`);
  return fashionScenesModule(config as FashionScenesConfig, seed);
}

function fashionScenesModule(d: FashionScenesConfig, seed: number): DataModule {
  const classNames = [...FASHION_CLASSES];
  const unseen = d.unseen.map((n) => classNames.indexOf(n)).sort((a, b) => a - b);
  const seen = classNames.map((_, i) => i).filter((i) => !unseen.includes(i));
  let table = fashionEmbeddings(d.embeddings, { includeBackground: true });
  if (d.control !== 'none') table = controlEmbeddings(table, d.unseen, d.control, d.controlSeed ?? seed + 1000);
  const common = { layout: d.layout, size: d.size, unseen: d.unseen, ...(d.fashionMnistDir ? { fashionMnistDir: d.fashionMnistDir } : {}) };
  const root = new Rng(seed);
  // the supervised upper bound labels the unseen classes in training too (nothing becomes 255)
  const train = makeFashionScenes({
    split: 'train',
    count: d.trainCount,
    seed: root.fork('train-scenes').nextUint32(),
    ...common,
    ...(d.supervised ? { unseen: [] } : {}),
  });
  const test = makeFashionScenes({ split: 'test', count: d.testCount, seed: root.fork('test-scenes').nextUint32(), ...common });
  const meta: DatasetMeta = {
    type: 'fashion-scenes',
    classNames,
    background: 0,
    ignoreIndex: IGNORE,
    channels: 1,
    normalization: { order: 'grey', scale: 1, mean: [0], std: [1] },
    splits: ['train', 'test'],
  };
  return {
    meta,
    seen,
    unseen,
    embeddings: table,
    trainSize: train.n,
    testSize: test.n,
    async trainBatch(batchSize: number, rng: Rng): Promise<Batch> {
      return sceneBatch(train, rng.shuffle(Array.from({ length: train.n }, (_, i) => i)).slice(0, Math.min(batchSize, train.n)));
    },
    async *testSamples(): AsyncIterable<Sample> {
      const px = test.height * test.width;
      for (let i = 0; i < test.n; i++) {
        yield {
          id: `test-${i}`,
          height: test.height,
          width: test.width,
          channels: 1,
          image: test.images.subarray(i * px, (i + 1) * px),
          label: test.labels.subarray(i * px, (i + 1) * px),
        };
      }
    },
    dispose() {},
  };
}

function sceneBatch(s: SceneBatch, order: number[]): Batch {
  const { height: H, width: W } = s;
  const n = order.length;
  const images = new Float32Array(n * H * W);
  const labels = new Uint8Array(n * H * W);
  order.forEach((idx, b) => {
    images.set(s.images.subarray(idx * H * W, (idx + 1) * H * W), b * H * W);
    labels.set(s.labels.subarray(idx * H * W, (idx + 1) * H * W), b * H * W);
  });
  return { images, labels, n, height: H, width: W, channels: 1, ids: order.map(String) };
}

/**
 * The class table a model is built for, from a data module: ids = the dataset's class ids, seen =
 * object classes not unseen (background apart), M = the module's embeddings, one row per class.
 *
 * @example
 * const classes = classInfo(dataModule); // classes.embeddings: [K·E]
 */
export function classInfo(dm: DataModule): ClassInfo {
  const { classNames, background } = dm.meta;
  const table = dm.embeddings;
  const E = table.dimension;
  const embeddings = new Float32Array(classNames.length * E);
  classNames.forEach((name, i) => embeddings.set(table.vector(name), i * E));
  return {
    classNames: [...classNames],
    seen: dm.seen.filter((c) => c !== background),
    unseen: [...dm.unseen].sort((a, b) => a - b),
    background,
    embeddings,
    embeddingDim: E,
  };
}
