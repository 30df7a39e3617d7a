import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resize, scaledSize } from '../src/index';

interface Case {
  interpolation: 'linear' | 'nearest';
  dtype: 'uint8' | 'float32';
  channels: number;
  factor?: number;
  src: { height: number; width: number; data: string };
  dst: { height: number; width: number; data: string };
}

const fixtures = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'opencv-resize.json'), 'utf8')) as { opencv: string; cases: Case[] };

function decode(b64: string, dtype: Case['dtype']): Uint8Array | Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return dtype === 'uint8' ? bytes : new Float32Array(bytes.buffer);
}

function label(c: Case): string {
  const to = c.factor !== undefined ? `fx=fy=${c.factor}` : `${c.dst.height}x${c.dst.width}`;
  return `${c.interpolation} ${c.dtype} ${c.src.height}x${c.src.width}x${c.channels} -> ${to}`;
}

/** Max |ours − OpenCV| and how many values differ. */
function compare(c: Case): { maxError: number; differing: number; total: number } {
  const src = decode(c.src.data, c.dtype);
  const want = decode(c.dst.data, c.dtype);
  const size = c.factor !== undefined ? scaledSize(c.src.height, c.src.width, c.factor) : { height: c.dst.height, width: c.dst.width };
  expect(size).toEqual({ height: c.dst.height, width: c.dst.width });
  const opts = c.factor !== undefined ? { fx: c.factor, fy: c.factor } : {};
  const got = resize(src, c.src.height, c.src.width, c.channels, size.height, size.width, c.interpolation, opts);
  expect(got.constructor).toBe(src.constructor);
  expect(got.length).toBe(want.length);
  let maxError = 0;
  let differing = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (e > 0) differing++;
    maxError = Math.max(maxError, e);
  }
  return { maxError, differing, total: got.length };
}

describe(`resize matches cv2.resize (OpenCV ${fixtures.opencv} fixtures)`, () => {
  it('has fixtures for both interpolations, 1 and 3 channels, up and down, factors', () => {
    expect(fixtures.cases.length).toBeGreaterThanOrEqual(40);
    const kinds = new Set(fixtures.cases.map((c) => `${c.interpolation}/${c.channels}/${c.dtype}`));
    for (const k of ['linear/1/uint8', 'linear/3/uint8', 'nearest/1/uint8', 'nearest/3/uint8', 'linear/1/float32', 'linear/3/float32']) expect(kinds).toContain(k);
  });
  for (const c of fixtures.cases) {
    it(label(c), () => {
      const { maxError } = compare(c);
      if (c.interpolation === 'nearest') expect(maxError).toBe(0);
      else if (c.dtype === 'uint8') expect(maxError).toBeLessThanOrEqual(1);
      else expect(maxError).toBeLessThanOrEqual(1e-6);
    });
  }
  it('is bit-exact on every uint8 bilinear fixture (the fixed-point emulation, measured)', () => {
    const report = fixtures.cases.filter((c) => c.interpolation === 'linear' && c.dtype === 'uint8').map((c) => ({ c: label(c), ...compare(c) }));
    expect(report.filter((r) => r.differing > 0)).toEqual([]);
  });
});
