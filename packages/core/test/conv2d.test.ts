import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accelerationInfo, conv2d, convImplementation, initBackend, Rng, setConvImplementation, type Conv2dPadding } from '../src/index';
import { expectNoLeaks, forEachBackend } from '../src/testing';
import { expectGradsMatchFiniteDifferences, maxAbsDiff, randTensor } from './helpers';

/** Direct loop implementation of NHWC conv2d with explicit pads, the reference for every mode. */
function naiveConv(
  x: Float32Array, [n, h, w, c]: number[], k: Float32Array, [kh, kw, , co]: number[],
  s: [number, number], d: [number, number], pads: [[number, number], [number, number]],
): { data: Float64Array; shape: number[] } {
  const oh = Math.floor((h + pads[0][0] + pads[0][1] - ((kh - 1) * d[0] + 1)) / s[0]) + 1;
  const ow = Math.floor((w + pads[1][0] + pads[1][1] - ((kw - 1) * d[1] + 1)) / s[1]) + 1;
  const out = new Float64Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let o = 0; o < co; o++) {
          let acc = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const r = y * s[0] + i * d[0] - pads[0][0];
              const q = xx * s[1] + j * d[1] - pads[1][0];
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              for (let ci = 0; ci < c; ci++) acc += x[((b * h + r) * w + q) * c + ci] * k[((i * kw + j) * c + ci) * co + o];
            }
          out[((b * oh + y) * ow + xx) * co + o] = acc;
        }
  return { data: out, shape: [n, oh, ow, co] };
}

describe('conv2d forward on cpu vs tf.conv2d and a direct loop', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  const rng = new Rng(1);
  const cases: { name: string; x: number[]; k: number[]; s: number; d: number; p: Conv2dPadding }[] = [
    { name: '3x3 same', x: [2, 7, 6, 3], k: [3, 3, 3, 4], s: 1, d: 1, p: 'same' },
    { name: '3x3 valid', x: [1, 7, 6, 3], k: [3, 3, 3, 4], s: 1, d: 1, p: 'valid' },
    { name: '3x3 dilation 2 same', x: [1, 9, 8, 2], k: [3, 3, 2, 3], s: 1, d: 2, p: 'same' },
    { name: '3x3 dilation 5 same', x: [1, 12, 11, 2], k: [3, 3, 2, 3], s: 1, d: 5, p: 'same' },
    { name: '3x3 stride 2 same', x: [2, 9, 8, 2], k: [3, 3, 2, 3], s: 2, d: 1, p: 'same' },
    { name: '2x3 stride 2 valid', x: [1, 9, 8, 2], k: [2, 3, 2, 3], s: 2, d: 1, p: 'valid' },
    { name: '1x1', x: [2, 5, 4, 3], k: [1, 1, 3, 5], s: 1, d: 1, p: 'same' },
  ];
  for (const c of cases) {
    it(`${c.name} matches tf.conv2d within 1e-4`, () => {
      const x = randTensor(rng, c.x) as tf.Tensor4D;
      const k = randTensor(rng, c.k) as tf.Tensor4D;
      const ours = conv2d(x, k, { strides: c.s, dilations: c.d, padding: c.p });
      const ref = tf.conv2d(x, k, c.s, c.p as 'same' | 'valid', 'NHWC', c.d);
      expect(ours.shape).toEqual(ref.shape);
      expect(maxAbsDiff(ours.dataSync(), ref.dataSync())).toBeLessThan(1e-4);
      tf.dispose([x, k, ours, ref]);
    });
  }
  it('explicit and numeric padding, stride 2 with dilation 2 (tf.conv2d refuses both), match the loop', () => {
    const cfgs: { p: Conv2dPadding; pads: [[number, number], [number, number]]; s: number; d: number }[] = [
      { p: 1, pads: [[1, 1], [1, 1]], s: 1, d: 1 },
      { p: [[0, 2], [1, 0]], pads: [[0, 2], [1, 0]], s: 2, d: 1 },
      { p: 2, pads: [[2, 2], [2, 2]], s: 2, d: 2 },
    ];
    for (const c of cfgs) {
      const xs = [1, 8, 7, 2];
      const ks = [3, 3, 2, 3];
      const x = randTensor(rng, xs) as tf.Tensor4D;
      const k = randTensor(rng, ks) as tf.Tensor4D;
      const y = conv2d(x, k, { strides: c.s, dilations: c.d, padding: c.p });
      const ref = naiveConv(x.dataSync() as Float32Array, xs, k.dataSync() as Float32Array, ks, [c.s, c.s], [c.d, c.d], c.pads);
      expect(y.shape).toEqual(ref.shape);
      expect(maxAbsDiff(y.dataSync(), ref.data)).toBeLessThan(1e-4);
      if (c.p === 1) {
        const tfRef = tf.conv2d(x, k, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]);
        expect(maxAbsDiff(y.dataSync(), tfRef.dataSync())).toBeLessThan(1e-4);
        tfRef.dispose();
      }
      tf.dispose([x, k, y]);
    }
  });
  it('adds the bias per output channel', () => {
    const x = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
    const k = tf.ones([3, 3, 1, 2]) as tf.Tensor4D;
    const y = conv2d(x, k, { bias: tf.tensor1d([10, -1]) });
    // Centre sees all 9 ones, corners see 4: plus bias.
    const v = y.arraySync()[0];
    expect(v[1][1]).toEqual([19, 8]);
    expect(v[0][0]).toEqual([14, 3]);
  });
  it('checks ranks, channels and options with clear messages', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => conv2d(tf.zeros([4, 4, 2]) as never, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D)).toThrow(/conv2d: expected x to have rank 4, got shape \[4,4,2\]/);
    expect(() => conv2d(x, tf.zeros([3, 3, 3, 1]) as tf.Tensor4D)).toThrow(/x has 2 channels but kernel/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, { bias: tf.zeros([2]) as tf.Tensor1D })).toThrow(/bias has 2 entries, expected 1/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, { dilations: 0 })).toThrow(/dilations must be a positive integer/);
    expect(() => conv2d(x, tf.zeros([3, 3, 2, 1]) as tf.Tensor4D, { dilations: 3, padding: 'valid' })).toThrow(/smaller than the dilated kernel 7x7/);
  });
});

/**
 * Gradient check: L = Σ conv2d(x, k, b) ⊙ R is linear in each of x, k, b, so central differences
 * are exact up to float32 rounding; a large eps keeps that rounding small.
 */
function fdCheck(xs: number[], ks: number[], s: number, d: number, p: Conv2dPadding, seed: number): void {
  const rng = new Rng(seed);
  const x = randTensor(rng, xs) as tf.Tensor4D;
  const k = randTensor(rng, ks) as tf.Tensor4D;
  const b = randTensor(rng, [ks[3]]) as tf.Tensor1D;
  const y0 = conv2d(x, k, { strides: s, dilations: d, padding: p, bias: b });
  const r = randTensor(rng, y0.shape);
  y0.dispose();
  const loss = (xx: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) =>
    tf.sum(
      tf.mul(conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, { strides: s, dilations: d, padding: p, bias: bb as tf.Tensor1D }), r),
    ) as tf.Scalar;
  expectGradsMatchFiniteDifferences(loss, [x, k, b], { eps: 0.5, tol: 2e-3, names: ['input', 'kernel', 'bias'] });
  tf.dispose([x, k, b, r]);
}

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`conv2d gradients vs finite differences (${backend}, default implementation)`, () => {
    it('uses the implementation chosen for this backend: OpenBLAS where it loaded, else native', () => {
      expect(convImplementation()).toBe(accelerationInfo().blas ? 'blas' : 'native');
    });
    for (const d of [1, 2, 5]) {
      for (const s of [1, 2]) {
        it(`dilation ${d}, stride ${s}, 'same'`, () => {
          fdCheck([2, 7, 6, 2], [3, 3, 2, 3], s, d, 'same', 10 * d + s);
        });
      }
    }
    it("'valid' 2x3 kernel, stride 2; explicit padding, dilation 2; padding wider than the kernel", () => {
      fdCheck([1, 8, 9, 2], [2, 3, 2, 2], 2, 1, 'valid', 7);
      fdCheck([1, 7, 7, 2], [3, 3, 2, 2], 1, 2, [[1, 0], [2, 3]], 8);
      fdCheck([1, 5, 4, 2], [3, 2, 2, 2], 1, 1, [[4, 1], [0, 3]], 9);
    });
  });
  for (const impl of ['im2col', 'taps', 'native', 'blas'] as const) {
    describe(`conv2d gradients vs finite differences (${backend}, forced '${impl}')`, () => {
      beforeAll(() => setConvImplementation(impl));
      afterAll(() => setConvImplementation('auto'));
      it(`dilation 2 stride 2, dilation 5, stride 2 'valid', explicit padding`, () => {
        fdCheck([1, 6, 5, 2], [3, 3, 2, 2], 2, 2, 'same', 21);
        fdCheck([1, 11, 11, 1], [3, 3, 1, 2], 1, 5, 'same', 22);
        fdCheck([1, 7, 8, 1], [2, 3, 1, 2], 2, 1, 'valid', 23);
        fdCheck([1, 5, 4, 1], [3, 2, 1, 2], 2, 1, [[4, 1], [0, 3]], 24);
      });
    });
  }
  describe(`conv2d with kernelChannelOffset (${backend})`, () => {
    const rng = new Rng(31);
    for (const impl of ['blas', 'native', 'taps'] as const) {
      it(`equals the conv with the sliced kernel, bit for bit (${impl}: stride 1, dilation 2; stride 2; 1x1), and leaks nothing`, async () => {
        setConvImplementation(impl);
        try {
          for (const [x, k, s, d, off] of [
            [[2, 6, 5, 3], [3, 3, 7, 4], 1, 2, 2],
            [[1, 7, 6, 2], [3, 3, 5, 3], 2, 1, 3],
            [[2, 4, 3, 2], [1, 1, 6, 3], 1, 1, 4],
          ] as [number[], number[], number, number, number][]) {
            const xt = randTensor(rng, x) as tf.Tensor4D;
            const kt = randTensor(rng, k) as tf.Tensor4D;
            const b = randTensor(rng, [k[3]]) as tf.Tensor1D;
            const sliced = tf.slice(kt, [0, 0, off, 0], [k[0], k[1], x[3], k[3]]) as tf.Tensor4D;
            const ref = conv2d(xt, sliced, { strides: s, dilations: d, bias: b });
            const y = await expectNoLeaks(() => conv2d(xt, kt, { strides: s, dilations: d, bias: b, kernelChannelOffset: off }));
            expect(y.shape).toEqual(ref.shape);
            expect(Array.from(y.dataSync())).toEqual(Array.from(ref.dataSync()));
            tf.dispose([xt, kt, b, sliced, ref, y]);
          }
        } finally {
          setConvImplementation('auto');
        }
      });
    }
    it('while a gradient is recorded, the gradient reaches the kernel block (zeros elsewhere) and the input', async () => {
      const x = randTensor(rng, [1, 5, 4, 2]) as tf.Tensor4D;
      const k = randTensor(rng, [3, 3, 5, 3]) as tf.Tensor4D;
      const r = randTensor(rng, [1, 5, 4, 3]);
      const f = (xx: tf.Tensor, kk: tf.Tensor) => tf.sum(tf.mul(conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, { dilations: 2, kernelChannelOffset: 1 }), r));
      const [gx, gk] = await expectNoLeaks(() => tf.grads(f)([x, k]));
      const sliced = tf.slice(k, [0, 0, 1, 0], [3, 3, 2, 3]);
      const [rx, rk] = tf.grads((xx: tf.Tensor, kk: tf.Tensor) => tf.sum(tf.mul(conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, { dilations: 2 }), r)))([x, sliced]);
      expect(gk.shape).toEqual([3, 3, 5, 3]);
      expect(maxAbsDiff(gx.dataSync(), rx.dataSync())).toBe(0);
      expect(maxAbsDiff(tf.slice(gk, [0, 0, 1, 0], [3, 3, 2, 3]).dataSync(), rk.dataSync())).toBe(0);
      const outside = tf.concat([tf.slice(gk, [0, 0, 0, 0], [3, 3, 1, 3]), tf.slice(gk, [0, 0, 3, 0], [3, 3, 2, 3])], 2);
      expect(Math.max(...Array.from(outside.dataSync(), Math.abs))).toBe(0);
      tf.dispose([x, k, r, gx, gk, sliced, rx, rk, outside]);
    });
    it('refuses an offset past the kernel, naming both', () => {
      const x = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
      const k = tf.zeros([3, 3, 4, 2]) as tf.Tensor4D;
      expect(() => conv2d(x, k, { kernelChannelOffset: 2 })).toThrow(/x has 3 channels from kernelChannelOffset 2 but kernel \[3,3,4,2\] has 4 input channels/);
      expect(() => conv2d(x, k, { kernelChannelOffset: -1 })).toThrow(/kernelChannelOffset must be a non-negative integer/);
      tf.dispose([x, k]);
    });
  });
  describe(`conv2d memory (${backend})`, () => {
    it('leaks no tensors, forward or backward', async () => {
      const x = tf.randomNormal([1, 6, 6, 2]) as tf.Tensor4D;
      const k = tf.randomNormal([3, 3, 2, 4]) as tf.Tensor4D;
      const b = tf.zeros([4]) as tf.Tensor1D;
      const y = await expectNoLeaks(() => conv2d(x, k, { dilations: 2, strides: 2, bias: b }));
      expect(y.shape).toEqual([1, 3, 3, 4]);
      const g = await expectNoLeaks(() =>
        tf.grads((xx, kk) => tf.sum(conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, { dilations: 2, bias: b })))([x, k]),
      );
      expect(g[0].shape).toEqual(x.shape);
      expect(g[1].shape).toEqual(k.shape);
      tf.dispose([x, k, b, y, ...g]);
    });
  });
});
