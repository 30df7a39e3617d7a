/**
 * A SIGN training step (METHOD §4.1, step 1) assembled from the packages themselves — backbone,
 * SIM, generator, discriminator/classifier, losses — without the trainer's step functions, so
 * that it runs on every backend (webgpu has no synchronous reads) and does not follow the
 * trainer's internals. Used by the backend parity test and the step benchmark.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Module, Rng } from '@sign/core';
import type { HostValues, ParityCase } from '@sign/core/testing';
import { createBackbone, type Backbone } from '@sign/backbones';
import { SpatialInformationModule } from '@sign/sim';
import { createGenerator, Discriminator, type Generator } from '@sign/generator';
import { classwiseMmdLoss, klDivergence, l1AdversarialLoss, weightedCrossEntropy } from '@sign/losses';

export interface ParitySizes {
  batch: number;
  /** image side (square, 1 channel) */
  size: number;
  /** feature channels D (backbone output, SIM, generator output) */
  channels: number;
  simHidden: number;
  genHidden: number[];
  discHidden: number;
  numClasses: number;
  embeddingDim: number;
  /** class-balanced pixels per class for the generator's losses */
  pixelsPerClass: number;
}

/** The demo model's sizes (DEMO_CONFIG: 64×64 images, batch 8, 32 channels). */
export const DEMO_SIZES: ParitySizes = {
  batch: 8,
  size: 64,
  channels: 32,
  simHidden: 32,
  genHidden: [128, 128],
  discHidden: 128,
  numClasses: 11,
  embeddingDim: 300,
  pixelsPerClass: 16,
};

/** A smaller model with the same parts, for tests. */
export const TEST_SIZES: ParitySizes = {
  batch: 2,
  size: 32,
  channels: 16,
  simHidden: 16,
  genHidden: [32],
  discHidden: 32,
  numClasses: 5,
  embeddingDim: 12,
  pixelsPerClass: 6,
};

export class ParityModel extends Module {
  readonly backbone: Backbone;
  readonly sim: SpatialInformationModule;
  readonly generator: Generator;
  readonly disc: Discriminator;
  readonly embeddings: tf.Tensor2D;

  constructor(
    readonly sizes: ParitySizes,
    rng: Rng,
  ) {
    super();
    const D = sizes.channels;
    this.backbone = this.child('backbone', createBackbone('small', rng.fork('backbone'), { inChannels: 1, channels: D }));
    this.sim = this.child(
      'sim',
      new SpatialInformationModule(rng.fork('sim'), { channels: D, hidden: sizes.simHidden, dilations: [1, 2, 5], positional: 'relative' }),
    );
    this.generator = this.child(
      'generator',
      createGenerator('sign', rng.fork('generator'), { embeddingDim: sizes.embeddingDim, featureDim: D, hidden: sizes.genHidden }),
    );
    this.disc = this.child(
      'disc',
      new Discriminator(rng.fork('disc'), { featureDim: D, hidden: sizes.discHidden, numClasses: sizes.numClasses, dropout: 0.2 }),
    );
    const e = rng.fork('embeddings').normalArray(sizes.numClasses * sizes.embeddingDim);
    this.embeddings = tf.tensor2d(e, [sizes.numClasses, sizes.embeddingDim]);
  }

  variables(prefixes: string[]): tf.Variable[] {
    return [...this.namedParameters()].filter(([k]) => prefixes.some((p) => k.startsWith(p))).map(([, v]) => v);
  }

  override dispose(): void {
    super.dispose();
    this.embeddings.dispose();
  }
}

/** A batch on the host: images [n,S,S,1] in 0..1 and labels at feature resolution [n,S/4,S/4]. */
export interface ParityBatch {
  images: Float32Array;
  labels: Int32Array;
  /** flat indices of a class-balanced pixel sample, and their labels */
  pixels: Int32Array;
  pixelLabels: Int32Array;
  featureSide: number;
}

/** A deterministic batch: labels in blocks of 2×2 feature pixels, 255 (ignored) on one block in 8. */
export function parityBatch(sizes: ParitySizes, rng: Rng): ParityBatch {
  const { batch: n, size: S, numClasses: K } = sizes;
  const f = Math.ceil(S / 4);
  const images = Float32Array.from(rng.fork('images').uniformArray(n * S * S));
  const labels = new Int32Array(n * f * f);
  const lr = rng.fork('labels');
  for (let b = 0; b < n; b++)
    for (let y = 0; y < f; y += 2)
      for (let x = 0; x < f; x += 2) {
        const c = lr.int(8) === 0 ? 255 : lr.int(K);
        for (let dy = 0; dy < 2 && y + dy < f; dy++)
          for (let dx = 0; dx < 2 && x + dx < f; dx++) labels[(b * f + y + dy) * f + x + dx] = c;
      }
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    if (c !== 255) byClass.set(c, [...(byClass.get(c) ?? []), i]);
  });
  const pixels: number[] = [];
  const pixelLabels: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const i of byClass.get(c)!.slice(0, sizes.pixelsPerClass)) {
      pixels.push(i);
      pixelLabels.push(c);
    }
  }
  return { images, labels, pixels: Int32Array.from(pixels), pixelLabels: Int32Array.from(pixelLabels), featureSide: f };
}

export interface ParityOptimizers {
  encDisc: tf.Optimizer;
  gen: tf.Optimizer;
}

export function parityOptimizers(): ParityOptimizers {
  return { encDisc: tf.train.momentum(0.01, 0.9), gen: tf.train.momentum(0.01, 0.9) };
}

/** Adds `grads` into `into` (by variable name), disposing what it replaces. */
function accumulate(into: tf.NamedTensorMap, grads: tf.NamedTensorMap): void {
  for (const [k, g] of Object.entries(grads)) {
    if (into[k]) {
      const sum = tf.add(into[k], g);
      tf.dispose([into[k], g]);
      into[k] = sum;
    } else into[k] = g;
  }
}

/**
 * One step-1 update, as METHOD §4.1 (and the trainer's step1Update) composes it:
 * - E, SIM, D, C on `CE(C(F)) + 0.1·KL` (tape A1) plus `L1adv(D(F̃),1) + L1adv(D(G̃),0)` on a
 *   class-balanced pixel sample, F̃ and the latent codes detached, G̃ generated from them (tape A2);
 * - G on `MMD(F̃, G) + L1adv(D(G),1) + CE(C(G))` (tape B).
 * Returns the two total losses (caller disposes).
 */
export function parityStep(model: ParityModel, opt: ParityOptimizers, batch: ParityBatch, rng: Rng): tf.Scalar[] {
  const { batch: n, size: S, channels: D, numClasses: K } = model.sizes;
  const f = batch.featureSide;
  const P = n * f * f;
  const p = batch.pixels.length;
  const images = tf.tensor4d(batch.images, [n, S, S, 1]);
  // Label tensors are made where each loss needs them: the losses check label ranges with a
  // synchronous read, which webgpu can do only for a tensor that has not been uploaded yet.
  const labelMap = () => tf.tensor3d(batch.labels, [n, f, f], 'int32');
  const pixelLabels = () => tf.tensor1d(batch.pixelLabels, 'int32');
  const mask = tf.tidy(() => tf.cast(tf.notEqual(labelMap(), 255), 'float32')) as tf.Tensor3D;
  const idx = tf.tensor1d(batch.pixels, 'int32');
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    kept.push(t);
    return t;
  };
  try {
    const encDiscVars = model.variables(['backbone.', 'sim.', 'disc.']);
    let flat: tf.Tensor2D | null = null;
    let latent: tf.Tensor2D | null = null;
    const a1 = tf.variableGrads(() => {
      const h = model.backbone.apply(images, { training: true, rng: rng.fork('backbone') });
      const out = model.sim.apply(h, { training: true, rng: rng.fork('sim'), noise: 'sample' });
      flat = keep(tf.keep(tf.reshape(out.feature, [P, D]) as tf.Tensor2D));
      latent = keep(tf.keep(tf.reshape(out.latent, [P, D]) as tf.Tensor2D));
      const logits = tf.reshape(model.disc.apply(flat, { training: true, rng: rng.fork('d-real') }).logits, [n, f, f, K]);
      const ce = weightedCrossEntropy(logits as tf.Tensor4D, labelMap(), mask);
      return tf.add(ce, tf.mul(klDivergence(out.mu, out.logvar, mask as tf.Tensor3D), 0.1)) as tf.Scalar;
    }, encDiscVars);
    const real = keep(tf.gather(flat!, idx) as tf.Tensor2D);
    const z = keep(tf.gather(latent!, idx) as tf.Tensor2D);
    const embed = keep(tf.tidy(() => tf.gather(model.embeddings, pixelLabels()) as tf.Tensor2D));
    const fakeD = keep(model.generator.generate({ embeddings: embed, latent: z }, { training: true, rng: rng.fork('g-for-d') }));
    const a2 = tf.variableGrads(() => {
      const dr = model.disc.apply(real, { training: true, rng: rng.fork('d-real-sel') });
      const df = model.disc.apply(fakeD, { training: true, rng: rng.fork('d-fake') });
      return tf.add(l1AdversarialLoss(dr.gan!, 1), l1AdversarialLoss(df.gan!, 0)) as tf.Scalar;
    }, model.variables(['disc.']));
    const grads: tf.NamedTensorMap = {};
    accumulate(grads, a1.grads);
    accumulate(grads, a2.grads);
    opt.encDisc.applyGradients(grads);
    tf.dispose(Object.values(grads));
    const lossA = tf.add(a1.value, a2.value) as tf.Scalar;
    tf.dispose([a1.value, a2.value]);

    const b = tf.variableGrads(() => {
      const fake = model.generator.generate({ embeddings: embed, latent: z }, { training: true, rng: rng.fork('g') });
      const mmd = classwiseMmdLoss(real, fake, pixelLabels());
      const d = model.disc.apply(fake, { training: true, rng: rng.fork('d-for-g') });
      const ce = weightedCrossEntropy(
        tf.reshape(d.logits, [1, 1, p, K]) as tf.Tensor4D,
        tf.reshape(pixelLabels(), [1, 1, p]) as tf.Tensor3D,
      );
      return tf.addN([mmd, l1AdversarialLoss(d.gan!, 1), ce]) as tf.Scalar;
    }, model.variables(['generator.']));
    opt.gen.applyGradients(b.grads);
    tf.dispose(Object.values(b.grads));
    return [lossA, b.value];
  } finally {
    tf.dispose([images, mask, idx, ...kept]);
  }
}

/**
 * Parameters after `steps` updates of a fresh TEST_SIZES model (seeded), read to the host, plus
 * the losses of every step. The same seed gives the same inits, data, dropout masks and noise on
 * every backend (all drawn on the host).
 */
export async function parameterTrajectory(steps: number, sizes: ParitySizes = TEST_SIZES): Promise<HostValues> {
  const rng = new Rng(5);
  const model = new ParityModel(sizes, rng.fork('model'));
  const opt = parityOptimizers();
  try {
    const batch = parityBatch(sizes, rng.fork('batch'));
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const [a, b] = parityStep(model, opt, batch, rng.fork(`step ${s}`));
      losses.push((await a.data())[0], (await b.data())[0]);
      tf.dispose([a, b]);
    }
    const out: HostValues = { losses: Float64Array.from(losses) };
    for (const [name, v] of model.namedParameters()) out[name] = await v.data();
    return out;
  } finally {
    model.dispose();
    opt.encDisc.dispose();
    opt.gen.dispose();
  }
}

export const TRAINING_CASES: ParityCase[] = [
  { name: 'three step-1 updates of a small SIGN model: every parameter and loss', tol: 1e-4, compute: () => parameterTrajectory(3) },
];
