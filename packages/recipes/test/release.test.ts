import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { releaseGeneratorKey, releaseHeadKey } from '@sign/generator';
import {
  buildModel,
  isReleaseStateDict,
  loadReleaseStateDict,
  recipes,
  sign,
  releaseClassEmbeddings,
  releaseClassRows,
  releaseModelConfig,
  releaseModelKey,
  releaseStructure,
  type ClassInfo,
  type ReleaseEntry,
  type SignModelConfig,
} from '../src/index';

/** The keys and shapes of a small release network (width w, one block per layer, D, SIM hidden, …). */
function entries(o: { w: number; d: number; hid: number; type: 1 | 2; pool?: number; fc: number; rows: number; k: number; gen: number[] }): ReleaseEntry[] {
  const e: ReleaseEntry[] = [
    { name: 'Em_vis.weight', shape: [256, o.d] },
    { name: 'Em_all.weight', shape: [o.k, o.d] },
  ];
  let cin = 2 * o.d;
  o.gen.forEach((h, i) => {
    e.push({ name: `gen.mlp.${i}.conv.weight`, shape: [h, cin, 1, 1] }, { name: `gen.mlp.${i}.conv.bias`, shape: [h] });
    cin = h;
  });
  e.push({ name: `gen.mlp.${o.gen.length}.weight`, shape: [o.d, cin, 1, 1] }, { name: `gen.mlp.${o.gen.length}.bias`, shape: [o.d] });
  e.push(
    { name: 'dis.fc.conv.weight', shape: [o.fc, o.d, 1, 1] },
    { name: 'dis.fc.conv.bias', shape: [o.fc] },
    { name: 'dis.pred.weight', shape: [1, o.fc, 1, 1] },
    { name: 'dis.pred.bias', shape: [1] },
    { name: 'dis.cls.weight', shape: [o.rows, o.fc, 1, 1] },
    { name: 'dis.cls.bias', shape: [o.rows] },
  );
  const B = 'back.scale.';
  const convBn = (p: string, cout: number, cin: number, k: number) => {
    e.push({ name: `${B}${p}.conv.weight`, shape: [cout, cin, k, k] });
    for (const s of ['weight', 'bias', 'running_mean', 'running_var']) e.push({ name: `${B}${p}.bn.${s}`, shape: [cout] });
    e.push({ name: `${B}${p}.bn.num_batches_tracked`, shape: [] });
  };
  convBn('layer1.conv1', o.w, 3, 7);
  let c = o.w;
  [1, 2, 4, 8].forEach((m, i) => {
    const mid = o.w * m;
    const L = `layer${i + 2}.block1`;
    convBn(`${L}.reduce`, mid, c, 1);
    convBn(`${L}.conv3x3`, mid, mid, 3);
    convBn(`${L}.increase`, 4 * mid, mid, 1);
    convBn(`${L}.proj`, 4 * mid, c, 1);
    c = 4 * mid;
  });
  for (let s = 0; s < 4; s++) e.push({ name: `${B}aspp.stages.c${s}.weight`, shape: [o.d, c, 3, 3] }, { name: `${B}aspp.stages.c${s}.bias`, shape: [o.d] });
  const conv = (n: string, cout: number, cin: number, k: number) => e.push({ name: `${B}${n}.conv.weight`, shape: [cout, cin, k, k] });
  conv('contextual1', o.hid, o.d, 3);
  conv('contextual2', o.hid, o.hid, 3);
  conv('contextual3', o.hid, o.hid, 3);
  conv('fc_1', 3, 3 * o.hid, 3);
  conv('contextualpool', o.d, 3 * o.hid, 1);
  conv('contextuallocalmu', o.d, o.d, 3);
  conv('contextuallocalsigma', o.d, o.d, 3);
  conv('positional1', o.hid, 2 * o.d, 3);
  conv('positional2', o.hid, o.hid, 3);
  conv('positional3', o.hid, o.hid, 3);
  conv('fc_2', 3, 3 * o.hid, 3);
  const pool = o.type === 1 ? o.d : (o.pool ?? o.d);
  conv('positionalpool', pool, 3 * o.hid, 1);
  if (o.type === 2) {
    conv('positionallocalmu', o.d, pool, 3);
    conv('positionallocalsigma', o.d, pool, 3);
  }
  return e;
}

const voc = {
  classNames: Array.from({ length: 21 }, (_, i) => `c${i}`),
  seen: [...Array(16).keys()].slice(1),
  unseen: [16, 17, 18, 19, 20],
  background: 0,
};

describe('the SIGN release checkpoint mapping', () => {
  it('maps every part of the state dict (backbone, SIM, D/C, G) and leaves the embeddings to M', () => {
    expect(releaseModelKey('back.scale.layer3.block1.reduce.conv.weight', 5)).toBe('backbone.layer3.block1.reduce.conv.kernel');
    expect(releaseModelKey('back.scale.layer1.conv1.bn.num_batches_tracked', 5)).toBeNull();
    expect(releaseModelKey('back.scale.fc_1.conv.weight', 5)).toBe('sim.contextual.gate.kernel');
    expect(releaseModelKey('dis.cls.bias', 5)).toBe('disc.classifier.bias');
    expect(releaseModelKey('dis.pred.weight', 5)).toBe('disc.gan.kernel');
    expect(releaseModelKey('gen.mlp.0.conv.weight', 5)).toBe('generator.layer1.kernel');
    expect(releaseModelKey('gen.mlp.5.bias', 5)).toBe('generator.out.bias');
    expect(releaseModelKey('gen.mlp.5.conv.weight', 5)).toBeUndefined();
    expect(releaseModelKey('Em_all.weight', 5)).toBeNull();
    expect(releaseModelKey('Em_vis.weight', 5)).toBeNull();
    expect(releaseModelKey('back.scale.unknown.conv.weight', 5)).toBeUndefined();
    expect(releaseHeadKey('dis.fc.conv.weight')).toBe('shared.kernel');
    expect(releaseGeneratorKey('gen.mlp.2.conv.bias', 3)).toBe('layer3.bias');
    expect(releaseGeneratorKey('gen.mlp.3.weight', 3)).toBe('out.kernel');
  });

  it('reads the structure from the keys and shapes (both network types)', () => {
    const t1 = entries({ w: 2, d: 8, hid: 4, type: 1, fc: 6, rows: 21, k: 20, gen: [5, 7] });
    expect(isReleaseStateDict(t1.map((e) => e.name))).toBe(true);
    expect(isReleaseStateDict(['model.backbone.x'])).toBe(false);
    expect(releaseStructure(t1, 'a.pth')).toEqual({
      backbone: { inChannels: 3, width: 2, blocks: [1, 1, 1, 1], channels: 8, asppStages: 4 },
      sim: { variant: 'release-v1', hidden: 4 },
      discriminator: { hidden: 6, classifierRows: 21, ganHead: true },
      generator: { hidden: [5, 7] },
      embeddings: { classes: 20, dim: 8 },
    });
    const t2 = releaseStructure(entries({ w: 2, d: 8, hid: 4, type: 2, pool: 4, fc: 6, rows: 21, k: 20, gen: [5] }), 'b.pth');
    expect(t2.sim).toEqual({ variant: 'release-v2', hidden: 4, positionalPoolChannels: 4 });
    expect(() => releaseStructure(t1.filter((e) => e.name !== 'dis.cls.weight'), 'c.pth')).toThrow(/c\.pth: not a SIGN release checkpoint: no 'dis\.cls\.weight'/);
  });

  it('puts classifier rows in class-id order: seen, unseen, then the extra row for the background', () => {
    const { rowOf, others } = releaseClassRows(voc, 21, 20, 'v.pth');
    expect(rowOf).toEqual([20, ...Array.from({ length: 20 }, (_, i) => i)]);
    expect(others).toEqual([0]);
    // no background (COCO-Stuff): the extra row is dropped
    const coco = { classNames: ['a', 'b', 'c'], seen: [0, 2], unseen: [1], background: null };
    expect(releaseClassRows(coco, 4, 3).rowOf).toEqual([0, 2, 1]);
    expect(() => releaseClassRows(voc, 21, 19, 'v.pth')).toThrow(/v\.pth: Em_all\.weight holds 19 class embeddings, but the dataset has 20 seen \+ unseen classes \(15 \+ 5\)/);
    expect(() => releaseClassRows(voc, 23, 20, 'v.pth')).toThrow(/dis\.cls has 23 rows, expected 21/);
    const emb = releaseClassEmbeddings(Float32Array.from({ length: 40 }, (_, i) => i), 2, rowOf);
    expect(Array.from(emb.subarray(0, 6))).toEqual([0, 0, 0, 1, 2, 3]);
  });

  describe('loading (cpu)', () => {
    beforeAll(async () => {
      await initBackend('cpu');
    });

    it('builds the model the file describes and loads every parameter, classifier rows permuted', async () => {
      const es = entries({ w: 2, d: 8, hid: 4, type: 1, fc: 6, rows: 21, k: 20, gen: [5] });
      const s = releaseStructure(es, 'x.pth');
      const base = sign.schema.parse({ type: 'sign', backbone: { name: 'small', channels: 32 } });
      const config = releaseModelConfig(base, s);
      expect(config.backbone).toEqual({ name: 'deeplabv2-resnet101', channels: 8, inChannels: 3, width: 2, blocks: [1, 1, 1, 1], init: 'zeros' });
      expect(config.sim.variant).toBe('release-v1');
      const { rowOf } = releaseClassRows(voc, 21, 20, 'x.pth');
      const classes: ClassInfo = { ...voc, embeddings: new Float32Array(21 * 8), embeddingDim: 8 };
      const model = buildModel(recipes.get('sign'), config, { classes, channels: 3, rng: new Rng(0) });
      const tensors: Record<string, tf.Tensor> = {};
      for (const e of es) {
        const n = e.shape.reduce((a, b) => a * b, 1);
        tensors[e.name] = e.name === 'dis.cls.bias' ? tf.range(0, 21) : tf.fill(e.shape as number[], n > 0 ? 0.5 : 0);
      }
      await expectNoLeaks(async () => {
        const report = loadReleaseStateDict(model, tensors, rowOf, 'x.pth');
        expect(report.loaded.length).toBe(model.namedParameters().size);
        expect(report.ignored).toContain('Em_all.weight');
      });
      // class 0 (background) has the extra row 20; class c ≥ 1 has row c − 1
      expect(Array.from(await model.namedParameters().get('disc.classifier.bias')!.data())).toEqual([20, ...Array.from({ length: 20 }, (_, i) => i)]);
      const bad = { ...tensors, 'dis.unknown.weight': tensors['dis.cls.bias'] };
      expect(() => loadReleaseStateDict(model, bad, rowOf, 'x.pth')).toThrow(/x\.pth: .*unknown keys: dis\.unknown\.weight/);
      tf.dispose(Object.values(tensors));
      model.dispose();
    });
  });
});
