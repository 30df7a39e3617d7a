// Issue 10's findings in the CLI: runs never clobber each other (a lock per --out, stale locks
// taken over, stray temp files removed, --resume that checks before it touches anything and never
// deletes a report), bad configs and non-finite checkpoints refused with exit 2 naming the key or
// the tensor, a numerical fault in training stopped with exit 1 naming the step and the part.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { sink, tempDir } from './helpers';

async function run(argv: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await main(argv, { stdout, stderr, handleSignals: false, invocation: 'sign' });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const dir = tempDir('sign-hostile-');
const tiny = (over: Record<string, unknown> = {}) => {
  const file = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      base: 'quick',
      name: 'hostile',
      data: { size: 32, trainCount: 8, testCount: 4 },
      schedule: { batchSize: 2, step1Iters: 2, transferIters: 2, alternateEvery: 1, selfTrainingIters: 0 },
      runtime: { checkpointEvery: 2, backend: 'wasm' },
      ...over,
    }),
  );
  return file;
};

describe('sign: bad configs are refused before any work, naming the key (exit 2)', () => {
  const cases: [string, string, RegExp][] = [
    ['__proto__', '{"base": "quick", "schedule": {"__proto__": {"batchSize": 64}}}', /schedule\.__proto__: forbidden key/],
    ['constructor', '{"base": "quick", "constructor": {"name": "x"}}', /constructor: forbidden key/],
    ['model.backbone.channels: 1e5', '{"base": "quick", "model": {"backbone": {"channels": 1e5}}}', /model\.backbone\.channels: must be <= 4096, got 100000/],
    ['schedule.transferIters: 1e308', '{"base": "quick", "schedule": {"transferIters": 1e308}}', /schedule\.transferIters: must be <= 10000000, got 1e\+308/],
    ['data.size: 1e308', '{"base": "quick", "data": {"size": 1e308}}', /data\.size: must be <= 128, got 1e\+308/],
    ['optimizers.classifier.lr: 1e6', '{"base": "quick", "optimizers": {"classifier": {"lr": 1e6}}}', /optimizers\.classifier\.lr: must be <= 10, got 1000000/],
  ];
  for (const [what, text, message] of cases) {
    it(what, async () => {
      const cfg = join(dir, `bad-${what.replace(/\W/g, '')}.json`);
      writeFileSync(cfg, text);
      const out = join(dir, `bad-out-${what.replace(/\W/g, '')}`);
      const r = await run(['train', '--config', cfg, '--out', out]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(cfg);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('--out naming a file', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await run(['train', '--config', tiny(), '--out', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out: ${file} is a file, not a folder`);
    expect(readFileSync(file, 'utf8')).toBe('x');
  });
});

describe('sign: runs never clobber each other (wasm, tiny runs)', () => {
  const out = join(dir, 'run');
  const cfg = tiny();
  const args = ['train', '--config', cfg, '--out', out];
  let sleeper: ReturnType<typeof spawn> | undefined;
  afterAll(() => sleeper?.kill('SIGKILL'));

  it('a finished run; a second run on its --out while a live process holds the lock exits 2 naming the lock', async () => {
    const first = await run(args);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(out, 'run.lock'))).toBe(false); // released
    const report = readFileSync(join(out, 'report.json'), 'utf8');
    sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    writeFileSync(join(out, 'run.lock'), JSON.stringify({ pid: sleeper.pid, host: hostname(), started: 'now', command: 'sign train (the other run)' }));
    const second = await run([...args, '--resume']);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`is in use by another run (pid ${sleeper.pid}`);
    expect(second.stderr).toContain(join(out, 'run.lock'));
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(report);
  }, 600_000);

  it('a stale lock (its process gone) is taken over, and stray temp files of a killed write are removed', async () => {
    const dead = spawnSync('true').pid;
    writeFileSync(join(out, 'run.lock'), JSON.stringify({ pid: dead, host: hostname(), started: 'then', command: 'sign train' }));
    const stray = join(out, 'checkpoints', `step-00000004.safetensors.tmp-${dead}-k1ll3d`);
    const strayJson = join(out, `.run.json.${dead}.1700000000000.abc123.tmp`);
    writeFileSync(stray, 'half a checkpoint');
    writeFileSync(strayJson, '{"half');
    const r = await run([...args, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`taking over the stale lock .*run\\.lock \\(pid ${dead}, started then, is not running\\)`));
    expect(r.stderr).toContain(`removed ${stray}`);
    expect(existsSync(stray) || existsSync(strayJson)).toBe(false);
    expect(existsSync(join(out, 'run.lock'))).toBe(false);
  }, 600_000);

  for (const [what, damage] of [
    ['missing', () => rmSync(join(out, 'run.json'))],
    ['corrupt', () => writeFileSync(join(out, 'run.json'), '{"config": {"na')],
  ] as const) {
    it(`--resume with a ${what} run.json: a wrong config is refused with the report kept; the right command still works`, async () => {
      damage();
      const report = readFileSync(join(out, 'report.json'), 'utf8');
      const runJson = existsSync(join(out, 'run.json')) ? readFileSync(join(out, 'run.json'), 'utf8') : null;
      const wrong = await run(['train', '--config', tiny({ seed: 3 }), '--out', out, '--resume']);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/run\.json is (missing|unreadable)/);
      expect(wrong.stderr).toMatch(/written by a different config \(seed: 0 → 3\)/);
      expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(report);
      expect(existsSync(join(out, 'run.json')) ? readFileSync(join(out, 'run.json'), 'utf8') : null).toBe(runJson);
      const right = await run([...args, '--resume']);
      expect(right.code, right.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).config.name).toBe('hostile');
      expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.seed).toBe(0);
    }, 600_000);
  }

  it('eval and predict refuse a checkpoint with NaN weights naming the tensor (exit 2); --resume refuses it too', async () => {
    const { tensors, metadata } = await loadCheckpoint(join(out, 'checkpoints', 'last.safetensors'));
    const name = 'model.disc.fc1.kernel' in tensors ? 'model.disc.fc1.kernel' : Object.keys(tensors).find((k) => k.startsWith('model.'))!;
    const v = tensors[name].dataSync().slice();
    v[0] = Number.NaN;
    const nan = tf.tensor(v, tensors[name].shape);
    const file = join(dir, 'nan.safetensors');
    await saveCheckpoint(file, { ...tensors, [name]: nan }, metadata);
    tf.dispose([...Object.values(tensors), nan]);
    const expected = `checkpoint ${file}: tensor '${name}' has 1 non-finite value (first: NaN at index 0)`;
    const ev = await run(['eval', '--checkpoint', file, '--backend', 'wasm']);
    expect(ev.code).toBe(2);
    expect(ev.stderr).toContain(expected);
    const pr = await run(['predict', '--checkpoint', file, '--from-test', '1', '--out', join(dir, 'pred'), '--backend', 'wasm']);
    expect(pr.code).toBe(2);
    expect(pr.stderr).toContain(expected);
    expect(existsSync(join(dir, 'pred'))).toBe(false);
    // the only checkpoint of a run, NaN: --resume refuses it before touching the folder
    const nanRun = join(dir, 'nan-run');
    const made = await run(['train', '--config', tiny({ schedule: { batchSize: 2, step1Iters: 1, transferIters: 0, alternateEvery: 1, selfTrainingIters: 0 } }), '--out', nanRun]);
    expect(made.code, made.stderr).toBe(0);
    const last = join(nanRun, 'checkpoints', 'step-00000001.safetensors');
    const c = await loadCheckpoint(last);
    const bad = tf.fill(c.tensors[name].shape, Number.NaN);
    await saveCheckpoint(join(dir, 'nan2.safetensors'), { ...c.tensors, [name]: bad }, c.metadata);
    tf.dispose([...Object.values(c.tensors), bad]);
    writeFileSync(last, readFileSync(join(dir, 'nan2.safetensors')));
    rmSync(join(nanRun, 'checkpoints', 'last.safetensors'));
    const report = readFileSync(join(nanRun, 'report.json'), 'utf8');
    const res = await run(['train', '--config', tiny({ schedule: { batchSize: 2, step1Iters: 1, transferIters: 0, alternateEvery: 1, selfTrainingIters: 0 } }), '--out', nanRun, '--resume']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`tensor '${name}' has`);
    expect(readFileSync(join(nanRun, 'report.json'), 'utf8')).toBe(report);
  }, 600_000);

  it('losses.mmd.generator: 1e30 stops training with exit 1, naming the step, the part and the quantity; no report', async () => {
    const bad = join(dir, 'mmd');
    const r = await run(['train', '--config', tiny({ model: { losses: { mmd: { generator: 1e30 } } } }), '--out', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/step 1 \(step1\/step1\): the (gradient|optimizer state) of the generator is not finite/);
    expect(r.stderr).toContain('training stopped; no checkpoint was written');
    expect(existsSync(join(bad, 'report.json'))).toBe(false);
    expect(existsSync(join(bad, 'run.lock'))).toBe(false);
  }, 600_000);
});
