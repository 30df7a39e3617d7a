import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

/**
 * Runs the README's opening example exactly as written (the first ```ts block, copied into a
 * module under packages/core/.tmp/, git-ignored, and imported) and checks what it prints.
 */
describe('README example', () => {
  it('runs, trains (loss falls) and round-trips the checkpoint', async () => {
    const { lines } = await runReadmeExample(resolve(__dirname, '..'));
    expect(lines[0]).toMatch(/^backend: (wasm|tensorflow|cpu)/);
    expect(lines).toContain(
      'parameters: features.kernel, features.bias, classifier.kernel, classifier.bias (107 numbers)',
    );
    const losses = lines.filter((l) => l.startsWith('step ')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(5);
    expect(losses[4]).toBeLessThan(0.7 * losses[0]);
    expect(lines).toContain('checkpoint step 50, seed 42; reloaded model differs by 0');
  });
});
