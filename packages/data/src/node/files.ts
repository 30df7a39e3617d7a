import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { regularFileSize, writeFileAtomic } from '@sign/core/node';
import { FASHION_MNIST_FILES, type FashionMnistSplit, fashionMnistSplit } from '../fashion-mnist';
import { type IdxArray, type ReadIdxOptions, MAX_IDX_BYTES, decodeIdx, encodeIdx, gzipIdx } from '../idx';
import { type RgbaImage, encodePng } from '../image';
import {
  type FashionScenesOptions,
  type PlacedItem,
  type SceneBatch,
  makeFashionScenes as makeScenes,
  makeFashionScenesWithItems as makeScenesWithItems,
} from '../scenes';
import type { DatasetDefinition } from '@sign/datasets';
import { type FashionScenesConfig, createFashionScenesDataset } from '../dataset';
import { subsetDir } from './assets';

/**
 * Reads an idx file (`decodeIdx` on its bytes: gunzipped when it starts with the gzip magic bytes,
 * every bound of `decodeIdx`). Only regular files of at most `maxBytes` (default
 * {@link MAX_IDX_BYTES}) are read. Errors name the file.
 *
 * @example
 * const { dims, data } = readIdxFile('train-labels-idx1-ubyte.gz'); // dims [60000]
 */
export function readIdxFile(path: string, opts: ReadIdxOptions = {}): IdxArray {
  const maxBytes = opts.maxBytes ?? MAX_IDX_BYTES;
  let raw: Uint8Array;
  try {
    const fileBytes = regularFileSize(path);
    if (fileBytes > maxBytes) throw new Error(`${fileBytes} bytes is more than the maximum ${maxBytes} (maxBytes)`);
    raw = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read idx file: ${(err as Error).message}`);
  }
  return decodeIdx(raw, path, opts);
}

/**
 * Writes an idx array, gzip-compressed when `path` ends in `.gz`; atomic (temp file + rename).
 *
 * @example
 * writeIdxFile('labels-idx1-ubyte.gz', { dims: [3], data: new Uint8Array([0, 1, 2]) });
 */
export function writeIdxFile(path: string, arr: IdxArray): void {
  const bytes = encodeIdx(arr);
  writeFileAtomic(path, path.endsWith('.gz') ? gzipIdx(bytes) : bytes);
}

/**
 * Writes an image as a PNG file (`encodePng`), atomically (temporary file + rename).
 *
 * @example
 * writePng('legend.png', drawLegend(['background', 'bag'], 200));
 */
export function writePng(path: string, img: RgbaImage): void {
  writeFileAtomic(path, encodePng(img));
}

function findFile(dir: string, name: string): string {
  const gz = join(dir, name);
  if (existsSync(gz)) return gz;
  const raw = join(dir, name.replace(/\.gz$/, ''));
  if (existsSync(raw)) return raw;
  throw new Error(`Fashion-MNIST file not found: ${gz} (nor ${raw} uncompressed)`);
}

const cache = new Map<string, FashionMnistSplit>();

/**
 * Reads one split of Fashion-MNIST from `dir` (default: the compact subset shipped with this
 * package). `dir` holds the four files named in `FASHION_MNIST_FILES`, gzip'd or not, e.g.
 * `/usr/share/datasets/fashion-mnist` from Debian's `dataset-fashion-mnist`. Results are cached
 * per folder and split. Malformed files give an error naming the file.
 *
 * @example
 * const train = loadFashionMnist('train'); // the shipped subset: 500 items per class
 * train.images.length === train.n * 28 * 28;
 */
export function loadFashionMnist(split: 'train' | 'test', dir?: string): FashionMnistSplit {
  if (split !== 'train' && split !== 'test') throw new Error(`split must be 'train' or 'test', got '${String(split)}'`);
  const folder = resolve(dir ?? subsetDir());
  const key = `${folder}\u0000${split}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const imagesPath = findFile(folder, FASHION_MNIST_FILES[split].images);
  const labelsPath = findFile(folder, FASHION_MNIST_FILES[split].labels);
  const out = fashionMnistSplit(readIdxFile(imagesPath), readIdxFile(labelsPath), imagesPath, labelsPath, folder);
  cache.set(key, out);
  return out;
}

/** The scene options with `items` read from `fashionMnistDir` (default: the shipped subset) when absent. */
function withItems(opts: FashionScenesOptions): FashionScenesOptions {
  if (!opts || typeof opts !== 'object' || opts.items) return opts;
  return { ...opts, items: loadFashionMnist(opts.split, opts.fashionMnistDir) };
}

/**
 * `makeFashionScenes` of the main entry, reading the Fashion-MNIST items itself: from
 * `fashionMnistDir`, default the subset shipped with this package.
 *
 * @example
 * const train = makeFashionScenes({ split: 'train', count: 8, seed: 1, layout: 'outfit' }); // images [8, 64, 64, 1]
 */
export function makeFashionScenes(opts: FashionScenesOptions): SceneBatch {
  return makeScenes(withItems(opts));
}

/** `makeFashionScenesWithItems` of the main entry, reading the items as {@link makeFashionScenes} does. */
export function makeFashionScenesWithItems(opts: FashionScenesOptions): { batch: SceneBatch; items: PlacedItem[][] } {
  return makeScenesWithItems(withItems(opts));
}

/**
 * The fashion-scenes dataset plug-in (`createFashionScenesDataset`) reading Fashion-MNIST
 * through the data module's `io` from `fashionMnistDir`, default the subset shipped with this
 * package. Register it where it is used (it is not in @sign/datasets' registry).
 *
 * @example
 * import { datasets, createDataModule } from '@sign/datasets';
 * import { nodeIo } from '@sign/datasets/node';
 * datasets.provide('fashion-scenes', fashionScenesDataset);
 * const dm = await createDataModule({ type: 'fashion-scenes', unseen: ['pullover', 'dress', 'sandal'], trainCount: 150, testCount: 40 }, { io: nodeIo, seed: 0 });
 */
export const fashionScenesDataset: DatasetDefinition<FashionScenesConfig> = createFashionScenesDataset({ subsetDir: () => subsetDir() });
