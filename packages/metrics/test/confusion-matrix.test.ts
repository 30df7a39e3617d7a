import { describe, expect, it } from 'vitest';
import { ConfusionMatrix } from '@sign/metrics';

/** Expands a hand-written matrix (rows = target, cols = pred) into pixel arrays, interleaved. */
function pixelsOf(m: number[][]): { pred: number[]; target: number[] } {
  const pairs: [number, number][] = [];
  m.forEach((row, t) => row.forEach((n, p) => { for (let i = 0; i < n; i++) pairs.push([t, p]); }));
  // a fixed interleaving so that consecutive pixels are not sorted by class
  const order = pairs.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101) || a - b);
  return { pred: order.map((i) => pairs[i][1]), target: order.map((i) => pairs[i][0]) };
}

/** A small deterministic generator (mulberry32) for the streaming tests. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ConfusionMatrix', () => {
  it('counts a tiny example by hand, rows = target, cols = pred', () => {
    const cm = new ConfusionMatrix(3);
    cm.update([0, 1, 2, 2, 0], [0, 1, 1, 255, 2]);
    // (t0,p0) (t1,p1) (t1,p2) ignored (t2,p0)
    expect(Array.from(cm.matrix)).toEqual([1, 0, 0, 0, 1, 1, 1, 0, 0]);
    expect(cm.get(1, 2)).toBe(1);
    expect(cm.total()).toBe(4);
    expect(cm.targetCounts()).toEqual([1, 2, 1]);
    expect(cm.predCounts()).toEqual([2, 1, 1]);
    // IoU0 = 1/(1+2-1), IoU1 = 1/(2+1-1), IoU2 = 0/(1+1-0)
    expect(cm.iou()).toEqual([0.5, 0.5, 0]);
    expect(cm.pixelAccuracy()).toBe(0.5);
  });

  it('per-class IoU, mean IoU and pixel accuracy of a hand-written 3×3 matrix', () => {
    const m = [
      [5, 1, 0],
      [2, 3, 1],
      [0, 0, 4],
    ];
    const { pred, target } = pixelsOf(m);
    const cm = new ConfusionMatrix(3);
    cm.update(new Int32Array(pred), new Uint8Array(target));
    expect(Array.from(cm.matrix)).toEqual(m.flat());
    // rows 6,6,4; cols 7,4,5
    const iou = cm.iou();
    expect(iou[0]).toBeCloseTo(5 / 8, 12); // 5 / (6 + 7 - 5)
    expect(iou[1]).toBeCloseTo(3 / 7, 12); // 3 / (6 + 4 - 3)
    expect(iou[2]).toBeCloseTo(4 / 5, 12); // 4 / (4 + 5 - 4)
    expect(cm.meanIoU()).toBeCloseTo(519 / 840, 12);
    expect(cm.meanIoU({ classes: [0, 1] })).toBeCloseTo(59 / 112, 12);
    expect(cm.pixelAccuracy()).toBeCloseTo(12 / 16, 12);
  });

  it('NaN for a class absent from target and prediction; 0 for predicted-only; the two averages', () => {
    const cm = new ConfusionMatrix(4);
    const { pred, target } = pixelsOf([
      [3, 0, 1, 0],
      [0, 2, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    cm.update(pred, target);
    const iou = cm.iou();
    expect(iou[0]).toBeCloseTo(3 / 4, 12);
    expect(iou[1]).toBe(1);
    expect(iou[2]).toBe(0); // predicted once, never in the target
    expect(iou[3]).toBeNaN(); // in neither
    // 'target': classes 0 and 1 only; 'union': also class 2 (its IoU 0), not class 3
    expect(cm.meanIoU()).toBeCloseTo((0.75 + 1) / 2, 12);
    expect(cm.meanIoU({ over: 'target' })).toBeCloseTo(0.875, 12);
    expect(cm.meanIoU({ over: 'union' })).toBeCloseTo((0.75 + 1 + 0) / 3, 12);
    expect(cm.meanIoU({ classes: [3] })).toBeNaN();
  });

  it('exclude drops the target rows of a class but keeps its column as misses', () => {
    const m = [
      [10, 2, 0, 2],
      [1, 6, 1, 0],
      [0, 0, 5, 2],
      [2, 0, 1, 3],
    ];
    const cm = new ConfusionMatrix(4);
    const { pred, target } = pixelsOf(m);
    cm.update(pred, target);
    const iou = cm.iou({ exclude: [0] });
    expect(iou[0]).toBeNaN();
    expect(iou[1]).toBeCloseTo(6 / 8, 12); // row 8, col (rows 1..3) 6
    expect(iou[2]).toBeCloseTo(5 / 9, 12); // row 7, col 7
    expect(iou[3]).toBeCloseTo(3 / 8, 12); // row 6, col 5
    expect(cm.pixelAccuracy({ exclude: [0] })).toBeCloseTo(14 / 21, 12);
    expect(cm.meanIoU({ exclude: [0] })).toBeCloseTo(121 / 216, 12);
  });

  it('skips ignore pixels whatever their prediction, with a custom ignoreIndex too', () => {
    const cm = new ConfusionMatrix(2);
    cm.update([255, 7, -3, 1], [255, 255, 255, 1]);
    expect(Array.from(cm.matrix)).toEqual([0, 0, 0, 1]);
    const cm2 = new ConfusionMatrix(2, { ignoreIndex: -1 });
    cm2.update([0, 1, 1], [-1, 0, 1]);
    expect(Array.from(cm2.matrix)).toEqual([0, 1, 0, 1]);
    expect(() => cm2.update([0], [255])).toThrow(/target value 255 at index 0/);
  });

  it('rejects out-of-range and non-integer ids naming the value, and leaves the matrix untouched', () => {
    const cm = new ConfusionMatrix(3);
    cm.update([0], [0]);
    expect(() => cm.update([0, 1, 2], [0, 1, 7])).toThrow(/target value 7 at index 2/);
    expect(() => cm.update([0, 3], [0, 1])).toThrow(/pred value 3 at index 1/);
    expect(() => cm.update([0, -1], [0, 1])).toThrow(/pred value -1/);
    expect(() => cm.update([1.5], [1])).toThrow(/pred value 1.5/);
    expect(() => cm.update([1], [NaN])).toThrow(/target value NaN/);
    expect(() => cm.update([1, 2], [1])).toThrow(/pred has 2 values but target has 1/);
    expect(Array.from(cm.matrix)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => new ConfusionMatrix(0)).toThrow(/numClasses/);
    expect(() => new ConfusionMatrix(300)).toThrow(/ignoreIndex 255 is a valid class id/);
    expect(() => cm.get(3, 0)).toThrow(/target class id 3/);
  });

  it('streaming over uneven batches equals one update on the concatenation; merge equals both', () => {
    const rnd = lcg(42);
    const k = 6;
    const n = 5000;
    const pred = new Uint8Array(n);
    const target = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      target[i] = rnd() < 0.1 ? 255 : Math.floor(rnd() * k);
      pred[i] = rnd() < 0.6 && target[i] !== 255 ? target[i] : Math.floor(rnd() * k);
    }
    const whole = new ConfusionMatrix(k);
    whole.update(pred, target);
    const streamed = new ConfusionMatrix(k);
    const a = new ConfusionMatrix(k);
    const b = new ConfusionMatrix(k);
    let start = 0;
    let batch = 0;
    while (start < n) {
      const end = Math.min(n, start + 1 + Math.floor(rnd() * 700));
      streamed.update(pred.subarray(start, end), target.subarray(start, end));
      (batch++ % 2 === 0 ? a : b).update(pred.subarray(start, end), target.subarray(start, end));
      start = end;
    }
    expect(batch).toBeGreaterThan(5);
    expect(Array.from(streamed.matrix)).toEqual(Array.from(whole.matrix));
    const merged = a.clone().merge(b);
    expect(Array.from(merged.matrix)).toEqual(Array.from(whole.matrix));
    expect(a.total()).toBeLessThan(whole.total());
    let ignored = 0;
    for (const t of target) if (t === 255) ignored++;
    expect(whole.total()).toBe(n - ignored);
    expect(() => a.merge(new ConfusionMatrix(k + 1))).toThrow(/numClasses differ/);
    expect(() => a.merge(new ConfusionMatrix(k, { ignoreIndex: 100 }))).toThrow(/ignoreIndex differs/);
  });

  it('reset, clone and JSON round trip', () => {
    const cm = new ConfusionMatrix(2);
    cm.update([0, 1, 1], [0, 0, 1]);
    const copy = ConfusionMatrix.fromJSON(JSON.parse(JSON.stringify(cm)));
    expect(Array.from(copy.matrix)).toEqual([1, 1, 0, 1]);
    const c = cm.clone();
    cm.reset();
    expect(cm.total()).toBe(0);
    expect(c.total()).toBe(3);
    expect(cm.pixelAccuracy()).toBeNaN();
    expect(() => ConfusionMatrix.fromJSON({ numClasses: 2, matrix: [1, 2, 3] })).toThrow(/4 entries/);
    expect(() => ConfusionMatrix.fromJSON({ numClasses: 2, matrix: [1, 2, 3, -1] })).toThrow(/matrix\[3\] = -1/);
  });
});
