import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@sign/core';
import { runExperiment } from '../src/node';
import { tinyConfig } from './tiny';

const dir = mkdtempSync(join(tmpdir(), 'sign-slow-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A one-step run: only the backend differs between the cases. */
const oneStep = (backend: 'cpu' | 'wasm') =>
  tinyConfig({ runtime: { backend }, schedule: { step1Iters: 1, transferIters: 0, selfTrainingIters: 0 }, selfTraining: { _delete_: true, type: 'none' } });

describe('runExperiment on the plain cpu backend', () => {
  it('warns once, naming the run and how to get wasm; on wasm it says nothing', async () => {
    const onCpu: string[] = [];
    const r = await runExperiment(oneStep('cpu'), { outDir: join(dir, 'cpu'), onWarning: (m) => void onCpu.push(m) });
    expect(r.backend).toBe('cpu');
    expect(onCpu).toEqual([
      "training 'tiny' runs on tfjs' plain JavaScript cpu backend, which is several times slower: install @tensorflow/tfjs-backend-wasm and call initBackend('wasm') (or 'auto', which prefers it)",
    ]);
    const onWasm: string[] = [];
    const w = await runExperiment(oneStep('wasm'), { outDir: join(dir, 'wasm'), onWarning: (m) => void onWasm.push(m) });
    expect(w.backend).toBe('wasm');
    expect(onWasm).toEqual([]);
    await initBackend('wasm');
  }, 600_000);
});
