import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Rng } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { Discriminator } from '../src/index';

function fixed(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1)), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`Discriminator on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    it('paper sizes by default: 600 → 1024 shared, GAN head 1, classifier |S ∪ U|', () => {
      const d = new Discriminator(new Rng(0), { featureDim: 600, numClasses: 21 });
      expect([...d.namedParameters()].map(([k, v]) => `${k}:${v.shape.join('x')}`)).toEqual([
        'shared.kernel:600x1024',
        'shared.bias:1024',
        'gan.kernel:1024x1',
        'gan.bias:1',
        'classifier.kernel:1024x21',
        'classifier.bias:21',
      ]);
      expect(d.dropoutRate).toBe(0.5);
      d.dispose();
    });

    it('apply: shapes, sigmoid GAN output, and a hand-computed eval forward pass', () => {
      const d = new Discriminator(new Rng(1), { featureDim: 5, hidden: 16, numClasses: 4 });
      const x = fixed([9, 5], 2) as tf.Tensor2D;
      const { gan, logits } = d.apply(x, { training: false, rng: new Rng(0) });
      expect(gan!.shape).toEqual([9, 1]);
      expect(logits.shape).toEqual([9, 4]);
      expect(gan!.dataSync().every((v) => v > 0 && v < 1)).toBe(true);
      const P = d.namedParameters();
      const ref = tf.tidy(() => {
        const s = tf.relu(tf.add(tf.matMul(x, P.get('shared.kernel')! as tf.Tensor2D), P.get('shared.bias')!));
        return {
          gan: tf.sigmoid(tf.add(tf.matMul(s, P.get('gan.kernel')! as tf.Tensor2D), P.get('gan.bias')!)),
          logits: tf.add(tf.matMul(s, P.get('classifier.kernel')! as tf.Tensor2D), P.get('classifier.bias')!),
        };
      });
      expect(maxAbsDiff(gan!, ref.gan)).toBeLessThan(1e-5);
      expect(maxAbsDiff(logits, ref.logits)).toBeLessThan(1e-5);
      tf.dispose([x, gan!, logits, ref.gan, ref.logits]);
      d.dispose();
    });

    it('without a GAN head (ZS3Net): no gan.* parameters, gan is null, the other heads keep their init', () => {
      const withHead = new Discriminator(new Rng(3), { featureDim: 5, hidden: 8, numClasses: 4 });
      const d = new Discriminator(new Rng(3), { featureDim: 5, hidden: 8, numClasses: 4, ganHead: false });
      expect(d.hasGanHead).toBe(false);
      expect([...d.namedParameters().keys()]).toEqual(['shared.kernel', 'shared.bias', 'classifier.kernel', 'classifier.bias']);
      const a = withHead.namedParameters();
      for (const [k, v] of d.namedParameters()) expect([...v.dataSync()]).toEqual([...a.get(k)!.dataSync()]);
      const x = fixed([3, 5], 1) as tf.Tensor2D;
      const out = d.apply(x, { training: false, rng: new Rng(0) });
      expect(out.gan).toBeNull();
      expect(out.logits.shape).toEqual([3, 4]);
      const m = d.applyMap(tf.reshape(x, [1, 1, 3, 5]) as tf.Tensor4D, { training: false, rng: new Rng(0) });
      expect(m.gan).toBeNull();
      expect(() => new Discriminator(new Rng(0), { featureDim: 5, numClasses: 2, ganHead: 'no' as never })).toThrow(/ganHead must be a boolean/);
      tf.dispose([x, out.logits, m.logits]);
      d.dispose();
      withHead.dispose();
    });

    it('applyMap equals apply on the flattened pixels', () => {
      const d = new Discriminator(new Rng(1), { featureDim: 5, hidden: 8, numClasses: 3 });
      const m = fixed([2, 3, 4, 5], 3) as tf.Tensor4D;
      const a = d.applyMap(m, { training: false, rng: new Rng(0) });
      expect(a.gan!.shape).toEqual([2, 3, 4, 1]);
      expect(a.logits.shape).toEqual([2, 3, 4, 3]);
      const flat = tf.reshape(m, [24, 5]) as tf.Tensor2D;
      const b = d.apply(flat, { training: false, rng: new Rng(0) });
      const r = tf.reshape(a.logits, [24, 3]);
      expect(maxAbsDiff(r, b.logits)).toBe(0);
      tf.dispose([m, flat, r, a.gan!, a.logits, b.gan!, b.logits]);
      d.dispose();
    });

    it('dropout 0.5 in training only, repeatable with a seed', () => {
      const d = new Discriminator(new Rng(1), { featureDim: 5, hidden: 32, numClasses: 3 });
      const x = fixed([20, 5], 2) as tf.Tensor2D;
      const e1 = d.apply(x, { training: false, rng: new Rng(1) });
      const e2 = d.apply(x, { training: false, rng: new Rng(2) });
      const t1 = d.apply(x, { training: true, rng: new Rng(3) });
      const t2 = d.apply(x, { training: true, rng: new Rng(3) });
      const t3 = d.apply(x, { training: true, rng: new Rng(4) });
      expect(maxAbsDiff(e1.logits, e2.logits)).toBe(0);
      expect(maxAbsDiff(t1.logits, t2.logits)).toBe(0);
      expect(maxAbsDiff(t1.logits, t3.logits)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(t1.logits, e1.logits)).toBeGreaterThan(1e-3);
      tf.dispose([x, ...[e1, e2, t1, t2, t3].flatMap((o) => [o.gan!, o.logits])]);
      d.dispose();
    });

    it('gradients reach every parameter; apply, applyMap and a training step leak nothing', async () => {
      const d = new Discriminator(new Rng(1), { featureDim: 5, hidden: 8, numClasses: 3 });
      const x = fixed([10, 5], 2) as tf.Tensor2D;
      const rng = new Rng(3);
      const loss = () =>
        tf.tidy(() => {
          const { gan, logits } = d.apply(x, { training: true, rng });
          return tf.add(tf.mean(gan!), tf.mean(tf.square(logits))) as tf.Scalar;
        });
      const { value, grads } = tf.variableGrads(loss, d.trainableVariables());
      for (const [path, v] of d.namedParameters()) {
        expect(tf.tidy(() => tf.max(tf.abs(grads[v.name])).dataSync()[0]), path).toBeGreaterThan(0);
      }
      tf.dispose([value, ...Object.values(grads)]);
      const m = fixed([1, 2, 2, 5], 4) as tf.Tensor4D;
      const opt = tf.train.sgd(0.1);
      await expectNoLeaks(() => {
        const a = d.apply(x, { training: true, rng });
        const b = d.applyMap(m, { training: false, rng });
        tf.dispose([a.gan!, a.logits, b.gan!, b.logits]);
        opt.minimize(loss, false, d.trainableVariables());
      });
      tf.dispose([x, m]);
      opt.dispose();
      d.dispose();
    });

    it('rejects bad configs and inputs', () => {
      expect(() => new Discriminator(new Rng(0), { featureDim: 5, numClasses: 0 })).toThrow(/Discriminator: numClasses/);
      expect(() => new Discriminator(new Rng(0), { featureDim: 5, numClasses: 3, dropout: 1 })).toThrow(/Discriminator: dropout/);
      const d = new Discriminator(new Rng(0), { featureDim: 5, hidden: 4, numClasses: 3 });
      const bad = tf.zeros([3, 4]) as tf.Tensor2D;
      expect(() => d.apply(bad, { training: false, rng: new Rng(0) })).toThrow(/expected features of shape \[P, 5\], got \[3, 4\]/);
      const bad4 = tf.zeros([1, 2, 2, 4]) as tf.Tensor4D;
      expect(() => d.applyMap(bad4, { training: false, rng: new Rng(0) })).toThrow(/applyMap: expected features of shape \[N, H, W, 5\]/);
      tf.dispose([bad, bad4]);
      d.dispose();
    });
  });
}
