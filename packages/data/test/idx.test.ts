import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from '../src/index';
import { readIdxFile, writeIdxFile, loadFashionMnist } from '../src/node';
import { tempDir, writeFakeFashionMnist } from './helpers';

describe('idx reader', () => {
  it('parses a hand-built idx buffer', () => {
    // magic 0x00000803 (ubyte, rank 3), dims 2×2×3, then 12 bytes
    const bytes = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, ...Array.from({ length: 12 }, (_, i) => i * 10)]);
    const a = parseIdx(bytes, 'x.idx');
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(Array.from(encodeIdx(a))).toEqual(Array.from(bytes));
  });

  it('round-trips through gzip and plain files (atomic write leaves no temp file)', () => {
    const dir = tempDir();
    const arr = { dims: [3, 4], data: Uint8Array.from({ length: 12 }, (_, i) => 255 - i) };
    writeIdxFile(join(dir, 'a.gz'), arr);
    writeIdxFile(join(dir, 'a.idx'), arr);
    expect(readFileSync(join(dir, 'a.gz'))[0]).toBe(0x1f);
    for (const f of ['a.gz', 'a.idx']) {
      const back = readIdxFile(join(dir, f));
      expect(back.dims).toEqual([3, 4]);
      expect(Array.from(back.data)).toEqual(Array.from(arr.data));
    }
    expect(readdirSync(dir).sort()).toEqual(['a.gz', 'a.idx']);
  });

  describe('malformed files give errors naming the file', () => {
    const dir = tempDir();
    const good = encodeIdx({ dims: [4, 2, 2], data: new Uint8Array(16).fill(7) });
    const cases: Array<[string, Uint8Array, RegExp, RegExp?]> = [
      ['truncated-data.idx', good.subarray(0, good.length - 3), /truncated idx data: shape \[4, 2, 2\] needs 16 bytes, file has 13/],
      ['truncated-header.idx', good.subarray(0, 9), /truncated idx header/],
      ['tiny.idx', good.subarray(0, 2), /shorter than the 4-byte header/],
      ['magic.idx', Uint8Array.from([0x50, 0x4b, 3, 4, ...good.subarray(4)]), /wrong magic number 0x504b0304/],
      ['type.idx', Uint8Array.from([0, 0, 0x0d, 3, ...good.subarray(4)]), /element type 0x0d \(float\) is not supported/],
      [
        'trailing.idx',
        Uint8Array.from([...good, 1, 2]),
        /2 unexpected bytes after the idx data/,
        // gzip'd, inflating stops at the size the header declares
        /the gzip stream inflates to more than the 32 bytes that its idx header declares \(shape \[4, 2, 2\]\)/,
      ],
      ['rank0.idx', Uint8Array.from([0, 0, 8, 0]), /0 dimensions/],
    ];
    for (const [name, bytes, re, gzRe = re] of cases) {
      it(name, () => {
        const path = join(dir, name);
        writeFileSync(path, bytes);
        expect(() => readIdxFile(path)).toThrow(re);
        expect(() => readIdxFile(path)).toThrow(path);
        // the same through gzip
        writeFileSync(path + '.gz', gzipSync(bytes));
        expect(() => readIdxFile(path + '.gz')).toThrow(gzRe);
        expect(() => readIdxFile(path + '.gz')).toThrow(path + '.gz');
      });
    }
    it('a truncated gzip stream', () => {
      const path = join(dir, 'cut.gz');
      const gz = gzipSync(good);
      writeFileSync(path, gz.subarray(0, gz.length - 10));
      expect(() => readIdxFile(path)).toThrow(`${path}: corrupt or truncated gzip stream`);
    });
    it('a missing file', () => {
      expect(() => readIdxFile(join(dir, 'nope.idx'))).toThrow(`${join(dir, 'nope.idx')}: cannot read idx file`);
    });
  });
});

describe('loadFashionMnist on malformed folders', () => {
  function folder(): string {
    const dir = tempDir();
    writeFakeFashionMnist(dir, { perLabel: 2 });
    return dir;
  }

  it('reads a well-formed folder', () => {
    const dir = folder();
    const train = loadFashionMnist('train', dir);
    expect([train.n, train.height, train.width]).toEqual([20, 28, 28]);
    expect(train.byLabel.map((l) => l.length)).toEqual(new Array(10).fill(2));
    expect(train.byLabel[3]).toEqual([3, 13]);
  });

  it('label count ≠ image count names the label file', () => {
    const dir = folder();
    const path = join(dir, 'train-labels-idx1-ubyte.gz');
    writeFileSync(path, gzipSync(encodeIdx({ dims: [19], data: new Uint8Array(19) })));
    expect(() => loadFashionMnist('train', dir)).toThrow(`${path}: 19 labels but ${join(dir, 'train-images-idx3-ubyte.gz')} has 20 images`);
  });

  it('images of the wrong rank name the image file', () => {
    const dir = folder();
    const path = join(dir, 't10k-images-idx3-ubyte.gz');
    writeFileSync(path, gzipSync(encodeIdx({ dims: [20, 784], data: new Uint8Array(20 * 784) })));
    expect(() => loadFashionMnist('test', dir)).toThrow(`${path}: images must have 3 dimensions [n, height, width], got [20, 784]`);
  });

  it('zero-sized image dims are refused', () => {
    const dir = folder();
    const path = join(dir, 't10k-images-idx3-ubyte.gz');
    writeFileSync(path, gzipSync(encodeIdx({ dims: [20, 0, 28], data: new Uint8Array(0) })));
    expect(() => loadFashionMnist('test', dir)).toThrow(`${path}: bad image dimensions [20, 0, 28]`);
  });

  it('labels outside 0..9 name the file and index', () => {
    const dir = folder();
    const path = join(dir, 't10k-labels-idx1-ubyte.gz');
    const labels = Uint8Array.from({ length: 20 }, (_, i) => i % 10);
    labels[5] = 12;
    writeFileSync(path, gzipSync(encodeIdx({ dims: [20], data: labels })));
    expect(() => loadFashionMnist('test', dir)).toThrow(`${path}: label 12 at index 5 is outside 0..9`);
  });

  it('a missing file and a truncated one', () => {
    const dir = folder();
    const img = join(dir, 'train-images-idx3-ubyte.gz');
    const bytes = readFileSync(img);
    writeFileSync(img, bytes.subarray(0, 100));
    expect(() => loadFashionMnist('train', dir)).toThrow(img);
    const empty = tempDir();
    expect(() => loadFashionMnist('train', empty)).toThrow(`Fashion-MNIST file not found: ${join(empty, 'train-images-idx3-ubyte.gz')}`);
    expect(existsSync(join(empty, 'train-images-idx3-ubyte.gz'))).toBe(false);
  });

  it('accepts uncompressed files under the names without .gz', () => {
    const dir = tempDir();
    writeIdxFile(join(dir, 'train-images-idx3-ubyte'), { dims: [1, 4, 4], data: new Uint8Array(16).fill(9) });
    writeIdxFile(join(dir, 'train-labels-idx1-ubyte'), { dims: [1], data: Uint8Array.of(4) });
    const s = loadFashionMnist('train', dir);
    expect([s.n, s.height, s.width, s.labels[0]]).toEqual([1, 4, 4, 4]);
  });
});
