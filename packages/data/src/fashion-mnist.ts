import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readIdxFile } from './idx';
import { subsetDir } from './assets';

/** Where Debian's package `dataset-fashion-mnist` installs the full set. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** File names of one split, as distributed by Zalando Research and by Debian (gzip'd idx). */
export const FASHION_MNIST_FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  test: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

/** One split of Fashion-MNIST (or of the shipped subset). */
export interface FashionMnistSplit {
  /** [n, height, width] greyscale bytes, 0 = background. */
  images: Uint8Array;
  /** [n] Fashion-MNIST labels 0..9 (class id in fashion-scenes = label + 1). */
  labels: Uint8Array;
  n: number;
  height: number;
  width: number;
  /** Indices of the items of each label, `byLabel[l]` for l = 0..9. */
  byLabel: number[][];
  /** The folder it was read from. */
  dir: string;
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
 * package). `dir` holds the four files named in {@link FASHION_MNIST_FILES}, gzip'd or not, e.g.
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
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3) {
    throw new Error(`${imagesPath}: images must have 3 dimensions [n, height, width], got [${images.dims.join(', ')}]`);
  }
  const [n, height, width] = images.dims as [number, number, number];
  if (n === 0 || height < 2 || width < 2) {
    throw new Error(`${imagesPath}: bad image dimensions [${images.dims.join(', ')}] (need n ≥ 1, height and width ≥ 2)`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsPath}: labels must have 1 dimension [n], got [${labels.dims.join(', ')}]`);
  }
  if (labels.dims[0] !== n) {
    throw new Error(`${labelsPath}: ${labels.dims[0]} labels but ${imagesPath} has ${n} images`);
  }
  const byLabel: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < n; i++) {
    const l = labels.data[i]!;
    if (l > 9) throw new Error(`${labelsPath}: label ${l} at index ${i} is outside 0..9`);
    byLabel[l]!.push(i);
  }
  const out: FashionMnistSplit = { images: images.data, labels: labels.data, n, height, width, byLabel, dir: folder };
  cache.set(key, out);
  return out;
}
