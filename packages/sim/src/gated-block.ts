import * as tf from '@tensorflow/tfjs-core';
import { Conv1x1, Conv2d, Module, type Rng } from '@sign/core';

/** Configuration of {@link GatedDilatedBlock}. */
export interface GatedDilatedBlockConfig {
  inChannels: number;
  outChannels: number;
  /** channels of every 3×3 branch (256 in the paper) */
  hidden: number;
  /** one dilation per branch, applied in sequence ([1, 2, 5] in the paper) */
  dilations: number[];
}

/**
 * The three-branch structure shared by SIGN's encoding and reparameterization modules
 * (METHOD §2): 3×3 conv + ReLU layers in sequence, one per dilation (each takes the previous
 * one's output); a 1×1 conv over their concatenation with a sigmoid gives one gate per branch;
 * each branch output is multiplied by its gate; a 1×1 conv ("pool") maps the gated
 * concatenation to `outChannels`.
 *
 * Parameters: `branch1.kernel`, `branch1.bias`, …, `gate.kernel`, `gate.bias`, `pool.kernel`,
 * `pool.bias`.
 */
export class GatedDilatedBlock extends Module {
  readonly config: GatedDilatedBlockConfig;
  private readonly branches: Conv2d[] = [];
  private readonly gate: Conv1x1;
  private readonly pool: Conv1x1;

  constructor(rng: Rng, config: GatedDilatedBlockConfig) {
    super();
    const { inChannels, outChannels, hidden, dilations } = config;
    if (!Array.isArray(dilations) || dilations.length === 0) {
      throw new Error('@sign/sim GatedDilatedBlock: dilations must be a non-empty array of positive integers');
    }
    for (const d of dilations) {
      if (!Number.isInteger(d) || d < 1) {
        throw new Error(`@sign/sim GatedDilatedBlock: every dilation must be a positive integer, got ${d}`);
      }
    }
    for (const [k, v] of Object.entries({ inChannels, outChannels, hidden })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`@sign/sim GatedDilatedBlock: ${k} must be a positive integer, got ${v}`);
      }
    }
    this.config = { inChannels, outChannels, hidden, dilations: [...dilations] };
    let cin = inChannels;
    dilations.forEach((d, i) => {
      this.branches.push(
        this.child(
          `branch${i + 1}`,
          new Conv2d(rng.fork(`branch${i + 1}`), {
            inChannels: cin,
            outChannels: hidden,
            kernelSize: 3,
            dilation: d,
            padding: 'same',
          }),
        ),
      );
      cin = hidden;
    });
    const n = dilations.length;
    this.gate = this.child('gate', new Conv1x1(rng.fork('gate'), { inChannels: hidden * n, outChannels: n }));
    this.pool = this.child(
      'pool',
      new Conv1x1(rng.fork('pool'), { inChannels: hidden * n, outChannels: outChannels }),
    );
  }

  /**
   * @param x [N, H, W, inChannels]
   * @returns [N, H, W, outChannels]
   */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      throw new Error(
        `@sign/sim GatedDilatedBlock.apply: expected x of shape [N, H, W, ${this.config.inChannels}], got [${x.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      let cur = x;
      for (const conv of this.branches) {
        cur = tf.relu(conv.apply(cur));
        outs.push(cur);
      }
      const cat = tf.concat(outs, 3);
      const gates = tf.sigmoid(this.gate.apply(cat)); // [N, H, W, n]
      const n = outs.length;
      const gated =
        n === 1
          ? tf.mul(outs[0], gates)
          : tf.concat(
              outs.map((o, i) => tf.mul(o, tf.slice(gates, [0, 0, 0, i], [-1, -1, -1, 1]))),
              3,
            );
      return this.pool.apply(gated as tf.Tensor4D);
    });
  }
}
