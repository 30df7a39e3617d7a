import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Module, Registry, Rng, initBackend } from '@sign/core';
import {
  type Backbone,
  SmallBackbone,
  backboneRegistry,
  createBackbone,
  registry,
  resolveSmallBackboneConfig,
} from '@sign/backbones';

/** A stand-in backbone: average-pools by `stride` and repeats the channels. */
class PoolBackbone extends Module implements Backbone {
  readonly name = 'pool';
  readonly inputChannels = 1;
  readonly outputChannels: number;
  readonly outputStride = 2;
  constructor(_rng: Rng, cfg: { channels?: number } = {}) {
    super();
    this.outputChannels = cfg.channels ?? 4;
  }
  outputShape(height: number, width: number): [number, number] {
    return [Math.ceil(height / 2), Math.ceil(width / 2)];
  }
  apply(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.tile(tf.avgPool(images, 2, 2, 'same'), [1, 1, 1, this.outputChannels]));
  }
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('backbone registry', () => {
  it("ships 'small' and 'deeplabv2-resnet101'; createBackbone passes rng and config through", () => {
    expect(registry.names()).toEqual(['small', 'deeplabv2-resnet101']);
    expect(backboneRegistry).toBe(registry);
    const bb = createBackbone('small', new Rng(0), { channels: 12, outputStride: 2 });
    expect(bb).toBeInstanceOf(SmallBackbone);
    expect([bb.name, bb.outputChannels, bb.outputStride, bb.inputChannels]).toEqual(['small', 12, 2, 1]);
    bb.dispose();
  });

  it('get on an unknown name throws and lists the known names', () => {
    expect(() => registry.get('resnet50')).toThrow("unknown backbone 'resnet50'; known: small, deeplabv2-resnet101");
    expect(() => createBackbone('smal', new Rng(0))).toThrow(
      "unknown backbone 'smal' (did you mean 'small'?); known: small, deeplabv2-resnet101",
    );
    expect(registry.has('small')).toBe(true);
    expect(registry.has('deeplabv2-resnet101')).toBe(true);
    expect(registry.has('deeplabv2')).toBe(false);
  });

  it('register adds a backbone (one factory + one line); names are unique; one registry per process', () => {
    expect(Registry.shared('backbone')).toBe(registry);
    registry.register('pool', (rng, cfg) => new PoolBackbone(rng, cfg as { channels?: number }));
    try {
      expect(registry.names()).toEqual(['small', 'deeplabv2-resnet101', 'pool']);
      const bb = createBackbone('pool', new Rng(0), { channels: 3 });
      const y = bb.apply(tf.ones([1, 4, 6, 1]), { training: false, rng: new Rng(0) });
      expect(y.shape).toEqual([1, 2, 3, 3]);
      expect(Array.from(y.dataSync())).toEqual(new Array(18).fill(1));
      y.dispose();
      expect(() => registry.register('pool', () => bb)).toThrow(
        "register backbone 'pool': the name is taken (known: small, deeplabv2-resnet101, pool)",
      );
      expect(() => registry.register('', () => bb)).toThrow(/non-empty string/);
    } finally {
      registry.unregister('pool');
    }
    expect(registry.names()).toEqual(['small', 'deeplabv2-resnet101']);
  });
});

describe("'small' config validation", () => {
  it('fills in the defaults', () => {
    expect(resolveSmallBackboneConfig({})).toEqual({
      inChannels: 1,
      channels: 32,
      outputStride: 4,
      width: 16,
      convsPerStage: 1,
      downsample: 'patch2x2',
      init: 'he',
      headChannels: 32,
      dilations: [1, 2, 4],
    });
  });

  it('names the key of an unknown or bad setting', () => {
    expect(() => createBackbone('small', new Rng(0), { chanels: 32 })).toThrow(
      /backbone 'small': unknown config key 'chanels' \(known: inChannels, channels,/,
    );
    expect(() => resolveSmallBackboneConfig({ channels: 0 })).toThrow("backbone 'small': channels must be a positive integer, got 0");
    expect(() => resolveSmallBackboneConfig({ width: 2.5 })).toThrow(/width must be a positive integer, got 2.5/);
    expect(() => resolveSmallBackboneConfig({ outputStride: 3 })).toThrow(/outputStride must be 2, 4 or 8, got 3/);
    expect(() => resolveSmallBackboneConfig({ dilations: [] })).toThrow(/dilations must be a non-empty array/);
    expect(() => resolveSmallBackboneConfig({ dilations: [1, 0] })).toThrow(/dilations must be a non-empty array of positive integers, got \[1,0\]/);
    expect(() => resolveSmallBackboneConfig({ convsPerStage: -1 })).toThrow(/convsPerStage must be a non-negative integer/);
    expect(() => resolveSmallBackboneConfig({ downsample: 'maxpool' as never })).toThrow(/downsample must be 'patch2x2' or 'conv3x3'/);
    expect(() => resolveSmallBackboneConfig({ init: 'xavier' as never })).toThrow(/init must be 'he' or 'pytorch'/);
    expect(() => resolveSmallBackboneConfig(null)).toThrow(/config must be an object, got null/);
  });

  it("init 'he' draws N(0, 2/fan_in) kernels and zero biases; 'pytorch' keeps core's defaults", () => {
    const he = new SmallBackbone(new Rng(0), { width: 32 });
    const k = he.namedParameters().get('head.branch0.kernel')!; // fan_in 9·64
    const std = tf.tidy(() => Math.sqrt(tf.moments(k).variance.dataSync()[0]));
    expect(std).toBeCloseTo(Math.sqrt(2 / (9 * 64)), 2);
    const proj = he.namedParameters().get('head.project.kernel')!; // fan_in 96, gain 1
    expect(tf.tidy(() => Math.sqrt(tf.moments(proj).variance.dataSync()[0]))).toBeCloseTo(Math.sqrt(1 / 96), 2);
    expect(tf.tidy(() => tf.max(tf.abs(he.namedParameters().get('stage1.conv0.bias')!)).dataSync()[0])).toBe(0);
    const pt = new SmallBackbone(new Rng(0), { width: 32, init: 'pytorch' });
    const kp = pt.namedParameters().get('head.branch0.kernel')!;
    // U(±1/√fan_in): max |w| ≤ 1/√576, std = 1/√(3·576)
    expect(tf.tidy(() => tf.max(tf.abs(kp)).dataSync()[0])).toBeLessThanOrEqual(1 / Math.sqrt(576));
    expect(tf.tidy(() => Math.sqrt(tf.moments(kp).variance.dataSync()[0]))).toBeCloseTo(1 / Math.sqrt(3 * 576), 2);
    he.dispose();
    pt.dispose();
  });
});
