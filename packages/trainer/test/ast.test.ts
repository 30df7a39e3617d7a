// Annealed self-training end to end: a teacher trained by runExperiment labels the ignored pixels
// of a training batch through the loop's pseudoLabel at T = 5; every pseudo-label weight must be
// exp(T·(p − p_max)) with p the teacher's probability of the pixel's best unseen class and p_max
// the largest p in its image, recomputed here on the host from the teacher's logits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { hostBatch, pseudoLabel } from '../src/index';
import { readModel, runExperiment } from '../src/node';
import { openData, tinyConfig } from './tiny';

describe('annealed self-training at T = 5 (wasm)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('weights are exp(T·(p − p_max)) per image, pseudo labels the best unseen class, labelled pixels untouched', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sign-ast-'));
    const config = tinyConfig({ schedule: { step1Iters: 6, transferIters: 6, selfTrainingIters: 0 }, selfTraining: { temperature: 5 } });
    const { checkpoint } = await runExperiment(config, { outDir: out });
    const { model: teacher } = await readModel(checkpoint);
    const dm = await openData(config.data, config.seed);
    const batch = hostBatch(await dm.trainBatch(4, new Rng(7)), teacher);
    const T = 5;
    const targets = await pseudoLabel(teacher, batch, { type: 'ast', temperature: T }, { offset: 0, iters: 1 });

    // the teacher's probabilities at the feature grid, on the host
    const { n, fh, fw } = batch;
    const K = teacher.numClasses;
    const probs = tf.tidy(() => {
      const images = tf.tensor4d(batch.images, [n, batch.height, batch.width, batch.channels]);
      const { feature } = teacher.features(images, { training: false, rng: new Rng(0), noise: 'zero' });
      return tf.softmax(teacher.disc.applyMap(feature, { training: false, rng: new Rng(0) }).logits);
    });
    const P = await probs.data();
    probs.dispose();
    const unseen = teacher.classes.unseen;
    const per = fh * fw;
    let ignored = 0;
    let below = 0;
    for (let b = 0; b < n; b++) {
      const best: { i: number; u: number; p: number }[] = [];
      for (let j = 0; j < per; j++) {
        const i = b * per + j;
        if (batch.labels[i] !== 255) {
          expect(targets.labels[i]).toBe(batch.labels[i]);
          expect(targets.weights![i]).toBe(1);
          continue;
        }
        let u = unseen[0];
        for (const c of unseen) if (P[i * K + c] > P[i * K + u]) u = c;
        best.push({ i, u, p: P[i * K + u] });
      }
      if (best.length === 0) continue;
      const pMax = Math.max(...best.map((x) => x.p));
      for (const { i, u, p } of best) {
        ignored++;
        expect(targets.labels[i]).toBe(u);
        const expected = Math.exp(T * (p - pMax));
        expect(Math.abs(targets.weights![i] - expected)).toBeLessThan(1e-5);
        if (expected < 0.99) below++;
      }
      expect(Math.max(...best.map(({ i }) => targets.weights![i]))).toBeCloseTo(1, 6);
    }
    // the batch has unseen pixels, and the weights are not all 1 (the test can tell T = 5 from T = 0)
    expect(ignored).toBeGreaterThan(10);
    expect(below).toBeGreaterThan(0);
    const flat = await pseudoLabel(teacher, batch, { type: 'ast', temperature: 0 }, { offset: 0, iters: 1 });
    expect(batch.labels.every((l, i) => l !== 255 || flat.weights![i] === 1)).toBe(true);
    teacher.dispose();
    dm.dispose();
    rmSync(out, { recursive: true, force: true });
  });
});
