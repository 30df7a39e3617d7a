import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

// The README's example, run as it stands (the helper writes it inside the package, in the ignored
// .tmp/ folder, so that its imports resolve as they do in the package).
describe('README example', () => {
  it('runs and prints what its comments say', async () => {
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).toContain("from '@sign/sim'");
    expect(promised.length).toBe(3);
    expect(lines).toEqual(promised);
    // sin(511) with f_0 = 1: the last column of a 4-wide map sits at x = 511
    expect(lines[0]).toBe(`3x4x8 ${Math.sin(511).toFixed(4)}`);
  });
});
