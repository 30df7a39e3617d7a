import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

describe('README example', () => {
  it('runs and prints what its comments say', async () => {
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).toContain("from '@sign/recipes'");
    expect(promised.length).toBe(4);
    expect(lines).toEqual(promised);
  });
});
