import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

// The README's example, run as it stands (inside the package, so its imports resolve as there).
describe('README example', () => {
  it('validates a config, trains through the stages with callbacks, reloads the checkpoint', async () => {
    const cwd = process.cwd();
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).toContain("from '@sign/trainer'");
    expect(lines.filter((l) => !/^(step1|transfer|self-training) /.test(l))).toEqual(promised);
    expect(lines.filter((l) => /^(step1|transfer|self-training) /.test(l))).toEqual([
      'step1 1 / 6',
      'step1 2 / 6',
      'transfer 3 / 6',
      'transfer 4 / 6',
      'self-training 5 / 6',
      'self-training 6 / 6',
    ]);
    rmSync(resolve(cwd, 'runs/readme'), { recursive: true, force: true });
  });
});
