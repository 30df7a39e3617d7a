import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

// The README's examples, run as they stand (the helper writes each inside the package, in the
// ignored .tmp/ folder, so that its imports resolve as they do in the package).
describe('README examples', () => {
  it('the opening example (main entry, data in memory) prints what its comments say', async () => {
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).not.toMatch(/from 'node:/);
    expect(promised).toEqual(['5', 'true', '2', 'buildClassEmbeddings: no source has the word', '4x5 cpu']);
    expect(lines).toEqual(promised);
  });

  it('the Node example (files by path) prints what its comments say', async () => {
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'), 1);
    expect(code).toContain("from '@sign/embeddings/node'");
    expect(promised).toEqual(['3']);
    expect(lines).toEqual(promised);
  });
});
