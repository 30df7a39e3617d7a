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
    expect(lines).toEqual(promised);
    rmSync(resolve(cwd, 'runs/readme'), { recursive: true, force: true });
  });

  it('adds a class by name to a model trained without it, and segments decoded pixels', async () => {
    const cwd = process.cwd();
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'), 1);
    expect(code).toContain('addClass(model,');
    expect(lines).toEqual(promised);
    rmSync(resolve(cwd, 'runs/readme-add-class'), { recursive: true, force: true });
  });
});
