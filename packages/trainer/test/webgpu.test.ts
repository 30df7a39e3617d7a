// The whole training loop on the WebGPU backend, which has no synchronous reads in Node: every
// stage, a checkpoint, the evaluation and the reload run there only if nothing on those paths
// calls dataSync(). The first step's losses are compared with the cpu backend's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { forEachBackend } from '@sign/core/testing';
import type { StepEvent } from '../src/index';
import { evaluateCheckpoint, runExperiment } from '../src/node';
import { tinyConfig } from './tiny';

const cpuFirstStep: Record<string, number> = {};

forEachBackend(['cpu', 'webgpu'], (backend) => {
  it(`runExperiment runs every stage with asynchronous reads only (${backend})`, async () => {
    const out = mkdtempSync(join(tmpdir(), `sign-${backend}-`));
    const events: StepEvent[] = [];
    const config = tinyConfig({ selfTraining: { temperature: 5 } });
    const r = await runExperiment(config, { outDir: out, skipBackendInit: true, callbacks: [{ onStepEnd: (_s, e) => void events.push(e) }] });
    expect(tf.getBackend()).toBe(backend);
    expect(r.backend).toBe(backend);
    expect(events.map((e) => e.phase)).toEqual(['step1', 'step1', 'transfer', 'transfer', 'transfer', 'transfer', 'self-training', 'self-training']);
    for (const e of events) for (const v of Object.values(e.losses)) expect(Number.isFinite(v)).toBe(true);
    for (const k of ['mIoUSeen', 'mIoUUnseen', 'hIoU'] as const) expect(r.metrics[k]).toBeGreaterThanOrEqual(0);
    const ev = await evaluateCheckpoint(r.checkpoint);
    expect(ev.hIoU).toBeCloseTo(r.metrics.hIoU, 4);
    if (backend === 'cpu') Object.assign(cpuFirstStep, events[0].losses);
    else for (const [k, v] of Object.entries(cpuFirstStep)) expect(Math.abs(events[0].losses[k] - v), k).toBeLessThan(1e-3 * Math.max(1, Math.abs(v)));
    rmSync(out, { recursive: true, force: true });
  }, 600_000);
});
