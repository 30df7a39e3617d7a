import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, Rng, initBackend } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { SpatialInformationModule } from '@sign/sim';
import { CAGNET_LOSSES, GzsModel, LOSS_TERMS, buildModel, recipes, transferPrior, type ClassInfo, type Recipe } from '../src/index';

const classes: ClassInfo = {
  classNames: ['background', 'a', 'b', 'c', 'd'],
  seen: [1, 2],
  unseen: [3, 4],
  background: 0,
  embeddings: new Rng(3).normalArray(5 * 6),
  embeddingDim: 6,
};
const backbone = { name: 'small', channels: 8, width: 4, headChannels: 8 };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const parse = (type: string, extra: Record<string, unknown> = {}): any => recipes.get(type).schema.parse({ type, backbone, ...extra });

describe('the recipe registry', () => {
  it('is the process-wide registry of kind "recipe", with sign, cagnet and zs3net', () => {
    expect(recipes).toBe(Registry.shared('recipe'));
    expect(recipes.names()).toEqual(['sign', 'cagnet', 'zs3net']);
    expect(() => recipes.get('sgin')).toThrow("unknown recipe 'sgin' (did you mean 'sign'?); known: sign, cagnet, zs3net");
  });

  it("each recipe's default losses are its paper's, and every term weighs only parts it can reach", () => {
    expect(recipes.get('sign').losses).toBe(CAGNET_LOSSES);
    expect(CAGNET_LOSSES.clsReal).toEqual({ backbone: 0.5, classifier: 1 });
    expect(CAGNET_LOSSES.kl).toEqual({ backbone: 100 });
    expect(CAGNET_LOSSES.clsTransfer).toEqual({ classifier: 1, generator: 1 });
    const zs = recipes.get('zs3net').losses;
    expect(Object.keys(zs)).toEqual(['clsReal', 'clsFake', 'mmd', 'clsTransfer']);
    expect(zs.mmd).toEqual({ generator: 50, sigmas: [2, 5, 10, 20, 40, 80] });
    for (const r of recipes.names().map((n) => recipes.get(n) as Recipe)) {
      for (const [term, w] of Object.entries(r.losses)) {
        const parts = Object.keys(w).filter((k) => k !== 'sigmas');
        expect(parts.sort(), `${r.type}.${term}`).toEqual([...LOSS_TERMS[term as keyof typeof LOSS_TERMS].parts].sort());
      }
    }
  });

  it('schemas are strict: an unknown key, a term the recipe lacks and a part a term cannot reach are errors', () => {
    expect(recipes.get('sign').schema.safeParse({ type: 'sign', backbone, sim: { positionl: 'none' } }).success).toBe(false);
    expect(recipes.get('zs3net').schema.safeParse({ type: 'zs3net', backbone, losses: { kl: { backbone: 1 } } }).success).toBe(false);
    expect(recipes.get('cagnet').schema.safeParse({ type: 'cagnet', backbone, sim: { positional: 'relative' } }).success).toBe(false);
    expect(recipes.get('sign').schema.safeParse({ type: 'sign', backbone, losses: { advG: { backbone: 1 } } }).success).toBe(false);
  });
});

describe('transferPrior', () => {
  it("'cagnet': ∝ 1 + r·[c ∈ U] over the classes without background, r unbounded", () => {
    const p = transferPrior({ type: 'cagnet', unseenRate: 9 }, classes);
    // 1 : 1 : 10 : 10 over a, b, c, d → / 22
    expect(Array.from(p)).toEqual([0, 1 / 22, 1 / 22, 10 / 22, 10 / 22]);
    const noBg = transferPrior({ type: 'cagnet', unseenRate: 1 }, { ...classes, background: null });
    expect(Array.from(noBg)).toEqual([1 / 7, 1 / 7, 1 / 7, 2 / 7, 2 / 7]);
  });
  it("'mixture': (1 − r)/K everywhere + r/|U| on the unseen classes, background included", () => {
    const p = transferPrior({ type: 'mixture', unseenRate: 0.5 }, classes);
    expect(Array.from(p).map((v) => +v.toFixed(6))).toEqual([0.1, 0.1, 0.1, 0.35, 0.35]);
    expect(() => transferPrior({ type: 'mixture', unseenRate: 2 }, classes)).toThrow(/unseenRate must be <= 1/);
  });
});

describe('building the models (cpu)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('sign: SIM with the encoding module and the relative encoding; groups partition the parameters', () => {
    const m = buildModel(recipes.get('sign'), parse('sign', { sim: { hidden: 4 }, generator: { hidden: [8] }, discriminator: { hidden: 8 } }), { classes, channels: 3, rng: new Rng(0) });
    expect(m).toBeInstanceOf(GzsModel);
    expect(m.sim).toBeInstanceOf(SpatialInformationModule);
    expect((m.sim as SpatialInformationModule).positional).toBe('relative');
    expect((m.sim as SpatialInformationModule).hasEncodingModule).toBe(true);
    expect(m.hasGanHead).toBe(true);
    expect(m.backbone.inputChannels).toBe(3);
    expect([...m.groups.get('sim')!.variables.keys()].some((k) => k.startsWith('sim.encoder.'))).toBe(true);
    expect([...m.groups.get('gan')!.variables.keys()]).toEqual(['disc.gan.kernel', 'disc.gan.bias']);
    expect([...m.partVariables('classifier').keys()]).toEqual(['disc.shared.kernel', 'disc.shared.bias', 'disc.classifier.kernel', 'disc.classifier.bias', 'disc.gan.kernel', 'disc.gan.bias']);
    m.dispose();
  });

  it('cagnet: the contextual module alone (no encoder, no positional encoding)', () => {
    const m = buildModel(recipes.get('cagnet'), parse('cagnet', { sim: { hidden: 4 }, generator: { hidden: [8] }, discriminator: { hidden: 8 } }), { classes, channels: 1, rng: new Rng(0) });
    expect((m.sim as SpatialInformationModule).positional).toBe('none');
    expect((m.sim as SpatialInformationModule).hasEncodingModule).toBe(false);
    expect([...m.namedParameters().keys()].filter((k) => k.startsWith('sim.')).every((k) => !k.startsWith('sim.encoder.'))).toBe(true);
    m.dispose();
  });

  it('zs3net: GMMN, no SIM, no GAN head; features, generation and prediction leak nothing', async () => {
    const m = buildModel(recipes.get('zs3net'), parse('zs3net', { generator: { hidden: [16] }, discriminator: { hidden: 8 } }), { classes, channels: 1, rng: new Rng(0) });
    expect(m.sim).toBeNull();
    expect(m.hasGanHead).toBe(false);
    expect(m.generator.name).toBe('gmmn');
    expect([...m.groups.keys()]).toEqual(['backbone', 'classifier', 'generator']);
    const x = tf.randomUniform([2, 16, 12, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    await expectNoLeaks(() => {
      const f = m.features(x, { training: true, rng: new Rng(1) });
      expect(f.feature.shape).toEqual([2, 4, 3, 8]);
      expect(f.latent).toBeUndefined();
      const ids = tf.tensor1d([1, 3], 'int32');
      const g = m.generate(ids, undefined, { training: true, rng: new Rng(2) });
      expect(g.shape).toEqual([2, 8]);
      const logits = m.predictLogits(x, 1);
      expect(logits.shape).toEqual([2, 16, 12, 5]);
      tf.dispose([f.feature, ids, g, logits]);
    });
    expect(() => m.features(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D, { training: false, rng: new Rng(0) })).toThrow(/expected images \[N, H, W, 1\]/);
    x.dispose();
    m.dispose();
  });

  it('predictLogits subtracts the calibration from every class that is not unseen', () => {
    const m = buildModel(recipes.get('zs3net'), parse('zs3net', { generator: { hidden: [16] }, discriminator: { hidden: 8 } }), { classes, channels: 1, rng: new Rng(0) });
    const x = tf.randomUniform([1, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const d = tf.tidy(() => tf.sub(m.predictLogits(x, 0), m.predictLogits(x, 2)).dataSync());
    for (let i = 0; i < 5; i++) expect(d[i]).toBeCloseTo([2, 2, 2, 0, 0][i], 5);
    x.dispose();
    m.dispose();
  });

  it("sim.variant builds the release's SIM; the ASPP kernels and biases of a DeepLab backbone are the groups aspp and asppBias", () => {
    const cfg = parse('sign', {
      backbone: { name: 'deeplabv2-resnet101', channels: 8, blocks: [1, 1, 1, 1], width: 2, init: 'zeros' },
      sim: { variant: 'release-v1', hidden: 4 },
      generator: { hidden: [8] },
      discriminator: { hidden: 8 },
    });
    const m = buildModel(recipes.get('sign'), cfg, { classes, channels: 3, rng: new Rng(0) });
    expect(m.sim?.variant).toBe('release-v1');
    const names = (g: string) => [...m.groups.get(g)!.variables.keys()].sort();
    expect(names('asppBias')).toEqual([0, 1, 2, 3].map((i) => `backbone.aspp.stages.c${i}.bias`));
    expect(names('aspp')).toEqual([0, 1, 2, 3].map((i) => `backbone.aspp.stages.c${i}.kernel`));
    expect(names('backbone').some((n) => n.includes('aspp'))).toBe(false);
    expect(names('backbone')).toContain('backbone.layer1.conv1.conv.kernel');
    m.dispose();
    const paper = buildModel(recipes.get('sign'), parse('sign', { sim: { hidden: 4 }, generator: { hidden: [8] }, discriminator: { hidden: 8 } }), { classes, channels: 1, rng: new Rng(0) });
    expect(paper.sim?.variant).toBe('paper');
    expect(paper.groups.get('aspp')!.variables.size).toBe(0);
    paper.dispose();
  });

  it('a recipe whose groups miss a parameter, or whose SIM and generator disagree, is refused', () => {
    const sign = recipes.get('sign');
    const cfg = parse('sign', { sim: { hidden: 4 }, generator: { hidden: [8] }, discriminator: { hidden: 8 } });
    const noSim: Recipe = { ...sign, parameterGroups: () => sign.parameterGroups(cfg).filter((g) => g.name !== 'sim') };
    expect(() => buildModel(noSim, cfg, { classes, channels: 1, rng: new Rng(0) })).toThrow(/parameter 'sim\.encoder\.branch1\.kernel' is in no parameter group/);
    const twice: Recipe = { ...sign, parameterGroups: () => [...sign.parameterGroups(cfg), { name: 'all', part: 'backbone', prefixes: ['backbone.'] }] };
    expect(() => buildModel(twice, cfg, { classes, channels: 1, rng: new Rng(0) })).toThrow(/is in 2 equally specific parameter groups \(backbone, all\)/);
    const noLatent: Recipe = { ...sign, modules: (c) => ({ ...sign.modules(c), latent: null }) };
    expect(() => buildModel(noLatent, cfg, { classes, channels: 1, rng: new Rng(0) })).toThrow(/generator 'sign' needs latent code, but the recipe has no SIM/);
  });
});
