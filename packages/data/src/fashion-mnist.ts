import type { IdxArray } from './idx';

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
  /** Where it was read from (a folder, a URL), for messages. */
  dir: string;
}

/**
 * Checks decoded idx arrays (images [n, height, width], labels [n] in 0..9) and indexes the items
 * by label. `imagesName` / `labelsName` (file paths, URLs) are put in the error messages.
 *
 * @example
 * const split = fashionMnistSplit(decodeIdx(imageBytes, 'train-images'), decodeIdx(labelBytes, 'train-labels'), 'train-images', 'train-labels', 'assets/');
 */
export function fashionMnistSplit(images: IdxArray, labels: IdxArray, imagesPath: string, labelsPath: string, dir: string): FashionMnistSplit {
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
  return { images: images.data, labels: labels.data, n, height, width, byLabel, dir };
}
