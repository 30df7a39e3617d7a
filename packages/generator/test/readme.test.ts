import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

// The README's first example (a complete custom generator), run as it stands (the helper writes it
// inside the package, in the ignored .tmp/ folder, so that its imports resolve as they do there).
describe('README example', () => {
  it('defines, registers, creates and runs a custom generator, printing what its comments say', async () => {
    const { code, lines } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).toContain("from '@sign/generator'");
    expect(code).toContain("registry.register('linear'");
    // parameter counts by hand: linear (6+4)·4+4 = 44; sign [16,16]: 10·16+16 + 16·16+16 + 16·4+4 = 516;
    // gmmn: (6+6)·256+256 + 256·4+4 = 4356
    const expected = ['sign cagnet gmmn linear', 'linear 10x4 44', 'sign 10x4 516', 'gmmn 10x4 4356', '10x1 10x5'];
    expect(lines).toEqual(expected);
    for (const l of expected) expect(code).toContain(`// ${l}`);
  });
});
