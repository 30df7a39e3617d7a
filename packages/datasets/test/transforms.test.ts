import { Rng } from '@sign/core';
import { describe, expect, it } from 'vitest';
import {
  IGNORE_INDEX,
  buildPipeline,
  compose,
  flip,
  normalize,
  pad,
  randomCrop,
  randomScale,
  randomScaleCrop,
  resize,
  resizeLongSide,
  resizeTo,
  scaledSize,
  transformConfigSchema,
  type Normalization,
  type Sample,
} from '../src/index';

/** A 2×3 RGB sample with distinct values, labels 0..5. */
function rgbSample(): Sample {
  return {
    id: 's',
    height: 2,
    width: 3,
    channels: 3,
    image: Uint8Array.from({ length: 18 }, (_, i) => i * 10),
    label: Uint8Array.from([0, 1, 2, 3, 4, 5]),
  };
}

function greySample(h: number, w: number): Sample {
  return { id: 'g', height: h, width: w, channels: 1, image: Uint8Array.from({ length: h * w }, (_, i) => i % 256), label: Uint8Array.from({ length: h * w }, (_, i) => i % 7) };
}

const identityGrey: Normalization = { order: 'grey', scale: 1, mean: [0], std: [1] };

describe('resizeLongSide', () => {
  it('scales the longer side to longSide, keeps the aspect ratio (⌊side·s + 0.5⌋), image bilinear and labels nearest as resize()', () => {
    const s = greySample(30, 40);
    const out = resizeLongSide(20)(s, new Rng(0));
    expect([out.height, out.width]).toEqual([15, 20]);
    expect(Array.from(out.image)).toEqual(Array.from(resize(s.image, 30, 40, 1, 15, 20, 'linear')));
    expect(Array.from(out.label)).toEqual(Array.from(resize(s.label, 30, 40, 1, 15, 20, 'nearest')));
    // 7×5 → long side 10: 10 × round(5·10/7 = 7.14) = 7
    const odd = resizeLongSide(10)(greySample(7, 5), new Rng(0));
    expect([odd.height, odd.width]).toEqual([10, 7]);
    expect(s.image[0]).toBe(0); // input untouched
  });
  it('labels keep only values that were there (nearest)', () => {
    const s = greySample(9, 13);
    const out = resizeLongSide(31)(s, new Rng(0));
    const before = new Set(s.label);
    for (const v of out.label) expect(before.has(v)).toBe(true);
  });
});

describe('resizeTo and the release\'s long-side rounding', () => {
  it('resizeTo warps to height×width (aspect not kept), as resize()', () => {
    const s = greySample(7, 11);
    const out = resizeTo(13, 9)(s, new Rng(0));
    expect([out.height, out.width]).toEqual([13, 9]);
    expect(Array.from(out.image)).toEqual(Array.from(resize(s.image, 7, 11, 1, 13, 9, 'linear')));
    expect(Array.from(out.label)).toEqual(Array.from(resize(s.label, 7, 11, 1, 13, 9, 'nearest')));
    expect(() => resizeTo(0, 3)).toThrow(/resize: height must be a positive integer/);
  });
  it("'floor' gives the shorter side ⌊long·short/longer⌋ as the release's loader, where 'round' rounds", () => {
    const wide = greySample(333, 500);
    const tall = greySample(500, 333);
    expect([resizeLongSide(513, 'floor')(wide, new Rng(0)).height, resizeLongSide(513, 'round')(wide, new Rng(0)).height]).toEqual([341, 342]); // 513·333/500 = 341.66
    const t = resizeLongSide(513, 'floor')(tall, new Rng(0));
    expect([t.height, t.width]).toEqual([513, 341]);
    const sq = resizeLongSide(513, 'floor')(greySample(20, 20), new Rng(0));
    expect([sq.height, sq.width]).toEqual([513, 513]);
    expect(() => resizeLongSide(513, 'ceil' as never)).toThrow(/rounding must be 'round' or 'floor'/);
  });
});

describe('randomScaleCrop', () => {
  it('always gives the crop size; labels are input labels or ignore (the centred padding); the factor is drawn in [min, max]', () => {
    const s = greySample(20, 26);
    const t = randomScaleCrop(0.5, 1.5, 12, 30);
    const seenIgnore = { yes: false };
    for (let i = 0; i < 40; i++) {
      const out = t(s, new Rng(i));
      expect([out.height, out.width]).toEqual([12, 30]);
      for (const v of out.label) {
        expect(v === IGNORE_INDEX || v < 7).toBe(true);
        if (v === IGNORE_INDEX) seenIgnore.yes = true;
      }
    }
    expect(seenIgnore.yes).toBe(true); // 30 > 26: always some padding columns
    expect(Array.from(t(s, new Rng(3)).image)).toEqual(Array.from(t(s, new Rng(3)).image)); // same rng, same crop
    expect(() => randomScaleCrop(2, 1, 4, 4)).toThrow(/0 < min ≤ max/);
  });
  it('pads a shrunken sample centred back to its size before scaling (not only to the crop)', () => {
    // f = 0.5 exactly: a 20×20 sample becomes 10×10, centred in 20×20 (5 ignore rows / columns each side); crop 20×20 = all of it
    const s = greySample(20, 20);
    const out = randomScaleCrop(0.5, 0.5, 20, 20)(s, new Rng(0));
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 20; x++) {
        const inside = y >= 5 && y < 15 && x >= 5 && x < 15;
        expect(out.label[y * 20 + x] === IGNORE_INDEX, `${y},${x}`).toBe(!inside);
      }
    expect(out.image[0]).toBe(0);
  });
});

describe('randomScale', () => {
  it('draws one factor in [min, max] and resizes as cv2.resize(fx=f, fy=f)', () => {
    const s = greySample(20, 30);
    const rng = new Rng(5);
    const f = 0.5 + 1.5 * new Rng(5).uniform();
    const out = randomScale(0.5, 2)(s, rng);
    const size = scaledSize(20, 30, f);
    expect([out.height, out.width]).toEqual([size.height, size.width]);
    expect(Array.from(out.image)).toEqual(Array.from(resize(s.image, 20, 30, 1, size.height, size.width, 'linear', { fx: f, fy: f })));
    // the same rng position gives the same result
    expect(Array.from(randomScale(0.5, 2)(s, new Rng(5)).label)).toEqual(Array.from(out.label));
  });
  it('rejects bad ranges', () => {
    expect(() => randomScale(2, 1)).toThrow(/0 < min ≤ max/);
    expect(() => randomScale(0, 1)).toThrow(/0 < min ≤ max/);
  });
});

describe('randomCrop', () => {
  it('pads smaller samples bottom/right (image 0, labels 255) and then crops at a drawn corner', () => {
    const s = rgbSample();
    const out = randomCrop(3, 4)(s, new Rng(1));
    // 2×3 padded to 3×4: the only window is the whole padded sample
    expect([out.height, out.width, out.channels]).toEqual([3, 4, 3]);
    expect(Array.from(out.label)).toEqual([0, 1, 2, 255, 3, 4, 5, 255, 255, 255, 255, 255]);
    expect(Array.from(out.image.subarray(0, 12))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 0, 0, 0]);
    expect(Array.from(out.image.subarray(24))).toEqual(new Array(12).fill(0));
  });
  it('takes the window at (rng.int(H − h + 1), rng.int(W − w + 1))', () => {
    const s = greySample(10, 12);
    for (const seed of [0, 1, 2, 3]) {
      const r = new Rng(seed);
      const top = r.int(10 - 4 + 1);
      const left = r.int(12 - 5 + 1);
      const out = randomCrop(4, 5)(s, new Rng(seed));
      expect([out.height, out.width]).toEqual([4, 5]);
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 5; x++) {
          expect(out.image[y * 5 + x]).toBe(s.image[(top + y) * 12 + left + x]);
          expect(out.label[y * 5 + x]).toBe(s.label[(top + y) * 12 + left + x]);
        }
    }
  });
  it('uses the ignore index it is given', () => {
    expect(Array.from(randomCrop(1, 4, 99)(greySample(1, 2), new Rng(0)).label)).toEqual([0, 1, 99, 99]);
  });
});

describe('flip', () => {
  it('mirrors image (per pixel, channels kept in order) and labels', () => {
    const out = flip(1)(rgbSample(), new Rng(0));
    expect(Array.from(out.label)).toEqual([2, 1, 0, 5, 4, 3]);
    expect(Array.from(out.image.subarray(0, 9))).toEqual([60, 70, 80, 30, 40, 50, 0, 10, 20]);
  });
  it('flips with the given probability (one draw per call)', () => {
    const rng = new Rng(3);
    let flipped = 0;
    for (let i = 0; i < 1000; i++) if (flip(0.3)(rgbSample(), rng).label[0] === 2) flipped++;
    expect(flipped).toBeGreaterThan(250);
    expect(flipped).toBeLessThan(350);
    expect(flip(0)(rgbSample(), rng).label[0]).toBe(0);
  });
});

describe('normalize', () => {
  it('rgb: (x·scale − mean) / std per channel, float32', () => {
    const n: Normalization = { order: 'rgb', scale: 1 / 255, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] };
    const out = normalize(n)(rgbSample(), new Rng(0));
    expect(out.image).toBeInstanceOf(Float32Array);
    const x = (v: number, k: number) => Math.fround((v / 255 - n.mean[k]!) / n.std[k]!);
    expect(Array.from(out.image.subarray(0, 6))).toEqual([x(0, 0), x(10, 1), x(20, 2), x(30, 0), x(40, 1), x(50, 2)]);
  });
  it("bgr: channel c of the output is channel 2 − c of the (RGB) input, as Caffe models expect", () => {
    const out = normalize({ order: 'bgr', scale: 1, mean: [100, 10, 1], std: [1, 1, 1] })(rgbSample(), new Rng(0));
    expect(Array.from(out.image.subarray(0, 3))).toEqual([20 - 100, 10 - 10, 0 - 1]);
  });
  it('identity on grey floats leaves values bit-identical', () => {
    const img = Float32Array.from([0, 0.1, 0.7, 1]);
    const out = normalize(identityGrey)({ id: 'f', height: 2, width: 2, channels: 1, image: img, label: new Uint8Array(4) }, new Rng(0));
    expect(Array.from(out.image)).toEqual(Array.from(img));
  });
  it('checks the normalization against the channels', () => {
    expect(() => normalize({ order: 'rgb', scale: 1, mean: [0], std: [1] })).toThrow(/mean: expected 3/);
    expect(() => normalize({ order: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 0, 1] })).toThrow(/std: expected 3 positive/);
    expect(() => normalize(identityGrey)(rgbSample(), new Rng(0))).toThrow(/has 3 channel\(s\), the normalization \('grey'\) expects 1/);
  });
});

describe('pad', () => {
  it('pads bottom/right to at least the size; larger samples pass', () => {
    const out = pad(3, 3)(greySample(2, 2), new Rng(0));
    expect(Array.from(out.label)).toEqual([0, 1, IGNORE_INDEX, 2, 3, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
    expect(Array.from(out.image)).toEqual([0, 1, 0, 2, 3, 0, 0, 0, 0]);
    const big = greySample(5, 5);
    expect(pad(3, 3)(big, new Rng(0))).toBe(big);
  });
});

describe('pipelines as data', () => {
  it('compose applies in order; buildPipeline appends normalize when missing', () => {
    const s = greySample(8, 8);
    const t = buildPipeline([{ type: 'flip', probability: 1 }, { type: 'pad', height: 9, width: 8 }], { normalization: { order: 'grey', scale: 0.5, mean: [1], std: [2] }, ignoreIndex: 255 });
    const out = t(s, new Rng(0));
    const manual = compose([flip(1), pad(9, 8), normalize({ order: 'grey', scale: 0.5, mean: [1], std: [2] })])(s, new Rng(0));
    expect(out.image).toBeInstanceOf(Float32Array);
    expect(Array.from(out.image)).toEqual(Array.from(manual.image));
    expect(Array.from(out.label)).toEqual(Array.from(manual.label));
    expect(out.image[0]).toBeCloseTo((7 * 0.5 - 1) / 2, 6);
    expect(out.image[8 * 8]).toBeCloseTo((0 - 1) / 2, 6); // padded row: 0 before normalising
  });
  it('the schema is strict and discriminated on type', () => {
    expect(transformConfigSchema.safeParse({ type: 'randomCrop', height: 64, width: 64 }).success).toBe(true);
    const bad = transformConfigSchema.safeParse({ type: 'randomCrop', height: 64, widht: 64 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.code).sort()).toEqual(['invalid_type', 'unrecognized_keys']);
    expect(transformConfigSchema.safeParse({ type: 'randomScale', min: 2, max: 1 }).error!.issues[0]!.message).toMatch(/min must not exceed max/);
    expect(transformConfigSchema.safeParse({ type: 'blur' }).success).toBe(false);
    expect(() => buildPipeline([{ type: 'resize', longSide: 0 }], { normalization: identityGrey, ignoreIndex: 255 })).toThrow(/pipeline\[0\]\.longSide/);
  });
  it('resize takes longSide (with rounding) or height and width, not both', () => {
    const msg = (t: unknown) => transformConfigSchema.safeParse(t).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(msg({ type: 'resize', longSide: 513, rounding: 'floor' })).toBeUndefined();
    expect(msg({ type: 'resize', height: 513, width: 513 })).toBeUndefined();
    expect(msg({ type: 'resize', longSide: 513, height: 513, width: 513 })).toEqual(['longSide: give either longSide, or height and width']);
    expect(msg({ type: 'resize', height: 513 })).toEqual(['width: height and width go together']);
    expect(msg({ type: 'resize', height: 5, width: 5, rounding: 'floor' })).toEqual(['rounding: rounding applies to longSide only']);
    expect(msg({ type: 'resize' })).toEqual(['longSide: give either longSide, or height and width']);
    const out = buildPipeline([{ type: 'resize', height: 4, width: 6 }, { type: 'randomScaleCrop', min: 1, max: 1, height: 3, width: 3 }], { normalization: identityGrey, ignoreIndex: 255 })(greySample(9, 9), new Rng(0));
    expect([out.height, out.width]).toEqual([3, 3]);
  });
});
