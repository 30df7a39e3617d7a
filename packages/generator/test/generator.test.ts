import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Registry, Rng } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import {
  createGenerator,
  GENERATOR_PRESETS,
  GmmnGenerator,
  LatentMlpGenerator,
  PAPER_GENERATOR_DROPOUT,
  PAPER_GENERATOR_HIDDEN,
  registry,
  type Generator,
} from '../src/index';

function fixed(shape: [number, number], seed: number, scale = 1): tf.Tensor2D {
  return tf.tensor2d(new Rng(seed).normalArray(shape[0] * shape[1], 0, scale), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const small = { embeddingDim: 6, featureDim: 5, latentDim: 4, hidden: [16, 12], dropout: [0.1, 0.5] };

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`@sign/generator generators on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    it('runs on the requested backend', () => expect(tf.getBackend()).toBe(backend));

    it('registry: built-ins, unknown names list the known ones, duplicates refused', () => {
      expect(registry.names()).toEqual(['sign', 'cagnet', 'gmmn']);
      expect(() => registry.get('wgan')).toThrow("unknown generator 'wgan'; known: sign, cagnet, gmmn");
      expect(() => createGenerator('sgin', new Rng(0), small)).toThrow("unknown generator 'sgin' (did you mean 'sign'?); known: sign, cagnet, gmmn");
      expect(() => registry.register('sign', () => null as never)).toThrow(/the name is taken/);
      expect(registry).toBe(Registry.shared('generator'));
    });

    it('sign and cagnet: the METHOD §2 MLP at paper sizes by default, differing in latentSource', () => {
      const g = createGenerator('sign', new Rng(0), { embeddingDim: 600, featureDim: 600 });
      expect(g).toBeInstanceOf(LatentMlpGenerator);
      expect(g.name).toBe('sign');
      expect(g.needsLatent).toBe(true);
      expect(g.latentDim).toBe(600);
      expect(g.latentSource).toBe('relative');
      const shapes = [...g.namedParameters()].map(([k, v]) => `${k}:${v.shape.join('x')}`);
      expect(shapes).toEqual([
        'layer1.kernel:1200x1024',
        'layer1.bias:1024',
        'layer2.kernel:1024x960',
        'layer2.bias:960',
        'layer3.kernel:960x864',
        'layer3.bias:864',
        'layer4.kernel:864x784',
        'layer4.bias:784',
        'layer5.kernel:784x720',
        'layer5.bias:720',
        'out.kernel:720x600',
        'out.bias:600',
      ]);
      expect((g as LatentMlpGenerator).dropoutRates).toEqual([0.1, 0.1, 0.3, 0.5, 0.5]);
      const c = createGenerator('cagnet', new Rng(0), { ...GENERATOR_PRESETS.paper });
      expect(c.latentSource).toBe('none');
      expect(c.numParameters()).toBe(g.numParameters());
      expect(GENERATOR_PRESETS.paper.hidden).toEqual([...PAPER_GENERATOR_HIDDEN]);
      expect(GENERATOR_PRESETS.paper.dropout).toEqual([...PAPER_GENERATOR_DROPOUT]);
      g.dispose();
      c.dispose();
    });

    it('sign: shapes, sigmoid range, and a hand-computed forward pass in eval mode', () => {
      const g = createGenerator('sign', new Rng(1), small) as LatentMlpGenerator;
      const w = fixed([10, 6], 2);
      const z = fixed([10, 4], 3);
      const out = g.generate({ embeddings: w, latent: z }, { training: false, rng: new Rng(4) });
      expect(out.shape).toEqual([10, 5]);
      const v = out.dataSync();
      expect(v.every((x) => x > 0 && x < 1)).toBe(true);
      const P = g.namedParameters();
      const ref = tf.tidy(() => {
        let x: tf.Tensor = tf.concat([w, z], 1);
        for (const l of ['layer1', 'layer2']) {
          x = tf.add(tf.matMul(x as tf.Tensor2D, P.get(`${l}.kernel`)! as tf.Tensor2D), P.get(`${l}.bias`)!);
          x = tf.where(tf.greater(x, 0), x, tf.mul(x, 0.2));
        }
        return tf.sigmoid(tf.add(tf.matMul(x as tf.Tensor2D, P.get('out.kernel')! as tf.Tensor2D), P.get('out.bias')!));
      });
      expect(maxAbsDiff(out, ref)).toBeLessThan(1e-5);
      tf.dispose([w, z, out, ref]);
      g.dispose();
    });

    it('eval mode is deterministic; train mode applies seeded dropout', () => {
      const g = createGenerator('sign', new Rng(1), { ...small, dropout: [0.5, 0.5] });
      const w = fixed([64, 6], 2);
      const z = fixed([64, 4], 3);
      const run = (training: boolean, seed: number) => g.generate({ embeddings: w, latent: z }, { training, rng: new Rng(seed) });
      const e1 = run(false, 1);
      const e2 = run(false, 2);
      expect(maxAbsDiff(e1, e2)).toBe(0);
      const t1 = run(true, 7);
      const t2 = run(true, 7);
      const t3 = run(true, 8);
      expect(maxAbsDiff(t1, t2)).toBe(0); // same seed, same masks
      expect(maxAbsDiff(t1, t3)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(t1, e1)).toBeGreaterThan(1e-3);
      // one rng advances between calls: two draws from the same stream differ
      const rng = new Rng(9);
      const a = g.generate({ embeddings: w, latent: z }, { training: true, rng });
      const b = g.generate({ embeddings: w, latent: z }, { training: true, rng });
      expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
      tf.dispose([w, z, e1, e2, t1, t2, t3, a, b]);
      g.dispose();
    });

    it('gmmn: ZS3Net sizes, own uniform noise, no latent', () => {
      const g = createGenerator('gmmn', new Rng(0), { embeddingDim: 6, featureDim: 5 });
      expect(g).toBeInstanceOf(GmmnGenerator);
      expect(g.needsLatent).toBe(false);
      expect(g.latentDim).toBe(0);
      expect(g.latentSource).toBeUndefined();
      expect([...g.namedParameters()].map(([k, v]) => `${k}:${v.shape.join('x')}`)).toEqual([
        'layer1.kernel:12x256',
        'layer1.bias:256',
        'out.kernel:256x5',
        'out.bias:5',
      ]);
      const w = fixed([8, 6], 2);
      const a = g.generate({ embeddings: w }, { training: false, rng: new Rng(1) });
      const b = g.generate({ embeddings: w }, { training: false, rng: new Rng(1) });
      const c = g.generate({ embeddings: w }, { training: false, rng: new Rng(2) });
      expect(a.shape).toEqual([8, 5]);
      expect(maxAbsDiff(a, b)).toBe(0); // same seed, same noise
      expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-4); // the noise matters even in eval mode
      // hand-computed with the same noise draw: U(0, 1) from a generator seeded with the rng's first draw
      const P = g.namedParameters();
      const noise = new Rng(new Rng(1).nextUint32()).uniformArray(8 * 6);
      const ref = tf.tidy(() => {
        const u = tf.tensor2d(noise, [8, 6]);
        const umin = tf.min(u).dataSync()[0];
        const umax = tf.max(u).dataSync()[0];
        expect(umin).toBeGreaterThanOrEqual(0);
        expect(umax).toBeLessThan(1);
        const hdn = tf.leakyRelu(tf.add(tf.matMul(tf.concat([w, u], 1), P.get('layer1.kernel')! as tf.Tensor2D), P.get('layer1.bias')!), 0.2);
        return tf.add(tf.matMul(hdn, P.get('out.kernel')! as tf.Tensor2D), P.get('out.bias')!);
      });
      expect(maxAbsDiff(a, ref)).toBeLessThan(1e-5);
      const wide = createGenerator('gmmn', new Rng(0), { ...GENERATOR_PRESETS.paperGmmn });
      expect(wide.namedParameters().get('layer1.kernel')!.shape).toEqual([1200, 256]);
      tf.dispose([w, a, b, c, ref]);
      g.dispose();
      wide.dispose();
    });

    it('rejects bad configs and inputs with messages naming the generator and key', () => {
      expect(() => createGenerator('sign', new Rng(0), { embeddingDim: 0, featureDim: 4 })).toThrow(
        /generator 'sign'.*embeddingDim must be a positive integer/,
      );
      expect(() => createGenerator('cagnet', new Rng(0), { embeddingDim: 4, featureDim: 4, hidden: [8, 8], dropout: [0.1] })).toThrow(
        /generator 'cagnet'.*one rate per hidden layer/,
      );
      expect(() => createGenerator('sign', new Rng(0), { embeddingDim: 4, featureDim: 4, hidden: [8], dropout: [1.5] })).toThrow(
        /dropout\[0\] must be a number in \[0, 1\)/,
      );
      expect(() => createGenerator('gmmn', new Rng(0), { embeddingDim: 4, featureDim: 4, hidden: [8, 8] })).toThrow(
        /generator 'gmmn'.*exactly one width/,
      );
      const g = createGenerator('sign', new Rng(0), small);
      const w = fixed([3, 6], 1);
      const z = fixed([3, 4], 1);
      const zBad = fixed([3, 5], 1);
      const wBad = fixed([3, 7], 1);
      const opts = { training: false, rng: new Rng(0) };
      expect(() => g.generate({ embeddings: w }, opts)).toThrow(/'sign'.generate: this generator needs input.latent of shape \[P, 4\]/);
      expect(() => g.generate({ embeddings: w, latent: zBad }, opts)).toThrow(/expected latent of shape \[3, 4\], got \[3, 5\]/);
      expect(() => g.generate({ embeddings: wBad, latent: z }, opts)).toThrow(/expected embeddings of shape \[P, 6\], got \[3, 7\]/);
      tf.dispose([w, z, zBad, wBad]);
      g.dispose();
    });

    for (const name of ['sign', 'cagnet', 'gmmn'] as const) {
      it(`${name}: gradients reach every parameter; generate and a training step leak nothing`, async () => {
        const cfg = name === 'gmmn' ? { embeddingDim: 6, featureDim: 5, hidden: [16] } : small;
        const g: Generator = createGenerator(name, new Rng(3), cfg);
        const w = fixed([12, 6], 2);
        const z = fixed([12, 4], 3);
        const rng = new Rng(5);
        const input = g.needsLatent ? { embeddings: w, latent: z } : { embeddings: w };
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.square(g.generate(input, { training: true, rng }))) as tf.Scalar,
          g.trainableVariables(),
        );
        for (const [path, v] of g.namedParameters()) {
          const gr = grads[v.name];
          expect(gr, path).toBeDefined();
          expect(tf.tidy(() => tf.max(tf.abs(gr)).dataSync()[0]), path).toBeGreaterThan(0);
        }
        tf.dispose([value, ...Object.values(grads)]);
        const opt = tf.train.sgd(0.1);
        await expectNoLeaks(() => {
          g.generate(input, { training: true, rng }).dispose();
          g.generate(input, { training: false, rng }).dispose();
          for (let i = 0; i < 2; i++) {
            tf.tidy(() => {
              const { value: l, grads: gs } = tf.variableGrads(
                () => tf.mean(g.generate(input, { training: true, rng })) as tf.Scalar,
                g.trainableVariables(),
              );
              opt.applyGradients(gs);
              return l;
            }).dispose();
          }
        });
        opt.dispose();
        tf.dispose([w, z]);
        g.dispose();
      });
    }

    it('training a sign generator a few steps with a mean-matching loss lowers the loss', () => {
      // Real features: a class-dependent target in (0, 1); loss = squared difference of the
      // per-class means of real and generated features (a linear-kernel MMD), plus per-pixel L2.
      const g = createGenerator('sign', new Rng(3), { embeddingDim: 6, featureDim: 5, latentDim: 4, hidden: [32, 32], dropout: [0, 0] });
      const w = fixed([40, 6], 2);
      const z = fixed([40, 4], 3);
      const real = tf.tidy(() => tf.sigmoid(tf.matMul(w, fixed([6, 5], 4))));
      const opt = tf.train.adam(1e-2);
      const rng = new Rng(6);
      const lossFn = () =>
        tf.tidy(() => {
          const fake = g.generate({ embeddings: w, latent: z }, { training: true, rng });
          const meanDiff = tf.sum(tf.square(tf.sub(tf.mean(fake, 0), tf.mean(real, 0))));
          return tf.add(meanDiff, tf.mean(tf.square(tf.sub(fake, real)))) as tf.Scalar;
        });
      const first = lossFn();
      const l0 = first.dataSync()[0];
      first.dispose();
      for (let i = 0; i < 40; i++) {
        const cost = opt.minimize(lossFn, true, g.trainableVariables());
        cost?.dispose();
      }
      const last = lossFn();
      const l1 = last.dataSync()[0];
      last.dispose();
      expect(l1).toBeLessThan(0.5 * l0);
      tf.dispose([w, z, real]);
      opt.dispose();
      g.dispose();
    });
  });
}
