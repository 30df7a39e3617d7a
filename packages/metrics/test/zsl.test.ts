import { describe, expect, it } from 'vitest';
import { ConfusionMatrix, restrictedArgmax, unseenTargets, zslMetrics } from '@sign/metrics';

describe('restrictedArgmax', () => {
  it('picks the best of the listed classes only, first listed on ties', () => {
    // 3 pixels × 4 classes; the overall argmax is class 1, 2, 0 but only 2 and 3 may win
    const scores = [0.1, 0.5, 0.1, 0.3, 0.1, 0.1, 0.7, 0.1, 0.9, 0.0, 0.05, 0.05];
    expect([...restrictedArgmax(scores, 4, [2, 3])]).toEqual([3, 2, 2]);
    expect([...restrictedArgmax(scores, 4, [3, 2])]).toEqual([3, 2, 3]);
    expect([...restrictedArgmax([-1, -5, -2], 3, [1, 2])]).toEqual([2]);
  });
  it('rejects bad shapes and ids, naming them', () => {
    expect(() => restrictedArgmax([1, 2, 3], 2, [0])).toThrow(/3 values, not a multiple of numClasses 2/);
    expect(() => restrictedArgmax([1, 2], 2, [2])).toThrow(/class id 2 is not in \[0, 2\)/);
    expect(() => restrictedArgmax([1, 2], 2, [])).toThrow(/classes is empty/);
  });
});

describe('unseenTargets', () => {
  it('keeps unseen targets and ignores the rest', () => {
    expect([...unseenTargets([0, 3, 255, 2, 1], [3, 1])]).toEqual([255, 3, 255, 255, 1]);
    expect([...unseenTargets([0, 3], [3], 99)]).toEqual([99, 3]);
  });
});

describe('zslMetrics', () => {
  // unseen classes 2 and 3 of 4; rows = truth, cols = prediction among the unseen
  // truth 2: 6 → 2, 2 → 3; truth 3: 1 → 2, 3 → 3
  function filled(): ConfusionMatrix {
    const cm = new ConfusionMatrix(4);
    const pred = [2, 2, 2, 2, 2, 2, 3, 3, 2, 3, 3, 3];
    const truth = [2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3];
    cm.update(pred, truth);
    return cm;
  }
  it('computes IoU per unseen class, their mean and the accuracy by hand', () => {
    const m = zslMetrics(filled(), [2, 3]);
    // class 2: tp 6, fn 2, fp 1 → 6/9; class 3: tp 3, fn 1, fp 2 → 3/6
    expect(m.perClassIoU[0]).toBeCloseTo((100 * 6) / 9, 10);
    expect(m.perClassIoU[1]).toBeCloseTo(50, 10);
    expect(m.mIoU).toBeCloseTo((100 * 6) / 9 / 2 + 25, 10);
    expect(m.pixelAccuracy).toBeCloseTo((100 * 9) / 12, 10);
    expect(m.pixels).toBe(12);
  });
  it('follows the order of unseen and skips absent classes in the mean', () => {
    const m = zslMetrics(filled(), [3, 2, 1]);
    expect(m.perClassIoU[0]).toBeCloseTo(50, 10);
    expect(Number.isNaN(m.perClassIoU[2])).toBe(true);
    expect(m.mIoU).toBeCloseTo(((100 * 6) / 9 + 50) / 2, 10);
  });
  it('works end to end from scores and truth', () => {
    const cm = new ConfusionMatrix(4);
    const probs = [0.1, 0.5, 0.1, 0.3, 0.1, 0.1, 0.7, 0.1, 0.1, 0.2, 0.3, 0.4, 0.9, 0.05, 0.03, 0.02];
    cm.update(restrictedArgmax(probs, 4, [2, 3]), unseenTargets([3, 2, 2, 0], [2, 3]));
    const m = zslMetrics(cm, [2, 3]);
    expect(m.pixels).toBe(3);
    expect(m.pixelAccuracy).toBeCloseTo(200 / 3, 10);
    expect(m.perClassIoU).toEqual([50, 50]);
  });
  it('refuses a matrix that counts seen pixels or seen predictions, and bad ids', () => {
    const cm = new ConfusionMatrix(4);
    cm.update([1], [2]);
    expect(() => zslMetrics(cm, [2, 3])).toThrow(/predictions of class 1, which is not unseen/);
    const cm2 = new ConfusionMatrix(4);
    cm2.update([2], [0]);
    expect(() => zslMetrics(cm2, [2, 3])).toThrow(/pixels of class 0, which is not unseen/);
    expect(() => zslMetrics(cm2, [])).toThrow(/unseen is empty/);
    expect(() => zslMetrics(cm2, [4])).toThrow(/unseen class id 4 is not in \[0, 4\)/);
    expect(() => zslMetrics(cm2, [2, 2])).toThrow(/listed twice/);
  });
  it('gives NaN on an empty matrix', () => {
    const m = zslMetrics(new ConfusionMatrix(4), [2, 3]);
    expect(Number.isNaN(m.mIoU) && Number.isNaN(m.pixelAccuracy)).toBe(true);
    expect(m.pixels).toBe(0);
  });
});
