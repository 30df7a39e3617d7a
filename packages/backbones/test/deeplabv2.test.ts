import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, fromTorchLayout, initBackend, loadTorchStateDict } from '@sign/core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import {
  DEEPLABV2_DEFAULTS,
  DeepLabV2ResNet101,
  createBackbone,
  deeplabReleaseKey,
  resolveDeepLabV2Config,
} from '@sign/backbones';

// A narrow DeepLabv2-ResNet composed from the SIGN release's own blocks, run by PyTorch
// (test/fixtures/make-deeplab-tiny.py): input 52×35, where the ceil-mode pool adds a window.
const tiny = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'deeplab-tiny.json'), 'utf8')) as {
  config: { width: number; blocks: number[]; channels: number; asppDilations: number[] };
  input_shape_nchw: [number, number, number, number];
  entries: { key: string; shape: number[]; k: number; a: number; b: number }[];
  layer5: { shape_nhwc: number[]; values: number[] };
  aspp: { shape_nhwc: number[]; values: number[] };
  grads: Record<string, number[]>;
};

/** The fixture's weights (PyTorch layout), keyed as in a release checkpoint (`back.scale.…`). */
function tinyStateDict(): Record<string, tf.Tensor> {
  const dict: Record<string, tf.Tensor> = {};
  for (const e of tiny.entries) {
    const n = e.shape.reduce((p, q) => p * q, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = e.a + e.b * Math.sin(0.61803 * i + 0.5 * e.k);
    dict[e.key] = tf.tensor(v, e.shape);
  }
  return dict;
}

function tinyInput(): tf.Tensor4D {
  const [n, c, h, w] = tiny.input_shape_nchw;
  const v = new Float32Array(n * c * h * w);
  for (let i = 0; i < v.length; i++) v[i] = 60 * Math.sin(0.013 * i + 0.3);
  return tf.tidy(() => tf.transpose(tf.tensor4d(v, [n, c, h, w]), [0, 2, 3, 1]));
}

function maxRelErr(ours: ArrayLike<number>, ref: number[]): number {
  let scale = 0;
  for (const r of ref) scale = Math.max(scale, Math.abs(r));
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ours[i] - ref[i]) / scale);
  return m;
}

/** The release key of one of our parameter paths: the inverse of deeplabReleaseKey's rule. */
function releaseKeyOf(path: string): string {
  return `back.scale.${path}`
    .replace(/\.kernel$/, '.weight')
    .replace(/\.runningMean$/, '.running_mean')
    .replace(/\.runningVar$/, '.running_var');
}

describe("'deeplabv2-resnet101' config", () => {
  it('defaults are the release network', () => {
    expect(resolveDeepLabV2Config({})).toEqual({
      inChannels: 3,
      channels: 600,
      blocks: [3, 4, 23, 3],
      width: 64,
      asppDilations: [6, 12, 18, 24],
      bnEps: 1e-5,
      init: 'pytorch',
    });
    expect(DEEPLABV2_DEFAULTS.blocks).toEqual([3, 4, 23, 3]);
  });

  it('names the key of an unknown or bad setting', () => {
    const where = "backbone 'deeplabv2-resnet101'";
    expect(() => resolveDeepLabV2Config({ chanels: 600 })).toThrow(`${where}: unknown config key 'chanels' (known: inChannels, channels,`);
    expect(() => resolveDeepLabV2Config({ channels: 0 })).toThrow(`${where}: channels must be a positive integer, got 0`);
    expect(() => resolveDeepLabV2Config({ blocks: [3, 4, 23] })).toThrow(/blocks must be four positive integers \(layer2…layer5\), got \[3,4,23\]/);
    expect(() => resolveDeepLabV2Config({ asppDilations: [] })).toThrow(/asppDilations must be a non-empty array/);
    expect(() => resolveDeepLabV2Config({ bnEps: -1 })).toThrow(/bnEps must be a non-negative number/);
    expect(() => resolveDeepLabV2Config({ init: 'he' })).toThrow(/init must be 'pytorch' or 'zeros', got "he"/);
    expect(() => resolveDeepLabV2Config([])).toThrow(/config must be an object, got an array/);
  });
});

describe('the full-size network (ResNet-101 + ASPP to 600)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('has the release’s parameters: 86.8M, BatchNorm frozen, every path one release key', () => {
    const bb = createBackbone('deeplabv2-resnet101', new Rng(0), { init: 'zeros' }) as DeepLabV2ResNet101;
    const params = bb.namedParameters();
    // torchvision's ResNet-101 has 44,549,160 parameters, 2,049,000 of them in its fc: 42,500,160
    // for the trunk; here the trunk also holds the BatchNorm running statistics (2 × 52,672
    // channels: 64 + 3·384 + 256 + 4·768 + 512 + 23·1536 + 1024 + 3·3072 + 2048), and the ASPP
    // four 3×3 2048 → 600 convs with bias.
    const bnChannels = 64 + 3 * 384 + 256 + 4 * 768 + 512 + 23 * 1536 + 1024 + 3 * 3072 + 2048;
    const aspp = 4 * (9 * 2048 * 600 + 600);
    expect(bb.numParameters() - aspp).toBe(42_500_160 + 2 * bnChannels);
    expect(bb.numParameters()).toBe(86_844_704);
    // 104 conv + BN units: stem, 3 + 4 + 23 + 3 bottlenecks of 3 convs, 4 projections
    const convs = [...params.keys()].filter((p) => p.endsWith('.conv.kernel'));
    expect(convs.length).toBe(1 + 3 * (3 + 4 + 23 + 3) + 4);
    expect([...params.keys()].filter((p) => p.includes('.bn.')).length).toBe(4 * convs.length);
    // trainable: the conv kernels and the ASPP's kernels and biases, never the BatchNorm tensors
    const trainable = new Set(bb.trainableVariables());
    bb.setTrainable(true);
    for (const [path, v] of params) expect(trainable.has(v), path).toBe(!path.includes('.bn.'));
    expect(bb.trainableVariables().length).toBe(convs.length + 8);
    // shapes of a few landmarks
    expect(params.get('layer1.conv1.conv.kernel')!.shape).toEqual([7, 7, 3, 64]);
    expect(params.get('layer3.block1.reduce.conv.kernel')!.shape).toEqual([1, 1, 256, 128]);
    expect(params.get('layer4.block23.conv3x3.conv.kernel')!.shape).toEqual([3, 3, 256, 256]);
    expect(params.get('layer5.block1.proj.conv.kernel')!.shape).toEqual([1, 1, 1024, 2048]);
    expect(params.get('aspp.stages.c3.kernel')!.shape).toEqual([3, 3, 2048, 600]);
    // the key rule is one-to-one over every parameter
    for (const path of params.keys()) expect(deeplabReleaseKey(releaseKeyOf(path))).toBe(path);
    expect(new Set([...params.keys()].map(releaseKeyOf)).size).toBe(params.size);
    expect(bb.outputShape(513, 513)).toEqual([65, 65]);
    expect(bb.outputShape(512, 512)).toEqual([65, 65]);
    expect(bb.outputShape(97, 129)).toEqual([13, 17]);
    expect([bb.name, bb.inputChannels, bb.outputChannels, bb.outputStride, bb.trunkChannels]).toEqual([
      'deeplabv2-resnet101',
      3,
      600,
      8,
      2048,
    ]);
    bb.dispose();
  });

  it('deeplabReleaseKey: checkpoint and fixture prefixes, BN renames, num_batches_tracked, other keys', () => {
    expect(deeplabReleaseKey('back.scale.layer1.conv1.conv.weight')).toBe('layer1.conv1.conv.kernel');
    expect(deeplabReleaseKey('back.layer1.conv1.bn.running_mean')).toBe('layer1.conv1.bn.runningMean');
    expect(deeplabReleaseKey('layer4.block23.increase.bn.running_var')).toBe('layer4.block23.increase.bn.runningVar');
    expect(deeplabReleaseKey('back.scale.layer2.block1.proj.bn.weight')).toBe('layer2.block1.proj.bn.weight');
    expect(deeplabReleaseKey('back.scale.aspp.stages.c2.bias')).toBe('aspp.stages.c2.bias');
    expect(deeplabReleaseKey('back.scale.aspp.stages.c0.weight')).toBe('aspp.stages.c0.kernel');
    expect(deeplabReleaseKey('back.scale.layer3.block2.reduce.bn.num_batches_tracked')).toBeNull();
    for (const other of [
      'back.scale.contextual1.conv.weight',
      'back.scale.fc_1.conv.weight',
      'dis.cls.weight',
      'gen.mlp.0.conv.weight',
      'Em_vis.weight',
      'back.scale.layer1.conv1.conv.bias',
      'back.scale.layer2.block1.extra.conv.weight',
    ]) {
      expect(deeplabReleaseKey(other), other).toBeUndefined();
    }
  });
});

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`a narrow DeepLabv2-ResNet vs the release’s blocks in PyTorch (${backend})`, () => {
    it('layer5 and the ASPP output match (52×35: the ceil-mode pool adds a window)', async () => {
      const bb = new DeepLabV2ResNet101(new Rng(0), { ...tiny.config, init: 'zeros' });
      const dict = tinyStateDict();
      const report = loadTorchStateDict(bb, dict, deeplabReleaseKey);
      expect(report.loaded.length).toBe(bb.namedParameters().size);
      tf.dispose(Object.values(dict));
      const x = tinyInput();
      const trunk = await expectNoLeaks(() => bb.applyTrunk(x));
      expect(trunk.shape).toEqual(tiny.layer5.shape_nhwc);
      expect(maxRelErr(trunk.dataSync(), tiny.layer5.values)).toBeLessThan(1e-5);
      const h = await expectNoLeaks(() => bb.apply(x, { training: true, rng: new Rng(1) }));
      expect(h.shape).toEqual(tiny.aspp.shape_nhwc);
      expect(bb.outputShape(52, 35)).toEqual([7, 5]);
      expect(maxRelErr(h.dataSync(), tiny.aspp.values)).toBeLessThan(1e-5);
      tf.dispose([x, trunk, h]);
      bb.dispose();
    });

    it('gradients: every trainable parameter gets one, BatchNorm none; ASPP biases get Σ R exactly; no leaks', async () => {
      const bb = new DeepLabV2ResNet101(new Rng(2), { width: 2, blocks: [1, 1, 1, 1], channels: 4, asppDilations: [1, 2] });
      const x = tf.randomNormal([1, 21, 18, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const r = tf.randomNormal([1, ...bb.outputShape(21, 18), 4], 0, 1, 'float32', 4);
      const vars = bb.trainableVariables();
      const { value, grads } = await expectNoLeaks(() =>
        tf.variableGrads(() => tf.sum(tf.mul(bb.apply(x, { training: true, rng: new Rng(0) }), r)) as tf.Scalar, vars),
      );
      const names = new Map([...bb.namedParameters()].map(([p, v]) => [v.name, p]));
      expect(Object.keys(grads).length).toBe(vars.length);
      for (const [name, g] of Object.entries(grads)) {
        const path = names.get(name)!;
        expect(path.includes('.bn.'), path).toBe(false);
        const v = g.dataSync();
        expect(v.every(Number.isFinite), path).toBe(true);
        expect(v.some((e) => e !== 0), `${path} has a zero gradient`).toBe(true);
      }
      const sumR = tf.tidy(() => tf.sum(r, [0, 1, 2]).dataSync());
      for (const c of ['c0', 'c1']) {
        const g = grads[bb.namedParameters().get(`aspp.stages.${c}.bias`)!.name].dataSync();
        for (let i = 0; i < 4; i++) expect(g[i]).toBeCloseTo(sumR[i], 4);
      }
      tf.dispose([x, r, value, ...Object.values(grads)]);
      bb.dispose();
    });

    it('gradients of stride-2, dilated and ASPP kernels match PyTorch’s through the ceil-mode pool', async () => {
      const bb = new DeepLabV2ResNet101(new Rng(0), { ...tiny.config, init: 'zeros' });
      const dict = tinyStateDict();
      loadTorchStateDict(bb, dict, deeplabReleaseKey);
      tf.dispose(Object.values(dict));
      const x = tinyInput();
      const [n, h, w, c] = tiny.aspp.shape_nhwc;
      const rv = new Float32Array(n * h * w * c);
      for (let i = 0; i < rv.length; i++) rv[i] = Math.sin(0.37 * i + 0.1);
      const r = tf.tidy(() => tf.transpose(tf.tensor4d(rv, [n, c, h, w]), [0, 2, 3, 1]));
      const params = bb.namedParameters();
      const keys = Object.keys(tiny.grads);
      const vars = keys.map((k) => params.get(deeplabReleaseKey(k)!)!);
      const { value, grads } = await expectNoLeaks(() =>
        tf.variableGrads(() => tf.sum(tf.mul(bb.apply(x, { training: true, rng: new Rng(0) }), r)) as tf.Scalar, vars),
      );
      keys.forEach((k, i) => {
        const ref = tf.tensor(tiny.grads[k], tiny.entries.find((e) => e.key === k)!.shape);
        const expected = fromTorchLayout(ref, vars[i].shape, k);
        expect(maxRelErr(grads[vars[i].name].dataSync(), Array.from(expected.dataSync())), k).toBeLessThan(1e-4);
        tf.dispose([ref, expected]);
      });
      tf.dispose([x, r, value, ...Object.values(grads)]);
      bb.dispose();
    });

    it('checks its inputs', () => {
      const bb = new DeepLabV2ResNet101(new Rng(0), { width: 2, blocks: [1, 1, 1, 1], channels: 4, init: 'zeros' });
      const rng = new Rng(0);
      expect(() => bb.apply(tf.zeros([1, 16, 16, 1]) as tf.Tensor4D, { training: false, rng })).toThrow(
        'DeepLabV2ResNet101.apply: expected images [N,H,W,3], got shape [1,16,16,1]',
      );
      expect(() => bb.apply(tf.zeros([1, 16, 16, 3], 'int32') as tf.Tensor4D, { training: false, rng })).toThrow(/expected float32 images, got int32/);
      expect(() => bb.apply(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, undefined as never)).toThrow(/opts \{ training: boolean, rng \} is required/);
      expect(() => bb.applyAspp(tf.zeros([1, 2, 2, 8]) as tf.Tensor4D)).toThrow(/applyAspp: expected features \[N,H,W,64\], got shape \[1,2,2,8\]/);
      bb.dispose();
    });
  });
});
