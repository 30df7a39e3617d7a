import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@sign/core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { klDivergence } from '@sign/losses';
import {
  ReleaseGatedBlock,
  ReleaseSpatialInformationModule,
  SIM_VARIANTS,
  SpatialInformationModule,
  createSpatialInformationModule,
  releaseSimConfigFromKeys,
  releaseSimKey,
  type ReleaseSimOutput,
} from '../src/index';

function fixed(shape: number[], seed: number, scale = 1): tf.Tensor4D {
  const t: tf.Tensor = tf.tensor(new Rng(seed).normalArray(shape.reduce((a, b) => a * b, 1), 0, scale), shape);
  return t as tf.Tensor4D;
}
function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}
const releaseKeyOf: Record<string, string> = {
  'positional.branch1': 'positional1',
  'positional.branch2': 'positional2',
  'positional.branch3': 'positional3',
  'positional.gate': 'fc_2',
  'positional.pool': 'positionalpool',
  'positionalLatent.mu': 'positionallocalmu',
  'positionalLatent.logvar': 'positionallocalsigma',
  'contextual.branch1': 'contextual1',
  'contextual.branch2': 'contextual2',
  'contextual.branch3': 'contextual3',
  'contextual.gate': 'fc_1',
  'contextual.pool': 'contextualpool',
  'contextualLatent.mu': 'contextuallocalmu',
  'contextualLatent.logvar': 'contextuallocalsigma',
};
const disposeOut = (o: ReleaseSimOutput) =>
  tf.dispose([...Object.values(o).filter((t) => t instanceof tf.Tensor), ...(o.positional ? Object.values(o.positional) : [])]);

describe('release SIM: parameters and state-dict keys', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('release-v1 / release-v2 (type 2.1) / type 2: paths and shapes as in the release', () => {
    const shapes = (m: ReleaseSpatialInformationModule) => Object.fromEntries([...m.namedParameters()].map(([p, v]) => [p, v.shape]));
    const v1 = new ReleaseSpatialInformationModule(new Rng(0), { variant: 'release-v1', channels: 8, hidden: 4 });
    expect(shapes(v1)).toEqual({
      'positional.branch1.kernel': [3, 3, 16, 4],
      'positional.branch2.kernel': [3, 3, 4, 4],
      'positional.branch3.kernel': [3, 3, 4, 4],
      'positional.gate.kernel': [3, 3, 12, 3],
      'positional.pool.kernel': [12, 8],
      'contextual.branch1.kernel': [3, 3, 8, 4],
      'contextual.branch2.kernel': [3, 3, 4, 4],
      'contextual.branch3.kernel': [3, 3, 4, 4],
      'contextual.gate.kernel': [3, 3, 12, 3],
      'contextual.pool.kernel': [12, 8],
      'contextualLatent.mu.kernel': [3, 3, 8, 8],
      'contextualLatent.logvar.kernel': [3, 3, 8, 8],
    });
    const v2 = new ReleaseSpatialInformationModule(new Rng(0), { variant: 'release-v2', channels: 8, hidden: 4 });
    expect(shapes(v2)['positionalLatent.mu.kernel']).toEqual([3, 3, 8, 8]);
    expect(Object.keys(shapes(v2)).length).toBe(14);
    const type2 = new ReleaseSpatialInformationModule(new Rng(0), { variant: 'release-v2', channels: 8, hidden: 4, positionalPoolChannels: 6 });
    expect(shapes(type2)['positional.pool.kernel']).toEqual([12, 6]);
    expect(shapes(type2)['positionalLatent.logvar.kernel']).toEqual([3, 3, 6, 8]);
    // no biases anywhere; every path has exactly one release key
    for (const m of [v1, v2, type2]) {
      for (const path of m.namedParameters().keys()) {
        expect(path.endsWith('.kernel'), path).toBe(true);
        const key = `back.scale.${releaseKeyOf[path.replace(/\.kernel$/, '')]}.conv.weight`;
        expect(releaseSimKey(key)).toBe(path);
      }
      m.dispose();
    }
  });

  it('releaseSimKey: both prefixes; backbone, head and generator keys are not the SIM’s', () => {
    expect(releaseSimKey('back.scale.fc_1.conv.weight')).toBe('contextual.gate.kernel');
    expect(releaseSimKey('back.fc_2.conv.weight')).toBe('positional.gate.kernel');
    expect(releaseSimKey('positionallocalsigma.conv.weight')).toBe('positionalLatent.logvar.kernel');
    for (const other of ['back.scale.layer1.conv1.conv.weight', 'back.scale.aspp.stages.c0.weight', 'dis.fc.conv.weight', 'gen.mlp.0.conv.weight', 'back.scale.fc_1.conv.bias', 'back.scale.positional4.conv.weight']) {
      expect(releaseSimKey(other), other).toBeUndefined();
    }
  });

  it('releaseSimConfigFromKeys tells type 1, 2.1 and 2 apart, and refuses a state dict without a release SIM', () => {
    const e = (name: string, shape: number[]) => ({ name: `back.scale.${name}.conv.weight`, shape });
    const common = [e('contextual1', [256, 600, 3, 3]), e('contextualpool', [600, 768, 1, 1]), e('positionalpool', [600, 768, 1, 1]), { name: 'dis.cls.weight', shape: [21, 1024, 1, 1] }];
    expect(releaseSimConfigFromKeys(common)).toEqual({ variant: 'release-v1', channels: 600, hidden: 256 });
    expect(releaseSimConfigFromKeys([...common, e('positionallocalmu', [600, 600, 3, 3])])).toEqual({
      variant: 'release-v2',
      channels: 600,
      hidden: 256,
      positionalPoolChannels: 600,
    });
    expect(releaseSimConfigFromKeys([...common.slice(0, 2), e('positionalpool', [128, 768, 1, 1]), e('positionallocalmu', [600, 128, 3, 3])]).positionalPoolChannels).toBe(128);
    expect(() => releaseSimConfigFromKeys([{ name: 'back.scale.layer1.conv1.conv.weight', shape: [64, 3, 7, 7] }])).toThrow(
      "@sign/sim releaseSimConfigFromKeys: no 'contextualpool.conv.weight' among the keys: not a SIGN release SIM",
    );
  });

  it('refuses bad configs with messages', () => {
    const mk = (cfg: object) => () => new ReleaseSpatialInformationModule(new Rng(0), { variant: 'release-v1', channels: 8, hidden: 4, ...cfg });
    expect(mk({ channels: 6 })).toThrow(/channels must be a positive multiple of 4/);
    expect(mk({ variant: 'release-v3' })).toThrow(/variant must be 'release-v1' or 'release-v2', got 'release-v3'/);
    expect(mk({ positionalPoolChannels: 4 })).toThrow(/positionalPoolChannels applies to 'release-v2' only/);
    expect(mk({ dilations: [1, 0] })).toThrow(/ReleaseGatedBlock: dilations must be a non-empty array of positive integers/);
    expect(mk({ init: 'he' })).toThrow(/init must be 'pytorch' or 'zeros'/);
    expect(mk({ variant: 'release-v2', positionalPoolChannels: 0 })).toThrow(/positionalPoolChannels must be a positive integer/);
  });
});

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`ReleaseGatedBlock (${backend})`, () => {
    it('gate = sigmoid(relu(3×3 conv)): a negative gate pre-activation gives 0.5, like a zero gate; the pool ends in a ReLU', async () => {
      const block = new ReleaseGatedBlock(new Rng(3), { inChannels: 5, outChannels: 6, hidden: 4, dilations: [1, 2, 5] });
      const x = fixed([2, 7, 9, 5], 1);
      const gate = block.namedParameters().get('gate.kernel')!;
      // All branch outputs are ≥ 0 (ReLU), so a kernel of -1 everywhere makes every gate
      // pre-activation ≤ 0: relu → 0 → sigmoid → 0.5, exactly as a zero kernel.
      gate.assign(tf.fill(gate.shape, -1));
      const yNeg = await expectNoLeaks(() => block.apply(x));
      gate.assign(tf.zeros(gate.shape));
      const yZero = block.apply(x);
      expect(maxAbsDiff(yNeg, yZero)).toBe(0);
      // and a positive gate changes the output (the gate is used at all)
      gate.assign(tf.fill(gate.shape, 0.5));
      const yPos = block.apply(x);
      expect(maxAbsDiff(yPos, yZero)).toBeGreaterThan(1e-3);
      expect(yPos.shape).toEqual([2, 7, 9, 6]);
      const v = yPos.dataSync();
      expect(Math.min(...v)).toBe(0); // ReLU after the pool: ≥ 0, and some pixels cut
      expect(Math.max(...v)).toBeGreaterThan(0);
      expect(() => block.apply(fixed([1, 3, 3, 4], 2))).toThrow('@sign/sim ReleaseGatedBlock.apply: expected x of shape [N, H, W, 5], got [1, 3, 3, 4]');
      tf.dispose([x, yNeg, yZero, yPos]);
      block.dispose();
    });
  });

  describe(`ReleaseSpatialInformationModule (${backend})`, () => {
    it("'zero' noise: z = mu, logvar ≥ 0; release-v1's h' ≥ h (the pool's ReLU); batch items independent", async () => {
      const sim = new ReleaseSpatialInformationModule(new Rng(1), { variant: 'release-v1', channels: 8, hidden: 4 });
      const h = fixed([2, 5, 6, 8], 2);
      const out = await expectNoLeaks(() => sim.apply(h, { noise: 'zero' }));
      expect(maxAbsDiff(out.latent, out.mu)).toBe(0);
      expect(Math.min(...out.logvar.dataSync())).toBeGreaterThanOrEqual(0);
      expect(tf.tidy(() => tf.min(tf.sub(out.hPrime, h)).dataSync()[0])).toBeGreaterThanOrEqual(0);
      expect(out.positional).toBeUndefined();
      const f = tf.tidy(() => tf.sigmoid(tf.add(out.hPrime, tf.mul(out.hPrime, tf.sigmoid(out.latent)))));
      expect(maxAbsDiff(out.feature, f)).toBeLessThan(1e-6);
      // the second batch item alone gives the same
      const h1 = tf.slice(h, [1, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      const one = sim.apply(h1, { noise: 'zero' });
      expect(maxAbsDiff(one.feature, tf.slice(out.feature, [1, 0, 0, 0], [1, -1, -1, -1]))).toBeLessThan(1e-5);
      // eval mode defaults to 'zero'; encode(h) is h' of apply
      const evalOut = sim.eval().apply(h);
      expect(maxAbsDiff(evalOut.latent, out.mu)).toBe(0);
      const hp = sim.encode(h);
      expect(maxAbsDiff(hp, out.hPrime)).toBe(0);
      tf.dispose([h, h1, f, hp]);
      [out, one, evalOut].forEach(disposeOut);
      sim.dispose();
    });

    it("'sample', 'prior' and explicit eps for both latents (release-v2)", async () => {
      const sim = new ReleaseSpatialInformationModule(new Rng(4), { variant: 'release-v2', channels: 8, hidden: 4 });
      const h = fixed([1, 6, 7, 8], 5);
      const ref = sim.apply(h, { noise: 'zero' });
      const pos = ref.positional!;
      expect(maxAbsDiff(pos.latent, pos.mu)).toBe(0);
      expect(maxAbsDiff(ref.hPrime, tf.tidy(() => tf.add(h, tf.mul(h, tf.sigmoid(pos.mu)))))).toBeLessThan(1e-6);
      // explicit eps: z = mu + exp(logvar/2)·eps, for both latents
      const eps = fixed([1, 6, 7, 8], 6);
      const epsPos = fixed([1, 6, 7, 8], 7);
      const ex = await expectNoLeaks(() => sim.apply(h, { eps, positionalEps: epsPos }));
      const zPos = tf.tidy(() => tf.add(pos.mu, tf.mul(tf.exp(tf.mul(pos.logvar, 0.5)), epsPos)));
      expect(maxAbsDiff(ex.positional!.latent, zPos)).toBeLessThan(1e-5);
      expect(maxAbsDiff(ex.latent, tf.tidy(() => tf.add(ex.mu, tf.mul(tf.exp(tf.mul(ex.logvar, 0.5)), eps))))).toBeLessThan(1e-5);
      // 'sample': reproducible from the same rng, different from z = mu, standardized noise ~ N(0, 1)
      const s1 = sim.apply(h, { noise: 'sample', rng: new Rng(9) });
      const s2 = sim.apply(h, { noise: 'sample', rng: new Rng(9) });
      expect(maxAbsDiff(s1.latent, s2.latent)).toBe(0);
      expect(maxAbsDiff(s1.latent, s1.mu)).toBeGreaterThan(1e-2);
      const std = tf.tidy(() => tf.div(tf.sub(s1.latent, s1.mu), tf.exp(tf.mul(s1.logvar, 0.5))));
      const m = tf.tidy(() => tf.moments(std));
      expect(Math.abs(m.mean.dataSync()[0])).toBeLessThan(0.2);
      expect(Math.abs(Math.sqrt(m.variance.dataSync()[0]) - 1)).toBeLessThan(0.2);
      // successive calls on the module's own stream draw new noise
      const a = sim.apply(h, { noise: 'sample' });
      const b = sim.apply(h, { noise: 'sample' });
      expect(maxAbsDiff(a.latent, b.latent)).toBeGreaterThan(1e-2);
      // 'prior': z ~ N(0, I) whatever mu is
      const p = sim.apply(h, { noise: 'prior', rng: new Rng(10) });
      const pm = tf.tidy(() => tf.moments(p.latent));
      expect(Math.abs(pm.mean.dataSync()[0])).toBeLessThan(0.2);
      expect(Math.abs(Math.sqrt(pm.variance.dataSync()[0]) - 1)).toBeLessThan(0.2);
      expect(() => sim.apply(h, { noise: 'gaussian' as never })).toThrow(/noise must be 'sample', 'zero' or 'prior', got 'gaussian'/);
      expect(() => sim.apply(fixed([1, 6, 7, 4], 1))).toThrow('@sign/sim ReleaseSpatialInformationModule.apply: expected h of shape [N, H, W, 8], got [1, 6, 7, 4]');
      expect(() => sim.apply(h, { eps: fixed([1, 6, 6, 8], 1) })).toThrow(/eps \[1, 6, 6, 8\] must have the shape of h \[1, 6, 7, 8\]/);
      const v1 = new ReleaseSpatialInformationModule(new Rng(4), { variant: 'release-v1', channels: 8, hidden: 4 });
      expect(() => v1.apply(h, { positionalEps: epsPos })).toThrow(/positionalEps needs 'release-v2' \(this module is 'release-v1'\)/);
      tf.dispose([h, eps, epsPos, zPos, std, m.mean, m.variance, pm.mean, pm.variance]);
      [ref, ex, s1, s2, a, b, p].forEach(disposeOut);
      sim.dispose();
      v1.dispose();
    });

    it('gradients match central finite differences (input direction and single weights), both variants', () => {
      for (const variant of ['release-v1', 'release-v2'] as const) {
        const sim = new ReleaseSpatialInformationModule(new Rng(11), { variant, channels: 4, hidden: 3 });
        const shape = [1, 4, 5, 4];
        const h = fixed(shape, 12);
        const eps = fixed(shape, 13);
        const epsPos = variant === 'release-v2' ? fixed(shape, 14) : undefined;
        const w = fixed(shape, 15);
        const loss = (x: tf.Tensor4D) =>
          tf.tidy(() => {
            const o = sim.apply(x, { eps, positionalEps: epsPos });
            return tf.add(tf.sum(tf.mul(o.feature, w)), tf.mul(klDivergence(o.mu, o.logvar), 0.05)) as tf.Scalar;
          });
        const host = (x: tf.Tensor4D) => loss(x).dataSync()[0];
        const dir = fixed(shape, 17);
        const gx = tf.grad((x: tf.Tensor) => loss(x as tf.Tensor4D))(h);
        const analytic = tf.tidy(() => tf.sum(tf.mul(gx, dir)).dataSync()[0]);
        const d = 1e-3;
        const numeric = (host(tf.tidy(() => tf.add(h, tf.mul(dir, d)))) - host(tf.tidy(() => tf.sub(h, tf.mul(dir, d))))) / (2 * d);
        expect(Math.abs(analytic - numeric), `${variant} d/dh: ${analytic} vs ${numeric}`).toBeLessThan(2e-3 + 1e-2 * Math.abs(numeric));
        const vars = sim.trainableVariables();
        expect(vars.length).toBe(variant === 'release-v1' ? 12 : 14);
        const { grads } = tf.variableGrads(() => loss(h), vars);
        for (const [path, v] of sim.namedParameters()) {
          const g = grads[v.name].dataSync();
          expect(g.every(Number.isFinite), path).toBe(true);
          const i = new Rng(path.length).int(v.size);
          const base = v.dataSync().slice();
          const at = (delta: number) => {
            const vals = base.slice();
            vals[i] += delta;
            v.assign(tf.tensor(vals, v.shape));
            return host(h);
          };
          const fd = (at(d) - at(-d)) / (2 * d);
          v.assign(tf.tensor(base, v.shape));
          expect(Math.abs(g[i] - fd), `${variant} ${path}[${i}]: ${g[i]} vs ${fd}`).toBeLessThan(2e-3 + 1e-2 * Math.abs(fd));
        }
        tf.dispose([h, eps, w, dir, gx, ...Object.values(grads), ...(epsPos ? [epsPos] : [])]);
        sim.dispose();
      }
    });
  });
});

describe('createSpatialInformationModule: the variant switch', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it("'paper' by default; the release variants by name; unknown names listed", () => {
    expect(SIM_VARIANTS).toEqual(['paper', 'release-v1', 'release-v2']);
    const paper = createSpatialInformationModule(new Rng(0), { channels: 8, hidden: 4 });
    expect(paper).toBeInstanceOf(SpatialInformationModule);
    expect(paper.variant).toBe('paper');
    const h = fixed([1, 3, 4, 8], 1);
    for (const variant of ['release-v1', 'release-v2'] as const) {
      const m = createSpatialInformationModule(new Rng(0), { variant, channels: 8, hidden: 4 });
      expect(m).toBeInstanceOf(ReleaseSpatialInformationModule);
      expect(m.variant).toBe(variant);
      const o = m.apply(h, { noise: 'zero' });
      const f = m.featureFromLatent(o.hPrime, o.latent);
      expect(maxAbsDiff(f, o.feature)).toBe(0);
      tf.dispose(f);
      disposeOut(o);
      m.dispose();
    }
    const o = paper.apply(h, { noise: 'zero' });
    expect(o.feature.shape).toEqual([1, 3, 4, 8]);
    disposeOut(o);
    expect(() => createSpatialInformationModule(new Rng(0), { variant: 'release' as never, channels: 8 })).toThrow(
      "@sign/sim createSpatialInformationModule: unknown variant 'release' (known: paper, release-v1, release-v2)",
    );
    tf.dispose(h);
    paper.dispose();
  });
});
