import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES } from '../src/index';
import { loadFashionMnist, subsetDir } from '../src/node';

const shared = resolve(__dirname, '../../../../shared/data/fashion-mnist');

describe('the shipped Fashion-MNIST subset', () => {
  it('has 500 training and 100 test items per class, 28×28', () => {
    const train = loadFashionMnist('train');
    const test = loadFashionMnist('test');
    expect([train.n, train.height, train.width]).toEqual([5000, 28, 28]);
    expect(test.n).toBe(1000);
    expect(train.byLabel.map((l) => l.length)).toEqual(new Array(10).fill(500));
    expect(test.byLabel.map((l) => l.length)).toEqual(new Array(10).fill(100));
  });

  it('matches the checksums in subset.json and ships the license notice', () => {
    const dir = subsetDir();
    const manifest = JSON.parse(readFileSync(join(dir, 'subset.json'), 'utf8'));
    expect(manifest.perClass).toEqual({ train: 500, test: 100 });
    for (const [file, sha] of Object.entries(manifest.outputs as Record<string, string>)) {
      expect(createHash('sha256').update(readFileSync(join(dir, file))).digest('hex')).toBe(sha);
    }
    const notice = readFileSync(join(dir, 'COPYRIGHT'), 'utf8');
    expect(notice).toContain('Zalando SE');
    expect(notice).toContain('Permission is hereby granted');
  });

  it('is published with the package (package.json "files") and found beside src/ and dist/', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '..', 'package.json'), 'utf8'));
    expect(pkg.files).toContain('assets');
    expect(subsetDir()).toBe(resolve(__dirname, '..', 'assets', 'fashion-mnist-subset'));
  });
});

describe.skipIf(!existsSync(join(shared, FASHION_MNIST_FILES.train.images)))('subset vs the full set in ../shared (skipped when absent)', () => {
  it('is the first 500 / 100 items of each label of the full set, in file order', () => {
    for (const [split, k] of [['train', 500], ['test', 100]] as const) {
      const full = loadFashionMnist(split, shared);
      const sub = loadFashionMnist(split, undefined);
      expect(full.n).toBe(split === 'train' ? 60000 : 10000);
      const keep = Array.from({ length: 10 }, (_, l) => full.byLabel[l]!.slice(0, k)).flat().sort((a, b) => a - b);
      expect(keep.length).toBe(sub.n);
      const px = 28 * 28;
      keep.forEach((src, j) => {
        expect(sub.labels[j]).toBe(full.labels[src]);
      });
      // every image byte equal
      const a = Buffer.concat(keep.map((src) => Buffer.from(full.images.subarray(src * px, (src + 1) * px))));
      expect(Buffer.compare(a, Buffer.from(sub.images))).toBe(0);
    }
  });
});
