import * as tf from '@tensorflow/tfjs-core';
import { Conv1x1, Conv2d, Module, type Rng } from '@sign/core';

/** Configuration of {@link ReleaseGatedBlock}. */
export interface ReleaseGatedBlockConfig {
  inChannels: number;
  outChannels: number;
  /** channels of every 3×3 branch (256 in the release) */
  hidden: number;
  /** one dilation (= padding) per branch, applied in sequence ([1, 2, 5] in the release) */
  dilations: number[];
  /** 'pytorch' (default) or 'zeros' (for weights loaded right after) */
  init?: 'pytorch' | 'zeros';
}

/**
 * The three-branch block of the SIGN release's positional and contextual modules (its
 * `positional1..3` / `fc_2` / `positionalpool` and `contextual1..3` / `fc_1` / `contextualpool`).
 * Same layout as METHOD §2's {@link GatedDilatedBlock}, different details:
 *
 * - every convolution has **no bias**;
 * - the gate is a **3×3** conv (padding 1) over the branches' concatenation, followed by
 *   **ReLU, then** the sigmoid: gates lie in [0.5, 1);
 * - the 1×1 pool conv is followed by a **ReLU**.
 *
 * `x [N,H,W,in]` → branches `b_k = relu(conv3x3_dk(b_{k−1}))` (b_0 = x) →
 * `g = sigmoid(relu(gate(concat(b))))` [N,H,W,k] → `relu(pool(concat(b_k · g_k)))` [N,H,W,out].
 *
 * Parameters: `branch1.kernel` … `branchK.kernel` [3,3,·,hidden], `gate.kernel` [3,3,K·hidden,K],
 * `pool.kernel` [K·hidden, out].
 *
 * @example
 * const block = new ReleaseGatedBlock(rng, { inChannels: 1200, outChannels: 600, hidden: 256, dilations: [1, 2, 5] });
 * const p = block.apply(x);   // x [N,H,W,1200] → [N,H,W,600], ≥ 0
 */
export class ReleaseGatedBlock extends Module {
  readonly config: Required<ReleaseGatedBlockConfig>;
  private readonly branches: Conv2d[] = [];
  private readonly gate: Conv2d;
  private readonly pool: Conv1x1;

  constructor(rng: Rng, config: ReleaseGatedBlockConfig) {
    super();
    const { inChannels, outChannels, hidden, dilations, init = 'pytorch' } = config;
    const where = '@sign/sim ReleaseGatedBlock';
    if (
      !Array.isArray(dilations) ||
      dilations.length === 0 ||
      !dilations.every((d) => Number.isInteger(d) && d >= 1)
    ) {
      throw new Error(
        `${where}: dilations must be a non-empty array of positive integers, got ${JSON.stringify(dilations)}`,
      );
    }
    for (const [k, v] of Object.entries({ inChannels, outChannels, hidden })) {
      if (!Number.isInteger(v) || v < 1)
        throw new Error(`${where}: ${k} must be a positive integer, got ${v}`);
    }
    this.config = { inChannels, outChannels, hidden, dilations: [...dilations], init };
    let cin = inChannels;
    dilations.forEach((d, i) => {
      const conv = new Conv2d(rng.fork(`branch${i + 1}`), {
        inChannels: cin,
        outChannels: hidden,
        kernelSize: 3,
        dilation: d,
        padding: d,
        bias: false,
        init,
      });
      this.branches.push(this.child(`branch${i + 1}`, conv));
      cin = hidden;
    });
    const k = dilations.length;
    this.gate = this.child(
      'gate',
      new Conv2d(rng.fork('gate'), {
        inChannels: hidden * k,
        outChannels: k,
        kernelSize: 3,
        padding: 1,
        bias: false,
        init,
      }),
    );
    this.pool = this.child(
      'pool',
      new Conv1x1(rng.fork('pool'), { inChannels: hidden * k, outChannels, bias: false, init }),
    );
  }

  /**
   * @param x [N, H, W, inChannels]
   * @returns [N, H, W, outChannels], ≥ 0
   */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[3] !== this.config.inChannels) {
      const got = x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : String(x);
      throw new Error(
        `@sign/sim ReleaseGatedBlock.apply: expected x of shape [N, H, W, ${this.config.inChannels}], got ${got}`,
      );
    }
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      let cur = x;
      for (const conv of this.branches) {
        cur = tf.relu(conv.apply(cur));
        outs.push(cur);
      }
      const cat = outs.length === 1 ? outs[0] : (tf.concat(outs, 3) as tf.Tensor4D);
      const gates = tf.sigmoid(tf.relu(this.gate.apply(cat))); // [N, H, W, k]
      const gated =
        outs.length === 1
          ? tf.mul(outs[0], gates)
          : tf.concat(
              outs.map((o, i) => tf.mul(o, tf.slice(gates, [0, 0, 0, i], [-1, -1, -1, 1]))),
              3,
            );
      return tf.relu(this.pool.apply(gated as tf.Tensor4D));
    });
  }
}
