import * as tf from '@tensorflow/tfjs-core';
import { Conv1x1, Conv2d, Module, conv1x1, conv2d, recordingGradients, type Rng } from '@sign/core';

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
 * concatenation to `outChannels`. Computed without concatenating (see {@link apply}).
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
   * The block on the channel concatenation of `x`'s parts, without building it: the first conv
   * is the sum of one conv per part over its slice of the kernel's input channels, so a part may
   * have batch size 1 and is then broadcast over the batch (the positional encoding, identical
   * for every image, is convolved once). Likewise the gate and pool 1×1 convs over the branch
   * concatenation are sums of per-branch 1×1 convs over row slices of their kernels, so neither
   * concatenation (nor its gradient's split) is materialised. Equal to the concatenated form up
   * to float32 rounding.
   *
   * @param x [N, H, W, inChannels], or parts [N or 1, H, W, c_k] with Σ c_k = inChannels
   * @returns [N, H, W, outChannels]
   * @example
   * const y = block.apply([sigmoid(h), pe]);   // h [N,H,W,D], pe [1,H,W,D], inChannels = 2D
   */
  apply(x: tf.Tensor4D | tf.Tensor4D[]): tf.Tensor4D {
    const parts = Array.isArray(x) ? x : [x];
    this.checkParts(parts);
    return tf.tidy(() => {
      const outs: tf.Tensor4D[] = [];
      for (const conv of this.branches) {
        outs.push(tf.relu(outs.length === 0 ? firstConv(conv, parts) : conv.apply(outs[outs.length - 1])));
      }
      const n = outs.length;
      // Row blocks of the 1×1 kernels, one per branch (split: its gradient is one concatenation).
      const rows = (w: tf.Variable) => (n === 1 ? [w as tf.Tensor2D] : (tf.split(w, n, 0) as tf.Tensor2D[]));
      const gateRows = rows(this.gate.kernel);
      const poolRows = rows(this.pool.kernel);
      let gateLogits = conv1x1(outs[0], gateRows[0], this.gate.bias as tf.Tensor1D);
      for (let i = 1; i < n; i++) gateLogits = tf.add(gateLogits, conv1x1(outs[i], gateRows[i]));
      const gates = tf.sigmoid(gateLogits); // [N, H, W, n]
      const gate = n === 1 ? [gates] : tf.split(gates, n, 3);
      let y = conv1x1(tf.mul(outs[0], gate[0]) as tf.Tensor4D, poolRows[0], this.pool.bias as tf.Tensor1D);
      for (let i = 1; i < n; i++) y = tf.add(y, conv1x1(tf.mul(outs[i], gate[i]) as tf.Tensor4D, poolRows[i]));
      return y;
    });
  }

  private checkParts(parts: tf.Tensor4D[]): void {
    const shapes = parts.map((p) => `[${p.shape.join(', ')}]`).join(' + ');
    const where = '@sign/sim GatedDilatedBlock.apply';
    if (parts.length === 0) throw new Error(`${where}: expected x of shape [N, H, W, ${this.config.inChannels}], got no parts`);
    const n = Math.max(...parts.map((p) => p.shape[0]));
    const [, h, w] = parts[0].shape;
    const channels = parts.reduce((s, p) => s + (p.rank === 4 ? p.shape[3] : NaN), 0);
    const ok = parts.every((p) => p.rank === 4 && (p.shape[0] === n || p.shape[0] === 1) && p.shape[1] === h && p.shape[2] === w);
    if (!ok || channels !== this.config.inChannels) {
      throw new Error(
        parts.length === 1
          ? `${where}: expected x of shape [N, H, W, ${this.config.inChannels}], got ${shapes}`
          : `${where}: expected parts [N or 1, H, W, c] with the same H, W and ${this.config.inChannels} channels in all, got ${shapes}`,
      );
    }
  }
}

/** The first branch conv over the concatenation of `parts` (see GatedDilatedBlock.apply). */
function firstConv(conv: Conv2d, parts: tf.Tensor4D[]): tf.Tensor4D {
  if (parts.length === 1) return conv.apply(parts[0]);
  const opts = { dilations: conv.config.dilation, strides: conv.config.stride, padding: conv.config.padding };
  // The kernel's input channels, one block per part: while a gradient is recorded, split (its
  // gradient is one concatenation); otherwise each part's convolution reads its block of the
  // kernel in place (the same products, without copying the kernel).
  const offsets = parts.map((_, i) => parts.slice(0, i).reduce((s, p) => s + p.shape[3], 0));
  const kernels = recordingGradients() ? (tf.split(conv.kernel, parts.map((p) => p.shape[3]), 2) as tf.Tensor4D[]) : null;
  const partConv = (i: number, bias?: tf.Tensor1D) =>
    kernels
      ? conv2d(parts[i], kernels[i], { ...opts, bias })
      : conv2d(parts[i], conv.kernel as tf.Tensor4D, { ...opts, bias, kernelChannelOffset: offsets[i] });
  // The bias goes with the full-batch part, so the broadcast sum of the others adds no pass.
  const full = parts.findIndex((p) => p.shape[0] === Math.max(...parts.map((q) => q.shape[0])));
  let sum = partConv(full, (conv.bias ?? undefined) as tf.Tensor1D | undefined);
  parts.forEach((_, i) => {
    if (i !== full) sum = tf.add(sum, partConv(i));
  });
  return sum;
}
