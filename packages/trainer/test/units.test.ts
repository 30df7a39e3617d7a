import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { astTemperature, classInfo, downsampleLabels, samplePixels, selfTrainingRules } from '../src/index';
import { openData, tinyConfig } from './tiny';

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
});

describe('the data module and the class table', () => {
  it('training batches mark unseen pixels 255, except for the supervised upper bound; the class table has M row by row', async () => {
    const base = tinyConfig();
    const dm = await openData(base.data, base.seed);
    const classes = classInfo(dm);
    expect(classes.classNames[0]).toBe('background');
    expect(classes.background).toBe(0);
    expect(classes.unseen).toEqual([3, 4, 6]);
    expect(classes.seen).toEqual([1, 2, 5, 7, 8, 9, 10]);
    expect(Array.from(classes.embeddings.subarray(3 * classes.embeddingDim, 4 * classes.embeddingDim))).toEqual(Array.from(dm.embeddings.vector('pullover')));
    const count = (labels: Uint8Array, v: number) => labels.reduce((a, x) => a + (x === v ? 1 : 0), 0);
    const zs = await dm.trainBatch(12, new Rng(1));
    expect(count(zs.labels, 255)).toBeGreaterThan(0);
    for (const u of classes.unseen) expect(count(zs.labels, u)).toBe(0);
    const sup = await (await openData({ ...base.data, supervised: true }, base.seed)).trainBatch(12, new Rng(1));
    expect(count(sup.labels, 255)).toBe(0);
    for (const u of classes.unseen) expect(count(sup.labels, u)).toBeGreaterThan(0);
    expect(sup.images).toEqual(zs.images); // same scenes, only the labels differ
    // the same rng gives the same batch
    expect((await dm.trainBatch(2, new Rng(5))).ids).toEqual((await dm.trainBatch(2, new Rng(5))).ids);
    let n = 0;
    for await (const s of dm.testSamples()) {
      expect([s.height, s.width, s.channels, s.image.length]).toEqual([32, 32, 1, 32 * 32]);
      n++;
    }
    expect(n).toBe(4);
  });
});

describe('self-training rules (registry)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('none, ast, top-p; the AST temperature anneals linearly over the stage', () => {
    expect(selfTrainingRules.names()).toEqual(['none', 'ast', 'top-p']);
    expect(selfTrainingRules.get('none').usesTeacher).toBe(false);
    expect(astTemperature({ temperature: 5 }, { offset: 7, iters: 10 })).toBe(5);
    expect(astTemperature({ temperature: 0, temperatureEnd: 9 }, { offset: 0, iters: 10 })).toBe(0);
    expect(astTemperature({ temperature: 0, temperatureEnd: 9 }, { offset: 9, iters: 10 })).toBe(9);
    expect(astTemperature({ temperature: 0, temperatureEnd: 9 }, { offset: 3, iters: 10 })).toBe(3);
  });

  it("top-p discards doubtful pseudo labels (weight 0), AST keeps and re-weights them", async () => {
    // one image, 1×3 pixels, classes 0..2, class 2 unseen, all unlabelled; pixel 0: the unseen class is third
    const probs = tf.tensor4d([[[[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.35, 0.3, 0.35]]]]);
    const labels = tf.tensor3d([[[255, 255, 255]]], undefined, 'int32');
    const read = async (t: { labels: tf.Tensor; weights: tf.Tensor }) => {
      const r = { labels: Array.from(await t.labels.data()), weights: Array.from(await t.weights.data()) };
      tf.dispose([t.labels, t.weights]);
      return r;
    };
    const p = { offset: 0, iters: 1 };
    const top1 = await read(await selfTrainingRules.get('top-p').targets({ type: 'top-p', topP: 1, rule: 'rank' }, probs, labels, [2], p));
    expect(top1).toEqual({ labels: [255, 2, 2], weights: [0, 1, 1] });
    const ast = await read(await selfTrainingRules.get('ast').targets({ type: 'ast', temperature: 5 }, probs, labels, [2], p));
    expect(ast.labels).toEqual([2, 2, 2]);
    ast.weights.forEach((w, i) => expect(w).toBeCloseTo(Math.exp(5 * ([0.2, 0.7, 0.35][i] - 0.7)), 5));
    tf.dispose([probs, labels]);
  });
});
