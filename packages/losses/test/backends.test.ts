import { expect, it } from 'vitest';
import { expectMatchesCpu, forEachBackend } from '@sign/core/testing';
import { LOSS_CASES } from './backend-cases';

// The losses on wasm and webgpu against the cpu backend (see backend-cases.ts).
forEachBackend(['wasm', 'webgpu'], () => {
  for (const c of LOSS_CASES) {
    it(`${c.name} matches cpu within ${c.tol ?? 1e-4}`, async () => {
      const worst = await expectMatchesCpu(c.compute, c.tol ?? 1e-4);
      expect(Object.keys(worst).length).toBeGreaterThan(0);
    });
  }
});
