import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

describe('README example', () => {
  it('runs as written and prints what its comments say', async () => {
    const { lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    // the test-sample line prints once per test image (6), each 8 + i rows high
    expect(lines.slice(0, 3)).toEqual(promised);
    expect(lines.slice(2)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `val-${i} ${8 + i} 12 Float32Array`));
  });
});
