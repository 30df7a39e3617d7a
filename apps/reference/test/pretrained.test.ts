/**
 * `sign train --preset … --pretrained FILE.pth`: ImageNet-style ResNet weights written by PyTorch
 * (packages/trainer/scripts/make-pretrained-fixtures.py: torchvision's names and the DeepLab
 * port's the release starts from, at a reduced size) start the backbone; a mis-named key or a
 * missing file is exit code 2 naming it, with no checkpoint written. The preset runs with the
 * documented small override of paper-train.test.ts, at the fixtures' size (width 2, blocks [2, 1, 1, 1]).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '@sign/core/node';
import { SIGN_RELEASE_BENCHMARKS } from '@sign/datasets';
import { writePaperTree } from '@sign/datasets/testing';
import { main } from '../src/cli';
import { SMALL_PRESET_PIPELINE, sink, tempDir, writeClassTable } from './helpers';

const FIX = resolve(__dirname, '../../../packages/trainer/test/fixtures/pretrained');
const summary = JSON.parse(readFileSync(join(FIX, 'pretrained.json'), 'utf8')) as {
  config: { width: number; blocks: number[] };
  files: Record<string, { key: string; shape: number[]; release_name: string | null; k: number | null; a: number | null; b: number | null }[]>;
};

const SMALL = {
  data: {
    train: {
      pipeline: SMALL_PRESET_PIPELINE,
    },
  },
  model: { backbone: { ...summary.config, channels: 16 }, sim: { hidden: 8 }, generator: { hidden: [16] }, discriminator: { hidden: 16 } },
  schedule: { batchSize: 2 },
};

async function setup() {
  const dir = tempDir('sign-pretrained-');
  const root = join(dir, 'data');
  await writePaperTree(root, 'sign-release-voc12', { trainCount: 2, testCount: 1 });
  writeFileSync(join(dir, 'small.json'), JSON.stringify(SMALL));
  writeClassTable(dir, SIGN_RELEASE_BENCHMARKS.voc12.classNames);
  return { dir, root };
}

async function train(dir: string, root: string, pretrained: string, out: string) {
  const stdout = sink();
  const stderr = sink();
  const argv = ['train', '--preset', 'voc12-sign', '--data-root', root, '--config', join(dir, 'small.json'), '--embeddings-file', join(dir, 'embeddings.json'), '--pretrained', pretrained, '--max-steps', '1', '--out', out, '--backend', 'wasm', '--json'];
  const code = await main(argv, { stdout, stderr, handleSignals: false });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('sign train --preset voc12-sign --pretrained FILE.pth', { timeout: 600_000 }, () => {
  it('the release’s DeepLab init names (scale.…): the backbone starts from the file (its frozen BatchNorm tensors still equal it after a step)', async () => {
    const { dir, root } = await setup();
    const out = join(dir, 'run');
    const r = await train(dir, root, join(FIX, 'deeplab-pytorch.pth'), out);
    expect(r.code, r.stderr).toBe(0);
    const logs = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'log').map((e) => e.message as string);
    const line = logs.find((m) => m.startsWith('backbone: '));
    expect(line).toMatch(/^backbone: 100 pretrained tensors from .*deeplab-pytorch\.pth \(deeplab-pytorch names\); 8 keys ignored \(heads, counters\); left at their initialisation: aspp\.stages\.c0\.kernel/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.config.model.backbone.pretrained).toBe(join(FIX, 'deeplab-pytorch.pth'));
    const ckpt = await loadCheckpoint(join(out, 'checkpoints', 'last.safetensors'));
    let checked = 0;
    for (const e of summary.files['deeplab-pytorch.pth']) {
      if (!e.release_name || !/\.bn\.(running_mean|running_var|weight|bias)$/.test(e.release_name)) continue;
      const path = `model.backbone.${e.release_name.replace(/running_mean$/, 'runningMean').replace(/running_var$/, 'runningVar')}`;
      const got = await ckpt.tensors[path].data();
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - Math.fround(e.a! + e.b! * Math.sin(0.61803 * i + 0.5 * e.k!))), `${path}[${i}]`).toBeLessThan(1e-6);
      checked++;
    }
    expect(checked).toBe(80); // 20 BatchNorms × 4 tensors
    tf.dispose(Object.values(ckpt.tensors));
  });

  it('torchvision names: the first conv is rewritten for the preset’s BGR / Caffe-mean input', async () => {
    const { dir, root } = await setup();
    const r = await train(dir, root, join(FIX, 'torchvision.pth'), join(dir, 'run'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backbone: 100 pretrained tensors from .*torchvision\.pth \(torchvision names; first conv rewritten from torchvision input for the data's\); 22 keys ignored/);
  });

  it('a mis-named key and a missing file: exit code 2 naming them, no checkpoint written', async () => {
    const { dir, root } = await setup();
    const out = join(dir, 'bad');
    const bad = await train(dir, root, join(FIX, 'misnamed.pth'), out);
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toContain("unknown key 'layer2.0.conv_2.weight'; no key 'layer2.0.conv2.weight'");
    expect(bad.stdout + bad.stderr).toContain('misnamed.pth');
    expect(existsSync(join(out, 'checkpoints', 'last.safetensors'))).toBe(false);
    const missing = await train(dir, root, join(dir, 'absent.pth'), join(dir, 'absent'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--pretrained: no such file');
    expect(missing.stderr).toContain('absent.pth');
  });
});
