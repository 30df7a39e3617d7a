import { describe, expect, it } from 'vitest';
import { ConfusionMatrix, gzs3Metrics, harmonicMean } from '@sign/metrics';

function fromMatrix(m: number[][]): ConfusionMatrix {
  const cm = new ConfusionMatrix(m.length);
  const pred: number[] = [];
  const target: number[] = [];
  m.forEach((row, t) => row.forEach((n, p) => { for (let i = 0; i < n; i++) { pred.push(p); target.push(t); } }));
  cm.update(pred, target);
  return cm;
}

// 0 = background, 1 and 2 seen, 3 unseen. Rows = target, cols = pred.
const M = [
  [10, 2, 0, 2],
  [1, 6, 1, 0],
  [0, 0, 5, 2],
  [2, 0, 1, 3],
];

describe('gzs3Metrics', () => {
  it('CaGNet/SIGN protocol: background excluded (its target pixels ignored)', () => {
    const r = gzs3Metrics(fromMatrix(M), { seen: [1, 2], unseen: [3], background: 0 });
    // rows 1..3 only: row sums 8, 7, 6; column sums over those rows 3, 6, 7, 5
    // IoU1 = 6/8, IoU2 = 5/9, IoU3 = 3/8
    const s = (3 / 4 + 5 / 9) / 2; // 47/72
    const u = 3 / 8;
    expect(r.perClassIoU[0]).toBeNaN();
    expect(r.perClassIoU[1]).toBeCloseTo(75, 10);
    expect(r.perClassIoU[2]).toBeCloseTo((5 / 9) * 100, 10);
    expect(r.perClassIoU[3]).toBeCloseTo(37.5, 10);
    expect(r.mIoUSeen).toBeCloseTo((47 / 72) * 100, 10);
    expect(r.mIoUUnseen).toBeCloseTo(37.5, 10);
    expect(r.hIoU).toBeCloseTo((141 / 296) * 100, 10); // 2su/(s+u)
    expect(r.hIoU).toBeCloseTo(((2 * s * u) / (s + u)) * 100, 10);
    expect(r.mIoU).toBeCloseTo((121 / 216) * 100, 10);
    expect(r.pixelAccuracy).toBeCloseTo((14 / 21) * 100, 10);
    // the default protocol is the CaGNet/SIGN one
    expect(gzs3Metrics(fromMatrix(M), { seen: [1, 2], unseen: [3], background: 0, countBackground: false })).toEqual(r);
  });

  it('ZS3Net protocol: background counted as a seen class', () => {
    const r = gzs3Metrics(fromMatrix(M), { seen: [1, 2], unseen: [3], background: 0, countBackground: true });
    // full matrix: row sums 14, 8, 7, 6; column sums 13, 8, 7, 7
    // IoU0 = 10/17, IoU1 = 6/10, IoU2 = 5/9, IoU3 = 3/10
    const s = (10 / 17 + 6 / 10 + 5 / 9) / 3; // 2668/4590
    const u = 3 / 10;
    expect(r.perClassIoU[0]).toBeCloseTo((10 / 17) * 100, 10);
    expect(r.perClassIoU[1]).toBeCloseTo(60, 10);
    expect(r.perClassIoU[2]).toBeCloseTo((5 / 9) * 100, 10);
    expect(r.perClassIoU[3]).toBeCloseTo(30, 10);
    expect(r.mIoUSeen).toBeCloseTo((2668 / 4590) * 100, 10);
    expect(r.mIoUUnseen).toBeCloseTo(30, 10);
    expect(r.hIoU).toBeCloseTo(((2 * s * u) / (s + u)) * 100, 10);
    expect(r.hIoU).toBeCloseTo(39.5747, 3);
    expect(r.mIoU).toBeCloseTo((3127 / 6120) * 100, 10);
    expect(r.pixelAccuracy).toBeCloseTo((24 / 35) * 100, 10);
    // listing the background among the seen classes is the same thing
    expect(gzs3Metrics(fromMatrix(M), { seen: [0, 1, 2], unseen: [3], background: 0, countBackground: true })).toEqual(r);
  });

  it('a dataset without background: every class is seen or unseen', () => {
    const cm = fromMatrix([
      [5, 1, 0],
      [2, 3, 1],
      [0, 0, 4],
    ]);
    const r = gzs3Metrics(cm, { seen: [0, 1], unseen: [2] });
    expect(r.mIoUSeen).toBeCloseTo((59 / 112) * 100, 10);
    expect(r.mIoUUnseen).toBeCloseTo(80, 10);
    expect(r.hIoU).toBeCloseTo((472 / 743) * 100, 10);
    expect(r.mIoU).toBeCloseTo((519 / 840) * 100, 10);
    expect(r.pixelAccuracy).toBeCloseTo(75, 10);
  });

  it('means skip classes absent from the target (or use union with over)', () => {
    // class 3 (unseen) never in the target but predicted once; class 2 (unseen) absent everywhere
    const cm = fromMatrix([
      [4, 0, 0, 0],
      [0, 3, 0, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    const r = gzs3Metrics(cm, { seen: [0, 1], unseen: [2, 3] });
    expect(r.perClassIoU[2]).toBeNaN();
    expect(r.perClassIoU[3]).toBe(0);
    expect(r.mIoUSeen).toBeCloseTo((1 + 3 / 4) / 2 * 100, 10);
    expect(r.mIoUUnseen).toBeNaN();
    expect(r.hIoU).toBeNaN();
    const ru = gzs3Metrics(cm, { seen: [0, 1], unseen: [2, 3], over: 'union' });
    expect(ru.mIoUUnseen).toBe(0);
    expect(ru.hIoU).toBe(0);
    expect(ru.mIoU).toBeCloseTo((1 + 0.75 + 0) / 3 * 100, 10);
  });

  it('a perfect prediction scores 100 everywhere; all wrong scores 0', () => {
    const perfect = fromMatrix([[3, 0, 0], [0, 2, 0], [0, 0, 5]]);
    const p = gzs3Metrics(perfect, { seen: [1], unseen: [2], background: 0 });
    expect([p.mIoUSeen, p.mIoUUnseen, p.hIoU, p.mIoU, p.pixelAccuracy]).toEqual([100, 100, 100, 100, 100]);
    const wrong = fromMatrix([[0, 3, 0], [0, 0, 2], [0, 5, 0]]);
    const w = gzs3Metrics(wrong, { seen: [1], unseen: [2], background: 0 });
    expect([w.mIoUSeen, w.mIoUUnseen, w.hIoU, w.mIoU, w.pixelAccuracy]).toEqual([0, 0, 0, 0, 0]);
  });

  it('rejects bad class lists with a message naming the class', () => {
    const cm = new ConfusionMatrix(4);
    expect(() => gzs3Metrics(cm, { seen: [1, 2], unseen: [2, 3], background: 0 })).toThrow(/class id 2 is listed in seen and again in unseen/);
    expect(() => gzs3Metrics(cm, { seen: [1, 2], unseen: [3] })).toThrow(/class ids 0 are in none/);
    expect(() => gzs3Metrics(cm, { seen: [1, 2], unseen: [4], background: 0 })).toThrow(/unseen class id 4 is not in \[0, 4\)/);
    expect(() => gzs3Metrics(cm, { seen: [0, 1, 2], unseen: [3], background: 0 })).toThrow(/background 0 is listed in seen/);
    expect(() => gzs3Metrics(cm, { seen: [1, 2], unseen: [0, 3], background: 0, countBackground: true })).toThrow(/background 0 is listed in unseen/);
    expect(() => gzs3Metrics(cm, { seen: [0, 1, 2], unseen: [3], countBackground: true })).toThrow(/needs the background class id/);
  });

  it('harmonicMean', () => {
    expect(harmonicMean(80, 20)).toBe(32);
    expect(harmonicMean(0, 0)).toBe(0);
    expect(harmonicMean(50, NaN)).toBeNaN();
  });
});
