import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend } from '../src/index';

describe('initBackend', () => {
  it('auto falls back to wasm here and says why the native backends were skipped', async () => {
    const report = await initBackend('auto');
    expect(report.backend).toBe(currentBackend());
    const names = report.attempts.map((a) => a.name);
    // Stops at the first backend that works; every skipped one has a reason.
    const okIdx = report.attempts.findIndex((a) => a.ok);
    expect(okIdx).toBe(report.attempts.length - 1);
    for (const a of report.attempts.slice(0, okIdx)) expect(a.reason).toMatch(/\S/);
    expect(names.slice(0, 2)).toEqual(['tensorflow-gpu', 'tensorflow'].slice(0, Math.min(2, okIdx)));
    if (report.backend !== 'tensorflow') {
      expect(report.attempts[0].reason).toMatch(/tfjs-node-gpu/);
      expect(report.backend).toBe('wasm');
    }
  });

  it('registers gradients (tfjs-core alone does not)', async () => {
    await initBackend('cpu');
    expect(tf.getGradient('Conv2D')).toBeDefined();
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2, 3]));
    expect(Array.from(await g.data())).toEqual([2, 4, 6]);
  });

  it('explicit wasm and cpu work; an unknown name or missing package throws clearly', async () => {
    expect((await initBackend('wasm')).backend).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    expect((await initBackend('cpu')).backend).toBe('cpu');
    await expect(initBackend('gpu' as never)).rejects.toThrow(/unknown backend 'gpu'/);
    await expect(initBackend('tensorflow')).rejects.toThrow(/tensorflow: .*tfjs-node/);
  });
});
