/**
 * Builds the compact Fashion-MNIST subset shipped in assets/fashion-mnist-subset from the full set.
 *
 *   npx tsx packages/data/scripts/make-subset.ts [fullSetDir] [--train K] [--test K]
 *
 * fullSetDir defaults to ../shared/data/fashion-mnist (beside the repository), then to Debian's
 * /usr/share/datasets/fashion-mnist. Selection rule (fixed, so the output is reproducible): for
 * each label 0..9, the first K items of that label in file order (train K = 500, test K = 100),
 * kept in their original file order. Writes gzip'd idx files under the same names as the full set,
 * the license notice (COPYRIGHT) and subset.json (rule, counts, sha256 of inputs and outputs).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIdxFile, writeIdxFile } from '../src/node/files';
import { FASHION_MNIST_FILES, DEBIAN_FASHION_MNIST_DIR } from '../src/fashion-mnist';
import { writeFileAtomic } from '@sign/core/node';

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const outDir = resolve(here, '..', 'assets', 'fashion-mnist-subset');

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args.splice(i, 2)[1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} needs a positive integer`);
  return v;
};
const perClass = { train: opt('--train', 500), test: opt('--test', 100) };
const candidates = args[0] ? [resolve(args[0])] : [resolve(repoRoot, '..', 'shared', 'data', 'fashion-mnist'), DEBIAN_FASHION_MNIST_DIR];
const src = candidates.find((d) => existsSync(join(d, FASHION_MNIST_FILES.train.images)));
if (!src) throw new Error(`full Fashion-MNIST set not found in ${candidates.join(', ')}`);

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const manifest: Record<string, unknown> = {
  description: 'Compact subset of Fashion-MNIST (Zalando Research, MIT): the first K items of each label in file order',
  rule: 'for each label 0..9 the first K items of that label in file order, kept in file order',
  perClass,
  source: 'https://github.com/zalandoresearch/fashion-mnist (as packaged by Debian: dataset-fashion-mnist)',
  inputs: {} as Record<string, string>,
  outputs: {} as Record<string, string>,
  counts: {} as Record<string, number>,
};

for (const split of ['train', 'test'] as const) {
  const files = FASHION_MNIST_FILES[split];
  const imagesPath = join(src, files.images);
  const labelsPath = join(src, files.labels);
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) throw new Error(`${labelsPath}: label count ${labels.dims[0]} ≠ image count ${n}`);
  const k = perClass[split];
  const taken = new Array<number>(10).fill(0);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = labels.data[i]!;
    if (taken[l]! < k) {
      taken[l]!++;
      keep.push(i);
    }
  }
  if (taken.some((t) => t < k)) throw new Error(`${labelsPath}: fewer than ${k} items for some label: ${taken.join(', ')}`);
  const px = h * w;
  const outImages = new Uint8Array(keep.length * px);
  const outLabels = new Uint8Array(keep.length);
  keep.forEach((src, j) => {
    outImages.set(images.data.subarray(src * px, (src + 1) * px), j * px);
    outLabels[j] = labels.data[src]!;
  });
  writeIdxFile(join(outDir, files.images), { dims: [keep.length, h, w], data: outImages });
  writeIdxFile(join(outDir, files.labels), { dims: [keep.length], data: outLabels });
  (manifest.inputs as Record<string, string>)[files.images] = sha256(imagesPath);
  (manifest.inputs as Record<string, string>)[files.labels] = sha256(labelsPath);
  (manifest.outputs as Record<string, string>)[files.images] = sha256(join(outDir, files.images));
  (manifest.outputs as Record<string, string>)[files.labels] = sha256(join(outDir, files.labels));
  (manifest.counts as Record<string, number>)[split] = keep.length;
  console.log(`${split}: kept ${keep.length} of ${n} items (${k} per label), last source index ${keep[keep.length - 1]}`);
}

const copyright = join(src, 'COPYRIGHT');
if (existsSync(copyright)) writeFileAtomic(join(outDir, 'COPYRIGHT'), readFileSync(copyright));
else if (!existsSync(join(outDir, 'COPYRIGHT'))) throw new Error(`${copyright} missing: the license notice must ship with the subset`);
writeFileAtomic(join(outDir, 'subset.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote ${outDir}`);
