import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module';
import { conv1x1, conv2d, dense } from './ops';
import { Rng } from './random';
import { pair } from './util';

/**
 * PyTorch's default init for weights, kaiming_uniform(a=√5): U(−b, b) with
 * b = gain·√(3/fan_in), gain = √(2/(1+a²)) = √(1/3), i.e. b = 1/√fan_in.
 */
export function kaimingUniformA5(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.uniformArray(size, -bound, bound), shape, 'float32');
}

/** PyTorch's default bias init: U(−1/√fan_in, 1/√fan_in). */
export function biasUniform(rng: Rng, n: number, fanIn: number): tf.Tensor1D {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.tensor1d(rng.uniformArray(n, -bound, bound), 'float32');
}

function checkRng(rng: unknown, where: string): asserts rng is Rng {
  if (!(rng instanceof Rng)) throw new Error(`${where}: first argument must be an Rng`);
}

function positiveInt(v: unknown, where: string, what: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${where}: ${what} must be a positive integer, got ${String(v)}`);
  return v as number;
}

export interface Conv2dConfig {
  inChannels: number;
  outChannels: number;
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  dilation?: number | [number, number];
  /** Default 'same'. */
  padding?: 'same' | 'valid' | number;
  /** Default true. */
  bias?: boolean;
  /**
   * `'pytorch'` (default): kaiming_uniform(a=√5) kernel, U(±1/√fan_in) bias; `'zeros'`: all
   * zero, for a layer whose values are loaded right after (skips drawing random numbers).
   */
  init?: 'pytorch' | 'zeros';
}

/**
 * Convolution layer: parameters `kernel` [kh,kw,cin,cout] and `bias` [cout], PyTorch default init.
 *
 * @example
 * const conv = new Conv2d(rng, { inChannels: 3, outChannels: 8, kernelSize: 3, dilation: 2 });
 * const y = conv.apply(x);   // x [n,h,w,3] → y [n,h,w,8]
 */
export class Conv2d extends Module {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly config: Required<Conv2dConfig>;

  constructor(rng: Rng, cfg: Conv2dConfig) {
    super();
    checkRng(rng, 'Conv2d');
    const inC = positiveInt(cfg.inChannels, 'Conv2d', 'inChannels');
    const outC = positiveInt(cfg.outChannels, 'Conv2d', 'outChannels');
    const [kh, kw] = pair(cfg.kernelSize, 1, 'Conv2d', 'kernelSize');
    this.config = {
      inChannels: inC,
      outChannels: outC,
      kernelSize: [kh, kw],
      stride: pair(cfg.stride, 1, 'Conv2d', 'stride'),
      dilation: pair(cfg.dilation, 1, 'Conv2d', 'dilation'),
      padding: cfg.padding ?? 'same',
      bias: cfg.bias ?? true,
      init: cfg.init ?? 'pytorch',
    };
    if (this.config.init !== 'pytorch' && this.config.init !== 'zeros') {
      throw new Error(`Conv2d: init must be 'pytorch' or 'zeros', got ${JSON.stringify(cfg.init)}`);
    }
    const fanIn = inC * kh * kw;
    const zeros = this.config.init === 'zeros';
    this.kernel = this.param('kernel', zeros ? tf.zeros([kh, kw, inC, outC]) : kaimingUniformA5(rng, [kh, kw, inC, outC], fanIn));
    this.bias = this.config.bias ? this.param('bias', zeros ? tf.zeros([outC]) : biasUniform(rng, outC, fanIn)) : null;
  }

  /** x [n,h,w,inChannels] → [n,oh,ow,outChannels] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv2d(x, this.kernel as tf.Tensor4D, {
      strides: this.config.stride,
      dilations: this.config.dilation,
      padding: this.config.padding,
      bias: (this.bias ?? undefined) as tf.Tensor1D | undefined,
    });
  }
}

/**
 * 1×1 convolution layer: `kernel` [cin,cout], `bias` [cout], PyTorch default init (fan_in = cin).
 *
 * @example
 * const proj = new Conv1x1(rng, { inChannels: 256, outChannels: 21 });
 * const logits = proj.apply(features);   // [n,h,w,256] → [n,h,w,21]
 */
export class Conv1x1 extends Module {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;

  /** `init`: as {@link Conv2dConfig.init} ('pytorch' by default, or 'zeros'). */
  constructor(rng: Rng, cfg: { inChannels: number; outChannels: number; bias?: boolean; init?: 'pytorch' | 'zeros' }) {
    super();
    checkRng(rng, 'Conv1x1');
    const inC = positiveInt(cfg.inChannels, 'Conv1x1', 'inChannels');
    const outC = positiveInt(cfg.outChannels, 'Conv1x1', 'outChannels');
    const init = cfg.init ?? 'pytorch';
    if (init !== 'pytorch' && init !== 'zeros') {
      throw new Error(`Conv1x1: init must be 'pytorch' or 'zeros', got ${JSON.stringify(cfg.init)}`);
    }
    const zeros = init === 'zeros';
    this.kernel = this.param('kernel', zeros ? tf.zeros([inC, outC]) : kaimingUniformA5(rng, [inC, outC], inC));
    this.bias = cfg.bias ?? true ? this.param('bias', zeros ? tf.zeros([outC]) : biasUniform(rng, outC, inC)) : null;
  }

  /** x [n,h,w,inChannels] → [n,h,w,outChannels] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return conv1x1(x, this.kernel as tf.Tensor2D, (this.bias ?? undefined) as tf.Tensor1D | undefined);
  }
}

/**
 * Fully connected layer: `kernel` [in,out] (note: transposed w.r.t. PyTorch's [out,in]),
 * `bias` [out], PyTorch default init.
 *
 * @example
 * const fc = new Linear(rng, { inFeatures: 300, outFeatures: 256 });
 * const h = fc.apply(x);   // [p,300] → [p,256]
 */
export class Linear extends Module {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(rng: Rng, cfg: { inFeatures: number; outFeatures: number; bias?: boolean }) {
    super();
    checkRng(rng, 'Linear');
    const inF = positiveInt(cfg.inFeatures, 'Linear', 'inFeatures');
    const outF = positiveInt(cfg.outFeatures, 'Linear', 'outFeatures');
    this.kernel = this.param('kernel', kaimingUniformA5(rng, [inF, outF], inF));
    this.bias = cfg.bias ?? true ? this.param('bias', biasUniform(rng, outF, inF)) : null;
  }

  /** x [batch,inFeatures] → [batch,outFeatures] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return dense(x, this.kernel as tf.Tensor2D, (this.bias ?? undefined) as tf.Tensor1D | undefined);
  }
}

/** Configuration of {@link FrozenBatchNorm}. */
export interface FrozenBatchNormConfig {
  /** Channels C (the last axis of the input). */
  numFeatures: number;
  /** Added to the running variance; default 1e-5 (PyTorch's BatchNorm2d default). */
  eps?: number;
}

/**
 * BatchNorm with frozen statistics (inference mode, what PyTorch's `BatchNorm2d` computes after
 * `.eval()`): `y = (x − runningMean) / √(runningVar + eps) · weight + bias` per channel, over the
 * last axis of an NHWC tensor. All four tensors are registered `frozen` (PyTorch buffers): they
 * appear in `stateDict()` and load with `loadStateDict()`, but are never trainable, also after
 * `setTrainable(true)`; gradients flow to the input only (a per-channel affine map).
 *
 * Parameters: `weight` [C] (init 1), `bias` [C] (0), `runningMean` [C] (0), `runningVar` [C] (1).
 *
 * @example
 * const bn = new FrozenBatchNorm({ numFeatures: 64 });
 * const y = bn.apply(x);   // x [n,h,w,64] → y [n,h,w,64]
 */
export class FrozenBatchNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numFeatures: number;
  readonly eps: number;

  constructor(cfg: FrozenBatchNormConfig) {
    super();
    const c = positiveInt(cfg?.numFeatures, 'FrozenBatchNorm', 'numFeatures');
    const eps = cfg.eps ?? 1e-5;
    if (!(typeof eps === 'number' && Number.isFinite(eps) && eps >= 0)) {
      throw new Error(`FrozenBatchNorm: eps must be a non-negative number, got ${String(eps)}`);
    }
    this.numFeatures = c;
    this.eps = eps;
    this.weight = this.param('weight', tf.ones([c]), { frozen: true });
    this.bias = this.param('bias', tf.zeros([c]), { frozen: true });
    this.runningMean = this.param('runningMean', tf.zeros([c]), { frozen: true });
    this.runningVar = this.param('runningVar', tf.ones([c]), { frozen: true });
  }

  /**
   * The per-channel affine map the layer applies, `y = x·scale + shift`:
   * `scale = weight / √(runningVar + eps)`, `shift = bias − runningMean·scale` (both [C]).
   */
  affine(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    return tf.tidy(() => {
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps))) as tf.Tensor1D;
      const shift = tf.sub(this.bias, tf.mul(this.runningMean, scale)) as tf.Tensor1D;
      return { scale, shift };
    });
  }

  /** x [..., C] (NHWC: [n,h,w,C]) → same shape. */
  apply(x: tf.Tensor): tf.Tensor {
    if (!(x instanceof tf.Tensor) || x.rank < 1 || x.shape[x.rank - 1] !== this.numFeatures) {
      const got = x instanceof tf.Tensor ? `[${x.shape.join(',')}]` : String(x);
      throw new Error(
        `FrozenBatchNorm.apply: expected x with ${this.numFeatures} channels on the last axis, got ${got}`,
      );
    }
    return tf.tidy(() => {
      const { scale, shift } = this.affine();
      return tf.add(tf.mul(x, scale), shift);
    });
  }
}
