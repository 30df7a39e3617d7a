import { Rng } from '@sign/core';
import {
  DatasetError,
  IGNORE_INDEX,
  joinPath,
  type DataConfig,
  type Dataset,
  type DatasetDefinition,
  type DatasetIo,
  type DatasetSplit,
} from '@sign/datasets';
import { z } from 'zod';
import { BACKGROUND, FASHION_CLASSES } from './classes';
import { fashionEmbeddings } from './embeddings';
import { FASHION_MNIST_FILES, type FashionMnistSplit, fashionMnistSplit } from './fashion-mnist';
import { decodeIdx } from './idx';
import { makeFashionScenes, type SceneBatch } from './scenes';

/** The keys of a fashion-scenes `data` section besides the common ones (defaults: the demo's). */
export const fashionScenesSchema = z.object({
  layout: z.enum(['outfit', 'random']).default('outfit').describe("'outfit': items where they are worn; 'random': anywhere"),
  size: z.number().int().min(32).max(128).default(64).describe('scene side in pixels'),
  trainCount: z.number().int().min(1).max(100_000).default(1000).describe('training scenes'),
  testCount: z.number().int().min(1).max(100_000).default(200).describe('test scenes'),
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

/** Options of {@link createFashionScenesDataset}. */
export interface FashionScenesDatasetOptions {
  /**
   * Where the Fashion-MNIST subset shipped with this package is, as `io` paths (a folder in Node,
   * a URL prefix served to a browser), used when the config names no `fashionMnistDir`; a
   * function is called on the first open.
   */
  subsetDir: string | (() => string);
}

/** Reads one split through `io`: the gzip'd idx files, or uncompressed ones of the same names. */
async function readSplit(io: DatasetIo, dir: string, split: 'train' | 'test'): Promise<FashionMnistSplit> {
  const find = async (name: string): Promise<string> => {
    const gz = joinPath(dir, name);
    if (await io.exists(gz)) return gz;
    const raw = joinPath(dir, name.replace(/\.gz$/, ''));
    if (await io.exists(raw)) return raw;
    throw new Error(`Fashion-MNIST file not found: ${gz} (nor ${raw} uncompressed)`);
  };
  const imagesPath = await find(FASHION_MNIST_FILES[split].images);
  const labelsPath = await find(FASHION_MNIST_FILES[split].labels);
  const images = decodeIdx(await io.readFile(imagesPath), imagesPath);
  const labels = decodeIdx(await io.readFile(labelsPath), labelsPath);
  return fashionMnistSplit(images, labels, imagesPath, labelsPath, dir);
}

/**
 * The fashion-scenes benchmark as a dataset plug-in (`data.type: 'fashion-scenes'`) whose
 * Fashion-MNIST items are read through the data module's `io` (`readFile`; gzip'd or plain idx
 * files) from `config.fashionMnistDir`, else from `opts.subsetDir`: browser-safe. In Node use
 * `fashionScenesDataset` from `@sign/data/node`, made by this function with the package's own
 * subset folder. Train and test scenes are generated from the experiment seed exactly as the
 * trainer always made them (`makeFashionScenes` with seeds
 * `new Rng(seed).fork('train-scenes' | 'test-scenes').nextUint32()`), so that the demo's numbers
 * do not change. Labels come intact; the data module sets unseen pixels to ignore. Images are
 * grey floats in 0..1 (normalisation: identity); 11 classes, background 0. Not in
 * @sign/datasets' built-in registry (it would make every install carry Fashion-MNIST): register it
 * where it is used.
 *
 * @example
 * import { datasets } from '@sign/datasets';
 * // a browser app serving the package's assets/fashion-mnist-subset/ at /fashion-mnist/
 * datasets.provide('fashion-scenes', createFashionScenesDataset({ subsetDir: '/fashion-mnist' }));
 */
export function createFashionScenesDataset(opts: FashionScenesDatasetOptions): DatasetDefinition<FashionScenesConfig> {
  const cache = new WeakMap<DatasetIo, Map<string, Promise<FashionMnistSplit>>>();
  const load = (io: DatasetIo, dir: string, split: 'train' | 'test'): Promise<FashionMnistSplit> => {
    let byKey = cache.get(io);
    if (!byKey) cache.set(io, (byKey = new Map()));
    const key = `${dir}\u0000${split}`;
    let p = byKey.get(key);
    if (!p) {
      p = readSplit(io, dir, split);
      byKey.set(key, p);
      p.catch(() => byKey!.delete(key));
    }
    return p;
  };
  return {
    type: 'fashion-scenes',
    description: 'generated scenes of Fashion-MNIST items (the demo benchmark): 10 item classes + background, grey',
    schema: fashionScenesSchema,
    async open(config, { seed, io }) {
      const dir = config.fashionMnistDir ?? (typeof opts.subsetDir === 'function' ? opts.subsetDir() : opts.subsetDir);
      const root = new Rng(seed);
      let train: SceneBatch;
      let test: SceneBatch;
      try {
        const common = { layout: config.layout, size: config.size, unseen: [] };
        const [trainItems, testItems] = [await load(io, dir, 'train'), await load(io, dir, 'test')];
        train = makeFashionScenes({ split: 'train', count: config.trainCount, seed: root.fork('train-scenes').nextUint32(), ...common, items: trainItems });
        test = makeFashionScenes({ split: 'test', count: config.testCount, seed: root.fork('test-scenes').nextUint32(), ...common, items: testItems });
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
          // the scenes are 0..1 floats: 8-bit pixels given to a trained model are scaled to match
          inputScale: 1 / 255,
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
}
