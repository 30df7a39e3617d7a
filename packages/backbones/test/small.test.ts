import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Rng, conv2d } from '@sign/core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { PatchDownsample, SmallBackbone, createBackbone, type SmallBackboneConfig } from '@sign/backbones';

const apply = (bb: SmallBackbone, x: tf.Tensor4D, training = false) =>
  bb.apply(x, { training, rng: new Rng(1) });

/** The same network written with tfjs' own forward ops, from the backbone's parameters. */
function reference(bb: SmallBackbone, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const p = bb.namedParameters();
    const c = bb.config;
    const conv = (h: tf.Tensor4D, name: string, stride: number, dilation = 1) =>
      tf.add(
        tf.conv2d(h, p.get(`${name}.kernel`) as tf.Tensor4D, stride, 'same', 'NHWC', dilation),
        p.get(`${name}.bias`)!,
      ) as tf.Tensor4D;
    let h = x;
    for (let s = 1; s <= Math.log2(c.outputStride); s++) {
      h = tf.relu(conv(h, c.downsample === 'patch2x2' ? `stage${s}.down.conv` : `stage${s}.down`, 2));
      for (let i = 0; i < c.convsPerStage; i++) h = tf.relu(conv(h, `stage${s}.conv${i}`, 1));
    }
    const branches = c.dilations.map((d, i) => tf.relu(conv(h, `head.branch${i}`, 1, d)));
    const cat = tf.concat(branches, 3);
    const [n, hh, ww, ch] = cat.shape;
    const y = tf.add(tf.matMul(tf.reshape(cat, [n * hh * ww, ch]), p.get('head.project.kernel')!), p.get('head.project.bias')!);
    return tf.reshape(y, [n, hh, ww, c.channels]) as tf.Tensor4D;
  });
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

type Shape4 = [number, number, number, number];

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`SmallBackbone on ${backend}`, () => {
    const cases: [SmallBackboneConfig, Shape4, Shape4][] = [
      [{}, [1, 64, 48, 1], [1, 16, 12, 32]],
      [{}, [1, 30, 18, 1], [1, 8, 5, 32]], // ⌈⌈30/2⌉/2⌉ = 8, ⌈⌈18/2⌉/2⌉ = 5
      [{ outputStride: 2, channels: 8, width: 4, headChannels: 4 }, [1, 30, 17, 1], [1, 15, 9, 8]],
      [{ outputStride: 8, channels: 12, width: 4, headChannels: 4 }, [1, 64, 40, 1], [1, 8, 5, 12]],
      [{ downsample: 'conv3x3', channels: 8, width: 4, headChannels: 4 }, [1, 30, 18, 1], [1, 8, 5, 8]],
      [{ inChannels: 3, convsPerStage: 2, dilations: [1, 3], channels: 8, width: 4, headChannels: 4 }, [2, 20, 20, 3], [2, 5, 5, 8]],
      [{ convsPerStage: 0, channels: 8, width: 4, headChannels: 4 }, [1, 9, 9, 1], [1, 3, 3, 8]],
    ];
    for (const [cfg, inShape, outShape] of cases) {
      it(`${JSON.stringify(cfg)}: [${inShape}] → [${outShape}], equal to a tf.conv2d reference`, async () => {
        const bb = new SmallBackbone(new Rng(3), cfg);
        const x = tf.randomUniform(inShape, 0, 1, 'float32', 7) as tf.Tensor4D;
        const y = await expectNoLeaks(() => apply(bb, x));
        expect(y.shape).toEqual(outShape);
        expect(bb.outputStride).toBe(cfg.outputStride ?? 4);
        expect(bb.outputChannels).toBe(outShape[3]);
        const ref = reference(bb, x);
        expect(maxAbsDiff(y, ref)).toBeLessThan(1e-4);
        // not a degenerate map: the features vary over space and channels
        expect(tf.tidy(() => tf.moments(y).variance.dataSync()[0])).toBeGreaterThan(1e-6);
        tf.dispose([x, y, ref]);
        bb.dispose();
      });
    }

    it('PatchDownsample equals a 2×2 stride-2 same-padded conv2d, even and odd sizes', async () => {
      const down = new PatchDownsample(new Rng(5), { inChannels: 3, outChannels: 4 });
      for (const shape of [[2, 6, 8, 3], [1, 7, 5, 3]] as Shape4[]) {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 11) as tf.Tensor4D;
        const y = await expectNoLeaks(() => down.apply(x));
        const ref = tf.tidy(() => tf.add(tf.conv2d(x, down.conv.kernel as tf.Tensor4D, 2, 'same'), down.conv.bias!));
        expect(y.shape).toEqual([shape[0], Math.ceil(shape[1] / 2), Math.ceil(shape[2] / 2), 4]);
        expect(maxAbsDiff(y, ref)).toBeLessThan(1e-5);
        // and core's conv2d agrees as well
        const viaCore = tf.tidy(() => conv2d(x, down.conv.kernel as tf.Tensor4D, { strides: 2, bias: down.conv.bias as tf.Tensor1D }));
        expect(maxAbsDiff(y, viaCore)).toBeLessThan(1e-5);
        tf.dispose([x, y, ref, viaCore]);
      }
      expect(() => down.apply(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D)).toThrow(/expected x \[N,H,W,3\], got \[1,4,4,2\]/);
      down.dispose();
    });

    it('gradients reach every parameter (default config)', async () => {
      const bb = new SmallBackbone(new Rng(9), { channels: 8, width: 4, headChannels: 4 });
      const x = tf.randomUniform([2, 16, 12, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
      const w = tf.randomNormal([2, 4, 3, 8], 0, 1, 'float32', 4);
      const vars = bb.namedParameters();
      const { value, grads } = await expectNoLeaks(() =>
        tf.variableGrads(() => tf.sum(tf.mul(apply(bb, x, true), w)) as tf.Scalar, [...vars.values()]),
      );
      expect(Object.keys(grads)).toHaveLength(vars.size);
      for (const [path, v] of vars) {
        const g = grads[v.name]; // variableGrads keys by variable name; map back to the paths
        expect(g, path).toBeDefined();
        expect(g.shape, path).toEqual(v.shape);
        const norm = tf.tidy(() => tf.norm(g).dataSync()[0]);
        expect(Number.isFinite(norm), path).toBe(true);
        expect(norm, `gradient of ${path}`).toBeGreaterThan(0);
      }
      tf.dispose([x, w, value, ...Object.values(grads)]);
      bb.dispose();
    });

    it('gradients match finite differences, parameter by parameter', () => {
      // init 'pytorch' here: its non-zero biases keep pre-activations off ReLU's kink at 0,
      // where a finite difference is meaningless (with zero biases an all-zero input patch sits
      // exactly on it). The gradient code is the same for both inits.
      const bb = new SmallBackbone(new Rng(9), { inChannels: 2, channels: 4, width: 4, headChannels: 4, init: 'pytorch' });
      const x = tf.randomUniform([2, 12, 10, 2], 0, 1, 'float32', 3) as tf.Tensor4D; // odd sizes at stride 2
      const w = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 4);
      const vars = bb.namedParameters();
      const f = () => tf.sum(tf.mul(apply(bb, x, true), w)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(f, [...vars.values()]);
      const eps = 1e-3;
      let i = 0;
      for (const [path, v] of vars) {
        // directional derivative along a random direction d: g·d ≈ (f(θ+εd) − f(θ−εd)) / 2ε
        const d = tf.randomNormal(v.shape, 0, 1, 'float32', 100 + i++);
        const analytic = tf.tidy(() => tf.sum(tf.mul(grads[v.name], d)).dataSync()[0]);
        const orig = tf.clone(v);
        const at = (s: number) => {
          tf.tidy(() => v.assign(tf.add(orig, tf.mul(d, s))));
          return tf.tidy(() => f().dataSync()[0]);
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(orig);
        expect(Math.abs(numeric - analytic), `${path}: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(
          2e-2 * Math.abs(analytic) + 1e-3,
        );
        tf.dispose([d, orig]);
      }
      tf.dispose([x, w, value, ...Object.values(grads)]);
      bb.dispose();
    });

    it('has no leaks in forward, backward, construction and dispose', async () => {
      const before = tf.memory().numTensors;
      const bb = new SmallBackbone(new Rng(2), { channels: 8, width: 4, headChannels: 4 });
      expect(tf.memory().numTensors - before).toBe(bb.namedParameters().size);
      const x = tf.randomUniform([2, 16, 16, 1]) as tf.Tensor4D;
      const y = await expectNoLeaks(() => apply(bb, x, true));
      y.dispose();
      await expectNoLeaks(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(apply(bb, x, true)) as tf.Scalar, bb.trainableVariables());
        tf.dispose([value, ...Object.values(grads)]);
      });
      x.dispose();
      bb.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});

describe('SmallBackbone parameters and inputs', () => {
  it('has stable dotted parameter paths and shapes (default config: 44,576 parameters)', () => {
    const bb = createBackbone('small', new Rng(0)) as SmallBackbone;
    const shapes = Object.fromEntries([...bb.namedParameters()].map(([k, v]) => [k, v.shape]));
    expect(shapes).toEqual({
      'stage1.down.conv.kernel': [2, 2, 1, 16],
      'stage1.down.conv.bias': [16],
      'stage1.conv0.kernel': [3, 3, 16, 16],
      'stage1.conv0.bias': [16],
      'stage2.down.conv.kernel': [2, 2, 16, 32],
      'stage2.down.conv.bias': [32],
      'stage2.conv0.kernel': [3, 3, 32, 32],
      'stage2.conv0.bias': [32],
      'head.branch0.kernel': [3, 3, 32, 32],
      'head.branch0.bias': [32],
      'head.branch1.kernel': [3, 3, 32, 32],
      'head.branch1.bias': [32],
      'head.branch2.kernel': [3, 3, 32, 32],
      'head.branch2.bias': [32],
      'head.project.kernel': [96, 32],
      'head.project.bias': [32],
    });
    // 80 + 2320 + 2080 + 9248 + 3 × 9248 + 3104
    expect(bb.numParameters()).toBe(44576);
    expect(bb.config).toMatchObject({ channels: 32, outputStride: 4, width: 16, dilations: [1, 2, 4] });
    bb.dispose();
  });

  it('is deterministic in the seed, and a state dict carries the whole model', () => {
    const a = new SmallBackbone(new Rng(42), { channels: 8 });
    const b = new SmallBackbone(new Rng(42), { channels: 8 });
    const c = new SmallBackbone(new Rng(43), { channels: 8 });
    const x = tf.randomUniform([1, 16, 16, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const [ya, yb, yc] = [a, b, c].map((m) => apply(m, x));
    expect(maxAbsDiff(ya, yb)).toBe(0);
    expect(maxAbsDiff(ya, yc)).toBeGreaterThan(1e-3);
    c.loadStateDict(a.stateDict());
    const yc2 = apply(c, x);
    expect(maxAbsDiff(ya, yc2)).toBe(0);
    tf.dispose([x, ya, yb, yc, yc2]);
    [a, b, c].forEach((m) => m.dispose());
  });

  it("init 'he' gives a feature map that varies over positions; 'pytorch' nearly does not", () => {
    const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const spatialStd = (init: 'he' | 'pytorch') => {
      const bb = new SmallBackbone(new Rng(0), { init });
      const v = tf.tidy(() => tf.mean(tf.sqrt(tf.moments(apply(bb, x), [0, 1, 2]).variance)).dataSync()[0]);
      bb.dispose();
      return v;
    };
    const he = spatialStd('he');
    const pt = spatialStd('pytorch');
    expect(he).toBeGreaterThan(0.1);
    expect(pt).toBeLessThan(0.02);
    x.dispose();
  });

  it('setTrainable(false) freezes every parameter', () => {
    const bb = new SmallBackbone(new Rng(0), { channels: 8, width: 4 });
    const n = bb.numParameters();
    bb.setTrainable(false);
    expect(bb.trainableVariables()).toHaveLength(0);
    expect(bb.numParameters({ trainableOnly: true })).toBe(0);
    bb.setTrainable(true);
    expect(bb.numParameters({ trainableOnly: true })).toBe(n);
    bb.dispose();
  });

  it('rejects bad inputs with a message saying what was expected', () => {
    const bb = new SmallBackbone(new Rng(0), { channels: 8, width: 4 });
    const rng = new Rng(0);
    expect(() => bb.apply(tf.zeros([16, 16, 1]) as unknown as tf.Tensor4D, { training: false, rng })).toThrow(
      /expected images of rank 4 \[N,H,W,1\], got shape \[16,16,1\]/,
    );
    expect(() => bb.apply(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, { training: false, rng })).toThrow(
      /expected 1 input channel\(s\), got images of shape \[1,16,16,3\]/,
    );
    expect(() => bb.apply(tf.zeros([1, 16, 16, 1], 'int32') as tf.Tensor4D, { training: false, rng })).toThrow(/float32/);
    expect(() => bb.apply(tf.zeros([1, 16, 16, 1]) as tf.Tensor4D, undefined as never)).toThrow(/opts \{ training/);
    bb.dispose();
  });
});
