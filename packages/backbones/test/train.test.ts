import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv1x1, Rng } from '@sign/core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { createBackbone } from '@sign/backbones';

/**
 * A synthetic segmentation task: on a noisy dark background, squares that are either bright
 * (class 1) or noisy mid-grey (class 2). Labels are given at the backbone's output resolution
 * (the class at the centre of each 4×4 cell).
 */
function makeBatch(rng: Rng, n: number, size: number, stride: number) {
  const img = new Float32Array(n * size * size);
  const lab = new Int32Array(n * (size / stride) * (size / stride));
  const full = new Int32Array(n * size * size);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < size * size; i++) img[b * size * size + i] = 0.1 * rng.uniform();
    for (let k = 0; k < 2; k++) {
      const cls = 1 + rng.int(2);
      const side = 8 + rng.int(8);
      const y0 = rng.int(size - side);
      const x0 = rng.int(size - side);
      for (let y = y0; y < y0 + side; y++) {
        for (let x = x0; x < x0 + side; x++) {
          const v = cls === 1 ? 0.9 : 0.45 + 0.1 * rng.uniform();
          img[b * size * size + y * size + x] = v;
          full[b * size * size + y * size + x] = cls;
        }
      }
    }
    const s = size / stride;
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        lab[b * s * s + y * s + x] = full[b * size * size + (y * stride + stride / 2) * size + x * stride + stride / 2];
      }
    }
  }
  return {
    images: tf.tensor4d(img, [n, size, size, 1]),
    labels: tf.tensor3d(lab, [n, size / stride, size / stride], 'int32'),
  };
}

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`training the small backbone on ${backend}`, () => {
    it('a 1×1 segmentation head on top learns a synthetic task: the loss falls', async () => {
      const rng = new Rng(0);
      const backbone = createBackbone('small', rng.fork('backbone'), { channels: 16, width: 8, headChannels: 8 });
      const head = new Conv1x1(rng.fork('head'), { inChannels: 16, outChannels: 3 });
      const vars = [...backbone.trainableVariables(), ...head.trainableVariables()];
      const opt = tf.train.adam(0.01);
      const data = rng.fork('data');
      const batchLoss = (images: tf.Tensor4D, labels: tf.Tensor3D, training: boolean) => {
        const logits = head.apply(backbone.apply(images, { training, rng }));
        const onehot = tf.oneHot(labels, 3);
        return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
      };
      const evalSet = makeBatch(rng.fork('eval'), 8, 32, 4);
      const evalLoss = () => tf.tidy(() => batchLoss(evalSet.images, evalSet.labels, false).dataSync()[0]);
      const initial = evalLoss();
      // the JS cpu backend is ~10× slower: a short run there checks that the loss falls, the
      // wasm run trains long enough to check that every class is found
      const full = backend === 'wasm';
      const steps = full ? 40 : 6;
      for (let step = 0; step < steps; step++) {
        const { images, labels } = makeBatch(data, 8, 32, 4);
        const update = () => tf.tidy(() => void opt.minimize(() => batchLoss(images, labels, true), false, vars));
        // the first step creates Adam's moment variables (two per parameter); later ones allocate nothing
        if (step === 0) update();
        else await expectNoLeaks(update);
        tf.dispose([images, labels]);
      }
      const final = evalLoss();
      // the three classes are ~equally likely to be confused at the start (ln 3 ≈ 1.10)
      expect(initial).toBeGreaterThan(0.7);
      expect(final).toBeLessThan((full ? 0.4 : 0.85) * initial);
      // and both object classes are found (recall per class, from a confusion count)
      const pred = tf.tidy(() => tf.argMax(head.apply(backbone.apply(evalSet.images, { training: false, rng })), -1));
      const p = pred.dataSync();
      const t = evalSet.labels.dataSync();
      const hits = [0, 0, 0];
      const counts = [0, 0, 0];
      for (let i = 0; i < t.length; i++) {
        counts[t[i]]++;
        if (p[i] === t[i]) hits[t[i]]++;
      }
      expect(Math.min(...counts)).toBeGreaterThan(20);
      if (full) for (const c of [0, 1, 2]) expect(hits[c] / counts[c], `recall of class ${c}`).toBeGreaterThan(0.7);
      pred.dispose();
      tf.dispose([evalSet.images, evalSet.labels]);
      opt.dispose();
      backbone.dispose();
      head.dispose();
    });
  });
});
