/**
 * The release's preprocessing and evaluation protocol against the release's own code
 * (fixtures/release-loader.json, made by scripts/make-release-fixtures.py: its loader and its
 * test-time label resizing, run with OpenCV 4.6 on formula inputs with the random draws fixed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { maxPoolOutputLength, type Rng } from '@sign/core';
import { describe, expect, it } from 'vitest';
import {
  CAFFE_BGR_NORMALIZATION,
  RELEASE_TEST_PIPELINE,
  buildPipeline,
  labelsToGrid,
  normalize,
  releaseEvalInput,
  releasePipelines,
  releaseTrainPipeline,
  type Sample,
} from '../src/index';

interface Summary {
  sum: number;
  absSum: number;
  samples: Array<[number, number]>;
}
interface LabelSummary {
  counts: Record<string, number>;
  samples: Array<[number, number]>;
}
interface TrainCase {
  name: string;
  height: number;
  width: number;
  classes: number[];
  base: number;
  crop: number;
  warp: boolean;
  scale: [number, number];
  uScale: number;
  f: number;
  offsets: number[];
  ranges: number[];
  flipU: number;
  flipped: boolean;
  out: { height: number; width: number; image: string | Summary; label: string | LabelSummary };
}
interface EvalCase {
  name: string;
  height: number;
  width: number;
  classes: number[];
  warp: boolean;
  base: number;
  input: { height: number; width: number; image: Summary; label: LabelSummary };
  grid: { height: number; width: number; label: string };
}
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'release-loader.json'), 'utf8')) as {
  mean: number[];
  train: TrainCase[];
  trainFull: TrainCase;
  eval: EvalCase[];
  grid: Array<[number, number, number, number]>;
};

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const floats = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

/** The fixture's input rule (its `inputRule`), as the script computes it. */
function formulaSample(height: number, width: number, classes: number[], id = 'formula'): Sample {
  const image = new Uint8Array(height * width * 3);
  const label = new Uint8Array(height * width);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < 3; k++) image[(y * width + x) * 3 + k] = (3 * x + 5 * y + 70 * k + ((x * x + 3 * y * y + 7 * x * y + 11 * k) % 41)) % 256;
      let v = classes[Math.floor((x * classes.length) / width)]!;
      if (16 * (3 * y - height) ** 2 + 36 * (2 * x - width) ** 2 < 9 * Math.min(height, width) ** 2) v = classes[classes.length - 1]!;
      if ((31 * x + 17 * y) % 53 === 0) v = 255;
      label[y * width + x] = v;
    }
  return { id, height, width, channels: 3, image, label };
}

/** An rng that answers with the fixture's draws, checking the ranges asked for. */
function replay(c: TrainCase): Rng {
  const uniforms = [c.uScale, c.flipU];
  const ints = [...c.offsets];
  const ranges = [...c.ranges];
  const rng = {
    uniform: () => {
      const u = uniforms.shift();
      if (u === undefined) throw new Error('more uniform draws than the release made');
      return u;
    },
    int: (n: number) => {
      expect(n, 'the crop offset range').toBe(ranges.shift());
      return ints.shift()!;
    },
    fork: () => rng,
  };
  return rng as unknown as Rng;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function expectSummary(a: Float32Array, s: Summary): void {
  let sum = 0;
  let absSum = 0;
  for (const v of a) {
    sum += v;
    absSum += Math.abs(v);
  }
  expect(Math.abs(sum - s.sum)).toBeLessThan(1e-6 * s.absSum + 1e-3);
  expect(Math.abs(absSum - s.absSum)).toBeLessThan(1e-6 * s.absSum + 1e-3);
  for (const [i, v] of s.samples) expect(Math.abs(a[i]! - v), `value ${i}`).toBeLessThan(1e-4);
}

function expectLabelSummary(a: Uint8Array, s: LabelSummary): void {
  const counts: Record<string, number> = {};
  for (const v of a) counts[v] = (counts[v] ?? 0) + 1;
  expect(counts).toEqual(s.counts);
  for (const [i, v] of s.samples) expect(a[i], `label ${i}`).toBe(v);
}

describe('the release pipelines', () => {
  it('are data: normalise first, resize to 513 (warp), scale–pad–crop, flip', () => {
    expect(releaseTrainPipeline()).toEqual([
      { type: 'normalize' },
      { type: 'resize', height: 513, width: 513 },
      { type: 'randomScaleCrop', min: 0.5, max: 1.5, height: 368, width: 368 },
      { type: 'flip' },
    ]);
    expect(releaseTrainPipeline({ crop: 328, warp: false })[1]).toEqual({ type: 'resize', longSide: 513, rounding: 'floor' });
    expect(releasePipelines(328).selfTraining[2]).toEqual({ type: 'randomScaleCrop', min: 0.5, max: 1.5, height: 328, width: 328 });
    expect(releasePipelines(328).test).toEqual([{ type: 'normalize' }]);
    expect(RELEASE_TEST_PIPELINE).toEqual([{ type: 'normalize' }]);
    expect(CAFFE_BGR_NORMALIZATION).toEqual({ order: 'bgr', scale: 1, mean: fixture.mean, std: [1, 1, 1] });
  });

  for (const c of fixture.train) {
    it(`match the release's loader: ${c.name}`, () => {
      expect(c.scale[0] + (c.scale[1] - c.scale[0]) * c.uScale).toBe(c.f); // the same factor from the same draw
      const t = buildPipeline(releaseTrainPipeline({ crop: c.crop, base: c.base, warp: c.warp, scale: c.scale }), { normalization: CAFFE_BGR_NORMALIZATION, ignoreIndex: 255 });
      const out = t(formulaSample(c.height, c.width, c.classes), replay(c));
      expect([out.height, out.width]).toEqual([c.out.height, c.out.width]);
      expect(Array.from(out.label)).toEqual(Array.from(bytes(c.out.label as string)));
      expect(out.image).toBeInstanceOf(Float32Array);
      expect(maxAbsDiff(out.image as Float32Array, floats(c.out.image as string))).toBeLessThan(1e-4);
    });
  }

  it("match the release's loader at its own sizes (333×500 → 513×513, f 0.625, crop 368, flip)", () => {
    const c = fixture.trainFull;
    const t = buildPipeline(releaseTrainPipeline(), { normalization: CAFFE_BGR_NORMALIZATION, ignoreIndex: 255 });
    const out = t(formulaSample(c.height, c.width, c.classes), replay(c));
    expect([out.height, out.width]).toEqual([368, 368]);
    expectSummary(out.image as Float32Array, c.out.image as Summary);
    expectLabelSummary(out.label, c.out.label as LabelSummary);
  });
});

describe("the release's evaluation protocol (data side)", () => {
  for (const c of fixture.eval) {
    it(`releaseEvalInput and labelsToGrid match the release's test path: ${c.name}`, () => {
      const raw = formulaSample(c.height, c.width, c.classes);
      const normalised = normalize(CAFFE_BGR_NORMALIZATION)(raw, undefined as never);
      const input = releaseEvalInput(normalised, { warp: c.warp });
      expect([input.height, input.width]).toEqual([c.input.height, c.input.width]);
      expectSummary(input.image as Float32Array, c.input.image);
      expectLabelSummary(input.label, c.input.label);
      // the same from the raw sample, normalised on the way
      expect(maxAbsDiff(releaseEvalInput(raw, { warp: c.warp, normalization: CAFFE_BGR_NORMALIZATION }).image as Float32Array, input.image as Float32Array)).toBe(0);
      const grid = labelsToGrid(input.label, input.height, input.width, c.grid.height, c.grid.width);
      expect(grid.length).toBe(c.grid.height * c.grid.width);
      expect(Array.from(grid)).toEqual(Array.from(bytes(c.grid.label)));
      expect(normalised.label).toBe(raw.label); // the sample keeps its own labels (the standard protocol)
    });
  }

  it('refuses an unnormalised sample without a normalization, naming it', () => {
    expect(() => releaseEvalInput(formulaSample(5, 7, [1, 2], 'img-7'))).toThrow(/sample 'img-7' is not normalised/);
    expect(() => labelsToGrid(new Float32Array(4) as never, 2, 2, 1, 1)).toThrow(/Uint8Array/);
  });

  it('the feature grid is not ⌊H/8⌋: PyTorch with the release backbone geometry (7×7/2 conv, ceil-mode 3×3/2 pool, 1×1/2 conv)', () => {
    // The rule of deeplabv2-resnet101's outputShape (@sign/backbones), which the eval code calls; checked here against PyTorch's sizes.
    const side = (n: number) => Math.ceil(maxPoolOutputLength(Math.ceil(n / 2), 3, 2, 1, true) / 2);
    for (const [h, w, gh, gw] of fixture.grid) expect([side(h), side(w)], `${h}×${w}`).toEqual([gh, gw]);
    expect(fixture.grid.find(([h]) => h === 513)).toEqual([513, 513, 65, 65]);
    expect(Math.floor(513 / 8)).toBe(64);
  });
});
