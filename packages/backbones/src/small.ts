import * as tf from '@tensorflow/tfjs-core';
import { Conv1x1, Conv2d, Module, conv1x1, type Rng } from '@sign/core';
import type { Backbone, BackboneApplyOptions } from './backbone';

/** Config of the `'small'` backbone; every key is optional. */
export interface SmallBackboneConfig {
  /** Image channels C (default 1: grayscale fashion-scenes). */
  inChannels?: number;
  /** D, the channels of the output feature map (default 32). */
  channels?: number;
  /** Output stride s: 2, 4 or 8 (default 4); one stride-2 stage per factor 2. */
  outputStride?: number;
  /** Channels of the first stage (at stride 2); each further stage doubles them (default 16). */
  width?: number;
  /** 3×3 convs (with ReLU) after each downsampling, at the stage's resolution (default 1). */
  convsPerStage?: number;
  /**
   * How each stage halves the resolution: `'patch2x2'` (default), a 2×2 stride-2 conv computed
   * as space-to-depth + 1×1 conv (a reshape, a transpose and a matMul: cheap to differentiate on
   * wasm), or `'conv3x3'`, a 3×3 stride-2 conv.
   */
  downsample?: 'patch2x2' | 'conv3x3';
  /**
   * Weight init: `'he'` (default): kernels ~ N(0, 2/fan_in) before each ReLU and N(0, 1/fan_in)
   * for the final 1×1 projection, biases 0 — keeps the activation scale through the ReLU stack,
   * which matters when training from scratch; `'pytorch'`: @sign/core's layer defaults
   * (kaiming_uniform(a=√5) weights, U(±1/√fan_in) biases).
   */
  init?: 'he' | 'pytorch';
  /** Channels of each dilated head branch (default 32). */
  headChannels?: number;
  /** Dilation of each parallel 3×3 head branch (default [1, 2, 4]). */
  dilations?: number[];
}

/** The defaults of {@link SmallBackboneConfig}. */
export const SMALL_BACKBONE_DEFAULTS: Required<SmallBackboneConfig> = Object.freeze({
  inChannels: 1,
  channels: 32,
  outputStride: 4,
  width: 16,
  convsPerStage: 1,
  downsample: 'patch2x2',
  init: 'he',
  headChannels: 32,
  dilations: [1, 2, 4],
}) as Required<SmallBackboneConfig>;

const POSITIVE_INT_KEYS = ['inChannels', 'channels', 'outputStride', 'width', 'headChannels'] as const;

/**
 * Checks a config and fills in the defaults. Unknown keys and bad values throw, naming the key.
 */
export function resolveSmallBackboneConfig(cfg: unknown = {}): Required<SmallBackboneConfig> {
  const where = "backbone 'small'";
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw new Error(`${where}: config must be an object, got ${cfg === null ? 'null' : Array.isArray(cfg) ? 'an array' : typeof cfg}`);
  }
  const known = Object.keys(SMALL_BACKBONE_DEFAULTS);
  for (const key of Object.keys(cfg)) {
    if (!known.includes(key)) throw new Error(`${where}: unknown config key '${key}' (known: ${known.join(', ')})`);
  }
  const c = { ...SMALL_BACKBONE_DEFAULTS, ...(cfg as SmallBackboneConfig) };
  for (const key of POSITIVE_INT_KEYS) {
    const v = c[key];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
      throw new Error(`${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  if (!(typeof c.convsPerStage === 'number' && Number.isInteger(c.convsPerStage) && c.convsPerStage >= 0)) {
    throw new Error(`${where}: convsPerStage must be a non-negative integer, got ${JSON.stringify(c.convsPerStage)}`);
  }
  if (c.init !== 'he' && c.init !== 'pytorch') {
    throw new Error(`${where}: init must be 'he' or 'pytorch', got ${JSON.stringify(c.init)}`);
  }
  if (c.downsample !== 'patch2x2' && c.downsample !== 'conv3x3') {
    throw new Error(`${where}: downsample must be 'patch2x2' or 'conv3x3', got ${JSON.stringify(c.downsample)}`);
  }
  if (![2, 4, 8].includes(c.outputStride)) {
    throw new Error(`${where}: outputStride must be 2, 4 or 8, got ${c.outputStride}`);
  }
  if (
    !Array.isArray(c.dilations) ||
    c.dilations.length === 0 ||
    !c.dilations.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)
  ) {
    throw new Error(`${where}: dilations must be a non-empty array of positive integers, got ${JSON.stringify(c.dilations)}`);
  }
  return { ...c, dilations: [...c.dilations] };
}

/**
 * A 2×2 stride-2 convolution computed as space-to-depth + 1×1 conv: `[N,H,W,C]` →
 * `[N,⌈H/2⌉,⌈W/2⌉,cout]`, equal to `conv2d(x, kernel, { strides: 2, padding: 'same' }) + bias`
 * (an odd side gets one zero row/column at the end, as TF's 'same' does). Its parameters are
 * those of a `Conv2d` child `conv` with kernelSize 2 (`conv.kernel` [2,2,cin,cout], `conv.bias`).
 */
export class PatchDownsample extends Module {
  readonly conv: Conv2d;

  constructor(rng: Rng, cfg: { inChannels: number; outChannels: number }) {
    super();
    this.conv = this.child(
      'conv',
      new Conv2d(rng, { inChannels: cfg.inChannels, outChannels: cfg.outChannels, kernelSize: 2, stride: 2, padding: 'same' }),
    );
  }

  /** `x [N,H,W,cin]` → `[N,⌈H/2⌉,⌈W/2⌉,cout]`. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const { inChannels: cin, outChannels: cout } = this.conv.config;
    if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[3] !== cin) {
      const got = x instanceof tf.Tensor ? `[${x.shape.join(',')}]` : String(x);
      throw new Error(`PatchDownsample.apply: expected x [N,H,W,${cin}], got ${got}`);
    }
    return tf.tidy(() => {
      const [n, h, w] = x.shape;
      const oh = Math.ceil(h / 2);
      const ow = Math.ceil(w / 2);
      const xp =
        oh * 2 === h && ow * 2 === w
          ? x
          : tf.pad(x, [
              [0, 0],
              [0, oh * 2 - h],
              [0, ow * 2 - w],
              [0, 0],
            ]);
      // [n, oh, 2, ow, 2, c] → [n, oh, ow, 2, 2, c]: channels ordered (i, j, c) like the kernel's reshape
      const patches = tf.reshape(
        tf.transpose(tf.reshape(xp, [n, oh, 2, ow, 2, cin]), [0, 1, 3, 2, 4, 5]),
        [n, oh, ow, 4 * cin],
      ) as tf.Tensor4D;
      const k = tf.reshape(this.conv.kernel, [4 * cin, cout]) as tf.Tensor2D;
      return conv1x1(patches, k, (this.conv.bias ?? undefined) as tf.Tensor1D | undefined);
    });
  }
}

/**
 * One stage: halve the resolution (`down`, with ReLU), then `count` 3×3 convs with ReLU
 * (`conv0`, `conv1`, …).
 */
class ConvStage extends Module {
  private readonly down: PatchDownsample | Conv2d;
  private readonly convs: Conv2d[] = [];

  constructor(rng: Rng, inChannels: number, outChannels: number, count: number, downsample: 'patch2x2' | 'conv3x3') {
    super();
    this.down = this.child(
      'down',
      downsample === 'patch2x2'
        ? new PatchDownsample(rng.fork('down'), { inChannels, outChannels })
        : new Conv2d(rng.fork('down'), { inChannels, outChannels, kernelSize: 3, stride: 2, padding: 'same' }),
    );
    for (let i = 0; i < count; i++) {
      const conv = new Conv2d(rng.fork(`conv${i}`), { inChannels: outChannels, outChannels, kernelSize: 3, padding: 'same' });
      this.convs.push(this.child(`conv${i}`, conv));
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    let h = tf.relu(this.down.apply(x));
    for (const conv of this.convs) h = tf.relu(conv.apply(h));
    return h;
  }
}

/**
 * The DeepLab-like head: parallel dilated 3×3 convs (`branch0`, `branch1`, …) with ReLU,
 * concatenated and projected by a 1×1 conv (`project`) to D channels, linear at the end
 * (DeepLabv2's ASPP also ends without an activation; SIM takes `sigmoid(h)`).
 */
class DilatedHead extends Module {
  private readonly branches: Conv2d[] = [];
  private readonly project: Conv1x1;

  constructor(rng: Rng, inChannels: number, branchChannels: number, dilations: number[], outChannels: number) {
    super();
    dilations.forEach((d, i) => {
      const conv = new Conv2d(rng.fork(`branch${i}`), {
        inChannels,
        outChannels: branchChannels,
        kernelSize: 3,
        dilation: d,
        padding: 'same',
      });
      this.branches.push(this.child(`branch${i}`, conv));
    });
    this.project = this.child(
      'project',
      new Conv1x1(rng.fork('project'), { inChannels: branchChannels * dilations.length, outChannels }),
    );
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const outs = this.branches.map((b) => tf.relu(b.apply(x)));
    const cat = outs.length === 1 ? outs[0] : tf.concat(outs, 3);
    return this.project.apply(cat);
  }
}

/**
 * The `'small'` backbone: a convolutional net that trains from scratch on a CPU.
 *
 * - `stage1 … stageK` (K = log2 outputStride): a stride-2 downsampling conv (`down`: 2×2 patch
 *   conv by default, or 3×3), then `convsPerStage` 3×3 convs, each with ReLU; stage k has
 *   `width · 2^(k-1)` channels (no full-resolution layer: the first conv already has stride 2,
 *   which keeps the net cheap on a CPU);
 * - `head`: parallel 3×3 convs with the given dilations (ReLU), concatenated, 1×1 conv → D.
 *
 * `images [N,H,W,C] → [N, ⌈H/s⌉, ⌈W/s⌉, D]` ('same' padding; each stride-2 stage rounds up).
 *
 * @example
 * const bb = new SmallBackbone(new Rng(0), { channels: 32 });
 * const h = bb.apply(tf.zeros([8, 64, 64, 1]), { training: true, rng }); // [8, 16, 16, 32]
 */
export class SmallBackbone extends Module implements Backbone {
  readonly name = 'small';
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly outputStride: number;
  /** The resolved config (defaults filled in). */
  readonly config: Required<SmallBackboneConfig>;
  private readonly stages: ConvStage[] = [];
  private readonly head: DilatedHead;

  constructor(rng: Rng, cfg: SmallBackboneConfig = {}) {
    super();
    const c = resolveSmallBackboneConfig(cfg);
    this.config = c;
    this.inputChannels = c.inChannels;
    this.outputChannels = c.channels;
    this.outputStride = c.outputStride;
    let ch = c.inChannels;
    const numStages = Math.round(Math.log2(c.outputStride));
    for (let s = 1; s <= numStages; s++) {
      const out = c.width * 2 ** (s - 1);
      const stage = new ConvStage(rng.fork(`stage${s}`), ch, out, c.convsPerStage, c.downsample);
      this.stages.push(this.child(`stage${s}`, stage));
      ch = out;
    }
    this.head = this.child('head', new DilatedHead(rng.fork('head'), ch, c.headChannels, c.dilations, c.channels));
    if (c.init === 'he') heInit(this, rng.fork('he-init'));
  }

  /** `[⌈H/s⌉, ⌈W/s⌉]`: every stage rounds up. */
  outputShape(height: number, width: number): [number, number] {
    return [Math.ceil(height / this.outputStride), Math.ceil(width / this.outputStride)];
  }

  /**
   * `images [N,H,W,C]` float32 → features `[N, ⌈H/s⌉, ⌈W/s⌉, D]`. Runs in `tf.tidy`.
   * `opts.rng` is unused (this backbone has no stochastic layers) but part of the interface.
   */
  apply(images: tf.Tensor4D, opts: BackboneApplyOptions): tf.Tensor4D {
    if (!(images instanceof tf.Tensor) || images.rank !== 4) {
      const got = images instanceof tf.Tensor ? `shape [${images.shape.join(',')}]` : String(images);
      throw new Error(`SmallBackbone.apply: expected images of rank 4 [N,H,W,${this.inputChannels}], got ${got}`);
    }
    if (images.shape[3] !== this.inputChannels) {
      throw new Error(
        `SmallBackbone.apply: expected ${this.inputChannels} input channel(s), got images of shape [${images.shape.join(',')}]`,
      );
    }
    if (images.dtype !== 'float32') {
      throw new Error(`SmallBackbone.apply: expected float32 images, got ${images.dtype}`);
    }
    if (opts === undefined || typeof opts.training !== 'boolean') {
      throw new Error('SmallBackbone.apply: opts { training: boolean, rng } is required');
    }
    return tf.tidy(() => {
      let h = images;
      for (const stage of this.stages) h = stage.apply(h);
      return this.head.apply(h);
    });
  }
}

/**
 * Re-draws every kernel as N(0, gain²/fan_in) (gain √2 before a ReLU, 1 for the final
 * `head.project`) and zeroes the biases, in parameter-path order from one seeded stream.
 */
function heInit(bb: SmallBackbone, rng: Rng): void {
  for (const [path, v] of bb.namedParameters()) {
    if (path.endsWith('.bias')) {
      tf.tidy(() => v.assign(tf.zerosLike(v)));
      continue;
    }
    const fanIn = v.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const gain = path === 'head.project.kernel' ? 1 : Math.SQRT2;
    const values = rng.fork(path).normalArray(v.size, 0, gain / Math.sqrt(fanIn));
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
  }
}

/** Registry factory for `'small'`. */
export function createSmallBackbone(rng: Rng, cfg?: SmallBackboneConfig): SmallBackbone {
  return new SmallBackbone(rng, cfg ?? {});
}
