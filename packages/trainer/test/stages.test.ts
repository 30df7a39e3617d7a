import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import {
  Adam,
  SgdMomentum,
  SignModel,
  buildClassInfo,
  buildScenes,
  downsampleLabels,
  evaluate,
  featureGrid,
  pseudoLabel,
  samplePixels,
  sampleBatch,
  step1Update,
  transferPrior,
  transferUpdate,
  type Optimizers,
} from '../src/index';
import { tinyConfig } from './tiny';

function optimizers(): Optimizers {
  return { encoder: new SgdMomentum(0.01, 0.9, 5e-4), disc: new Adam(1e-3), gen: new Adam(1e-3) };
}

describe('host helpers', () => {
  it('downsampleLabels takes the centre pixel of each cell', () => {
    // 1 image 4x4 → 2x2: centres at (1,1), (1,3), (3,1), (3,3) (floor((y+0.5)*H/h))
    const l = Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 255]);
    expect([...downsampleLabels(l, 1, 4, 4, 2, 2)]).toEqual([1, 2, 3, 255]);
  });
  it('samplePixels balances classes, skips ignore and low weights', () => {
    const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 255, 2]);
    const weights = Float32Array.from([1, 1, 1, 1, 1, 1, 1, 0.2]);
    const s = samplePixels(labels, new Rng(0), 2, weights);
    expect([...s.label]).toEqual([0, 0, 1, 1]);
    expect(new Set(s.index).size).toBe(4);
    for (const i of s.index) expect(labels[i]).toBe(s.label[[...s.index].indexOf(i)]);
  });
  it('transferPrior puts genUnseenRate extra mass on the unseen classes', () => {
    const p = transferPrior(4, [2, 3], 0.5);
    expect([...p].map((v) => +v.toFixed(6))).toEqual([0.125, 0.125, 0.375, 0.375]);
  });
});

describe('scenes of a config', () => {
  it('training scenes mark unseen pixels 255, except for the supervised upper bound', () => {
    const base = tinyConfig();
    const unseenIds = base.data.unseen.map((n) => buildClassInfo(base).classNames.indexOf(n));
    const count = (labels: Uint8Array, v: number) => labels.reduce((a, x) => a + (x === v ? 1 : 0), 0);
    const zs = buildScenes(base);
    expect(count(zs.train.labels, 255)).toBeGreaterThan(0);
    for (const u of unseenIds) expect(count(zs.train.labels, u)).toBe(0);
    const sup = buildScenes({ ...base, data: { ...base.data, supervised: true } });
    expect(count(sup.train.labels, 255)).toBe(0);
    for (const u of unseenIds) expect(count(sup.train.labels, u)).toBeGreaterThan(0);
    expect(sup.train.images).toEqual(zs.train.images); // same scenes, only the labels differ
    expect(sup.test.labels).toEqual(zs.test.labels);
  });
});

describe.each(['sign', 'cagnet', 'gmmn'])('trainer steps with generator %s (wasm)', (gen) => {
  const config = tinyConfig({ schedule: { lossWeights: { clsFakeD: 0.5 } }, model: { generator: gen === 'gmmn' ? { name: gen, hidden: [8], dropout: [0.5] } : { name: gen } } });
  let model: SignModel;
  beforeAll(async () => {
    await initBackend('wasm');
    model = new SignModel(config, buildClassInfo(config), new Rng(1));
  });

  it('wires the SIM according to the generator', () => {
    if (gen === 'gmmn') expect(model.sim).toBeNull();
    else expect(model.sim?.positional).toBe(gen === 'sign' ? 'relative' : 'none');
  });

  it('step 1, step 2, pseudo-labelling and evaluation: finite losses, no leaks', async () => {
    const { train, test } = buildScenes(config);
    const grid = featureGrid(model, train.height, train.width);
    expect(grid).toEqual([8, 8]);
    const opts = optimizers();
    const batch = sampleBatch(train, 2, new Rng(3), grid);
    const before = model.disc.namedParameters().get('classifier.kernel')!.dataSync().slice();
    // first calls create optimizer slots; the second of each must leave numTensors unchanged
    step1Update(model, opts, batch, new Rng(4), config);
    transferUpdate(model, opts, batch, new Rng(5), config);
    const l1 = await expectNoLeaks(() => step1Update(model, opts, batch, new Rng(6), config));
    const keys = gen === 'gmmn' ? ['clsReal', 'advD', 'clsFakeD', 'mmd', 'adv'] : ['clsReal', 'kl', 'advD', 'clsFakeD', 'mmd', 'adv'];
    expect(Object.keys(l1).sort()).toEqual(keys.sort());
    for (const v of Object.values(l1)) expect(Number.isFinite(v)).toBe(true);
    const l2 = await expectNoLeaks(() => transferUpdate(model, opts, batch, new Rng(7), config));
    expect(Object.keys(l2)).toEqual(['clsTransfer']);
    expect(Number.isFinite(l2.clsTransfer)).toBe(true);
    const after = model.disc.namedParameters().get('classifier.kernel')!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    const pl = await expectNoLeaks(() => pseudoLabel(model, batch, config, 5));
    // labelled pixels keep label and weight 1; ignored ones become unseen classes with weight in (0, 1]
    const unseen = model.classes.unseen;
    batch.labels.forEach((l, i) => {
      if (l !== 255) {
        expect(pl.labels[i]).toBe(l);
        expect(pl.weights![i]).toBe(1);
      } else {
        expect(unseen).toContain(pl.labels[i]);
        expect(pl.weights![i]).toBeGreaterThan(0);
        expect(pl.weights![i]).toBeLessThanOrEqual(1);
      }
    });
    const l3 = await expectNoLeaks(() => step1Update(model, opts, pl, new Rng(8), config));
    for (const v of Object.values(l3)) expect(Number.isFinite(v)).toBe(true);
    const ev = await expectNoLeaks(() => evaluate(model, test, { calibrate: 0.5, countBackground: false }));
    for (const k of ['mIoUSeen', 'mIoUUnseen', 'hIoU', 'mIoU', 'pixelAccuracy'] as const) {
      expect(ev.metrics[k]).toBeGreaterThanOrEqual(0);
      expect(ev.metrics[k]).toBeLessThanOrEqual(100);
    }
    expect(Object.keys(ev.perClassIoU)).not.toContain('background');
    opts.encoder.dispose();
    opts.disc.dispose();
    opts.gen.dispose();
    const n = tf.memory().numTensors;
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(n);
  });
});
