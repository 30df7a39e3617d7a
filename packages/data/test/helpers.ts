import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../src/idx';

export function tempDir(prefix = 'sign-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a tiny Fashion-MNIST-like folder: per split, `perLabel` items of each label 0..9. */
export function writeFakeFashionMnist(
  dir: string,
  opts: { perLabel?: number; size?: number; value?: { train: number; test: number } } = {},
): void {
  const perLabel = opts.perLabel ?? 3;
  const size = opts.size ?? 28;
  const value = opts.value ?? { train: 200, test: 100 };
  for (const [split, prefix] of [['train', 'train'], ['test', 't10k']] as const) {
    const n = perLabel * 10;
    const images = new Uint8Array(n * size * size);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 10;
      // a filled square in the middle of each item, with the split's intensity
      for (let y = 4; y < size - 4; y++) for (let x = 4; x < size - 4; x++) images[i * size * size + y * size + x] = value[split];
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(encodeIdx({ dims: [n, size, size], data: images })));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx({ dims: [n], data: labels })));
  }
}
