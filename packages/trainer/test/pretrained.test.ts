// ImageNet-style ResNet weights written by PyTorch (scripts/make-pretrained-fixtures.py) in the
// three namings — torchvision's, pytorch-deeplab-resnet's ('Scale.'), deeplab-pytorch's as the SIGN
// release's init has them ('scale.') — loaded into deeplabv2-resnet101 through
// `model.backbone.pretrained`: every tensor lands where pretrained.json says (its release name),
// value for value; a mis-named key, a missing file and a backbone without pretrained weights are
// ConfigErrors naming them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, fromTorchLayout, initBackend } from '@sign/core';
import { CAFFE_BGR_NORMALIZATION } from '@sign/datasets';
import { deeplabReleaseKey } from '@sign/backbones';
import { ConfigError, createModel } from '../src/index';
import { loadPretrainedBackbone, readCheckpointFile } from '../src/node';
import { tinyConfig } from './tiny';

const FIX = join(__dirname, 'fixtures', 'pretrained');
interface Entry { key: string; shape: number[]; dtype: string; release_name: string | null; k: number | null; a: number | null; b: number | null }
const summary = JSON.parse(readFileSync(join(FIX, 'pretrained.json'), 'utf8')) as {
  config: { width: number; blocks: number[] };
  files: Record<string, Entry[]>;
};

/** A model of the fixtures' size on 3-channel input (VOC-like classes from the tiny config). */
function model(extra: Record<string, unknown> = {}) {
  const config = tinyConfig({ model: { backbone: { _delete_: true, name: 'deeplabv2-resnet101', channels: 8, ...summary.config, ...extra } } });
  const classes = { classNames: ['a', 'b', 'c'], seen: [0, 1], unseen: [2], background: null, embeddings: new Float32Array(3 * 4).fill(0.5), embeddingDim: 4 };
  return createModel(config, classes as never, 3, new Rng(0));
}

const META = { normalization: CAFFE_BGR_NORMALIZATION };

describe('model.backbone.pretrained: .pth files written by PyTorch', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  for (const [file, naming, prefix] of [
    ['torchvision.pth', 'torchvision', ''],
    ['deeplab-pytorch.pth', 'deeplab-pytorch', 'scale.'],
    ['pytorch-deeplab-resnet.pth', 'pytorch-deeplab-resnet', 'Scale.'],
  ] as const) {
    it(`${file}: ${naming} names detected; every trunk tensor equals the file's, where its release name says; heads ignored`, async () => {
      const m = model();
      const before = tf.memory().numTensors;
      const r = await loadPretrainedBackbone(m, join(FIX, file), META);
      expect(tf.memory().numTensors).toBe(before);
      expect([r.naming, r.prefix]).toEqual([naming, prefix]);
      // torchvision's weights saw RGB/ImageNet input: the stem is rewritten for the model's BGR/Caffe input
      expect(r.adapted).toBe(naming === 'torchvision');
      const entries = summary.files[file];
      const trunk = entries.filter((e) => e.release_name !== null);
      expect(r.loaded).toBe(trunk.length);
      expect(r.ignored.sort()).toEqual(entries.filter((e) => e.release_name === null).map((e) => e.key).sort());
      const params = m.backbone.namedParameters();
      expect(trunk.length).toBe([...params.keys()].filter((p) => !p.startsWith('aspp.')).length);
      let compared = 0;
      for (const e of trunk) {
        const path = deeplabReleaseKey(`back.scale.${e.release_name}`)!;
        if (r.adapted && (path === 'layer1.conv1.conv.kernel' || path === 'layer1.conv1.bn.runningMean')) continue; // see the next test
        const n = e.shape.reduce((p, q) => p * q, 1);
        const v = new Float32Array(n);
        for (let i = 0; i < n; i++) v[i] = Math.fround(e.a! + e.b! * Math.sin(0.61803 * i + 0.5 * e.k!));
        const want = tf.tidy(() => fromTorchLayout(tf.tensor(v, e.shape), params.get(path)!.shape, e.key));
        const got = await params.get(path)!.data();
        const w = await want.data();
        want.dispose();
        let diff = 0;
        for (let i = 0; i < n; i++) diff = Math.max(diff, Math.abs(got[i] - w[i]));
        // float64 formula → float32 in Python and here: equal up to the last bit of float32's rounding of sin
        expect(diff, `${e.key} → ${path}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(e.a!) + Math.abs(e.b!)));
        compared++;
      }
      expect(compared).toBeGreaterThan(50);
      // a few tensors exactly as PyTorch wrote them (read back through the checkpoint reader)
      const { tensors } = await readCheckpointFile(join(FIX, file));
      for (const rel of ['layer3.block1.conv3x3.conv.weight', 'layer2.block2.increase.bn.running_var', 'layer5.block1.proj.conv.weight', 'layer4.block1.reduce.bn.bias']) {
        const e = trunk.find((x) => x.release_name === rel)!;
        const path = deeplabReleaseKey(`back.scale.${rel}`)!;
        const want = tf.tidy(() => fromTorchLayout(tensors[e.key], params.get(path)!.shape, e.key));
        expect(Array.from(await params.get(path)!.data()), `${e.key} → ${path}`).toEqual(Array.from(await want.data()));
        want.dispose();
      }
      tf.dispose(Object.values(tensors));
      m.dispose();
    });
  }

  it('the same trunk from the three files: identical backbones (torchvision read with its input stated as the model’s)', async () => {
    const [a, b, c] = [model(), model(), model()];
    await loadPretrainedBackbone(a, join(FIX, 'deeplab-pytorch.pth'), META);
    await loadPretrainedBackbone(b, join(FIX, 'pytorch-deeplab-resnet.pth'), META);
    await loadPretrainedBackbone(c, join(FIX, 'torchvision.pth'), META, { weightsInput: 'caffe' });
    const pa = a.backbone.namedParameters();
    for (const other of [b, c]) {
      for (const [path, v] of other.backbone.namedParameters()) {
        if (path.startsWith('aspp.')) continue;
        expect(Array.from(await v.data()), path).toEqual(Array.from(await pa.get(path)!.data()));
      }
    }
    [a, b, c].forEach((m) => m.dispose());
  });

  it('a mis-named key, a missing file, a non-ResNet file and a backbone without pretrained weights are ConfigErrors naming them', async () => {
    const m = model();
    const stem = Array.from(await m.backbone.namedParameters().get('layer1.conv1.conv.kernel')!.data());
    const bad = join(FIX, 'misnamed.pth');
    const err = await loadPretrainedBackbone(m, bad, META).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(`model.backbone.pretrained: ${bad} (torchvision names): unknown key 'layer2.0.conv_2.weight'; no key 'layer2.0.conv2.weight'`);
    // nothing was written
    expect(Array.from(await m.backbone.namedParameters().get('layer1.conv1.conv.kernel')!.data())).toEqual(stem);
    const absent = await loadPretrainedBackbone(m, join(FIX, 'absent.pth'), META).catch((e) => e);
    expect(absent).toBeInstanceOf(ConfigError);
    expect(absent.message).toMatch(/model\.backbone\.pretrained: .*absent\.pth/);
    const json = await loadPretrainedBackbone(m, join(FIX, 'pretrained.json'), META).catch((e) => e);
    expect(json).toBeInstanceOf(ConfigError);
    expect(json.message).toContain('pretrained.json');
    m.dispose();
    const small = createModel(tinyConfig(), { classNames: ['a', 'b'], seen: [0], unseen: [1], background: null, embeddings: new Float32Array(8), embeddingDim: 4 } as never, 1, new Rng(0));
    const none = await loadPretrainedBackbone(small, join(FIX, 'torchvision.pth'), META).catch((e) => e);
    expect(none).toBeInstanceOf(ConfigError);
    expect(none.message).toMatch(/model\.backbone\.pretrained: backbone 'small' cannot load pretrained weights/);
    small.dispose();
  });
});
