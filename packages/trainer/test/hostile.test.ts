// Issue 10's findings, as regressions: unbounded and prototype-polluting configs, numerical faults
// that used to end with exit 0 (a loss weight of 1e30, a learning rate of 1e6), a checkpoint with
// NaN weights, resuming with changed settings, and keeping the last K checkpoints.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import { ConfigError, NonFiniteError, mergeConfig, validateConfig } from '../src/index';
import { composeConfigFile, evaluateCheckpoint, listCheckpoints, loadConfigFile, readModel, runExperiment, stepCheckpointPath } from '../src/node';
import { TINY, tinyConfig } from './tiny';

const tmp = () => mkdtempSync(join(tmpdir(), 'sign-hostile-'));
const errorsOf = (over: Record<string, unknown>) => validateConfig(mergeConfig(TINY, over)).errors;

describe('configs are bounded and closed', () => {
  it('data.size: 1e308, trainCount: 1e9, schedule.transferIters: 1e308, model.backbone.channels: 1e5 name their key and bound', () => {
    expect(errorsOf({ data: { size: 1e308 } })).toEqual(['data.size: must be <= 128, got 1e+308']);
    expect(errorsOf({ data: { trainCount: 1e9 } })[0]).toMatch(/^data\.trainCount: .*100000/);
    expect(errorsOf({ schedule: { transferIters: 1e308 } })).toEqual(['schedule.transferIters: must be <= 10000000, got 1e+308']);
    expect(errorsOf({ model: { backbone: { channels: 1e5 } } })).toEqual(['model.backbone.channels: must be <= 4096, got 100000']);
    expect(errorsOf({ model: { backbone: { width: 1e5 } } })).toEqual(['model.backbone.width: must be <= 4096, got 100000']);
    expect(errorsOf({ model: { discriminator: { hidden: 1e6 } } })).toEqual(['model.discriminator.hidden: must be <= 16384, got 1000000']);
    expect(errorsOf({ schedule: { batchSize: 5000, pixelsPerClass: 2e6 } })).toEqual([
      'schedule.batchSize: must be <= 1024, got 5000',
      'schedule.pixelsPerClass: must be <= 1000000, got 2000000',
    ]);
    expect(errorsOf({ seed: 2 ** 40 })).toEqual([`seed: must be <= 4294967295, got ${2 ** 40}`]);
    // JSON's 1e999 is Infinity: not a number a config may hold
    expect(errorsOf({ optimizers: { classifier: { lr: JSON.parse('1e999') } } })[0]).toMatch(/^optimizers\.classifier\.lr: /);
    expect(errorsOf({ data: { train: { pipeline: [{ type: 'randomCrop', height: 1e6, width: 8 }] } } })[0]).toMatch(/^data\.train\.pipeline\[0\]\.height: .*8192/);
  });

  it("__proto__, constructor and prototype keys are refused anywhere, naming the key; nothing reaches the config", () => {
    const polluted = JSON.parse('{"__proto__": {"seed": 7}, "data": {"constructor": {"x": 1}}}');
    expect(() => mergeConfig(TINY, JSON.parse('{"data": {"__proto__": {"size": 64}}}'))).toThrow(/data\.__proto__: forbidden key/);
    expect(() => mergeConfig(TINY, polluted)).toThrow(/__proto__: forbidden key/);
    // without a merge (a config object from anywhere: an API caller, a checkpoint)
    const direct = validateConfig({ ...structuredClone(TINY), ...polluted } as unknown);
    expect(direct.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^__proto__: forbidden key/), expect.stringMatching(/^data\.constructor: forbidden key/)]));
    expect(validateConfig({ ...structuredClone(TINY), model: { ...TINY.model, prototype: 1 } }).errors[0]).toMatch(/^model\.prototype: forbidden key/);
    // an object whose prototype was already replaced (what merging a __proto__ key used to do)
    const swapped = structuredClone(TINY) as Record<string, unknown>;
    Object.setPrototypeOf(swapped.schedule as object, { batchSize: 3 });
    expect(validateConfig(swapped).errors[0]).toMatch(/^schedule: not a plain object/);
  });

  it('config files: __proto__ in a _base_ file, a deep chain, a FIFO, /dev/zero, deep nesting: a ConfigError naming the file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'base.json'), '{"schedule": {"__proto__": {"batchSize": 3}}}');
    writeFileSync(join(dir, 'exp.json'), JSON.stringify({ _base_: ['base.json'], name: 'x' }));
    expect(() => composeConfigFile(join(dir, 'exp.json'))).toThrow(ConfigError);
    expect(() => composeConfigFile(join(dir, 'exp.json'))).toThrow(/base\.json \(a _base_ of .*exp\.json\): invalid config\n {2}- schedule\.__proto__: forbidden key/);
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `c${i}.json`), JSON.stringify(i === 19 ? {} : { _base_: `c${i + 1}.json` }));
    expect(() => composeConfigFile(join(dir, 'c0.json'))).toThrow(/_base_: more than 16 files deep/);
    expect(() => loadConfigFile('/dev/zero')).toThrow(/cannot read \/dev\/zero: is a device, not a regular file/);
    writeFileSync(join(dir, 'deep.json'), `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`);
    expect(() => composeConfigFile(join(dir, 'deep.json'))).toThrow(/nested deeper than 32 levels/);
    writeFileSync(join(dir, 'big.json'), `{"name": "${'x'.repeat(1_100_000)}"}`);
    expect(() => composeConfigFile(join(dir, 'big.json'))).toThrow(/big\.json: 11000\d\d bytes is more than a config file may have/);
  });
});

describe('non-finite guard, checkpoints (wasm, tiny config)', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('losses.mmd.generator: 1e30 stops at the first non-finite value, naming step, part and quantity; the last checkpoint stays finite', async () => {
    const out = tmp();
    const err = await runExperiment(tinyConfig({ model: { losses: { mmd: { generator: 1e30 } } } }), { outDir: out }).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err.part).toBe('generator');
    expect(err.message).toMatch(/^step 1 \(step1\/step1\): the (gradient|optimizer state) of the generator is not finite/);
    expect(err.step).toBe(1);
    expect(listCheckpoints(out)).toEqual([]); // nothing written from a non-finite state
  });

  it('optimizers.classifier.lr: 1e6 is refused before any work (it used to train to the end with finite, useless weights and exit 0)', async () => {
    const out = join(tmp(), 'run');
    await expect(runExperiment(mergeConfig(TINY, { optimizers: { classifier: { lr: 1e6 } } }), { outDir: out })).rejects.toThrow(
      /optimizers\.classifier\.lr: must be <= 10, got 1000000/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('gradient clipping per part (optimizers.<part>.clipGradNorm) lets the 1e30 MMD weight train, with finite checkpoints', async () => {
    const out = tmp();
    const r = await runExperiment(
      tinyConfig({ model: { losses: { mmd: { generator: 1e30 } } }, optimizers: { generator: { clipGradNorm: 1 } }, schedule: { step1Iters: 2, transferIters: 0, selfTrainingIters: 0 } }),
      { outDir: out },
    );
    expect(r.steps).toBe(2);
    const { tensors } = await loadCheckpoint(r.checkpoint, { requireFinite: true });
    tf.dispose(Object.values(tensors));
  });

  it('a checkpoint with NaN weights is refused by readModel, evaluateCheckpoint and resume, naming the tensor', async () => {
    const out = tmp();
    const config = tinyConfig({ schedule: { step1Iters: 2, transferIters: 0, selfTrainingIters: 0 } });
    const r = await runExperiment(config, { outDir: out });
    const { tensors, metadata } = await loadCheckpoint(r.checkpoint);
    const name = Object.keys(tensors).find((k) => k.startsWith('model.') && tensors[k].dtype === 'float32')!;
    const values = tensors[name].dataSync().slice();
    values[1] = Number.NaN;
    const bad = { ...tensors, [name]: tf.tensor(values, tensors[name].shape) };
    const nanFile = join(out, 'nan.safetensors');
    await saveCheckpoint(nanFile, bad, metadata);
    tf.dispose([...Object.values(tensors), bad[name]]);
    const msgFor = (file: string) => new RegExp(`checkpoint .*${file.replace(/\./g, '\\.')}: tensor '${name.replace(/\./g, '\\.')}' has 1 non-finite value \\(first: NaN at index 1\\)`);
    const msg = msgFor('nan.safetensors');
    const before = tf.memory().numTensors;
    await expect(readModel(nanFile)).rejects.toThrow(msg);
    await expect(evaluateCheckpoint(nanFile)).rejects.toThrow(msg);
    expect(tf.memory().numTensors).toBe(before);
    // as the run's only checkpoint, resume refuses it
    const run2 = tmp();
    mkdirSync(join(run2, 'checkpoints'));
    writeFileSync(stepCheckpointPath(run2, 2), readFileSync(nanFile));
    await expect(runExperiment(config, { outDir: run2, resume: true })).rejects.toThrow(msgFor('step-00000002.safetensors'));
  });

  it('the config stored in a checkpoint is validated like a config file', async () => {
    const out = tmp();
    const config = tinyConfig({ schedule: { step1Iters: 1, transferIters: 0, selfTrainingIters: 0 } });
    const r = await runExperiment(config, { outDir: out });
    const { tensors, metadata } = await loadCheckpoint(r.checkpoint);
    const file = join(out, 'bad-config.safetensors');
    await saveCheckpoint(file, tensors, { ...metadata, config: { ...config, model: { ...config.model, backbone: { ...config.model.backbone, channels: 1e5 } } } });
    tf.dispose(Object.values(tensors));
    await expect(readModel(file)).rejects.toThrow(/bad-config\.safetensors \(the config stored in the checkpoint\): invalid config\n {2}- model\.backbone\.channels: must be <= 4096/);
  });

  it('resume: changed learning rates and steps are allowed with a warning, other keys are refused by name', async () => {
    const out = tmp();
    const config = tinyConfig({ schedule: { step1Iters: 2, transferIters: 0, selfTrainingIters: 0 } });
    await runExperiment(config, { outDir: out });
    const logs: string[] = [];
    const more = tinyConfig({ schedule: { step1Iters: 3, transferIters: 0, selfTrainingIters: 0 }, optimizers: { classifier: { lr: 0.005 } } });
    const steps: number[] = [];
    const r = await runExperiment(more, { outDir: out, resume: true, callbacks: [{ onLog: (m) => void logs.push(m), onStepEnd: (_s, e) => void steps.push(e.step) }] });
    expect(steps).toEqual([3]);
    expect(r.steps).toBe(3);
    expect(logs.join('\n')).toMatch(/warning: resuming .* with changed settings: schedule\.step1Iters: 2 → 3, optimizers\.classifier\.lr: 0\.01 → 0\.005/);
    await expect(runExperiment(tinyConfig({ seed: 3, schedule: { step1Iters: 3, transferIters: 0, selfTrainingIters: 0 } }), { outDir: out, resume: true })).rejects.toThrow(
      /written by a different config \(seed: 0 → 3\)/,
    );
  });

  it('--keep: the newest K step checkpoints are kept; a corrupt newest one falls back to the one before, and the run still ends bit-identical', async () => {
    const config = tinyConfig();
    const full = await runExperiment(config, { outDir: tmp() });
    const out = tmp();
    const ctrl = new AbortController();
    await expect(
      runExperiment(config, { outDir: out, keep: 2, signal: ctrl.signal, callbacks: [{ onStepEnd: (_s, e) => void (e.step === 7 ? ctrl.abort() : undefined) }] }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    // checkpoints every 2 steps and on abort: 2, 4, 6, 7 → the newest two kept, last = step 7
    expect(readdirSync(join(out, 'checkpoints')).sort()).toEqual(['last.safetensors', 'step-00000006.safetensors', 'step-00000007.safetensors']);
    const newest = stepCheckpointPath(out, 7);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 3] ^= 0xff; // one flipped bit in a tensor: its checksum fails (last.safetensors is the same file)
    writeFileSync(newest, bytes);
    const logs: string[] = [];
    const steps: number[] = [];
    const resumed = await runExperiment(config, { outDir: out, resume: true, keep: 2, callbacks: [{ onLog: (m) => void logs.push(m), onStepEnd: (_s, e) => void steps.push(e.step) }] });
    expect(logs.join('\n')).toMatch(/warning: cannot resume from .*step-00000007\.safetensors: checkpoint .*fails its SHA-256 check/);
    expect(logs.join('\n')).toMatch(/resumed from .*step-00000006\.safetensors at step 6\/8/);
    expect(steps).toEqual([7, 8]);
    expect(resumed.metrics).toEqual(full.metrics);
    const [ca, cb] = await Promise.all([loadCheckpoint(full.checkpoint), loadCheckpoint(resumed.checkpoint)]);
    const keys = Object.keys(ca.tensors).filter((k) => k.startsWith('model.') || k.startsWith('opt.'));
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) expect([...cb.tensors[k].dataSync()], k).toEqual([...ca.tensors[k].dataSync()]);
    tf.dispose([...Object.values(ca.tensors), ...Object.values(cb.tensors)]);
    expect(readdirSync(join(out, 'checkpoints')).sort()).toEqual(['last.safetensors', 'step-00000007.safetensors', 'step-00000008.safetensors']);
    expect(existsSync(stepCheckpointPath(out, 6))).toBe(false);
  });
});
