import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d, Module, Rng, conv1x1, dense, leakyRelu, matMul } from '../src/index';
import { expectNoLeaks, forEachBackend } from '../src/testing';
import { expectGradsMatchFiniteDifferences, maxAbsDiff, randTensor } from './helpers';

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`matMul (${backend})`, () => {
    it('computes a·b for every transpose combination, matching hand-computed values', () => {
      const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      const b = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
      expect(matMul(a, b).arraySync()).toEqual([[4, 5], [10, 11]]);
      expect(matMul(tf.transpose(a), b, true).arraySync()).toEqual([[4, 5], [10, 11]]);
      expect(matMul(a, tf.transpose(b), false, true).arraySync()).toEqual([[4, 5], [10, 11]]);
      expect(matMul(tf.transpose(a), tf.transpose(b), true, true).arraySync()).toEqual([[4, 5], [10, 11]]);
    });
    it('gradients match finite differences, with and without transposes', () => {
      const rng = new Rng(3);
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = randTensor(rng, ta ? [4, 3] : [3, 4]);
        const b = randTensor(rng, tb ? [5, 4] : [4, 5]);
        const r = randTensor(rng, [3, 5]);
        expectGradsMatchFiniteDifferences(
          (x, y) => tf.sum(tf.mul(matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), r)),
          [a, b],
          { names: ['a', 'b'] },
        );
        tf.dispose([a, b, r]);
      }
    });
    it('gradients agree with tfjs’ own matMul gradient on a tall product (both transpose strategies)', () => {
      const rng = new Rng(4);
      // [m,k]·[k,n] with m·k small vs m·n + k·n, and the other way round.
      for (const [m, k, n] of [[6, 2, 9], [40, 9, 3]]) {
        const a = randTensor(rng, [m, k]);
        const b = randTensor(rng, [k, n]);
        const dy = randTensor(rng, [m, n]);
        const ours = tf.grads((x, y) => matMul(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy);
        const ref = tf.grads((x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy);
        expect(maxAbsDiff(ours[0].dataSync(), ref[0].dataSync())).toBeLessThan(1e-4);
        expect(maxAbsDiff(ours[1].dataSync(), ref[1].dataSync())).toBeLessThan(1e-4);
        tf.dispose([a, b, dy, ...ours, ...ref]);
      }
    });
    it('checks shapes', () => {
      expect(() => matMul(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(
        /matMul: inner dimensions differ: a \[2,3\] · b \[2,3\]/,
      );
      expect(() => matMul(tf.zeros([2]) as never, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/expected a to have rank 2/);
    });
    it('leaks nothing, forward or backward', async () => {
      const a = tf.ones([3, 4]) as tf.Tensor2D;
      const b = tf.ones([3, 5]) as tf.Tensor2D;
      const y = await expectNoLeaks(() => matMul(a, b, true));
      expect(y.shape).toEqual([4, 5]);
      const g = await expectNoLeaks(() => tf.grads((x, z) => tf.sum(matMul(x as tf.Tensor2D, z as tf.Tensor2D, true)))([a, b]));
      tf.dispose([a, b, y, ...g]);
    });
  });

  describe(`dense and conv1x1 (${backend})`, () => {
    it('dense = x·W + b with hand-computed values', () => {
      const y = dense(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 0, 2], [0, 1, 1]]), tf.tensor1d([1, 2, 3]));
      expect(y.arraySync()).toEqual([[2, 4, 7], [4, 6, 13]]);
    });
    it('conv1x1 equals dense applied at every pixel and equals a 1x1 conv2d', () => {
      const rng = new Rng(5);
      const x = randTensor(rng, [2, 3, 4, 5]) as tf.Tensor4D;
      const k = randTensor(rng, [5, 6]) as tf.Tensor2D;
      const b = randTensor(rng, [6]) as tf.Tensor1D;
      const y = conv1x1(x, k, b);
      expect(y.shape).toEqual([2, 3, 4, 6]);
      const ref = dense(tf.reshape(x, [24, 5]) as tf.Tensor2D, k, b);
      expect(maxAbsDiff(y.dataSync(), ref.dataSync())).toBeLessThan(1e-5);
      const ref2 = tf.conv2d(x, tf.reshape(k, [1, 1, 5, 6]) as tf.Tensor4D, 1, 'valid');
      expect(maxAbsDiff(tf.sub(y, b).dataSync(), ref2.dataSync())).toBeLessThan(1e-5);
    });
    it('dense and conv1x1 gradients (input, kernel, bias) match finite differences', () => {
      const rng = new Rng(6);
      const x = randTensor(rng, [4, 3]);
      const k = randTensor(rng, [3, 2]);
      const b = randTensor(rng, [2]);
      const r = randTensor(rng, [4, 2]);
      expectGradsMatchFiniteDifferences((xx, kk, bb) => tf.sum(tf.mul(dense(xx as tf.Tensor2D, kk as tf.Tensor2D, bb as tf.Tensor1D), r)), [x, k, b], {
        names: ['x', 'kernel', 'bias'],
      });
      const x4 = randTensor(rng, [2, 2, 3, 3]);
      const r4 = randTensor(rng, [2, 2, 3, 2]);
      expectGradsMatchFiniteDifferences((xx, kk, bb) => tf.sum(tf.mul(conv1x1(xx as tf.Tensor4D, kk as tf.Tensor2D, bb as tf.Tensor1D), r4)), [x4, k, b], {
        names: ['x', 'kernel', 'bias'],
      });
    });
    it('checks shapes with clear messages', () => {
      expect(() => dense(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(/dense: x has 3 features but kernel \[4,2\] expects 4/);
      expect(() => dense(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([3]) as tf.Tensor1D)).toThrow(/bias has 3 entries, expected 2/);
      expect(() => conv1x1(tf.zeros([2, 3]) as never, tf.zeros([3, 2]) as tf.Tensor2D)).toThrow(/conv1x1: expected x to have rank 4/);
      expect(() => conv1x1(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, tf.zeros([4, 2]) as tf.Tensor2D)).toThrow(/x has 3 channels/);
    });
    it('leak nothing', async () => {
      const x = tf.ones([1, 2, 2, 3]) as tf.Tensor4D;
      const k = tf.ones([3, 2]) as tf.Tensor2D;
      const b = tf.ones([2]) as tf.Tensor1D;
      const y = await expectNoLeaks(() => conv1x1(x, k, b));
      const g = await expectNoLeaks(() => tf.grads((xx, kk, bb) => tf.sum(conv1x1(xx as tf.Tensor4D, kk as tf.Tensor2D, bb as tf.Tensor1D)))([x, k, b]));
      const x2 = tf.ones([4, 3]) as tf.Tensor2D;
      const z = await expectNoLeaks(() => dense(x2, k, b));
      tf.dispose([x, x2, k, b, y, z, ...g]);
    });
  });

  describe(`a tiny conv net trains (${backend})`, () => {
    class TinyNet extends Module {
      c1: Conv2d;
      c2: Conv2d;
      constructor(rng: Rng) {
        super();
        this.c1 = this.child('c1', new Conv2d(rng, { inChannels: 1, outChannels: 8, kernelSize: 3, dilation: 2 }));
        this.c2 = this.child('c2', new Conv2d(rng, { inChannels: 8, outChannels: 3, kernelSize: 3, stride: 2 }));
      }
      apply(x: tf.Tensor4D): tf.Tensor4D {
        return this.c2.apply(tf.relu(this.c1.apply(x)));
      }
    }
    it('loss falls by more than half in 30 SGD steps, without leaking', async () => {
      const rng = new Rng(11);
      const net = new TinyNet(rng.fork('init'));
      const x = tf.tensor4d(rng.fork('data').uniformArray(4 * 12 * 12), [4, 12, 12, 1]);
      // Target: 3 classes from the mean intensity of each 2x2 block (learnable by the net).
      const blocks = tf.avgPool(x, 2, 2, 'valid');
      const labels = tf.oneHot(tf.reshape(tf.cast(tf.floor(tf.mul(blocks, 2.999)), 'int32'), [4, 6, 6]), 3);
      const opt = tf.train.adam(0.05);
      const step = () =>
        opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.apply(x)) as tf.Scalar, true, net.trainableVariables());
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) {
        // The first step creates Adam's moment variables (8 of them), which is not a leak.
        const l = i === 0 ? step() : await expectNoLeaks(step);
        losses.push(l!.dataSync()[0]);
        l!.dispose();
      }
      expect(losses[29]).toBeLessThan(0.5 * losses[0]);
      opt.dispose();
      net.dispose();
      tf.dispose([x, blocks, labels]);
    });
  });
});

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`leakyRelu (${backend})`, () => {
    it('matches tf.leakyRelu, forward and gradient, and leaks nothing', async () => {
      const rng = new Rng(8);
      const x = tf.tensor(Float32Array.from(rng.normalArray(1000), (v, i) => (i % 97 === 0 ? 0 : v)), [10, 100]);
      const dy = randTensor(rng, [10, 100]);
      for (const alpha of [0.2, 0.01, 0]) {
        const y = await expectNoLeaks(() => leakyRelu(x, alpha));
        const ref = tf.leakyRelu(x, alpha);
        // equal up to the rounding of alpha·x (float32 alpha on wasm, float64 on cpu)
        expect(maxAbsDiff(y.dataSync(), ref.dataSync())).toBeLessThan(1e-7);
        const g = await expectNoLeaks(() => tf.grad((t: tf.Tensor) => leakyRelu(t, alpha))(x, dy));
        const gRef = tf.grad((t: tf.Tensor) => tf.leakyRelu(t, alpha))(x, dy);
        expect(maxAbsDiff(g.dataSync(), gRef.dataSync())).toBeLessThan(1e-7);
        tf.dispose([y, ref, g, gRef]);
      }
      expect(leakyRelu(tf.tensor1d([-2, 3]), 0.5).arraySync()).toEqual([-1, 3]);
      expect(() => leakyRelu(x, NaN)).toThrow(/leakyRelu: alpha must be a finite number/);
      tf.dispose([x, dy]);
    });
  });
});
