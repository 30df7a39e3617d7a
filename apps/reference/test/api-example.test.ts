// The root README's API example (a folder dataset, runExperiment, evaluation, prediction of one
// image), run as it stands from the repository root.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

describe('the README API example', () => {
  it('trains on a folder dataset, evaluates and segments one image', async () => {
    const repo = resolve(__dirname, '../../..');
    const { code, lines } = await runReadmeExample(repo);
    expect(code).toContain("writeShapesFolder('runs/api/shapes')");
    expect(code.split('\n').filter((l) => l.trim() && !l.startsWith('import')).length).toBeLessThanOrEqual(16);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^mIoU seen \d+\.\d, unseen \d+\.\d, hIoU \d+\.\d$/);
    expect(lines[1]).toMatch(/^true (background|red|green|blue|magenta|yellow|cyan)$/);
    rmSync(resolve(repo, 'runs/api'), { recursive: true, force: true });
  }, 1_200_000);
});
