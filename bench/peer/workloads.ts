/**
 * The four training/inference steps of bench/peer/torch_peer.py (the PyTorch CPU peer), built
 * from the public @sign packages at the same sizes, with the same losses, optimizers and
 * hyper-parameters. Each maker returns a `step()` that runs one iteration and reads its loss back
 * to the host (as the peer's `float(loss)` does), and the peer's own estimate of the
 * matrix-product/convolution MACs per iteration, so GFLOP/s are comparable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DeepLabV2ResNet101 } from '@sign/backbones';
import { Conv1x1, Linear, Rng, dropout, maxPoolOutputLength, randomNormal } from '@sign/core';
import { Discriminator, GENERATOR_PRESETS, createGenerator } from '@sign/generator';
import { classwiseMmdLoss, klDivergence, l1AdversarialLoss, weightedCrossEntropy } from '@sign/losses';
import { SpatialInformationModule } from '@sign/sim';

/** The default set (`--workload all`): the SIGN heads at paper sizes, seconds per run. */
export const WORKLOADS = ['generator_step', 'sim_step', 'transfer_step', 'sim_infer'] as const;
/**
 * The DeepLabv2-ResNet101 backbone at the paper's sizes: minutes and gigabytes per run, so never
 * part of `all`; named with `--workload deeplab_infer_513,deeplab_train_368_b8`.
 */
export const PAPER_WORKLOADS = ['deeplab_infer_513', 'deeplab_train_368_b8'] as const;
export const ALL_WORKLOADS = [...WORKLOADS, ...PAPER_WORKLOADS] as const;
export type WorkloadName = (typeof ALL_WORKLOADS)[number];

/**
 * Warm-up and timed iterations of the backbone workloads when `--warmup` / `--iters` are not
 * given (one training step is minutes on 2 cores); the other workloads keep each script's defaults.
 */
export const DEFAULT_ITERATIONS: Partial<Record<WorkloadName, { warmup: number; iters: number }>> = {
  deeplab_infer_513: { warmup: 1, iters: 2 },
  deeplab_train_368_b8: { warmup: 0, iters: 1 },
};

export interface Workload {
  /** One iteration; returns the loss (or one output value) read back to the host. */
  step: () => number;
  /** Multiply-accumulates of the matrix products and convolutions per iteration (the peer's count). */
  macs: number;
  /** Trainable parameters of the network (the backbone workloads: all but the frozen BatchNorms), to check against the peer's. */
  params?: number;
  /** Images per iteration (the backbone workloads). */
  batch?: number;
  dispose: () => void;
}

const EMB = 600;
const LATENT = 600;
const N_CLASSES = 21;
const IGNORE = 255;
const G_HIDDEN = [1024, 960, 864, 784, 720];
const SIM_CH = 256;
const SIM_DIL = [1, 2, 5];

// ---- the peer's MAC counts (torch_peer.py: mlp_macs, gated_block_macs, sim_forward_macs) ----
function mlpMacs(dims: number[]): number {
  let m = 0;
  for (let i = 0; i + 1 < dims.length; i++) m += dims[i] * dims[i + 1];
  return m;
}
function gatedBlockMacs(pixels: number, cin: number): number {
  let m = 9 * cin * SIM_CH + 2 * 9 * SIM_CH * SIM_CH;
  m += 3 * SIM_CH * 3 + 3 * SIM_CH * EMB;
  return pixels * m;
}
function simForwardMacs(pixels: number): number {
  let m = gatedBlockMacs(pixels, 2 * EMB) + gatedBlockMacs(pixels, EMB);
  m += pixels * 2 * EMB * EMB;
  m += pixels * mlpMacs([EMB, 1024, N_CLASSES]);
  return m;
}

/** Unit-norm rows of N(0, 1) draws: a stand-in class embedding table [k, EMB]. */
function embeddingTable(rng: Rng, k: number): Float32Array {
  const t = rng.normalArray(k * EMB);
  for (let r = 0; r < k; r++) {
    let s = 0;
    for (let c = 0; c < EMB; c++) s += t[r * EMB + c] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let c = 0; c < EMB; c++) t[r * EMB + c] *= inv;
  }
  return t;
}

/** tf.variableGrads' map as the list optimizers take. */
function named(grads: tf.NamedTensorMap): { name: string; tensor: tf.Tensor }[] {
  return Object.entries(grads).map(([name, tensor]) => ({ name, tensor }));
}

function readScalar(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** The peer's PixelClassifier: 1×1 conv 600→1024, ReLU, [dropout], 1×1 conv 1024→21 (conv or linear form). */
class PixelClassifier {
  private readonly l1: Conv1x1 | Linear;
  private readonly l2: Conv1x1 | Linear;
  constructor(
    rng: Rng,
    readonly conv: boolean,
    readonly rate = 0,
  ) {
    this.l1 = conv
      ? new Conv1x1(rng.fork('l1'), { inChannels: EMB, outChannels: 1024 })
      : new Linear(rng.fork('l1'), { inFeatures: EMB, outFeatures: 1024 });
    this.l2 = conv
      ? new Conv1x1(rng.fork('l2'), { inChannels: 1024, outChannels: N_CLASSES })
      : new Linear(rng.fork('l2'), { inFeatures: 1024, outFeatures: N_CLASSES });
  }
  apply<T extends tf.Tensor2D | tf.Tensor4D>(x: T, rng: Rng, training: boolean): T {
    return tf.tidy(() => {
      let h = tf.relu((this.l1 as any).apply(x)) as T;
      if (this.rate > 0) h = dropout(h, this.rate, rng, training);
      return (this.l2 as any).apply(h) as T;
    });
  }
  trainableVariables(): tf.Variable[] {
    return [...this.l1.trainableVariables(), ...this.l2.trainableVariables()];
  }
  dispose(): void {
    this.l1.dispose();
    this.l2.dispose();
  }
}

export function makeGeneratorStep(): Workload {
  const nCls = 8;
  const per = 512;
  const n = nCls * per;
  const rng = new Rng(0);
  const G = createGenerator('sign', rng.fork('G'), { ...GENERATOR_PRESETS.paper, hidden: [...G_HIDDEN] });
  const D = new Discriminator(rng.fork('D'), { featureDim: EMB, hidden: 1024, numClasses: N_CLASSES, dropout: 0.5 });
  const optG = tf.train.adam(2e-4, 0.5, 0.999);
  const optD = tf.train.adam(2.5e-4, 0.5, 0.999);
  const table = embeddingTable(rng.fork('emb'), nCls);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = Math.floor(i / per);
  const embRows = new Float32Array(n * EMB);
  for (let i = 0; i < n; i++) embRows.set(table.subarray(ids[i] * EMB, (ids[i] + 1) * EMB), i * EMB);
  const emb = tf.tensor2d(embRows, [n, EMB]);
  const real = tf.tensor2d(rng.fork('real').uniformArray(n * EMB), [n, EMB]);
  const gVars = G.trainableVariables();
  const dVars = D.trainableVariables();
  const stepRng = rng.fork('steps');
  let it = 0;

  const step = (): number => {
    const r = stepRng.fork(String(it++));
    let fake: tf.Tensor2D | null = null;
    let mmdKept: tf.Scalar | null = null;
    const z = randomNormal([n, LATENT], r.fork('z')) as tf.Tensor2D;
    const g = tf.variableGrads(() => {
      const f = G.generate({ embeddings: emb, latent: z }, { training: true, rng: r.fork('G') });
      fake = tf.keep(f);
      const mmd = tf.mul(classwiseMmdLoss(real, f, ids), 50) as tf.Scalar; // host labels: no read-back
      mmdKept = tf.keep(mmd);
      const adv = l1AdversarialLoss(D.apply(f, { training: true, rng: r.fork('D-g') }).gan!, 1);
      return tf.add(mmd, adv) as tf.Scalar;
    }, gVars);
    optG.applyGradients(named(g.grads));
    tf.dispose([g.value, z, ...Object.values(g.grads)]);
    const d = tf.variableGrads(() => {
      const dr = D.apply(real, { training: true, rng: r.fork('D-real') }).gan!;
      const df = D.apply(fake!, { training: true, rng: r.fork('D-fake') }).gan!;
      return tf.add(l1AdversarialLoss(dr, 1), l1AdversarialLoss(df, 0)) as tf.Scalar;
    }, dVars);
    optD.applyGradients(named(d.grads));
    tf.dispose([fake!, ...Object.values(d.grads)]);
    return readScalar(mmdKept!) + readScalar(d.value);
  };

  const gF = n * mlpMacs([EMB + LATENT, ...G_HIDDEN, EMB]);
  const dF = n * mlpMacs([EMB, 1024, 1]);
  const gram = nCls * per * per * EMB;
  let macs = 3 * gF - n * (EMB + LATENT) * G_HIDDEN[0];
  macs += 3 * dF;
  macs += 3 * gram + 3 * gram;
  macs += 2 * (2 * dF);
  return {
    step,
    macs,
    dispose: () => {
      G.dispose();
      D.dispose();
      optG.dispose();
      optD.dispose();
      tf.dispose([emb, real]);
    },
  };
}

/** The peer's SIMSegmenter: SIM (relative PE) + PixelClassifier (conv form, no dropout). */
function simSegmenter(rng: Rng): { sim: SpatialInformationModule; cls: PixelClassifier } {
  const sim = new SpatialInformationModule(rng.fork('sim'), { channels: EMB, hidden: SIM_CH, dilations: SIM_DIL });
  const cls = new PixelClassifier(rng.fork('cls'), true, 0);
  return { sim, cls };
}

export function makeSimStep(): Workload {
  const rng = new Rng(0);
  const { sim, cls } = simSegmenter(rng);
  sim.train();
  const opt = tf.train.momentum(2.5e-4, 0.9);
  const [n, h, w] = [2, 41, 41];
  const x = tf.tensor4d(rng.fork('x').uniformArray(n * h * w * EMB), [n, h, w, EMB]);
  const lab = new Int32Array(n * h * w);
  const lr = rng.fork('labels');
  for (let i = 0; i < lab.length; i++) lab[i] = lr.int(N_CLASSES);
  for (let i = 0; i < lab.length; i++) if (lr.uniform() < 0.1) lab[i] = IGNORE;
  const labels = tf.tensor3d(lab, [n, h, w], 'int32');
  const vars = [...sim.trainableVariables(), ...cls.trainableVariables()];
  const stepRng = rng.fork('steps');
  let it = 0;

  const step = (): number => {
    const r = stepRng.fork(String(it++));
    const g = tf.variableGrads(() => {
      const out = sim.apply(x, { training: true, rng: r.fork('sim') });
      const logits = cls.apply(out.feature, r, true);
      const ce = weightedCrossEntropy(logits, labels);
      // the per-pixel KL averaged over pixels (the peer's .mean()), from the SIM's σ² as the trainer does
      const kl = klDivergence(out.mu, out.logvar, undefined, { variance: out.variance });
      return tf.add(tf.mul(ce, 0.5), tf.mul(kl, 100)) as tf.Scalar;
    }, vars);
    opt.applyGradients(named(g.grads));
    tf.dispose(Object.values(g.grads));
    return readScalar(g.value);
  };

  const px = n * h * w;
  const macs = 3 * simForwardMacs(px) - px * 9 * 2 * EMB * SIM_CH;
  return {
    step,
    macs,
    dispose: () => {
      sim.dispose();
      cls.dispose();
      opt.dispose();
      tf.dispose([x, labels]);
    },
  };
}

export function makeTransferStep(): Workload {
  const n = 4096;
  const rng = new Rng(0);
  const G = createGenerator('sign', rng.fork('G'), { ...GENERATOR_PRESETS.paper, hidden: [...G_HIDDEN] });
  G.eval();
  const clf = new PixelClassifier(rng.fork('clf'), false, 0.5);
  const opt = tf.train.adam(2.5e-4, 0.9, 0.999);
  const table = tf.tensor2d(embeddingTable(rng.fork('emb'), N_CLASSES), [N_CLASSES, EMB]);
  const vars = clf.trainableVariables();
  const stepRng = rng.fork('steps');
  let it = 0;

  const step = (): number => {
    const r = stepRng.fork(String(it++));
    const idsHost = new Int32Array(n);
    const ir = r.fork('ids');
    for (let i = 0; i < n; i++) idsHost[i] = ir.int(N_CLASSES);
    const ids = tf.tensor1d(idsHost, 'int32');
    const feat = tf.tidy(() => {
      const z = randomNormal([n, LATENT], r.fork('z')) as tf.Tensor2D;
      const emb = tf.gather(table, ids) as tf.Tensor2D;
      return G.generate({ embeddings: emb, latent: z }, { training: false, rng: r.fork('G') });
    });
    const labels = tf.reshape(ids, [1, 1, n]) as tf.Tensor3D;
    const g = tf.variableGrads(() => {
      const logits = clf.apply(feat, r.fork('clf'), true);
      return weightedCrossEntropy(tf.reshape(logits, [1, 1, n, N_CLASSES]) as tf.Tensor4D, labels);
    }, vars);
    opt.applyGradients(named(g.grads));
    tf.dispose([ids, feat, labels, ...Object.values(g.grads)]);
    return readScalar(g.value);
  };

  const gF = n * mlpMacs([EMB + LATENT, ...G_HIDDEN, EMB]);
  const cF = n * mlpMacs([EMB, 1024, N_CLASSES]);
  return {
    step,
    macs: gF + 3 * cF - n * EMB * 1024,
    dispose: () => {
      G.dispose();
      clf.dispose();
      opt.dispose();
      table.dispose();
    },
  };
}

export function makeSimInfer(): Workload {
  const rng = new Rng(0);
  const { sim, cls } = simSegmenter(rng);
  sim.eval();
  const [n, h, w] = [1, 64, 64];
  const x = tf.tensor4d(rng.fork('x').uniformArray(n * h * w * EMB), [n, h, w, EMB]);
  const step = (): number =>
    tf.tidy(() => {
      const out = sim.apply(x, { training: false });
      const logits = cls.apply(out.feature, rng, false);
      return logits.dataSync()[0];
    });
  return {
    step,
    macs: simForwardMacs(n * h * w),
    dispose: () => {
      sim.dispose();
      cls.dispose();
      x.dispose();
    },
  };
}

// ---- DeepLabv2-ResNet101 (@sign/backbones' 'deeplabv2-resnet101', the release's network) ----

/**
 * Conv MACs of one DeepLabv2-ResNet101 forward pass on `n` images of `h × w` (the peer's
 * `deeplab_forward_macs`, same formula): every convolution's output pixels × k² × in × out, with
 * the release's geometry (7×7/2 stem, ceil-mode 3×3/2 pool, layer3's stride on its first 1×1,
 * dilated layer4/5 at output stride 8, projection shortcuts, four 3×3 ASPP convs to `channels`).
 * `stemMacs` is the stem conv's part (its input gradient is never computed: the image needs none).
 */
export function deeplabForwardMacs(
  n: number,
  h: number,
  w: number,
  opts: { blocks?: number[]; width?: number; channels?: number; aspp?: number } = {},
): { total: number; stemMacs: number; outH: number; outW: number } {
  const blocks = opts.blocks ?? [3, 4, 23, 3];
  const width = opts.width ?? 64;
  const channels = opts.channels ?? 600;
  const asppConvs = opts.aspp ?? 4;
  const convOut = (len: number, k: number, s: number, p: number) => Math.floor((len + 2 * p - k) / s) + 1;
  let [H, W] = [convOut(h, 7, 2, 3), convOut(w, 7, 2, 3)];
  const stemMacs = n * H * W * 49 * 3 * width;
  let total = stemMacs;
  [H, W] = [maxPoolOutputLength(H, 3, 2, 1, true), maxPoolOutputLength(W, 3, 2, 1, true)];
  let cin = width;
  for (let l = 0; l < 4; l++) {
    const mid = width << l;
    const out = 4 * mid;
    for (let b = 0; b < blocks[l]; b++) {
      const stride = l === 1 && b === 0 ? 2 : 1;
      const [oh, ow] = [convOut(H, 1, stride, 0), convOut(W, 1, stride, 0)];
      const px = n * oh * ow;
      total += px * (cin * mid + 9 * mid * mid + mid * out); // reduce, 3×3 (padding = dilation), increase
      if (b === 0) total += px * cin * out; // projection shortcut
      [H, W] = [oh, ow];
      cin = out;
    }
  }
  total += n * H * W * asppConvs * 9 * cin * channels;
  return { total, stemMacs, outH: H, outW: W };
}

/** Images of the workloads: uniform in [-128, 128) (the scale of Caffe-mean-subtracted BGR). */
function images(rng: Rng, n: number, h: number, w: number): tf.Tensor4D {
  const v = rng.uniformArray(n * h * w * 3);
  for (let i = 0; i < v.length; i++) v[i] = 256 * v[i] - 128;
  return tf.tensor4d(v, [n, h, w, 3]);
}

/**
 * The release's backbone at full size (ResNet-101 trunk, ASPP 2048 → 600), release init; checks
 * that the MAC count's geometry gives the backbone's own feature-grid size for `size`.
 */
function deeplab(rng: Rng, size: number): DeepLabV2ResNet101 {
  const bb = new DeepLabV2ResNet101(rng.fork('backbone'));
  const [oh, ow] = bb.outputShape(size, size);
  const m = deeplabForwardMacs(1, size, size);
  if (m.outH !== oh || m.outW !== ow) {
    bb.dispose();
    throw new Error(`workloads: deeplabForwardMacs gives a ${m.outH}×${m.outW} grid for ${size}², the backbone ${oh}×${ow}`);
  }
  return bb;
}

/** Inference on one 513×513 image (the release's test size): features [1,65,65,600], read back. */
export function makeDeeplabInfer513(): Workload {
  const rng = new Rng(0);
  const bb = deeplab(rng, 513);
  const x = images(rng.fork('x'), 1, 513, 513);
  const step = (): number =>
    tf.tidy(() => {
      const h = bb.apply(x, { training: false, rng });
      return h.dataSync()[0];
    });
  return {
    step,
    macs: deeplabForwardMacs(1, 513, 513).total,
    params: bb.numParameters({ trainableOnly: true }),
    batch: 1,
    dispose: () => {
      bb.dispose();
      x.dispose();
    },
  };
}

/**
 * One training step at the release's crop and batch: forward of backbone + ASPP on
 * [8,368,368,3] (`trainBatch` changes the 8, for machines without the ~15 GB it takes), loss = mean of the squared features (the peer's loss), backward (BatchNorm
 * frozen, as the backbone defines: not trainable, running statistics), SGD with momentum 0.9,
 * lr 2.5e-4 (the release's backbone settings).
 */
export function makeDeeplabTrain368b8(opts: WorkloadOptions = {}): Workload {
  const batch = opts.trainBatch ?? 8;
  const rng = new Rng(0);
  const bb = deeplab(rng, 368);
  const x = images(rng.fork('x'), batch, 368, 368);
  const opt = tf.train.momentum(2.5e-4, 0.9);
  const vars = bb.trainableVariables();
  // The momentum buffers exist before the timed iterations (as after a warm-up step; the peer
  // does the same), so a run without warm-up times a steady-state step and its tensor growth is 0.
  const zeros = vars.map((v) => ({ name: v.name, tensor: tf.zerosLike(v) }));
  opt.applyGradients(zeros);
  tf.dispose(zeros.map((z) => z.tensor));
  const step = (): number => {
    const g = tf.variableGrads(() => tf.mean(tf.square(bb.apply(x, { training: true, rng }))) as tf.Scalar, vars);
    opt.applyGradients(named(g.grads));
    tf.dispose(Object.values(g.grads));
    return readScalar(g.value);
  };
  const { total, stemMacs } = deeplabForwardMacs(batch, 368, 368);
  return {
    step,
    // forward + weight gradients + input gradients (all but the stem's, whose input is the image)
    macs: 3 * total - stemMacs,
    params: bb.numParameters({ trainableOnly: true }),
    batch,
    dispose: () => {
      bb.dispose();
      opt.dispose();
      x.dispose();
    },
  };
}

/** Options of the makers: `trainBatch` is deeplab_train_368_b8's batch (default 8); the others take none. */
export interface WorkloadOptions {
  trainBatch?: number;
}

export const MAKERS: Record<WorkloadName, (opts?: WorkloadOptions) => Workload> = {
  generator_step: makeGeneratorStep,
  sim_step: makeSimStep,
  transfer_step: makeTransferStep,
  sim_infer: makeSimInfer,
  deeplab_infer_513: makeDeeplabInfer513,
  deeplab_train_368_b8: makeDeeplabTrain368b8,
};
