// ImageNet-pretrained ResNet weights onto deeplabv2-resnet101: the three namings (torchvision,
// pytorch-deeplab-resnet's 'Scale.', deeplab-pytorch's as the SIGN release has them), errors that
// name the keys, and the stem rewritten for another input normalisation. The .pth files that
// PyTorch writes in these namings are read in @sign/trainer's test (test/pretrained.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng } from '@sign/core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { DeepLabV2ResNet101, PRETRAINED_INPUTS, adaptStemToInput, detectPretrainedNaming, type InputNormalization } from '@sign/backbones';

const CFG = { width: 2, blocks: [2, 1, 1, 1], channels: 8 };

/** torchvision's name for one of our trunk paths, spelled out here (independently of the loader). */
function torchvisionName(path: string): string {
  const bn = (p: string) => ({ weight: 'weight', bias: 'bias', runningMean: 'running_mean', runningVar: 'running_var' })[p]!;
  if (path === 'layer1.conv1.conv.kernel') return 'conv1.weight';
  let m = /^layer1\.conv1\.bn\.(\w+)$/.exec(path);
  if (m) return `bn1.${bn(m[1])}`;
  m = /^layer(\d)\.block(\d+)\.(\w+)\.(conv\.kernel|bn\.(\w+))$/.exec(path)!;
  const at = `layer${Number(m[1]) - 1}.${Number(m[2]) - 1}`;
  const j = { reduce: 1, conv3x3: 2, increase: 3 }[m[3]];
  if (m[3] === 'proj') return m[5] ? `${at}.downsample.1.${bn(m[5])}` : `${at}.downsample.0.weight`;
  return m[5] ? `${at}.bn${j}.${bn(m[5])}` : `${at}.conv${j}.weight`;
}

/** The release's (deeplab-pytorch's) name of one of our paths. */
function deeplabName(path: string): string {
  return path.replace(/\.kernel$/, '.weight').replace(/\.runningMean$/, '.running_mean').replace(/\.runningVar$/, '.running_var');
}

/** A's trunk as a PyTorch state dict (PyTorch layout), named by `name`, plus extra entries. */
function stateDictOf(bb: DeepLabV2ResNet101, name: (path: string) => string, extra: Record<string, number[]> = {}): Record<string, tf.Tensor> {
  const dict: Record<string, tf.Tensor> = {};
  for (const [path, v] of bb.namedParameters()) {
    if (path.startsWith('aspp.')) continue;
    dict[name(path)] = v.rank === 4 ? tf.transpose(v, [3, 2, 0, 1]) : tf.clone(v);
  }
  for (const [k, shape] of Object.entries(extra)) dict[k] = tf.ones(shape);
  return dict;
}

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe('detectPretrainedNaming', () => {
  it('tells the naming and the prefix from the stem key', () => {
    const d = (keys: string[]) => {
      const r = detectPretrainedNaming(keys);
      return [r.naming, r.prefix, r.input];
    };
    expect(d(['conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight', 'fc.weight'])).toEqual(['torchvision', '', 'torchvision']);
    expect(d(['module.conv1.weight', 'module.bn1.weight'])).toEqual(['torchvision', 'module.', 'torchvision']);
    expect(d(['Scale.conv1.weight', 'Scale.bn1.weight', 'Scale.layer5.conv2d_list.0.weight'])).toEqual(['pytorch-deeplab-resnet', 'Scale.', 'caffe']);
    expect(d(['scale.layer1.conv1.conv.weight', 'scale.aspp.stages.c0.weight'])).toEqual(['deeplab-pytorch', 'scale.', 'caffe']);
    expect(d(['back.scale.layer1.conv1.conv.weight'])).toEqual(['deeplab-pytorch', 'back.scale.', 'caffe']);
    expect(d(['layer1.conv1.conv.weight'])).toEqual(['deeplab-pytorch', '', 'caffe']);
    // a block's conv1 is not a stem
    expect(() => detectPretrainedNaming(['layer1.0.conv1.weight', 'layer1.0.bn1.weight'], 'x.pth')).toThrow(/^x\.pth: not ResNet weights .*its first keys: 'layer1\.0\.conv1\.weight', 'layer1\.0\.bn1\.weight'$/);
    expect(() => detectPretrainedNaming(['features.0.weight'], 'vgg.pth')).toThrow(/vgg\.pth: not ResNet weights/);
  });
});

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`loadPretrained (${backend})`, () => {
    for (const [naming, name, extra] of [
      ['torchvision', torchvisionName, { 'fc.weight': [10, 64], 'fc.bias': [10], 'bn1.num_batches_tracked': [] }],
      ['pytorch-deeplab-resnet', (p: string) => `Scale.${torchvisionName(p)}`, { 'Scale.layer5.conv2d_list.0.weight': [5, 64, 3, 3], 'Scale.layer5.conv2d_list.0.bias': [5] }],
      ['deeplab-pytorch', (p: string) => `scale.${deeplabName(p)}`, { 'scale.aspp.stages.c0.weight': [5, 64, 3, 3] }],
      ['deeplab-pytorch', (p: string) => `back.scale.${deeplabName(p)}`, {}],
    ] as const) {
      it(`${naming} (${name('layer1.conv1.conv.kernel')}): every trunk tensor lands in its parameter, the ASPP keeps its init, heads are ignored`, async () => {
        const a = new DeepLabV2ResNet101(new Rng(1), CFG);
        const b = new DeepLabV2ResNet101(new Rng(2), CFG);
        const dict = stateDictOf(a, name, extra as Record<string, number[]>);
        const asppBefore = await values(b.namedParameters().get('aspp.stages.c0.kernel')!);
        const report = await expectNoLeaks(() => b.loadPretrained(dict, { source: 'w.pth' }));
        expect(report.naming).toBe(naming);
        expect(report.adapted).toBe(false);
        expect(report.loaded).toBe([...a.namedParameters().keys()].filter((p) => !p.startsWith('aspp.')).length);
        expect(report.ignored.sort()).toEqual(Object.keys(extra).sort());
        expect(report.initialised).toEqual(['aspp.stages.c0.kernel', 'aspp.stages.c0.bias', 'aspp.stages.c1.kernel', 'aspp.stages.c1.bias', 'aspp.stages.c2.kernel', 'aspp.stages.c2.bias', 'aspp.stages.c3.kernel', 'aspp.stages.c3.bias']);
        const pb = b.namedParameters();
        for (const [path, v] of a.namedParameters()) {
          if (path.startsWith('aspp.')) continue;
          expect(await values(pb.get(path)!), path).toEqual(await values(v));
        }
        expect(await values(pb.get('aspp.stages.c0.kernel')!)).toEqual(asppBefore);
        tf.dispose(Object.values(dict));
        a.dispose();
        b.dispose();
      });
    }

    it('a mis-named, a missing or a mis-shaped key is an error naming it, and nothing is written', async () => {
      const a = new DeepLabV2ResNet101(new Rng(1), CFG);
      const b = new DeepLabV2ResNet101(new Rng(2), CFG);
      const before = await values(b.namedParameters().get('layer1.conv1.conv.kernel')!);
      const dict = stateDictOf(a, torchvisionName);
      const renamed = { ...dict, 'layer2.0.conv_2.weight': dict['layer2.0.conv2.weight'] };
      delete (renamed as Record<string, tf.Tensor>)['layer2.0.conv2.weight'];
      expect(() => b.loadPretrained(renamed, { source: 'bad.pth' })).toThrow(
        "bad.pth (torchvision names): unknown key 'layer2.0.conv_2.weight'; no key 'layer2.0.conv2.weight' (1 of the backbone's",
      );
      const missing = { ...dict };
      delete missing['layer3.0.bn2.running_var'];
      expect(() => b.loadPretrained(missing, { source: 'm.pth' })).toThrow(/m\.pth \(torchvision names\): no key 'layer3\.0\.bn2\.running_var'/);
      const extraBlock = { ...dict, 'layer1.2.conv1.weight': dict['layer1.0.conv1.weight'] }; // a third block in layer1: ResNet-101's, not this config's
      expect(() => b.loadPretrained(extraBlock, { source: 'r101.pth' })).toThrow(/r101\.pth \(torchvision names\): unknown key 'layer1\.2\.conv1\.weight'/);
      const wide = new DeepLabV2ResNet101(new Rng(3), { ...CFG, width: 4 });
      const wideDict = stateDictOf(wide, torchvisionName);
      expect(() => b.loadPretrained(wideDict, { source: 'w4.pth' })).toThrow(/w4\.pth \(torchvision names\): .*'conv1\.weight' has PyTorch shape \[4,3,7,7\]/);
      expect(await values(b.namedParameters().get('layer1.conv1.conv.kernel')!)).toEqual(before);
      tf.dispose([...Object.values(dict), ...Object.values(wideDict)]);
      [a, b, wide].forEach((m) => m.dispose());
    });

    it('adaptStemToInput: the stem on the model’s input equals the original stem on the weights’ input (exact inside the image)', async () => {
      const rng = new Rng(5);
      const [h, w, o] = [12, 11, 4];
      const pixels = Float32Array.from({ length: h * w * 3 }, () => rng.int(256)); // RGB 0..255
      const norm = (n: InputNormalization) => {
        const out = new Float32Array(pixels.length);
        for (let i = 0; i < h * w; i++)
          for (let c = 0; c < 3; c++) out[i * 3 + c] = (pixels[i * 3 + (n.order === 'bgr' ? 2 - c : c)] * n.scale - n.mean[c]) / n.std[c];
        return tf.tensor4d(out, [1, h, w, 3]);
      };
      const kernel = tf.tensor4d(Float32Array.from(rng.normalArray(7 * 7 * 3 * o)), [7, 7, 3, o]);
      const rm = tf.tensor1d([0.1, -0.2, 0.3, 0]);
      const rgb01: InputNormalization = { order: 'rgb', scale: 1 / 255, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
      for (const [from, to] of [
        [PRETRAINED_INPUTS.torchvision, PRETRAINED_INPUTS.caffe],
        [PRETRAINED_INPUTS.caffe, PRETRAINED_INPUTS.torchvision],
        [PRETRAINED_INPUTS.caffe, rgb01],
      ] as const) {
        const adapted = await expectNoLeaks(() => adaptStemToInput(kernel, rm, from, to));
        const [want, got] = tf.tidy(() => [
          tf.sub(tf.conv2d(norm(from), kernel, 1, 'valid'), rm),
          tf.sub(tf.conv2d(norm(to), adapted.kernel, 1, 'valid'), adapted.runningMean),
        ]);
        const [wv, gv] = [await values(want), await values(got)];
        const scale = Math.max(...wv.map(Math.abs));
        expect(Math.max(...wv.map((v, i) => Math.abs(v - gv[i]))) / scale, `${from.order} → ${to.order}`).toBeLessThan(1e-5);
        tf.dispose([want, got, adapted.kernel, adapted.runningMean]);
      }
      const same = adaptStemToInput(kernel, rm, PRETRAINED_INPUTS.caffe, PRETRAINED_INPUTS.caffe);
      expect(await values(same.kernel)).toEqual(await values(kernel));
      expect(await values(same.runningMean)).toEqual(await values(rm));
      expect(() => adaptStemToInput(kernel, rm, PRETRAINED_INPUTS.caffe, { order: 'grey', scale: 1, mean: [0], std: [1] })).toThrow(/reads 3 channel\(s\) of bgr input; the model's input is grey/);
      tf.dispose([kernel, rm, same.kernel, same.runningMean]);
    });

    it('loadPretrained with the model’s input: torchvision weights get the adapted stem, Caffe weights on Caffe input none', async () => {
      const a = new DeepLabV2ResNet101(new Rng(1), CFG);
      const b = new DeepLabV2ResNet101(new Rng(2), CFG);
      const tv = stateDictOf(a, torchvisionName);
      const report = b.loadPretrained(tv, { source: 'tv.pth', input: PRETRAINED_INPUTS.caffe });
      expect([report.weightsInput, report.adapted]).toEqual(['torchvision', true]);
      const want = adaptStemToInput(
        a.namedParameters().get('layer1.conv1.conv.kernel')! as tf.Tensor4D,
        a.namedParameters().get('layer1.conv1.bn.runningMean')! as tf.Tensor1D,
        PRETRAINED_INPUTS.torchvision,
        PRETRAINED_INPUTS.caffe,
      );
      expect(await values(b.namedParameters().get('layer1.conv1.conv.kernel')!)).toEqual(await values(want.kernel));
      expect(await values(b.namedParameters().get('layer1.conv1.bn.runningMean')!)).toEqual(await values(want.runningMean));
      // the first colour channel of the model's (BGR) input is blue: torchvision's third, over 255·0.225
      const k = await values(a.namedParameters().get('layer1.conv1.conv.kernel')!);
      const kb = await values(b.namedParameters().get('layer1.conv1.conv.kernel')!);
      expect(kb[0]).toBeCloseTo(k[2 * 2] / (255 * 0.225), 6); // [0,0,c=0,o=0] ← [0,0,c=2,o=0] (O = 2)
      const dl = stateDictOf(a, (p) => `scale.${deeplabName(p)}`);
      expect(b.loadPretrained(dl, { source: 'dl.pth', input: PRETRAINED_INPUTS.caffe }).adapted).toBe(false);
      expect(b.loadPretrained(dl, { source: 'dl.pth', input: PRETRAINED_INPUTS.caffe, weightsInput: 'torchvision' }).adapted).toBe(true);
      tf.dispose([...Object.values(tv), ...Object.values(dl), want.kernel, want.runningMean]);
      a.dispose();
      b.dispose();
    });
  });
});
