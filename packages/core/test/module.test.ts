import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv1x1, Conv2d, Linear, Module, Rng, dropout, initBackend } from '../src/index';
import { expectNoLeaks } from '../src/testing';

class Branch extends Module {
  conv: Conv2d;
  constructor(rng: Rng, dilation: number) {
    super();
    this.conv = this.child('conv', new Conv2d(rng, { inChannels: 2, outChannels: 3, kernelSize: 3, dilation }));
  }
}

class Encoder extends Module {
  branch1: Branch;
  branch2: Branch;
  scale: tf.Variable;
  constructor(rng: Rng) {
    super();
    this.scale = this.param('scale', tf.ones([3]), { trainable: false });
    this.branch1 = this.child('branch1', new Branch(rng.fork('b1'), 1));
    this.branch2 = this.child('branch2', new Branch(rng.fork('b2'), 2));
  }
}

class Net extends Module {
  encoder: Encoder;
  head: Linear;
  rng: Rng;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.rng = rng.fork('dropout');
    this.encoder = this.child('encoder', new Encoder(rng.fork('encoder')));
    this.head = this.child('head', new Linear(rng.fork('head'), { inFeatures: 4, outFeatures: 2 }));
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.head.apply(dropout(x, 0.5, this.rng, this.training)));
  }
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Module', () => {
  it('names parameters by stable dotted paths, in registration order', () => {
    const net = new Net(1);
    expect([...net.namedParameters().keys()]).toEqual([
      'encoder.scale',
      'encoder.branch1.conv.kernel',
      'encoder.branch1.conv.bias',
      'encoder.branch2.conv.kernel',
      'encoder.branch2.conv.bias',
      'head.kernel',
      'head.bias',
    ]);
    expect(net.namedParameters().get('encoder.branch1.conv.kernel')!.shape).toEqual([3, 3, 2, 3]);
    expect([...new Net(1).namedParameters().keys()]).toEqual([...net.namedParameters().keys()]);
    net.dispose();
  });

  it('counts parameters and separates trainable from frozen ones', () => {
    const net = new Net(1);
    const conv = 3 * 3 * 2 * 3 + 3;
    expect(net.numParameters()).toBe(3 + 2 * conv + (4 * 2 + 2));
    expect(net.numParameters({ trainableOnly: true })).toBe(2 * conv + 10);
    expect(net.trainableVariables().length).toBe(6);
    net.encoder.branch2.setTrainable(false);
    expect(net.numParameters({ trainableOnly: true })).toBe(conv + 10);
    expect(net.trainableVariables()).not.toContain(net.encoder.branch2.conv.kernel);
    net.setTrainable(true);
    expect(net.trainableVariables().length).toBe(7);
    net.dispose();
  });

  it('an optimizer updates trainable parameters and leaves frozen ones alone', () => {
    const net = new Net(2);
    net.encoder.setTrainable(true);
    net.head.bias!.trainable = false;
    const kernelBefore = Array.from(net.head.kernel.dataSync());
    const biasBefore = Array.from(net.head.bias!.dataSync());
    const opt = tf.train.sgd(1);
    net.eval();
    tf.tidy(() => opt.minimize(() => tf.sum(net.apply(tf.ones([4, 4]) as tf.Tensor2D)) as tf.Scalar)!);
    expect(Array.from(net.head.kernel.dataSync())).not.toEqual(kernelBefore);
    expect(Array.from(net.head.bias!.dataSync())).toEqual(biasBefore);
    opt.dispose();
    net.dispose();
  });

  it('train()/eval() switch dropout on and off through the whole tree', () => {
    const net = new Net(3);
    expect(net.training).toBe(true);
    net.eval();
    expect([net.training, net.encoder.training, net.encoder.branch1.conv.training, net.head.training]).toEqual([false, false, false, false]);
    const x = tf.ones([64, 4]) as tf.Tensor2D;
    const a = net.apply(x);
    const b = net.apply(x);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync())); // deterministic in eval
    net.train();
    expect(net.encoder.branch2.training).toBe(true);
    const c = net.apply(x);
    const d = net.apply(x);
    expect(Array.from(c.dataSync())).not.toEqual(Array.from(d.dataSync())); // fresh masks in training
    tf.dispose([x, a, b, c, d]);
    net.dispose();
  });

  it('stateDict returns the variables themselves; loadStateDict copies values in', () => {
    const a = new Net(4);
    const b = new Net(5);
    const sd = a.stateDict();
    expect(sd['head.kernel']).toBe(a.head.kernel);
    expect(Array.from(b.head.kernel.dataSync())).not.toEqual(Array.from(a.head.kernel.dataSync()));
    b.loadStateDict(sd);
    for (const [k, v] of a.namedParameters()) expect(Array.from(b.namedParameters().get(k)!.dataSync()), k).toEqual(Array.from(v.dataSync()));
    // A copy, not an alias: changing a does not change b.
    a.head.bias!.assign(tf.zeros([2]));
    expect(Array.from(b.head.bias!.dataSync())).not.toEqual([0, 0]);
    a.dispose();
    b.dispose();
  });

  it('loadStateDict names missing, unexpected and mis-shaped keys, and changes nothing on failure', () => {
    const net = new Net(6);
    const before = Array.from(net.head.kernel.dataSync());
    const full = Object.fromEntries([...net.namedParameters()].map(([k, v]) => [k, tf.zerosLike(v)]));
    const { 'encoder.scale': _s, ...missing } = full;
    expect(() => net.loadStateDict({ ...missing, 'head.kernel': full['head.kernel'] })).toThrow(
      /Net\.loadStateDict: missing keys: encoder\.scale/,
    );
    expect(() => net.loadStateDict({ ...full, 'head.weight': tf.zeros([1]) })).toThrow(/unexpected keys: head\.weight/);
    expect(() => net.loadStateDict({ ...full, 'head.kernel': tf.zeros([2, 4]) })).toThrow(
      /shape mismatch for 'head\.kernel': checkpoint \[2,4\] vs parameter \[4,2\]/,
    );
    expect(Array.from(net.head.kernel.dataSync())).toEqual(before);
    // Non-strict: missing and extra keys are allowed, present ones are loaded.
    net.loadStateDict({ 'head.kernel': full['head.kernel'], other: tf.zeros([1]) }, { strict: false });
    expect(Array.from(net.head.kernel.dataSync())).toEqual(new Array(8).fill(0));
    expect(() => net.loadStateDict({ 'head.kernel': tf.zeros([3]) }, { strict: false })).toThrow(/shape mismatch/);
    tf.dispose(Object.values(full));
    net.dispose();
  });

  it('dispose frees every variable of the tree', async () => {
    await expectNoLeaks(() => {
      const net = new Net(7);
      expect(tf.memory().numTensors).toBeGreaterThanOrEqual(7);
      net.dispose();
      expect(net.namedParameters().size).toBe(0);
    });
  });

  it('refuses bad and duplicate names', () => {
    class Bad extends Module {
      constructor(name: string, twice = false) {
        super();
        this.param(name, tf.zeros([1]));
        if (twice) this.param(name, tf.zeros([1]));
      }
    }
    expect(() => new Bad('a.b')).toThrow(/Bad\.param: invalid name 'a\.b'/);
    expect(() => new Bad('w', true)).toThrow(/Bad\.param: name 'w' is already used/);
  });
});

describe('layers: PyTorch default initialisation', () => {
  it('Linear, Conv2d and Conv1x1 draw weights and biases from U(±1/√fan_in), deterministically per seed', () => {
    const lin = new Linear(new Rng(8), { inFeatures: 100, outFeatures: 300 });
    const w = Array.from(lin.kernel.dataSync());
    const bound = 1 / Math.sqrt(100);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    // U(-b, b) has standard deviation b/√3.
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.01 * bound * 10);
    expect(std / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
    expect(Math.max(...lin.bias!.dataSync())).toBeLessThanOrEqual(bound);
    expect(lin.kernel.shape).toEqual([100, 300]);

    const conv = new Conv2d(new Rng(8), { inChannels: 4, outChannels: 5, kernelSize: [3, 2] });
    const cb = 1 / Math.sqrt(4 * 3 * 2);
    expect(conv.kernel.shape).toEqual([3, 2, 4, 5]);
    expect(Math.max(...conv.kernel.dataSync().map(Math.abs))).toBeLessThanOrEqual(cb);
    expect(Math.max(...conv.kernel.dataSync().map(Math.abs))).toBeGreaterThan(0.8 * cb);
    const c1 = new Conv1x1(new Rng(8), { inChannels: 16, outChannels: 2, bias: false });
    expect(c1.bias).toBeNull();
    expect([...c1.namedParameters().keys()]).toEqual(['kernel']);
    expect(Math.max(...c1.kernel.dataSync().map(Math.abs))).toBeLessThanOrEqual(0.25);

    const again = new Linear(new Rng(8), { inFeatures: 100, outFeatures: 300 });
    expect(Array.from(again.kernel.dataSync())).toEqual(Array.from(w));
    const other = new Linear(new Rng(9), { inFeatures: 100, outFeatures: 300 });
    expect(Array.from(other.kernel.dataSync())).not.toEqual(Array.from(w));
    [lin, conv, c1, again, other].forEach((m) => m.dispose());
  });

  it('layers apply with the configured geometry and check their config', () => {
    const conv = new Conv2d(new Rng(1), { inChannels: 2, outChannels: 4, kernelSize: 3, stride: 2, dilation: 1, padding: 'valid' });
    const y = conv.apply(tf.zeros([1, 9, 9, 2]) as tf.Tensor4D);
    expect(y.shape).toEqual([1, 4, 4, 4]);
    // Zero input: the output is the bias at every position.
    expect(Array.from(y.dataSync().slice(0, 4))).toEqual(Array.from(conv.bias!.dataSync()));
    expect(() => new Conv2d(new Rng(1), { inChannels: 0, outChannels: 4, kernelSize: 3 })).toThrow(/Conv2d: inChannels must be a positive integer, got 0/);
    expect(() => new Linear({} as Rng, { inFeatures: 1, outFeatures: 1 })).toThrow(/Linear: first argument must be an Rng/);
    tf.dispose(y);
    conv.dispose();
  });
});
