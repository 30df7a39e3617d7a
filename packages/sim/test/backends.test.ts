import { expect, it } from 'vitest';
import { expectMatchesCpu, forEachBackend } from '@sign/core/testing';
import { SIM_CASES } from './backend-cases';

// The SIM on wasm and webgpu against the cpu backend (see backend-cases.ts).
forEachBackend(['wasm', 'webgpu'], () => {
  for (const c of SIM_CASES) {
    it(`${c.name} matches cpu within ${c.tol ?? 1e-4}`, async () => {
      const worst = await expectMatchesCpu(c.compute, c.tol ?? 1e-4);
      // every output, d/dx, and a gradient for every parameter were compared
      expect(Object.keys(worst)).toEqual(expect.arrayContaining(['feature', 'latent', 'hPrime', 'mu', 'logvar', 'dx']));
      expect(Object.keys(worst).filter((k) => k.startsWith('d ')).length).toBeGreaterThanOrEqual(8);
    });
  }
});
