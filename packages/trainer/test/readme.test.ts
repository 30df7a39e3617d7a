// Runs the README's example (same code) so it stays true.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend } from '@sign/core';
import { QUICK_CONFIG, mergeConfig, runExperiment, loadModel, validateConfig } from '../src/index';

describe('README example', () => {
  it('is the code below, and runs', async () => {
    const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
    expect(readme).toContain("const config = mergeConfig(QUICK_CONFIG, {");
    expect(readme).toContain("const model = await loadModel(result.checkpoint);");
    const outDir = mkdtempSync(join(tmpdir(), 'sign-readme-'));
    const logs: string[] = [];
    const console = { log: (...a: unknown[]) => logs.push(a.join(' ')) };
    // --- README example ---
    await initBackend('wasm');
    const config = mergeConfig(QUICK_CONFIG, {
      data: { trainCount: 16, testCount: 4, size: 32 },
      model: { backbone: { name: 'small', channels: 8, width: 4, headChannels: 8 }, sim: { hidden: 4 },
        generator: { name: 'sign', hidden: [8] }, discriminator: { hidden: 8, dropout: 0.2 } },
      schedule: { batchSize: 2, step1Iters: 2, transferIters: 2, alternateEvery: 1, selfTrainingIters: 2 },
    });
    const { errors } = validateConfig(config);
    if (errors.length) throw new Error(errors.join('\n'));
    const result = await runExperiment(config, {
      outDir,
      skipBackendInit: true,
      callbacks: { onStep: (e) => console.log(e.phase, e.step, '/', e.total, e.losses) },
    });
    console.log(result.metrics.mIoUSeen, result.metrics.mIoUUnseen, result.metrics.hIoU, result.perClassIoU);
    const model = await loadModel(result.checkpoint);   // model.predict(images [N,H,W,1]) → labels, probs
    model.dispose();
    // --- end ---
    expect(logs).toHaveLength(7);
    expect(logs[0]).toMatch(/^step1 1 \/ 6/);
    expect(result.steps).toBe(6);
    rmSync(outDir, { recursive: true, force: true });
  });
});
