import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

const pkg = resolve(__dirname, '..');

describe('README examples', () => {
  it('the opening example (a generated folder dataset) runs as written and prints what its comments say', async () => {
    const { lines, promised } = await runReadmeExample(pkg);
    expect(promised.length).toBe(4);
    expect(lines).toEqual(promised);
  });

  it("the paper datasets' example (a tiny PASCAL VOC tree, the release's pipeline and eval input) runs as written and prints what its comments say", async () => {
    const { lines, promised } = await runReadmeExample(pkg, 1);
    expect(promised.length).toBe(3);
    expect(lines).toEqual(promised);
  });

  it('the plug-in example runs as written; its last line prints once per test image', async () => {
    const { lines, promised } = await runReadmeExample(pkg, 2);
    expect(lines.slice(0, 3)).toEqual(promised);
    expect(lines.slice(2)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `val-${i} ${8 + i} 12 Float32Array`));
  });
});
