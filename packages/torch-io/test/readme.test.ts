import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

/** Runs the README's opening example exactly as written and checks every line it promises. */
describe('README example', () => {
  it('runs and prints what its comments promise', async () => {
    const { lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(promised.length).toBe(5);
    expect(lines).toEqual(promised);
  });
});
