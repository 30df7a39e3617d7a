import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { Adam, SgdMomentum, lrSchedules, optimizers, scheduledLr } from '../src/index';

const step = (opt: { apply(v: Map<string, tf.Variable>, g: Record<string, tf.Tensor>): void }, theta: number[], grad: number[]) => {
  const v = tf.variable(tf.tensor1d(theta));
  const g = tf.tensor1d(grad);
  opt.apply(new Map([['w', v]]), { w: g });
  const out = Array.from(v.dataSync());
  tf.dispose([v, g]);
  return out;
};

describe('optimizers (registry)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('are sgd, adam and adamw; an unknown one is named', () => {
    expect(optimizers.names()).toEqual(['sgd', 'adam', 'adamw']);
    expect(() => optimizers.get('rmsprop')).toThrow("unknown optimizer 'rmsprop'; known: sgd, adam, adamw");
  });

  it('sgd: θ − lr·(μ·v + g + wd·θ), hand-computed over two steps, with a learning-rate multiplier', () => {
    const opt = optimizers.get('sgd').create({ type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }, (name: string) => (name === 'w' ? 2 : 1));
    const v = tf.variable(tf.tensor1d([1, -2]));
    const vars = new Map([['w', v]]);
    const g = tf.tensor1d([0.5, 0.5]);
    opt.apply(vars, { w: g }); // v1 = g + wd·θ = [0.51, 0.48]; θ1 = θ − 0.2·v1
    expect(Array.from(v.dataSync())).toEqual([1 - 0.2 * 0.51, -2 - 0.2 * 0.48].map((x) => Math.fround(x)));
    const t1 = Array.from(v.dataSync());
    opt.apply(vars, { w: g }); // v2 = 0.9·v1 + g + wd·θ1
    const v2 = [0.9 * 0.51 + 0.5 + 0.01 * t1[0], 0.9 * 0.48 + 0.5 + 0.01 * t1[1]];
    Array.from(v.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(t1[i] - 0.2 * v2[i], 6));
    tf.dispose([v, g]);
    opt.dispose();
  });

  it('a weight-decay multiplier per variable: sgd and adam leave out the decay where it is 0 (the ASPP biases of the presets)', () => {
    const sgd = optimizers.get('sgd').create({ type: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.5 }, () => 1, (name: string) => (name === 'w' ? 0 : 2));
    const w = tf.variable(tf.tensor1d([1, -2]));
    const u = tf.variable(tf.tensor1d([1, -2]));
    const g = tf.tensor1d([0.5, 0.5]);
    sgd.apply(new Map([['w', w], ['u', u]]), { w: g, u: g });
    expect(Array.from(w.dataSync())).toEqual([1 - 0.1 * 0.5, -2 - 0.1 * 0.5].map((x) => Math.fround(x))); // no decay
    expect(Array.from(u.dataSync())).toEqual([1 - 0.1 * (0.5 + 1 * 1), -2 - 0.1 * (0.5 - 1 * 2)].map((x) => Math.fround(x))); // wd·2
    const adam = optimizers.get('adam').create({ type: 'adam', lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 10 }, () => 1, () => 0);
    const a = tf.variable(tf.tensor1d([1, -2]));
    adam.apply(new Map([['a', a]]), { a: tf.tensor1d([-0.5, 0.5]) }); // without decay the gradient sign decides: +lr, −lr
    Array.from(a.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([1.1, -2.1][i]!, 5));
    tf.dispose([w, u, g, a]);
    sgd.dispose();
    adam.dispose();
  });

  it('adam: the first step moves every coordinate by lr against the gradient sign; weight decay on the gradient vs decoupled', () => {
    const adam = optimizers.get('adam').create({ type: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 }, () => 1);
    const a = step(adam, [1, 1], [3, -0.002]);
    expect(a[0]).toBeCloseTo(1 - 0.01, 6);
    expect(a[1]).toBeCloseTo(1 + 0.01, 5);
    // L2 in the gradient (adam) vs decoupled (adamw) with a zero gradient: adam moves by lr
    // (the decay term alone is the gradient), adamw by lr·wd·θ
    const l2 = step(optimizers.get('adam').create({ type: 'adam', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }, () => 1), [2], [0]);
    expect(l2[0]).toBeCloseTo(2 - 0.01, 6);
    const dec = step(optimizers.get('adamw').create({ type: 'adamw', lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 }, () => 1), [2], [0]);
    expect(dec[0]).toBeCloseTo(2 * (1 - 0.01 * 0.1), 7);
    // a multiplier of 10 (a new head) moves 10 times as far on the first step
    const ten = step(new Adam(0.01, 0.9, 0.999, 1e-8, 0, () => 10), [1], [3]);
    expect(ten[0]).toBeCloseTo(1 - 0.1, 6);
  });

  it('keep their state for checkpoints and restore it exactly', () => {
    const a = new Adam(0.01, 0.5);
    const b = new Adam(0.01, 0.5);
    const v = tf.variable(tf.tensor1d([1, 2]));
    const w = tf.variable(tf.tensor1d([1, 2]));
    const g = tf.tensor1d([0.3, -0.7]);
    a.apply(new Map([['x', v]]), { x: g });
    b.load(a.state(), a.scalars());
    w.assign(v);
    a.apply(new Map([['x', v]]), { x: g });
    b.apply(new Map([['x', w]]), { x: g });
    expect(Array.from(w.dataSync())).toEqual(Array.from(v.dataSync()));
    expect(b.scalars()).toEqual({ t: 2 });
    const s = new SgdMomentum(0.1, 0.9, 0);
    s.apply(new Map([['x', v]]), { x: g });
    expect(Object.keys(s.state())).toEqual(['x.momentum']);
    tf.dispose([v, w, g]);
    [a, b, s].forEach((o) => o.dispose());
  });
});

describe('learning-rate schedules (registry)', () => {
  it('poly, constant and cosine, hand-computed', () => {
    expect(lrSchedules.names()).toEqual(['poly', 'constant', 'cosine']);
    expect(scheduledLr(0.01, { type: 'constant' }, 37, 100)).toBe(0.01);
    expect(scheduledLr(0.01, { type: 'poly', power: 0.9 } as never, 0, 100)).toBe(0.01);
    expect(scheduledLr(0.01, { type: 'poly', power: 0.9 } as never, 50, 100)).toBeCloseTo(0.01 * Math.pow(0.5, 0.9), 12);
    expect(scheduledLr(0.01, { type: 'poly', power: 0.9 } as never, 100, 100)).toBe(0);
    expect(scheduledLr(1, { type: 'cosine', minFactor: 0 } as never, 50, 100)).toBeCloseTo(0.5, 12);
    expect(scheduledLr(1, { type: 'cosine', minFactor: 0.2 } as never, 100, 100)).toBeCloseTo(0.2, 12);
    expect(scheduledLr(1, { type: 'cosine', minFactor: 0 } as never, 25, 100)).toBeCloseTo((1 + Math.cos(Math.PI / 4)) / 2, 12);
    expect(() => scheduledLr(1, { type: 'step' }, 0, 1)).toThrow("unknown lr-schedule 'step'; known: poly, constant, cosine");
  });
});
