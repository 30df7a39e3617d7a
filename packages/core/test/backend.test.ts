import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend, warnIfSlowBackend } from '../src/index';

describe('initBackend', () => {
  it('auto tries the native backends first, falls back to wasm here, and says why each was skipped', async () => {
    const report = await initBackend('auto');
    expect(report.backend).toBe(currentBackend());
    // Stops at the first backend that works; every one before it has a reason.
    const okIdx = report.attempts.findIndex((a) => a.ok);
    expect(okIdx).toBe(report.attempts.length - 1);
    expect(report.attempts.map((a) => a.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'].slice(0, okIdx + 1));
    for (const a of report.attempts.slice(0, okIdx)) expect(a.reason).toMatch(/\S/);
    if (report.backend !== 'tensorflow') {
      // This machine: @tensorflow/tfjs-node(-gpu) cannot install, so wasm is picked.
      expect(report.attempts[0].reason).toMatch(/@tensorflow\/tfjs-node-gpu/);
      // No GPU here: webgpu finds only llvmpipe (skipped in auto), or no adapter at all.
      expect(report.attempts[1].reason).toMatch(/only a software adapter|not found|no adapter/);
      expect(report.attempts[2].reason).toMatch(/@tensorflow\/tfjs-node\b/);
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

  it("'webgl' is a browser backend: in Node it is refused, saying why", async () => {
    await expect(initBackend('webgl')).rejects.toThrow("initBackend('webgl'): no backend could be loaded (webgl: webgl runs in browsers only (Node has no WebGL))");
  });
});

describe('warnIfSlowBackend', () => {
  it('warns on the plain cpu backend only, saying what to install', async () => {
    const got: string[] = [];
    await initBackend('cpu');
    const msg = warnIfSlowBackend({ what: 'sign train', warn: (m) => got.push(m) });
    expect(msg).toBe(
      "sign train runs on tfjs' plain JavaScript cpu backend, which is several times slower: install @tensorflow/tfjs-backend-wasm and call initBackend('wasm') (or 'auto', which prefers it)",
    );
    expect(got).toEqual([msg]);
    await initBackend('wasm');
    expect(warnIfSlowBackend({ warn: (m) => got.push(m) })).toBeNull();
    expect(got.length).toBe(1);
  });
});
