import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { Rng } from '@sign/core';
import { expectMatchesCpu, expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { ParityModel, TEST_SIZES, TRAINING_CASES, parityBatch, parityOptimizers, parityStep } from './parity-step';

// A full training step (E, SIM, G, D/C and the losses; see parity-step.ts) on wasm and webgpu
// against the cpu backend: parameters within 1e-4 of cpu after 3 updates.
forEachBackend(['wasm', 'webgpu'], () => {
  for (const c of TRAINING_CASES) {
    it(`${c.name} match cpu within ${c.tol}`, async () => {
      const worst = await expectMatchesCpu(c.compute, c.tol);
      expect(worst.losses).toBeDefined();
      // every parameter tensor is compared (backbone, sim, generator, disc)
      for (const part of ['backbone.', 'sim.', 'generator.', 'disc.']) {
        expect(Object.keys(worst).some((k) => k.startsWith(part))).toBe(true);
      }
    });
  }

  it('a step leaks nothing and changes every parameter group', async () => {
    const rng = new Rng(9);
    const model = new ParityModel(TEST_SIZES, rng.fork('model'));
    const opt = parityOptimizers();
    const batch = parityBatch(TEST_SIZES, rng.fork('batch'));
    const before = new Map<string, Float32Array>();
    for (const [k, v] of model.namedParameters()) before.set(k, (await v.data()) as Float32Array);
    parityStep(model, opt, batch, rng.fork('warm-up')).forEach((t) => t.dispose()); // optimizer slots
    const losses = await expectNoLeaks(() => parityStep(model, opt, batch, rng.fork('step')));
    for (const l of losses) expect(Number.isFinite((await l.data())[0])).toBe(true);
    tf.dispose(losses);
    for (const part of ['backbone.', 'sim.', 'generator.', 'disc.']) {
      let changed = 0;
      for (const [k, v] of model.namedParameters()) {
        if (!k.startsWith(part)) continue;
        const now = await v.data();
        const was = before.get(k)!;
        if (now.some((x, i) => x !== was[i])) changed++;
      }
      expect(changed, part).toBeGreaterThan(0);
    }
    model.dispose();
    opt.encDisc.dispose();
    opt.gen.dispose();
  });
});
