import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Rng } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { klDivergence } from '@sign/losses';
import { GatedDilatedBlock, SpatialInformationModule, relativePositionalEncoding } from '../src/index';

/** Deterministic pseudo-random tensor (independent of the backend's RNG). */
function fixed(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = new Rng(seed);
  return tf.tensor(rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, scale), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`SpatialInformationModule on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    it('runs on the requested backend', () => {
      expect(tf.getBackend()).toBe(backend);
    });

    it.each([
      [1, 4, 4],
      [2, 7, 9],
      [1, 1, 1],
      [1, 3, 11],
    ])('shapes for N=%i H=%i W=%i, all positional variants', (n, h, w) => {
      for (const positional of ['relative', 'absolute', 'none'] as const) {
        const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4, positional });
        const x = fixed([n, h, w, 8], 2) as tf.Tensor4D;
        const out = sim.apply(x, { training: true, rng: new Rng(3) });
        for (const k of ['feature', 'latent', 'mu', 'logvar', 'hPrime'] as const) {
          expect(out[k].shape, `${positional} ${k}`).toEqual([n, h, w, 8]);
        }
        const f = out.feature.dataSync();
        expect(f.every((v) => v > 0 && v < 1 && Number.isFinite(v))).toBe(true);
        tf.dispose([x, ...Object.values(out)]);
        sim.dispose();
      }
    });

    it('GatedDilatedBlock: parameter paths, shapes, pool bias, input checks, no leaks (gating itself: see the hand-written forward test)', async () => {
      const block = new GatedDilatedBlock(new Rng(2), { inChannels: 3, outChannels: 5, hidden: 4, dilations: [1, 3] });
      expect([...block.namedParameters().keys()]).toEqual([
        'branch1.kernel',
        'branch1.bias',
        'branch2.kernel',
        'branch2.bias',
        'gate.kernel',
        'gate.bias',
        'pool.kernel',
        'pool.bias',
      ]);
      const x = fixed([2, 6, 5, 3], 1) as tf.Tensor4D;
      const y = await expectNoLeaks(() => block.apply(x));
      expect(y.shape).toEqual([2, 6, 5, 5]);
      // with the pool kernel zeroed the output is the pool bias everywhere
      const P = block.namedParameters();
      const saved = tf.clone(P.get('pool.kernel')!);
      P.get('pool.kernel')!.assign(tf.zerosLike(saved));
      const y0 = block.apply(x);
      const bias = P.get('pool.bias')!.dataSync();
      const v = y0.dataSync();
      for (let i = 0; i < v.length; i++) expect(v[i]).toBeCloseTo(bias[i % 5], 6);
      P.get('pool.kernel')!.assign(saved);
      const bad = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
      expect(() => block.apply(bad)).toThrow(/GatedDilatedBlock.apply: expected x of shape \[N, H, W, 3\]/);
      expect(() => new GatedDilatedBlock(new Rng(0), { inChannels: 3, outChannels: 5, hidden: 4, dilations: [0] })).toThrow(
        /every dilation must be a positive integer/,
      );
      tf.dispose([x, y, y0, saved, bad]);
      block.dispose();
    });

    it('parameter paths are stable and sized as METHOD §2 says', () => {
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const shapes = Object.fromEntries([...sim.namedParameters()].map(([k, v]) => [k, v.shape]));
      expect(shapes).toEqual({
        'encoder.branch1.kernel': [3, 3, 16, 4],
        'encoder.branch1.bias': [4],
        'encoder.branch2.kernel': [3, 3, 4, 4],
        'encoder.branch2.bias': [4],
        'encoder.branch3.kernel': [3, 3, 4, 4],
        'encoder.branch3.bias': [4],
        'encoder.gate.kernel': [12, 3],
        'encoder.gate.bias': [3],
        'encoder.pool.kernel': [12, 8],
        'encoder.pool.bias': [8],
        'reparam.branch1.kernel': [3, 3, 8, 4],
        'reparam.branch1.bias': [4],
        'reparam.branch2.kernel': [3, 3, 4, 4],
        'reparam.branch2.bias': [4],
        'reparam.branch3.kernel': [3, 3, 4, 4],
        'reparam.branch3.bias': [4],
        'reparam.gate.kernel': [12, 3],
        'reparam.gate.bias': [3],
        'reparam.pool.kernel': [12, 8],
        'reparam.pool.bias': [8],
        'mu.kernel': [8, 8],
        'mu.bias': [8],
        'logvar.kernel': [8, 8],
        'logvar.bias': [8],
      });
      // 'none': the encoding module sees sigmoid(h) alone (D input channels, not 2D)
      const none = new SpatialInformationModule(new Rng(1), { channels: 6, hidden: 4, positional: 'none', dilations: [1, 3] });
      expect(none.namedParameters().get('encoder.branch1.kernel')!.shape).toEqual([3, 3, 6, 4]);
      expect(none.namedParameters().get('encoder.gate.kernel')!.shape).toEqual([8, 2]);
      expect(none.namedParameters().has('encoder.branch3.kernel')).toBe(false);
      // no encoding module at all: h' = h
      const bare = new SpatialInformationModule(new Rng(1), { channels: 6, hidden: 4, positional: 'none', encodingModule: false });
      expect([...bare.namedParameters().keys()].some((k) => k.startsWith('encoder.'))).toBe(false);
      // paper sizes: 2·600 → 256 first conv, 768 → 3 gates, 768 → 600 pool
      const paper = new SpatialInformationModule(new Rng(1), { channels: 600 });
      const p = paper.namedParameters();
      expect(p.get('encoder.branch1.kernel')!.shape).toEqual([3, 3, 1200, 256]);
      expect(p.get('encoder.gate.kernel')!.shape).toEqual([768, 3]);
      expect(p.get('encoder.pool.kernel')!.shape).toEqual([768, 600]);
      expect(p.get('reparam.branch1.kernel')!.shape).toEqual([3, 3, 600, 256]);
      for (const m of [sim, none, bare, paper]) m.dispose();
    });

    it('matches a hand-written forward pass built from its own parameters', () => {
      // Recompute METHOD §2 with plain tf ops (tf.conv2d forward supports dilation) and compare.
      const C = 8;
      const sim = new SpatialInformationModule(new Rng(5), { channels: C, hidden: 4, dilations: [1, 2] });
      const P = sim.namedParameters();
      const x = fixed([2, 5, 6, C], 6) as tf.Tensor4D;
      const eps = fixed([2, 5, 6, C], 7) as tf.Tensor4D;
      const out = sim.apply(x, { eps });
      const ref = tf.tidy(() => {
        const block = (pre: string, inp: tf.Tensor4D, dils: number[]) => {
          const outs: tf.Tensor4D[] = [];
          let cur = inp;
          dils.forEach((d, i) => {
            const k = P.get(`${pre}.branch${i + 1}.kernel`)! as tf.Tensor4D;
            const b = P.get(`${pre}.branch${i + 1}.bias`)!;
            cur = tf.relu(tf.add(tf.conv2d(cur, k, 1, 'same', 'NHWC', d), b)) as tf.Tensor4D;
            outs.push(cur);
          });
          const cat = tf.concat(outs, 3);
          const lin = (t: tf.Tensor4D, name: string) => {
            const k = P.get(`${pre}.${name}.kernel`)! as tf.Tensor2D;
            const [n, h, w, c] = t.shape;
            return tf.reshape(tf.add(tf.matMul(tf.reshape(t, [-1, c]), k), P.get(`${pre}.${name}.bias`)!), [n, h, w, k.shape[1]]) as tf.Tensor4D;
          };
          const g = tf.sigmoid(lin(cat, 'gate'));
          const gated = tf.concat(outs.map((o, i) => tf.mul(o, tf.slice(g, [0, 0, 0, i], [-1, -1, -1, 1]))), 3) as tf.Tensor4D;
          return { pool: lin(gated, 'pool'), lin };
        };
        const pe = tf.tile(tf.expandDims(relativePositionalEncoding(C, 5, 6), 0), [2, 1, 1, 1]);
        const hp = tf.add(x, block('encoder', tf.concat([tf.sigmoid(x), pe], 3) as tf.Tensor4D, [1, 2]).pool) as tf.Tensor4D;
        const rep = block('reparam', tf.sigmoid(hp), [1, 2]);
        const head = (t: tf.Tensor4D, name: string) => {
          const k = P.get(`${name}.kernel`)! as tf.Tensor2D;
          return tf.reshape(tf.add(tf.matMul(tf.reshape(t, [-1, C]), k), P.get(`${name}.bias`)!), t.shape) as tf.Tensor4D;
        };
        const mu = head(rep.pool, 'mu');
        const lv = head(rep.pool, 'logvar');
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(lv, 0.5)), eps));
        const f = tf.sigmoid(tf.add(hp, tf.mul(hp, tf.sigmoid(z))));
        return { hp, mu, lv, z, f };
      });
      expect(maxAbsDiff(out.hPrime, ref.hp)).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.mu, ref.mu)).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.logvar, ref.lv)).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.latent, ref.z)).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.feature, ref.f)).toBeLessThan(1e-5);
      tf.dispose([x, eps, ...Object.values(out), ...Object.values(ref)]);
      sim.dispose();
    });

    it('featureFromLatent agrees with the scalar formula', () => {
      const sim = new SpatialInformationModule(new Rng(1), { channels: 4, hidden: 2 });
      const hp = tf.tensor4d([0.5, -1, 2, 0], [1, 1, 1, 4]);
      const z = tf.tensor4d([0, 3, -2, 1], [1, 1, 1, 4]);
      const f = sim.featureFromLatent(hp, z).dataSync();
      [0.5, -1, 2, 0].forEach((h, i) => {
        const zz = [0, 3, -2, 1][i];
        expect(f[i]).toBeCloseTo(sigmoid(h + h * sigmoid(zz)), 6);
      });
      tf.dispose([hp, z]);
      sim.dispose();
    });

    it('variance = exp(logvar) comes out when z was sampled (for the KL), not with z = mu or the prior', () => {
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const x = fixed([1, 4, 5, 8], 3) as tf.Tensor4D;
      const s = sim.apply(x, { noise: 'sample', rng: new Rng(2) });
      expect(maxAbsDiff(s.variance!, tf.exp(s.logvar))).toBeLessThan(1e-5);
      const z = sim.apply(x, { noise: 'zero' });
      expect(z.variance).toBeUndefined();
      const p = sim.apply(x, { noise: 'prior', rng: new Rng(2) });
      expect(p.variance).toBeUndefined();
      tf.dispose([x, ...Object.values(s), ...Object.values(z), ...Object.values(p)]);
      sim.dispose();
    });

    it("noise modes: 'zero' gives z = mu, 'sample' is mu + sigma·eps, 'prior' ignores mu", () => {
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const x = fixed([1, 6, 5, 8], 2) as tf.Tensor4D;
      const zero = sim.apply(x, { noise: 'zero' });
      expect(maxAbsDiff(zero.latent, zero.mu)).toBe(0);
      const s1 = sim.apply(x, { noise: 'sample', rng: new Rng(9) });
      const s2 = sim.apply(x, { noise: 'sample', rng: new Rng(9) });
      const s3 = sim.apply(x, { noise: 'sample', rng: new Rng(10) });
      expect(maxAbsDiff(s1.latent, s2.latent)).toBe(0); // same seed, same draw
      expect(maxAbsDiff(s1.latent, s3.latent)).toBeGreaterThan(1e-3);
      // eps recovered from z has mean ≈ 0 and std ≈ 1 over 240 values
      const eps = tf.tidy(() => tf.div(tf.sub(s1.latent, s1.mu), tf.exp(tf.mul(s1.logvar, 0.5))));
      const e = Array.from(eps.dataSync());
      const mean = e.reduce((a, b) => a + b, 0) / e.length;
      const std = Math.sqrt(e.reduce((a, b) => a + (b - mean) ** 2, 0) / e.length);
      expect(Math.abs(mean)).toBeLessThan(0.25);
      expect(std).toBeGreaterThan(0.8);
      expect(std).toBeLessThan(1.2);
      const prior = sim.apply(x, { noise: 'prior', rng: new Rng(9) });
      // the prior draw equals the eps of 'sample' with the same seed: z = eps exactly
      expect(maxAbsDiff(prior.latent, eps)).toBeLessThan(1e-4);
      tf.dispose([x, eps, ...[zero, s1, s2, s3, prior].flatMap((o) => Object.values(o))]);
      sim.dispose();
    });

    it('eval mode is deterministic; train mode samples', () => {
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const x = fixed([1, 4, 4, 8], 2) as tf.Tensor4D;
      sim.eval();
      const a = sim.apply(x);
      const b = sim.apply(x);
      expect(maxAbsDiff(a.feature, b.feature)).toBe(0);
      expect(maxAbsDiff(a.latent, a.mu)).toBe(0);
      sim.train();
      const c = sim.apply(x);
      const d = sim.apply(x);
      expect(maxAbsDiff(c.latent, d.latent)).toBeGreaterThan(1e-3); // the module's own stream advances
      tf.dispose([x, ...[a, b, c, d].flatMap((o) => Object.values(o))]);
      sim.dispose();
    });

    it('the positional encoding is what makes a constant input position-dependent', () => {
      // One 3×3 branch (dilation 1) per block on a 7×7 map: h' at pixels at least 1 from the border
      // and F at pixels at least 2 from it see no padding, so with a constant input and no positional
      // encoding they are identical; with PE (relative or absolute) they differ.
      const mk = (positional: 'relative' | 'absolute' | 'none') =>
        new SpatialInformationModule(new Rng(4), { channels: 8, hidden: 4, dilations: [1], positional });
      const flat = tf.fill([1, 7, 7, 8], 0.3) as tf.Tensor4D;
      const pix = (t: tf.Tensor4D, y: number, x: number) => tf.slice(t, [0, y, x, 0], [1, 1, 1, 8]);
      const spread = (positional: 'relative' | 'absolute' | 'none') => {
        const m = mk(positional);
        const out = m.apply(flat, { noise: 'zero' });
        const d = tf.tidy(() =>
          Math.max(maxAbsDiff(pix(out.hPrime, 1, 1), pix(out.hPrime, 4, 5)), maxAbsDiff(pix(out.feature, 2, 2), pix(out.feature, 4, 3))),
        );
        tf.dispose(Object.values(out));
        m.dispose();
        return d;
      };
      expect(spread('none')).toBeLessThan(1e-5);
      expect(spread('relative')).toBeGreaterThan(1e-3);
      expect(spread('absolute')).toBeGreaterThan(1e-3);
      flat.dispose();
    });

    it('rejects bad inputs and configs with clear messages', () => {
      expect(() => new SpatialInformationModule(new Rng(1), { channels: 6 })).toThrow(/SpatialInformationModule.*multiple of 4/);
      expect(() => new SpatialInformationModule(new Rng(1), { channels: 8, positional: 'sinus' as never })).toThrow(
        /positional must be/,
      );
      expect(() => new SpatialInformationModule(new Rng(1), { channels: 8, encodingModule: false })).toThrow(
        /encodingModule: false/,
      );
      expect(() => new SpatialInformationModule(new Rng(1), { channels: 8, dilations: [] })).toThrow(/dilations/);
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const bad = tf.zeros([1, 4, 4, 6]) as tf.Tensor4D;
      expect(() => sim.apply(bad)).toThrow(/apply: expected h of shape \[N, H, W, 8\], got \[1, 4, 4, 6\]/);
      const r3 = tf.zeros([4, 4, 8]) as unknown as tf.Tensor4D;
      expect(() => sim.apply(r3)).toThrow(/expected h of shape/);
      const ok = tf.zeros([1, 4, 4, 8]) as tf.Tensor4D;
      expect(() => sim.apply(ok, { noise: 'gaussian' as never })).toThrow(/noise must be/);
      const wrongEps = tf.zeros([1, 4, 5, 8]) as tf.Tensor4D;
      expect(() => sim.apply(ok, { eps: wrongEps })).toThrow(/eps/);
      tf.dispose([bad, r3, ok, wrongEps]);
      sim.dispose();
    });

    it('does not leak tensors in apply, featureFromLatent and encode (the cached encoding is no tensor)', async () => {
      const before = tf.memory().numTensors;
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const x = fixed([2, 5, 3, 8], 2) as tf.Tensor4D;
      await expectNoLeaks(() => {
        for (const noise of ['sample', 'zero', 'prior'] as const) {
          tf.dispose(Object.values(sim.apply(x, { noise, rng: new Rng(1) })));
        }
        const hp = sim.encode(x);
        sim.featureFromLatent(hp, x).dispose();
        hp.dispose();
        sim.positionalEncoding(2, 5, 3)!.dispose();
        sim.positionalEncoding(1, 5, 3)!.dispose();
      });
      x.dispose();
      sim.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('a full training step (variableGrads + SGD) leaks nothing and lowers the loss', async () => {
      const sim = new SpatialInformationModule(new Rng(1), { channels: 8, hidden: 4 });
      const x = fixed([2, 4, 4, 8], 2) as tf.Tensor4D;
      const target = tf.tidy(() => tf.sigmoid(fixed([2, 4, 4, 8], 3)));
      const opt = tf.train.sgd(0.5);
      const rng = new Rng(11);
      const lossFn = () => {
        const out = sim.apply(x, { noise: 'sample', rng });
        return tf.add(tf.mean(tf.square(tf.sub(out.feature, target))), tf.mul(1e-3, klDivergence(out.mu, out.logvar))) as tf.Scalar;
      };
      const step = () =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(lossFn, sim.trainableVariables());
          opt.applyGradients(grads);
          return value;
        });
      const first = step();
      const l0 = first.dataSync()[0];
      first.dispose();
      let last = l0;
      await expectNoLeaks(() => {
        for (let i = 0; i < 15; i++) {
          const v = step();
          last = v.dataSync()[0];
          v.dispose();
        }
      });
      expect(last).toBeLessThan(l0);
      tf.dispose([x, target]);
      opt.dispose();
      sim.dispose();
    });
  });
}
