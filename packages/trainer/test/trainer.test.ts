import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { loadCheckpoint } from '@sign/core/node';
import { ConfusionMatrix, restrictedArgmax, unseenTargets, zslMetrics } from '@sign/metrics';
import { loadModelFromBytes, lossAverages, scheduleAt, stageEvaluation, totalSteps, type Callback, type StepEvent } from '../src/index';
import { evaluateCheckpoint, loadModel, runExperiment } from '../src/node';
import { TINY, openData, tinyConfig } from './tiny';

const tmp = () => mkdtempSync(join(tmpdir(), 'sign-trainer-'));

describe('schedule', () => {
  it('runs step 1 alone, then alternates so that each later stage ends with step 2', () => {
    const c = tinyConfig(); // 2 + 4 (alternate 2) + 2
    expect(totalSteps(c)).toBe(8);
    const seq = Array.from({ length: 8 }, (_, s) => {
      const a = scheduleAt(c, s);
      return `${a.phase}:${a.update}`;
    });
    expect(seq).toEqual([
      'step1:step1',
      'step1:step1',
      'transfer:step1',
      'transfer:step1',
      'transfer:step2',
      'transfer:step2',
      'self-training:step2',
      'self-training:step2',
    ]);
    const d = tinyConfig({ schedule: { transferIters: 5, selfTrainingIters: 3 } });
    expect(Array.from({ length: 10 }, (_, s) => scheduleAt(d, s).update).join(' ')).toBe(
      'step1 step1 step2 step1 step1 step2 step2 step1 step2 step2',
    );
    expect(totalSteps(tinyConfig({ selfTraining: { _delete_: true, type: 'none' } }))).toBe(6);
  });
});

describe('runExperiment (wasm, tiny config)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('runs every stage through its callbacks, reports metrics in range, and a checkpoint that reloads', async () => {
    const out = tmp();
    const config = tinyConfig();
    const events: StepEvent[] = [];
    const hooks: string[] = [];
    const recorder: Callback = {
      onFitStart: (s) => void hooks.push(`start@${s.step}`),
      onStepEnd: (_s, e) => void events.push(e),
      onStageEnd: (s, phase) => void hooks.push(`${phase}@${s.step}`),
      onCheckpoint: () => void hooks.push('checkpoint'),
      onFitEnd: (s) => void hooks.push(`end@${s.step}`),
    };
    const averages: string[] = [];
    const stages: string[] = [];
    const before = tf.memory().numTensors;
    const r = await runExperiment(config, {
      outDir: out,
      callbacks: [recorder, lossAverages({ every: 3, log: (l) => averages.push(l) }), stageEvaluation({ calibrations: [0, 1], log: (l) => stages.push(l) })],
    });
    expect(tf.memory().numTensors).toBe(before);
    // loss means every 3 steps and at the end, with the live tensor count; metrics after each stage for γ 0 and 1
    expect(averages.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['3/8 transfer/step1', '6/8 transfer/step2', '8/8 self-training/step2']);
    expect(averages[0]).toMatch(/^3\/8 transfer\/step1 clsReal=\d+\.\d{3} kl=\d+\.\d{3} .*tensors=\d+$/);
    expect(averages[1]).toMatch(/clsTransfer=\d+\.\d{3}/); // steps 4–6 mix both updates: every loss seen is averaged
    expect(stages.filter((l) => l.startsWith('['))).toHaveLength(6);
    expect(stages[0]).toMatch(/^\[step1 done, step 2, γ 0\] S \d+\.\d U \d+\.\d H \d+\.\d mIoU \d+\.\d$/);
    expect(stages.at(-1)).toMatch(/^\[self-training done, step 8, γ 1\]/);
    expect(stages.some((l) => l.includes('unseen alone (ZSL): mIoU'))).toBe(true);
    expect(events.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // stage ends after steps 2, 6, 8; checkpoints every 2 steps (not at the end twice) and at the end
    expect(hooks).toEqual(['start@0', 'checkpoint', 'step1@2', 'checkpoint', 'checkpoint', 'transfer@6', 'self-training@8', 'end@8', 'checkpoint']);
    expect(Object.keys(events[0].losses).sort()).toEqual(['advD', 'advG', 'clsReal', 'kl', 'mmd']);
    expect(Object.keys(events[5].losses)).toEqual(['clsTransfer']);
    for (const e of events) for (const v of Object.values(e.losses)) expect(Number.isFinite(v)).toBe(true);
    expect(r.steps).toBe(8);
    expect(r.unseen).toEqual(['pullover', 'dress', 'sandal']);
    expect(r.seen).toEqual(['t-shirt/top', 'trouser', 'coat', 'shirt', 'sneaker', 'bag', 'ankle boot']);
    expect(r.config.model.type).toBe('sign');
    expect(r.dataset.channels).toBe(1);
    expect(Object.keys(r.perClassIoU)).toHaveLength(10);
    for (const k of ['mIoUSeen', 'mIoUUnseen', 'hIoU', 'mIoU', 'pixelAccuracy'] as const) {
      expect(r.metrics[k]).toBeGreaterThanOrEqual(0);
      expect(r.metrics[k]).toBeLessThanOrEqual(100);
    }
    expect(existsSync(r.checkpoint)).toBe(true);
    const { metadata } = await loadCheckpoint(r.checkpoint).then((c) => {
      tf.dispose(Object.values(c.tensors));
      return c;
    });
    expect(metadata.step).toBe(8);
    expect(metadata.phase).toBe('done');
    expect((metadata.dataset as { type: string }).type).toBe('fashion-scenes');
    expect((metadata.classes as { background: number }).background).toBe(0);

    // evaluateCheckpoint reproduces the run's metrics; loadModel predicts label maps.
    const ev = await evaluateCheckpoint(r.checkpoint);
    expect(ev.hIoU).toBeCloseTo(r.metrics.hIoU, 6);
    expect(ev.perClassIoU).toEqual(r.perClassIoU);
    const m = await loadModel(r.checkpoint);
    const dm = await openData(config.data, config.seed);
    const samples = [];
    for await (const s of dm.testSamples()) samples.push(s);
    const H = samples[0].height;
    const W = samples[0].width;
    const images = new Float32Array(samples.length * H * W);
    samples.forEach((s, i) => images.set(s.image, i * H * W));
    const n0 = tf.memory().numTensors;
    const p = await m.predict({ images, n: samples.length, height: H, width: W });
    expect(tf.memory().numTensors).toBe(n0);
    expect(p.labels.length).toBe(samples.length * H * W);
    expect(p.probs.length).toBe(p.labels.length * 11);
    expect(Math.max(...p.labels)).toBeLessThan(11);
    let s = 0;
    for (let c = 0; c < 11; c++) s += p.probs[c];
    expect(s).toBeCloseTo(1, 4);
    // the ZSL protocol (unseen classes alone), recomputed on the host from the predicted
    // probabilities, matches the tensor path of evaluate()
    expect(ev.zsl).toEqual(r.zsl);
    const truth = new Uint8Array(samples.length * H * W);
    samples.forEach((x, i) => truth.set(x.label, i * H * W));
    const zcm = new ConfusionMatrix(11);
    zcm.update(restrictedArgmax(p.probs, 11, m.unseen), unseenTargets(truth, m.unseen));
    const z = zslMetrics(zcm, m.unseen);
    expect(r.zsl.pixels).toBe(z.pixels);
    expect(r.zsl.pixels).toBe(truth.filter((l) => m.unseen.includes(l)).length);
    expect(r.zsl.pixelAccuracy).toBeCloseTo(z.pixelAccuracy, 6);
    expect(r.zsl.mIoU).toBeCloseTo(z.mIoU, 6);
    expect(Object.keys(r.zsl.perClassIoU)).toEqual(r.unseen);
    // the same model from the checkpoint's bytes (the browser path): identical predictions
    const bytes = readFileSync(r.checkpoint);
    const n1 = tf.memory().numTensors;
    const fromBytes = await loadModelFromBytes(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { source: 'last.safetensors' });
    expect(fromBytes.classNames).toEqual(m.classNames);
    const pb = await fromBytes.predict({ images, n: samples.length, height: H, width: W });
    expect(Array.from(pb.labels)).toEqual(Array.from(p.labels));
    expect(Array.from(pb.probs)).toEqual(Array.from(p.probs));
    fromBytes.dispose();
    expect(tf.memory().numTensors).toBe(n1);
    await expect(loadModelFromBytes(bytes.subarray(0, 100), { source: 'cut.safetensors' })).rejects.toThrow('cut.safetensors');
    expect(tf.memory().numTensors).toBe(n1);
    m.dispose();
    rmSync(out, { recursive: true, force: true });
  });

  it('resumes after an abort and ends exactly like an uninterrupted run', async () => {
    const config = tinyConfig();
    const a = tmp();
    const full = await runExperiment(config, { outDir: a });

    const b = tmp();
    const ctrl = new AbortController();
    const seen: number[] = [];
    await expect(
      runExperiment(config, {
        outDir: b,
        signal: ctrl.signal,
        callbacks: [{ onStepEnd: (_s, e) => void (seen.push(e.step), e.step === 7 ? ctrl.abort() : undefined) }],
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]); // interrupted inside self-training (teacher in the checkpoint)
    const mid = await loadCheckpoint(join(b, 'checkpoints', 'last.safetensors'));
    expect(mid.metadata.step).toBe(7);
    expect(Object.keys(mid.tensors).some((k) => k.startsWith('teacher.'))).toBe(true);
    expect(Object.keys(mid.tensors).some((k) => k.startsWith('opt.classifier.'))).toBe(true);
    tf.dispose(Object.values(mid.tensors));

    const resumedSteps: number[] = [];
    const resumed = await runExperiment(config, { outDir: b, resume: true, callbacks: [{ onStepEnd: (_s, e) => void resumedSteps.push(e.step) }] });
    expect(resumedSteps).toEqual([8]);
    expect(resumed.steps).toBe(full.steps);
    expect(resumed.metrics).toEqual(full.metrics);
    const [ca, cb] = await Promise.all([loadCheckpoint(full.checkpoint), loadCheckpoint(resumed.checkpoint)]);
    expect(cb.metadata.step).toBe(ca.metadata.step);
    const keys = Object.keys(ca.tensors).filter((k) => k.startsWith('model.'));
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) expect([...cb.tensors[k].dataSync()]).toEqual([...ca.tensors[k].dataSync()]);
    tf.dispose([...Object.values(ca.tensors), ...Object.values(cb.tensors)]);
    // a checkpoint written by another config is refused
    await expect(runExperiment(tinyConfig({ seed: 5 }), { outDir: b, resume: true })).rejects.toThrow(/written by a different config/);
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });

  it('maxSteps stops early with a checkpoint (the schedule stays the full one); resuming goes on to the next cap, then to the end like an uninterrupted run', async () => {
    const config = tinyConfig();
    const a = tmp();
    const full = await runExperiment(config, { outDir: a });
    const b = tmp();
    const events: StepEvent[] = [];
    const log = { onStepEnd: (_s: unknown, e: StepEvent) => void events.push(e) };
    const first = await runExperiment(config, { outDir: b, maxSteps: 3, callbacks: [log] });
    expect(events.map((e) => [e.step, e.until, e.total])).toEqual([[1, 3, 8], [2, 3, 8], [3, 3, 8]]);
    expect(first.steps).toBe(3);
    const ck = await loadCheckpoint(first.checkpoint);
    expect(ck.metadata.step).toBe(3);
    tf.dispose(Object.values(ck.tensors));
    events.length = 0;
    await runExperiment(config, { outDir: b, maxSteps: 5, resume: true, callbacks: [log] });
    expect(events.map((e) => e.step)).toEqual([4, 5]);
    events.length = 0;
    const last = await runExperiment(config, { outDir: b, resume: true, callbacks: [log] });
    expect(events.map((e) => e.step)).toEqual([6, 7, 8]);
    expect(last.metrics).toEqual(full.metrics);
    await expect(runExperiment(config, { outDir: tmp(), maxSteps: 0 })).rejects.toThrow('fit: maxSteps must be an integer >= 1, got 0');
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });

  it("self-training draws its batches with selfTrainingBatchSize and the data's self-training stage", async () => {
    const config = tinyConfig({ schedule: { selfTrainingBatchSize: 1 } });
    const dm = await openData(config.data, config.seed);
    const calls: string[] = [];
    const data = Object.create(dm, {
      trainBatch: { value: (n: number, rng: never, opts?: { stage?: string }) => (calls.push(`${n}:${opts?.stage ?? 'train'}`), dm.trainBatch(n, rng, opts as never)) },
    });
    const out = tmp();
    await runExperiment(config, { outDir: out, data });
    expect(calls).toEqual([...Array(6).fill('2:train'), '1:self-training', '1:self-training']);
    dm.dispose();
    rmSync(out, { recursive: true, force: true });
  });

  it('refuses an unknown unseen class (the data module names it) before writing anything', async () => {
    const out = join(tmp(), 'run');
    await expect(runExperiment(tinyConfig({ data: { unseen: ['pullover', 'jumper'] } }), { outDir: out })).rejects.toThrow(
      /data\.unseen: unknown class 'jumper'.*valid: t-shirt\/top, trouser, pullover/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an invalid config before doing anything, naming the key', async () => {
    const out = join(tmp(), 'run');
    const bad = { ...TINY, schedule: { ...TINY.schedule, batchsize: 2 } };
    await expect(runExperiment(bad as never, { outDir: out })).rejects.toThrow(/schedule\.batchsize: unknown key \(did you mean 'batchSize'\?\)/);
    expect(existsSync(out)).toBe(false);
  });
});
