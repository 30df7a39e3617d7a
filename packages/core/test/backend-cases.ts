/**
 * The core ops as backend parity cases (compared with cpu by `expectMatchesCpu`): strided and
 * dilated convolutions forward and backward with every implementation, dense and matMul with
 * their gradients, addN past the 7-input chunk, max pooling in ceil mode and frozen BatchNorm
 * with their input gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addN, conv2d, dense, dropout, FrozenBatchNorm, matMul, maxPool2d, Rng, setConvImplementation, type Conv2dPadding, type ConvImplementation } from '../src/index';
import { readAll, type HostValues, type ParityCase } from '../src/testing';

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  k: [number, number, number, number];
  strides: number | [number, number];
  dilations: number;
  padding: Conv2dPadding;
}

export const CONV_CASES: ConvCase[] = [
  { name: 'stride 2, same', x: [2, 9, 8, 3], k: [3, 3, 3, 4], strides: 2, dilations: 1, padding: 'same' },
  { name: 'stride [2,3], valid', x: [1, 11, 10, 2], k: [3, 2, 2, 3], strides: [2, 3], dilations: 1, padding: 'valid' },
  { name: 'dilation 2, same', x: [1, 10, 9, 3], k: [3, 3, 3, 4], strides: 1, dilations: 2, padding: 'same' },
  { name: 'dilation 5, same', x: [1, 12, 11, 2], k: [3, 3, 2, 3], strides: 1, dilations: 5, padding: 'same' },
  { name: 'stride 2 and dilation 2, explicit pads', x: [2, 11, 9, 2], k: [3, 3, 2, 3], strides: 2, dilations: 2, padding: [[2, 1], [0, 2]] },
];

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** y = conv2d(x, k, bias) and the gradients of Σ y⊙R for x, k and bias, read to the host. */
export function convForwardBackward(c: ConvCase, impl: ConvImplementation): () => Promise<HostValues> {
  return async () => {
    const rng = new Rng(7);
    const xs = rng.normalArray(size(c.x));
    const ks = rng.normalArray(size(c.k));
    const bs = rng.normalArray(c.k[3]);
    const opts = { strides: c.strides, dilations: c.dilations, padding: c.padding };
    setConvImplementation(impl);
    try {
      const x = tf.tensor4d(xs, c.x);
      const k = tf.tensor4d(ks, c.k);
      const b = tf.tensor1d(bs);
      const y = conv2d(x, k, { ...opts, bias: b });
      const r = tf.tensor(rng.normalArray(y.size), y.shape);
      const f = (xx: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(conv2d(xx as tf.Tensor4D, kk as tf.Tensor4D, { ...opts, bias: bb as tf.Tensor1D }), r)) as tf.Scalar;
      const [dx, dk, db] = tf.grads(f)([x, k, b]);
      tf.dispose([x, k, b, r]);
      return readAll({ y, dx, dk, db });
    } finally {
      setConvImplementation('auto');
    }
  };
}

/** Every conv case with every implementation that handles it ('native' refuses stride and dilation together). */
export const CORE_CASES: ParityCase[] = [
  ...CONV_CASES.flatMap((c) =>
    (c.strides !== 1 && c.dilations > 1 ? (['taps', 'im2col'] as const) : (['native', 'taps', 'im2col'] as const)).map((impl) => ({
      name: `conv2d ${c.name} (${impl}): y, dx, dk, dbias`,
      compute: convForwardBackward(c, impl),
    })),
  ),
  {
    name: 'dense and matMul with transposes: values and gradients',
    compute: async () => {
      const rng = new Rng(3);
      const x = tf.tensor2d(rng.normalArray(6 * 5), [6, 5]);
      const w = tf.tensor2d(rng.normalArray(5 * 4), [5, 4]);
      const b = tf.tensor1d(rng.normalArray(4));
      const a = tf.tensor2d(rng.normalArray(5 * 6), [5, 6]);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor) =>
        tf.add(
          tf.sum(tf.square(dense(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D))),
          tf.sum(matMul(aa as tf.Tensor2D, ww as tf.Tensor2D, true, false)),
        ) as tf.Scalar;
      const [dx, dw, db, da] = tf.grads(f)([x, w, b, a]);
      const y = dense(x, w, b);
      tf.dispose([x, w, b, a]);
      return readAll({ y, dx, dw, db, da });
    },
  },
  {
    name: 'dropout (the seeded mask: fused on wasm/cpu, a host mask elsewhere): values and gradient',
    compute: async () => {
      const x = tf.tensor2d(new Rng(6).normalArray(37 * 19), [37, 19]);
      const dy = tf.tensor2d(new Rng(7).normalArray(37 * 19), [37, 19]);
      const f = (xx: tf.Tensor) => tf.sum(tf.mul(dropout(xx, 0.3, new Rng(8), true), dy)) as tf.Scalar;
      const dx = tf.grad(f)(x);
      const y = dropout(x, 0.3, new Rng(8), true);
      tf.dispose([x, dy]);
      return readAll({ y, dx });
    },
  },
  {
    name: 'addN of 16 tensors and its gradient',
    compute: async () => {
      const rng = new Rng(4);
      const xs = Array.from({ length: 16 }, () => tf.tensor2d(rng.normalArray(12), [3, 4]));
      const grads = tf.grads((...ts: tf.Tensor[]) => tf.sum(tf.square(addN(ts))) as tf.Scalar)(xs);
      const y = addN(xs);
      tf.dispose([...xs, ...grads.slice(1, 15)]);
      return readAll({ y, dfirst: grads[0], dlast: grads[15] });
    },
  },
  {
    name: 'maxPool2d 3×3/2 pad 1 ceil mode (an extra end window) and 2×2/2: y and dx',
    compute: async () => {
      const rng = new Rng(5);
      const x = tf.tensor4d(rng.normalArray(2 * 10 * 9 * 3), [2, 10, 9, 3]);
      const opts = [
        { kernelSize: 3, stride: 2, padding: 1, ceilMode: true },
        { kernelSize: 2, stride: 2 },
      ];
      const ys = opts.map((o) => maxPool2d(x, o));
      const rs = ys.map((y) => tf.tensor(rng.normalArray(y.size), y.shape));
      const dxs = opts.map((o, i) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(maxPool2d(v as tf.Tensor4D, o), rs[i])))(x));
      tf.dispose([x, ...rs]);
      return readAll({ yCeil: ys[0], y2x2: ys[1], dxCeil: dxs[0], dx2x2: dxs[1] });
    },
  },
  {
    name: 'FrozenBatchNorm: y and dx',
    compute: async () => {
      const rng = new Rng(6);
      const bn = new FrozenBatchNorm({ numFeatures: 5 });
      const stats = { weight: rng.normalArray(5), bias: rng.normalArray(5), runningMean: rng.normalArray(5), runningVar: rng.uniformArray(5, 0.5, 2) };
      const dict = Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, tf.tensor1d(v)]));
      bn.loadStateDict(dict);
      const x = tf.tensor4d(rng.normalArray(2 * 4 * 3 * 5), [2, 4, 3, 5]);
      const r = tf.tensor4d(rng.normalArray(2 * 4 * 3 * 5), [2, 4, 3, 5]);
      const y = bn.apply(x);
      const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(bn.apply(v), r)))(x);
      tf.dispose([x, r, ...Object.values(dict)]);
      bn.dispose();
      return readAll({ y, dx });
    },
  },
];
