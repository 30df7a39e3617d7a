import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, Module, addN, type Rng } from '@sign/core';

/** The four (or more) parallel dilated 3×3 convs of the ASPP, as `stages.c0` … (release names); zero until {@link Aspp} draws them. */
class AsppStages extends Module {
  readonly convs: Conv2d[] = [];

  constructor(rng: Rng, inChannels: number, outChannels: number, dilations: number[]) {
    super();
    dilations.forEach((d, i) => {
      const conv = new Conv2d(rng.fork(`c${i}`), {
        inChannels,
        outChannels,
        kernelSize: 3,
        dilation: d,
        padding: d,
        bias: true,
        init: 'zeros',
      });
      this.convs.push(this.child(`c${i}`, conv));
    });
  }
}

/**
 * DeepLabv2's atrous spatial pyramid pooling: the **sum** of parallel 3×3 convs with bias,
 * dilation = padding = 6, 12, 18, 24, each mapping the trunk's features straight to D channels
 * (D = 600, the embedding width, instead of class scores). No activation after the sum.
 * Init as in the release: kernels N(0, 0.01²), biases 0 (`init: 'zeros'`: kernels 0).
 * Parameters: `stages.c0.kernel`, `stages.c0.bias`, …
 */
export class Aspp extends Module {
  private readonly stages: AsppStages;

  constructor(
    rng: Rng,
    cfg: {
      inChannels: number;
      outChannels: number;
      dilations: number[];
      init: 'pytorch' | 'zeros';
    },
  ) {
    super();
    this.stages = this.child(
      'stages',
      new AsppStages(rng.fork('stages'), cfg.inChannels, cfg.outChannels, cfg.dilations),
    );
    if (cfg.init === 'zeros') return;
    const init = rng.fork('init');
    this.stages.convs.forEach((conv, i) => {
      const values = init.fork(`c${i}`).normalArray(conv.kernel.size, 0, 0.01);
      tf.tidy(() => {
        conv.kernel.assign(tf.tensor(values, conv.kernel.shape));
      });
    });
  }

  /** x [N,H,W,in] → [N,H,W,D] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const outs = this.stages.convs.map((c) => c.apply(x));
      return (outs.length === 1 ? outs[0] : addN(outs)) as tf.Tensor4D;
    });
  }
}
