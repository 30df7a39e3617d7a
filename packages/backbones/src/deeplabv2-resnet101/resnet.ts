import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, FrozenBatchNorm, Module, type Rng } from '@sign/core';

/** Geometry of one {@link ConvBn}: PyTorch's Conv2d arguments (padding on both sides). */
export interface ConvBnConfig {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  /** ReLU after the BatchNorm (default true). */
  relu?: boolean;
  bnEps: number;
  init: 'pytorch' | 'zeros';
}

/**
 * Convolution without bias + frozen BatchNorm (+ ReLU): the release's `_ConvBatchNormReLU`.
 * Parameters: `conv.kernel` [k,k,in,out], `bn.weight`, `bn.bias`, `bn.runningMean`, `bn.runningVar`.
 */
export class ConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: FrozenBatchNorm;
  private readonly relu: boolean;

  constructor(rng: Rng, cfg: ConvBnConfig) {
    super();
    this.conv = this.child(
      'conv',
      new Conv2d(rng.fork('conv'), {
        inChannels: cfg.inChannels,
        outChannels: cfg.outChannels,
        kernelSize: cfg.kernelSize,
        stride: cfg.stride ?? 1,
        dilation: cfg.dilation ?? 1,
        padding: cfg.padding ?? 0,
        bias: false,
        init: cfg.init,
      }),
    );
    this.bn = this.child(
      'bn',
      new FrozenBatchNorm({ numFeatures: cfg.outChannels, eps: cfg.bnEps }),
    );
    this.relu = cfg.relu ?? true;
  }

  /** x [N,H,W,in] → [N,H',W',out] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.bn.apply(this.conv.apply(x)) as tf.Tensor4D;
      return this.relu ? tf.relu(y) : y;
    });
  }
}

/**
 * ResNet bottleneck of the DeepLab port the release builds on: `reduce` 1×1 (carries the
 * stride), `conv3x3` 3×3 with the block's dilation (padding = dilation), `increase` 1×1 (no
 * ReLU), plus the shortcut (`proj`, 1×1 with the stride, in a layer's first block; the identity
 * otherwise), then ReLU.
 */
export class Bottleneck extends Module {
  private readonly reduce: ConvBn;
  private readonly conv3x3: ConvBn;
  private readonly increase: ConvBn;
  private readonly proj: ConvBn | null;

  constructor(
    rng: Rng,
    cfg: {
      inChannels: number;
      midChannels: number;
      outChannels: number;
      stride: number;
      dilation: number;
      projection: boolean;
      bnEps: number;
      init: 'pytorch' | 'zeros';
    },
  ) {
    super();
    const { inChannels, midChannels, outChannels, stride, dilation, bnEps, init } = cfg;
    this.reduce = this.child(
      'reduce',
      new ConvBn(rng.fork('reduce'), {
        inChannels,
        outChannels: midChannels,
        kernelSize: 1,
        stride,
        bnEps,
        init,
      }),
    );
    this.conv3x3 = this.child(
      'conv3x3',
      new ConvBn(rng.fork('conv3x3'), {
        inChannels: midChannels,
        outChannels: midChannels,
        kernelSize: 3,
        padding: dilation,
        dilation,
        bnEps,
        init,
      }),
    );
    this.increase = this.child(
      'increase',
      new ConvBn(rng.fork('increase'), {
        inChannels: midChannels,
        outChannels,
        kernelSize: 1,
        relu: false,
        bnEps,
        init,
      }),
    );
    this.proj = cfg.projection
      ? this.child(
          'proj',
          new ConvBn(rng.fork('proj'), {
            inChannels,
            outChannels,
            kernelSize: 1,
            stride,
            relu: false,
            bnEps,
            init,
          }),
        )
      : null;
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const h = this.increase.apply(this.conv3x3.apply(this.reduce.apply(x)));
      return tf.relu(tf.add(h, this.proj ? this.proj.apply(x) : x)) as tf.Tensor4D;
    });
  }
}

/** One residual layer (`layer2` … `layer5`): `block1` (with projection) … `blockN`. */
export class ResLayer extends Module {
  private readonly blocks: Bottleneck[] = [];

  constructor(
    rng: Rng,
    cfg: {
      count: number;
      inChannels: number;
      midChannels: number;
      outChannels: number;
      stride: number;
      dilation: number;
      bnEps: number;
      init: 'pytorch' | 'zeros';
    },
  ) {
    super();
    for (let i = 1; i <= cfg.count; i++) {
      const block = new Bottleneck(rng.fork(`block${i}`), {
        inChannels: i === 1 ? cfg.inChannels : cfg.outChannels,
        midChannels: cfg.midChannels,
        outChannels: cfg.outChannels,
        stride: i === 1 ? cfg.stride : 1,
        dilation: cfg.dilation,
        projection: i === 1,
        bnEps: cfg.bnEps,
        init: cfg.init,
      });
      this.blocks.push(this.child(`block${i}`, block));
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    // One tidy per block keeps the peak memory at about one block's activations.
    let h = x;
    for (const block of this.blocks) {
      const next = block.apply(h);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }
}
