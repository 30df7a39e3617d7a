import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  Conv1x1,
  Conv2d,
  FrozenBatchNorm,
  Linear,
  Module,
  Rng,
  conv2d,
  fromTorchLayout,
  loadTorchStateDict,
  maxPool2d,
  maxPoolOutputLength,
} from '../src/index';
import { expectNoLeaks, forEachBackend } from '../src/testing';
import { maxAbsDiff } from './helpers';

// PyTorch's own results (test/fixtures/make-torch-reference.py, run with Debian's python3-torch).
const ref: { maxPool: any[]; batchNorm: any[]; conv: any[] } = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'torch-reference.json'), 'utf8'),
);

/** x = sin(a·i + b)·(1 + 0.001·i) over the flat NCHW index, as the fixture script builds it. */
function formula(shape: number[], a: number, b: number): Float32Array {
  const n = shape.reduce((p, q) => p * q, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(a * i + b) * (1 + 0.001 * i));
  return out;
}

/** A PyTorch NCHW array as an NHWC tensor. */
function nchwToNhwc(values: ArrayLike<number>, shape: number[]): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(
      tf.tensor4d(Float32Array.from(values), shape as [number, number, number, number]),
      [0, 2, 3, 1],
    ),
  );
}

function toNchw(t: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(t, [0, 3, 1, 2]).dataSync() as Float32Array);
}

class Holder extends Module {
  conv = this.child(
    'conv',
    new Conv2d(new Rng(0), { inChannels: 3, outChannels: 4, kernelSize: 3 }),
  );
  fc = this.child('fc', new Linear(new Rng(1), { inFeatures: 4, outFeatures: 2 }));
  bn = this.child('bn', new FrozenBatchNorm({ numFeatures: 4 }));
}

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`maxPool2d (${backend})`, () => {
    it.each(
      ref.maxPool.map(
        (c: any) =>
          [
            `${c.shape} k${c.kernel} s${c.stride} p${c.padding} ${c.ceilMode ? 'ceil' : 'floor'}`,
            c,
          ] as [string, any],
      ),
    )('matches PyTorch F.max_pool2d, forward and gradient: %s', async (_name: string, c: any) => {
      const x = nchwToNhwc(formula(c.shape, c.x.a, c.x.b), c.shape);
      const opts = {
        kernelSize: c.kernel,
        stride: c.stride,
        padding: c.padding,
        ceilMode: c.ceilMode,
      };
      const y = await expectNoLeaks(() => maxPool2d(x, opts));
      expect([y.shape[0], y.shape[3], y.shape[1], y.shape[2]]).toEqual(c.yShape);
      expect(maxPoolOutputLength(c.shape[2], c.kernel, c.stride, c.padding, c.ceilMode)).toBe(
        c.yShape[2],
      );
      expect(maxAbsDiff(toNchw(y), c.y)).toBe(0);
      const r = nchwToNhwc(formula(c.yShape, c.r.a, c.r.b), c.yShape);
      const dx = await expectNoLeaks(() =>
        tf.grad((v: tf.Tensor) => tf.sum(tf.mul(maxPool2d(v as tf.Tensor4D, opts), r)))(x),
      );
      expect(maxAbsDiff(toNchw(dx), c.dx)).toBeLessThan(1e-6);
      tf.dispose([x, y, r, dx]);
    });

    it('the stem geometry of DeepLabv2-ResNet101 (3×3/2, pad 1, ceil): 49×65 → 25×33, 50×50 → 26×26', () => {
      expect(maxPoolOutputLength(49, 3, 2, 1, true)).toBe(25);
      expect(maxPoolOutputLength(65, 3, 2, 1, true)).toBe(33);
      expect(maxPoolOutputLength(50, 3, 2, 1, true)).toBe(26);
      expect(maxPoolOutputLength(50, 3, 2, 1, false)).toBe(25);
      const y = maxPool2d(tf.zeros([1, 50, 50, 2]) as tf.Tensor4D, {
        kernelSize: 3,
        stride: 2,
        padding: 1,
        ceilMode: true,
      });
      expect(y.shape).toEqual([1, 26, 26, 2]);
      expect(Math.max(...y.dataSync())).toBe(0); // padding never wins
      y.dispose();
    });

    it('refuses bad arguments with messages', () => {
      const x = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
      expect(() => maxPool2d(tf.zeros([4, 4]) as never, { kernelSize: 2 })).toThrow(
        /maxPool2d: expected x to have rank 4/,
      );
      expect(() => maxPool2d(x, { kernelSize: 2, padding: 2 })).toThrow(/at most half the window/);
      expect(() => maxPool2d(x, { kernelSize: 0 })).toThrow(
        /kernelSize must be a positive integer/,
      );
      expect(() => maxPool2d(x, { kernelSize: 5 })).toThrow(/smaller than the window/);
      expect(() => maxPool2d(x, undefined as never)).toThrow(/opts \{ kernelSize/);
      x.dispose();
    });
  });

  describe(`FrozenBatchNorm (${backend})`, () => {
    const c = ref.batchNorm[0];
    it('matches PyTorch BatchNorm2d in eval mode, forward and input gradient', async () => {
      const bn = new FrozenBatchNorm({ numFeatures: c.shape[1], eps: c.eps });
      const dict: Record<string, tf.Tensor> = {
        weight: tf.tensor1d(c.weight),
        bias: tf.tensor1d(c.bias),
        runningMean: tf.tensor1d(c.runningMean),
        runningVar: tf.tensor1d(c.runningVar),
      };
      bn.loadStateDict(dict);
      const x = nchwToNhwc(formula(c.shape, c.x.a, c.x.b), c.shape);
      const y = await expectNoLeaks(() => bn.apply(x));
      expect(maxAbsDiff(toNchw(y), c.y)).toBeLessThan(1e-5);
      const r = nchwToNhwc(formula(c.shape, c.r.a, c.r.b), c.shape);
      const dx = await expectNoLeaks(() =>
        tf.grad((v: tf.Tensor) => tf.sum(tf.mul(bn.apply(v), r)))(x),
      );
      expect(maxAbsDiff(toNchw(dx), c.dx)).toBeLessThan(1e-5);
      tf.dispose([x, y, r, dx, ...Object.values(dict)]);
      bn.dispose();
    });

    it('its four tensors are state but never trainable, also after setTrainable(true)', () => {
      const m = new Holder();
      expect([...m.namedParameters().keys()]).toEqual([
        'conv.kernel',
        'conv.bias',
        'fc.kernel',
        'fc.bias',
        'bn.weight',
        'bn.bias',
        'bn.runningMean',
        'bn.runningVar',
      ]);
      const trainable = () => m.trainableVariables().length;
      expect(trainable()).toBe(4);
      m.setTrainable(false);
      expect(trainable()).toBe(0);
      m.setTrainable(true);
      expect(trainable()).toBe(4);
      expect(m.numParameters({ trainableOnly: true })).toBe(3 * 3 * 3 * 4 + 4 + 4 * 2 + 2);
      expect(m.numParameters()).toBe(3 * 3 * 3 * 4 + 4 + 4 * 2 + 2 + 16);
      m.dispose();
    });

    it('checks its input and config', () => {
      const bn = new FrozenBatchNorm({ numFeatures: 3 });
      expect(() => bn.apply(tf.zeros([1, 2, 2, 4]))).toThrow(
        /FrozenBatchNorm.apply: expected x with 3 channels on the last axis, got \[1,2,2,4\]/,
      );
      expect(() => new FrozenBatchNorm({ numFeatures: 0 })).toThrow(
        /numFeatures must be a positive integer/,
      );
      expect(() => new FrozenBatchNorm({ numFeatures: 2, eps: -1 })).toThrow(
        /eps must be a non-negative number/,
      );
      bn.dispose();
    });
  });

  describe(`PyTorch layouts (${backend})`, () => {
    it.each(
      ref.conv.map(
        (c: any) =>
          [`x ${c.x.shape} w ${c.weight.shape} s${c.stride} p${c.padding} d${c.dilation}`, c] as [
            string,
            any,
          ],
      ),
    )(
      'a PyTorch conv weight through fromTorchLayout gives F.conv2d’s result: %s',
      async (_name: string, c: any) => {
        const x = nchwToNhwc(formula(c.x.shape, c.x.a, c.x.b), c.x.shape);
        const w = tf.tensor4d(c.weight.values, c.weight.shape);
        const [o, i, kh, kw] = c.weight.shape;
        const k = await expectNoLeaks(() => fromTorchLayout(w, [kh, kw, i, o], 'w') as tf.Tensor4D);
        const bias = c.bias ? tf.tensor1d(c.bias) : undefined;
        const y = conv2d(x, k, {
          strides: c.stride,
          padding: c.padding,
          dilations: c.dilation,
          bias,
        });
        expect([y.shape[0], y.shape[3], y.shape[1], y.shape[2]]).toEqual(c.yShape);
        expect(maxAbsDiff(toNchw(y), c.y)).toBeLessThan(1e-5);
        if (kh === 1 && c.stride === 1) {
          // the same weight as a Conv1x1 kernel [I, O]
          const layer = new Conv1x1(new Rng(0), { inChannels: i, outChannels: o, bias: !!c.bias });
          loadTorchStateDict(layer, { w, ...(bias ? { b: bias } : {}) }, (key) =>
            key === 'w' ? 'kernel' : key === 'b' ? 'bias' : undefined,
          );
          const y2 = layer.apply(x);
          expect(maxAbsDiff(toNchw(y2), c.y)).toBeLessThan(1e-5);
          y2.dispose();
          layer.dispose();
        }
        tf.dispose([x, w, k, y, ...(bias ? [bias] : [])]);
      },
    );

    it('linear weights transpose, vectors stay; misfits are refused naming the key', () => {
      const w = tf.tensor2d([
        [1, 2, 3],
        [4, 5, 6],
      ]); // torch Linear(3 → 2): [out, in]
      const k = fromTorchLayout(w, [3, 2], 'fc.weight');
      expect(k.arraySync()).toEqual([
        [1, 4],
        [2, 5],
        [3, 6],
      ]);
      const v = fromTorchLayout(tf.tensor1d([1, 2]), [2], 'fc.bias');
      expect(Array.from(v.dataSync())).toEqual([1, 2]);
      expect(() => fromTorchLayout(w, [2, 3], 'fc.weight')).toThrow(
        /'fc.weight' has PyTorch shape \[2,3\], which does not fit a parameter of shape \[2,3\]/,
      );
      expect(() => fromTorchLayout(tf.zeros([2, 3, 3, 3]), [3, 2], 'c.weight')).toThrow(
        /'c.weight' has PyTorch shape \[2,3,3,3\]/,
      );
      tf.dispose([w, k, v]);
    });

    it('loadTorchStateDict maps keys, ignores null keys and refuses unknown, doubled and missing keys before writing', () => {
      const m = new Holder();
      const torchDict: Record<string, tf.Tensor> = {
        'c.weight': tf.ones([4, 3, 3, 3]),
        'c.bias': tf.fill([4], 2),
        'f.weight': tf.ones([2, 4]),
        'f.bias': tf.zeros([2]),
        'n.weight': tf.fill([4], 3),
        'n.bias': tf.zeros([4]),
        'n.running_mean': tf.zeros([4]),
        'n.running_var': tf.ones([4]),
        'n.num_batches_tracked': tf.scalar(0, 'int32'),
      };
      const map = (key: string): string | null | undefined => {
        if (key.endsWith('num_batches_tracked')) return null;
        const [mod, name] = key.split('.');
        const path = { c: 'conv', f: 'fc', n: 'bn' }[mod];
        if (!path) return undefined;
        const param = {
          weight: mod === 'n' ? 'weight' : 'kernel',
          bias: 'bias',
          running_mean: 'runningMean',
          running_var: 'runningVar',
        }[name];
        return param ? `${path}.${param}` : undefined;
      };
      const before = m.stateDict()['conv.kernel'].dataSync().slice();
      expect(() => loadTorchStateDict(m, { ...torchDict, 'x.weight': tf.zeros([1]) }, map)).toThrow(
        /unknown keys: x.weight/,
      );
      expect(() =>
        loadTorchStateDict(m, { ...torchDict, 'c.weight2': tf.zeros([1]) }, (k) =>
          k === 'c.weight2' ? 'conv.kernel' : map(k),
        ),
      ).toThrow(/'c.weight' and 'c.weight2' both map to 'conv.kernel'/);
      const { 'f.bias': _dropped, ...partial } = torchDict;
      expect(() => loadTorchStateDict(m, partial, map)).toThrow(/no key for parameters: fc.bias/);
      expect(() =>
        loadTorchStateDict(m, { ...torchDict, 'c.weight': tf.ones([4, 3, 2, 2]) }, map),
      ).toThrow(
        /'c.weight' has PyTorch shape \[4,3,2,2\], which does not fit a parameter of shape \[3,3,3,4\]/,
      );
      expect(maxAbsDiff(m.stateDict()['conv.kernel'].dataSync(), before)).toBe(0); // nothing written
      const report = loadTorchStateDict(m, torchDict, map);
      expect(report.loaded.length).toBe(8);
      expect(report.ignored).toEqual(['n.num_batches_tracked']);
      expect(Array.from(m.stateDict()['bn.weight'].dataSync())).toEqual([3, 3, 3, 3]);
      expect(Array.from(m.stateDict()['conv.bias'].dataSync())).toEqual([2, 2, 2, 2]);
      const lax = loadTorchStateDict(m, { ...partial, 'x.weight': tf.zeros([1]) }, map, {
        strict: false,
      });
      expect(lax.unknown).toEqual(['x.weight']);
      tf.dispose(Object.values(torchDict));
      m.dispose();
    });
  });
});
