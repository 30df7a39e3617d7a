import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { absolutePositionalEncoding, relativePositionalEncoding } from '../src/index';

const parityDir = path.resolve(__dirname, '../../../../shared/fixtures/parity');
const fixturePath = path.join(parityDir, 'relativePositionalEncoding.json');

interface RpeCase {
  channels: number;
  height: number;
  width: number;
  standardLength: number;
  expected: number[][][];
}

function maxTolViolation(actual: Float32Array | number[], expected: number[]): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const tol = Math.max(1e-4, 1e-4 * Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / tol);
  }
  return worst; // <= 1 means within tolerance
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`positional encodings on ${backend}`, () => {
    it('initialises the backend', async () => {
      await initBackend(backend);
      expect(tf.getBackend()).toBe(backend);
    });

    describe.skipIf(!existsSync(fixturePath))(
      existsSync(fixturePath)
        ? 'parity with ../shared/fixtures/parity/relativePositionalEncoding.json'
        : `parity fixtures skipped: ${fixturePath} is absent (../shared is not on this machine)`,
      () => {
        const cases: RpeCase[] = existsSync(fixturePath)
          ? JSON.parse(readFileSync(fixturePath, 'utf8')).cases
          : [];
        it('has cases', () => expect(cases.length).toBeGreaterThan(0));
        for (const [i, c] of cases.entries()) {
          it(`case ${i}: C=${c.channels} H=${c.height} W=${c.width} L=${c.standardLength}`, () => {
            const pe = relativePositionalEncoding(c.channels, c.height, c.width, {
              standardLength: c.standardLength,
            });
            expect(pe.shape).toEqual([c.height, c.width, c.channels]);
            expect(pe.dtype).toBe('float32');
            const flat = c.expected.flat(2);
            expect(maxTolViolation(pe.dataSync() as Float32Array, flat)).toBeLessThanOrEqual(1);
            pe.dispose();
          });
        }
      },
    );

    it('relative: hand-computed values for C=8, H=2, W=3, L=5', () => {
      // xs = [0, 2, 4], ys = [0, 4], half = 4, freqs f_0 = 1, f_2 = exp(-2 ln(1e4)/4) = 0.01
      const pe = relativePositionalEncoding(8, 2, 3, { standardLength: 5 });
      const v = pe.arraySync();
      const f2 = 0.01;
      expect(v[1][2][0]).toBeCloseTo(Math.sin(4), 6);
      expect(v[1][2][1]).toBeCloseTo(Math.cos(4), 6);
      expect(v[1][2][2]).toBeCloseTo(Math.sin(4 * f2), 6);
      expect(v[1][2][3]).toBeCloseTo(Math.cos(4 * f2), 6);
      expect(v[0][1][0]).toBeCloseTo(Math.sin(2), 6);
      // y channels depend on the row only
      expect(v[1][0][4]).toBeCloseTo(Math.sin(4), 6);
      expect(v[1][2][5]).toBeCloseTo(Math.cos(4), 6);
      expect(v[1][1][6]).toBeCloseTo(Math.sin(4 * f2), 6);
      expect(v[0][2][4]).toBeCloseTo(0, 6);
      expect(v[0][2][5]).toBeCloseTo(1, 6);
      pe.dispose();
    });

    it('relative: the same range of positions for every size (corners equal)', () => {
      const a = relativePositionalEncoding(16, 4, 6).arraySync();
      const b = relativePositionalEncoding(16, 9, 11).arraySync();
      for (let c = 0; c < 16; c++) {
        expect(a[3][5][c]).toBeCloseTo(b[8][10][c], 5);
        expect(a[0][0][c]).toBeCloseTo(b[0][0][c], 5);
      }
    });

    it('absolute: positions 0..W-1 and 0..H-1', () => {
      const pe = absolutePositionalEncoding(8, 3, 4);
      expect(pe.shape).toEqual([3, 4, 8]);
      const v = pe.arraySync();
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 4; x++) {
          expect(v[y][x][0]).toBeCloseTo(Math.sin(x), 6);
          expect(v[y][x][1]).toBeCloseTo(Math.cos(x), 6);
          expect(v[y][x][2]).toBeCloseTo(Math.sin(x * 0.01), 6);
          expect(v[y][x][3]).toBeCloseTo(Math.cos(x * 0.01), 6);
          expect(v[y][x][4]).toBeCloseTo(Math.sin(y), 6);
          expect(v[y][x][5]).toBeCloseTo(Math.cos(y), 6);
          expect(v[y][x][6]).toBeCloseTo(Math.sin(y * 0.01), 6);
          expect(v[y][x][7]).toBeCloseTo(Math.cos(y * 0.01), 6);
        }
      }
      pe.dispose();
    });

    it('rejects channels that are not a multiple of 4 and bad sizes', () => {
      expect(() => relativePositionalEncoding(6, 2, 2)).toThrow(/multiple of 4.*6/);
      expect(() => absolutePositionalEncoding(10, 2, 2)).toThrow(/absolutePositionalEncoding.*multiple of 4/);
      expect(() => relativePositionalEncoding(8, 0, 2)).toThrow(/height must be a positive integer/);
      expect(() => relativePositionalEncoding(8, 2, 2.5)).toThrow(/width/);
      expect(() => relativePositionalEncoding(8, 2, 2, { standardLength: 0 })).toThrow(/standardLength/);
    });

    it('does not leak tensors', async () => {
      await expectNoLeaks(() => {
        relativePositionalEncoding(16, 5, 7).dispose();
        absolutePositionalEncoding(16, 5, 7).dispose();
      });
    });
  });
}
