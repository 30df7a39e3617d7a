import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNSEEN, FASHION_CLASSES, IGNORE_INDEX, resizeBilinear, type FashionScenesOptions, type SceneBatch } from '../src/index';
import { makeFashionScenes, makeFashionScenesWithItems, loadFashionMnist } from '../src/node';
import { tempDir, writeFakeFashionMnist } from './helpers';

function sha256(b: SceneBatch): string {
  const h = createHash('sha256');
  h.update(Buffer.from(b.images.buffer, b.images.byteOffset, b.images.byteLength));
  h.update(Buffer.from(b.labels));
  return h.digest('hex');
}

function histogram(labels: Uint8Array): Map<number, number> {
  const m = new Map<number, number>();
  for (const l of labels) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

const id = (name: string) => FASHION_CLASSES.indexOf(name);
const UNSEEN_IDS = DEFAULT_UNSEEN.map(id);

describe('makeFashionScenes', () => {
  const base: FashionScenesOptions = { split: 'train', count: 16, seed: 3, layout: 'outfit' };

  it('has the documented shapes', () => {
    const b = makeFashionScenes(base);
    expect([b.n, b.height, b.width]).toEqual([16, 64, 64]);
    expect(b.images.length).toBe(16 * 64 * 64);
    expect(b.labels.length).toBe(16 * 64 * 64);
    const big = makeFashionScenes({ ...base, count: 2, size: 96 });
    expect([big.height, big.width, big.images.length]).toEqual([96, 96, 2 * 96 * 96]);
  });

  it('the same seed gives byte-identical scenes; a recorded hash catches accidental changes', () => {
    for (const layout of ['outfit', 'random'] as const) {
      for (const split of ['train', 'test'] as const) {
        const a = makeFashionScenes({ split, count: 12, seed: 2024, layout });
        const b = makeFashionScenes({ split, count: 12, seed: 2024, layout });
        expect(sha256(a)).toBe(sha256(b));
      }
    }
    const recorded = {
      'train/outfit': sha256(makeFashionScenes({ split: 'train', count: 12, seed: 2024, layout: 'outfit' })),
      'test/random': sha256(makeFashionScenes({ split: 'test', count: 12, seed: 2024, layout: 'random' })),
    };
    expect(recorded).toEqual(RECORDED_HASHES);
  });

  it('different seeds give different scenes; scene i does not depend on count', () => {
    const a = makeFashionScenes({ ...base, seed: 1 });
    const b = makeFashionScenes({ ...base, seed: 2 });
    expect(sha256(a)).not.toBe(sha256(b));
    const few = makeFashionScenes({ ...base, seed: 1, count: 5 });
    expect(Buffer.compare(Buffer.from(few.labels), Buffer.from(a.labels.subarray(0, 5 * 64 * 64)))).toBe(0);
    expect(Buffer.compare(Buffer.from(few.images.buffer), Buffer.from(a.images.buffer, 0, 5 * 64 * 64 * 4))).toBe(0);
  });

  it('labels are in {0..10, 255}; images in [0, 1]; pixels are item iff label ≠ 0', () => {
    for (const layout of ['outfit', 'random'] as const) {
      for (const split of ['train', 'test'] as const) {
        const b = makeFashionScenes({ split, count: 20, seed: 5, layout });
        for (const l of histogram(b.labels).keys()) expect(l <= 10 || l === IGNORE_INDEX).toBe(true);
        let bad = 0;
        for (let i = 0; i < b.labels.length; i++) {
          const v = b.images[i]!;
          if (b.labels[i] === 0 ? v !== 0 : !(v > 0.1 && v <= 1)) bad++;
        }
        expect(bad).toBe(0);
        // items cover a reasonable share of the canvas
        const fg = b.labels.reduce((s, l) => s + (l !== 0 ? 1 : 0), 0) / b.labels.length;
        expect(fg).toBeGreaterThan(0.08);
        expect(fg).toBeLessThan(0.6);
      }
    }
  });

  it('GZS3: no training scene has an unseen label; unseen pixels become 255; test scenes keep every label', () => {
    for (const layout of ['outfit', 'random'] as const) {
      const train = histogram(makeFashionScenes({ split: 'train', count: 64, seed: 9, layout }).labels);
      for (const u of UNSEEN_IDS) expect(train.has(u)).toBe(false);
      expect(train.get(IGNORE_INDEX) ?? 0).toBeGreaterThan(0);
      const test = histogram(makeFashionScenes({ split: 'test', count: 64, seed: 9, layout }).labels);
      expect(test.has(IGNORE_INDEX)).toBe(false);
      for (let c = 1; c <= 10; c++) expect(test.get(c) ?? 0, `class ${FASHION_CLASSES[c]} in test ${layout}`).toBeGreaterThan(0);
    }
  });

  it('the unseen set is a parameter: it changes labels (class → 255), never the layout or the images', () => {
    // With no unseen classes, training scenes carry every label.
    const b = histogram(makeFashionScenes({ ...base, count: 64, unseen: [] }).labels);
    expect(b.has(IGNORE_INDEX)).toBe(false);
    for (let c = 1; c <= 10; c++) expect(b.get(c) ?? 0).toBeGreaterThan(0);
    // A custom unseen set (by name and by id).
    const c = histogram(makeFashionScenes({ ...base, count: 64, unseen: ['bag', 10] }).labels);
    expect(c.has(9) || c.has(10)).toBe(false);
    expect(c.has(id('pullover'))).toBe(true);
    const t = makeFashionScenesWithItems({ ...base, count: 64, unseen: ['bag', 10] });
    const t2 = makeFashionScenesWithItems({ ...base, count: 64, unseen: [] });
    expect(t.items).toEqual(t2.items);
    let bad = 0;
    for (let i = 0; i < t.batch.labels.length; i++) {
      const l2 = t2.batch.labels[i]!;
      if (t.batch.labels[i] !== (l2 === 9 || l2 === 10 ? IGNORE_INDEX : l2)) bad++;
    }
    expect(bad).toBe(0);
    expect(Buffer.compare(Buffer.from(t.batch.images.buffer), Buffer.from(t2.batch.images.buffer))).toBe(0);
  });

  it('train scenes use training items only, test scenes test items only', () => {
    const dir = tempDir();
    writeFakeFashionMnist(dir, { value: { train: 200, test: 100 } });
    for (const [split, v] of [['train', 200], ['test', 100]] as const) {
      const b = makeFashionScenes({ split, count: 6, seed: 1, layout: 'random', fashionMnistDir: dir, threshold: 0.01 });
      const values = new Set<number>();
      for (let i = 0; i < b.images.length; i++) if (b.labels[i] !== 0) values.add(Math.round(b.images[i]! * 255));
      // interior pixels of the squares carry exactly the split's value; edges are interpolated below it
      expect(Math.max(...values)).toBe(v);
    }
  });

  it('layouts differ: in outfit, tops are high, trousers/dresses middle, footwear low, bags at the sides', () => {
    const stats = (layout: 'outfit' | 'random') => {
      const b = makeFashionScenes({ split: 'test', count: 200, seed: 11, layout });
      // group of each label: 0 top, 1 middle, 2 footwear, 3 bag, -1 none
      const group = new Int8Array(256).fill(-1);
      for (const l of [1, 3, 5, 7]) group[l] = 0;
      for (const l of [2, 4]) group[l] = 1;
      for (const l of [6, 8, 10]) group[l] = 2;
      group[9] = 3;
      const rowSum = new Float64Array(4), count = new Float64Array(4);
      let bagDx = 0;
      for (let i = 0; i < b.labels.length; i++) {
        const g = group[b.labels[i]!]!;
        if (g < 0) continue;
        rowSum[g] += Math.floor(i / 64) % 64;
        count[g]++;
        if (g === 3) bagDx += Math.abs((i % 64) - 31.5);
      }
      return { top: rowSum[0]! / count[0]!, middle: rowSum[1]! / count[1]!, foot: rowSum[2]! / count[2]!, bagDx: bagDx / count[3]! };
    };
    const o = stats('outfit');
    expect(o.top).toBeLessThan(22);
    expect(o.middle).toBeGreaterThan(o.top + 10);
    expect(o.foot).toBeGreaterThan(o.middle + 10);
    expect(o.bagDx).toBeGreaterThan(20);
    const r = stats('random');
    // in the random layout every group sits around the middle row
    for (const v of [r.top, r.middle, r.foot]) expect(Math.abs(v - 31.5)).toBeLessThan(4);
    expect(Math.abs(r.foot - r.top)).toBeLessThan(4);
    expect(r.bagDx).toBeLessThan(16);
  });

  it('items per scene and scales vary within the options', () => {
    const { items } = makeFashionScenesWithItems({ split: 'test', count: 100, seed: 4, layout: 'outfit' });
    const counts = new Set(items.map((s) => s.length));
    expect([...counts].sort()).toEqual([3, 4, 5]);
    const sides = items.flat().map((i) => i.side);
    expect(Math.min(...sides)).toBeLessThan(17);
    expect(Math.max(...sides)).toBeGreaterThan(32);
    const one = makeFashionScenesWithItems({ split: 'test', count: 30, seed: 4, layout: 'random', itemsPerScene: [2, 2] });
    expect(one.items.every((s) => s.length === 2)).toBe(true);
  });

  it('later items occlude earlier ones', () => {
    const { batch, items } = makeFashionScenesWithItems({ split: 'test', count: 40, seed: 8, layout: 'random' });
    let checked = 0;
    let bad = 0;
    const data = loadFashionMnist('test');
    for (let s = 0; s < batch.n; s++) {
      const last = items[s]![items[s]!.length - 1]!;
      // the last item's own mask: where its resized pixel > threshold, the label is its class
      const r = resizeBilinear(data.images, last.index * 784, 28, 28, last.side);
      for (let i = 0; i < last.side; i++) {
        for (let j = 0; j < last.side; j++) {
          const y = last.y + i, x = last.x + j;
          if (y < 0 || x < 0 || y >= 64 || x >= 64 || r[i * last.side + j]! <= 0.1) continue;
          if (batch.labels[s * 4096 + y * 64 + x] !== last.classId) bad++;
          if (batch.images[s * 4096 + y * 64 + x] !== r[i * last.side + j]) bad++;
          checked++;
        }
      }
    }
    expect(bad).toBe(0);
    expect(checked).toBeGreaterThan(1000);
    // and occlusion really happens: pixels of the first item's mask that show a later item
    let covered = 0;
    for (let s = 0; s < batch.n; s++) {
      const first = items[s]![0]!;
      const r = resizeBilinear(data.images, first.index * 784, 28, 28, first.side);
      for (let i = 0; i < first.side; i++) {
        for (let j = 0; j < first.side; j++) {
          const y = first.y + i, x = first.x + j;
          if (y < 0 || x < 0 || y >= 64 || x >= 64 || r[i * first.side + j]! <= 0.1) continue;
          if (batch.labels[s * 4096 + y * 64 + x] !== first.classId) covered++;
        }
      }
    }
    expect(covered).toBeGreaterThan(20);
  });

  it('rejects bad options with clear messages', () => {
    expect(() => makeFashionScenes({ ...base, split: 'val' as 'train' })).toThrow(/split must be 'train' or 'test'/);
    expect(() => makeFashionScenes({ ...base, count: -1 })).toThrow(/count must be a non-negative integer/);
    expect(() => makeFashionScenes({ ...base, layout: 'grid' as 'random' })).toThrow(/layout must be 'outfit' or 'random'/);
    expect(() => makeFashionScenes({ ...base, size: 200 })).toThrow(/size must be an integer in 32..128/);
    expect(() => makeFashionScenes({ ...base, unseen: ['hat'] })).toThrow(/unknown unseen class 'hat'/);
    expect(() => makeFashionScenes({ ...base, unseen: ['background'] })).toThrow(/background cannot be an unseen/);
    expect(() => makeFashionScenes({ ...base, unseen: ['bag', 9] })).toThrow(/'bag' is listed twice/);
    expect(() => makeFashionScenes({ ...base, itemsPerScene: [4, 2] })).toThrow(/itemsPerScene/);
    expect(() => makeFashionScenes({ ...base, fashionMnistDir: '/nonexistent/fm' })).toThrow(/Fashion-MNIST file not found: \/nonexistent\/fm\//);
    expect(makeFashionScenes({ ...base, count: 0 }).n).toBe(0);
  });
});

describe('resizeBilinear', () => {
  it('matches hand-computed values (half-pixel centres, clamped edges)', () => {
    // 2×2 source [[0, 255], [255, 255]] to 4×4: sample points at -0.25, 0.25, 0.75, 1.25 → clamped 0, .25, .75, 1
    const src = Uint8Array.of(0, 255, 255, 255);
    const out = resizeBilinear(src, 0, 2, 2, 4);
    const w = [0, 0.25, 0.75, 1];
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        // f(y, x) = 1 - (1 - x)(1 - y) for this source
        expect(out[i * 4 + j]).toBeCloseTo(1 - (1 - w[j]!) * (1 - w[i]!), 6);
      }
    }
    // identity size gives the source back
    const id = resizeBilinear(Uint8Array.of(10, 20, 30, 40, 50, 60), 0, 2, 3, 3);
    expect(id.length).toBe(9);
    const same = resizeBilinear(Uint8Array.of(10, 20, 30, 40), 0, 2, 2, 2);
    expect(Array.from(same).map((v) => Math.round(v * 255))).toEqual([10, 20, 30, 40]);
    // downscale 4×4 → 2×2 samples at 0.5 and 2.5: averages of 2×2 blocks
    const s4 = Uint8Array.from({ length: 16 }, (_, i) => i * 10);
    const d = resizeBilinear(s4, 0, 4, 4, 2);
    expect(Array.from(d).map((v) => +(v * 255).toFixed(4))).toEqual([25, 45, 105, 125]);
  });
});

const RECORDED_HASHES = {
  'train/outfit': '83e1dd5bf93946945058e048a7d78a8487d515ee89c9abf1da259c608f927b60',
  'test/random': '9749f20955f993b942a824bfd56a95fdfc169f103d32ca85cebd8a2cb51adea6',
};
