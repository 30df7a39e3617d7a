/**
 * The training steps of METHOD §4, each a function of (model, optimizers, batch, rng) that
 * performs one update and returns its loss values. The trainer composes them into stages
 * (step 1 alone, step 1 / step 2 alternating, self-training); tests call them directly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@sign/core';
import { classwiseMmdLoss, l1AdversarialLoss, weightedCrossEntropy } from '@sign/losses';
import type { SignModel } from './model';
import type { Optimizer } from './optim';
import type { ExperimentConfig } from './config';

export const IGNORE = 255;

/** Stop-gradient (tfjs has none): identity forward, zero gradient backward. */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.mul(x, 1),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as <T extends tf.Tensor>(x: T) => T;

/** A training batch on the host: images at full resolution, targets at feature resolution. */
export interface HostBatch {
  /** [n, H, W, 1] in 0..1 */
  images: Float32Array;
  n: number;
  height: number;
  width: number;
  /** targets at the feature map's resolution [n, fh, fw]; 255 = ignore */
  labels: Int32Array;
  /** per-pixel CE weights [n, fh, fw] (1 for labelled pixels when absent) */
  weights?: Float32Array;
  fh: number;
  fw: number;
}

export interface Optimizers {
  encoder: Optimizer;
  disc: Optimizer;
  gen: Optimizer;
}

/**
 * Nearest-neighbour downsampling of a label map [n, H, W] to [n, h, w] (the centre pixel of
 * each cell), as the CaGNet code does for targets at the feature resolution.
 */
export function downsampleLabels(labels: ArrayLike<number>, n: number, H: number, W: number, h: number, w: number): Int32Array {
  const out = new Int32Array(n * h * w);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++) {
      const sy = Math.min(H - 1, Math.floor(((y + 0.5) * H) / h));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(W - 1, Math.floor(((x + 0.5) * W) / w));
        out[(b * h + y) * w + x] = labels[(b * H + sy) * W + sx];
      }
    }
  return out;
}

/**
 * Class-balanced pixel sampling: up to `perClass` pixels of every labelled class (weight ≥
 * `minWeight` where weights are given). Returns flat pixel indices and their labels.
 */
export function samplePixels(
  labels: Int32Array,
  rng: Rng,
  perClass: number,
  weights?: Float32Array,
  minWeight = 0.5,
): { index: Int32Array; label: Int32Array } {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c === IGNORE) continue;
    if (weights && weights[i] < minWeight) continue;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const index: number[] = [];
  const label: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(c)!;
    const picked = list.length <= perClass ? list : rng.shuffle(list.slice()).slice(0, perClass);
    for (const i of picked) {
      index.push(i);
      label.push(c);
    }
  }
  return { index: Int32Array.from(index), label: Int32Array.from(label) };
}

function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.div(tf.sum(tf.mul(values, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
}

/**
 * Cross-entropy of a list of pixel logits [P, K] against their labels [P] (weightedCrossEntropy on
 * a 1×P image, so labels 255 are ignored as everywhere else).
 */
function pixelListCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const [p, k] = logits.shape;
  return weightedCrossEntropy(tf.reshape(logits, [1, 1, p, k]) as tf.Tensor4D, tf.reshape(labels, [1, 1, p]) as tf.Tensor3D);
}

function scalarValues(named: Record<string, tf.Scalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(named)) out[k] = v.dataSync()[0];
  return out;
}

function applyGrads(opt: Optimizer, vars: Map<string, tf.Variable>, grads: tf.NamedTensorMap): void {
  opt.apply(vars, grads);
  for (const g of Object.values(grads)) g.dispose();
}

/**
 * Step 1 (METHOD §4.1), one iteration on a batch of seen-labelled (or pseudo-labelled) images:
 * - E/SIM and D/C: `clsReal·CE(C(F)) + kl·KL + L1adv(D(F),1) + L1adv(D(G̃),0) + clsFakeD·CE(C(G̃))`,
 *   where G̃ are fake features of a class-balanced pixel sample (z detached, G not updated) and
 *   the GAN terms see F and G̃ detached (they train D only);
 * - G: `mmd·classwiseMMD(F, G) + adv·L1adv(D(G),1) + clsFakeG·CE(C(G))` on the same pixels.
 */
export function step1Update(
  model: SignModel,
  opts: Optimizers,
  batch: HostBatch,
  rng: Rng,
  cfg: ExperimentConfig,
): Record<string, number> {
  const w = cfg.schedule.lossWeights;
  const { n, height, width, fh, fw } = batch;
  const P = n * fh * fw;
  const pixels = samplePixels(batch.labels, rng.fork('pixels'), cfg.schedule.pixelsPerClass, batch.weights);
  const D = model.featureDim;
  const encVars = model.encoderVariables();
  const discVars = model.discriminatorVariables();
  const genVars = model.generatorVariables();

  const images = tf.tensor4d(batch.images, [n, height, width, 1]);
  const labels = tf.tensor3d(batch.labels, [n, fh, fw], 'int32');
  const mask = tf.tidy(() => tf.cast(tf.notEqual(labels, IGNORE), 'float32'));
  const weights = (batch.weights ? tf.tensor3d(batch.weights, [n, fh, fw]) : mask.clone()) as tf.Tensor3D;
  const selIdx = tf.tensor1d(pixels.index, 'int32');
  const selLab = tf.tensor1d(pixels.label, 'int32');
  const hasPixels = pixels.index.length > 0;

  let realSel: tf.Tensor2D | null = null;
  let latentSel: tf.Tensor2D | null = null;
  let fakeSel: tf.Tensor2D | null = null;
  let flatKept: tf.Tensor2D | null = null;
  let latentKept: tf.Tensor2D | null = null;
  const lossesA: Record<string, tf.Scalar> = {};
  const nameOf = new Map<string, string>();
  for (const [k, v] of [...encVars, ...discVars, ...genVars]) nameOf.set(v.name, k);
  const split = (grads: tf.NamedTensorMap, into: tf.NamedTensorMap) => {
    for (const [vn, g] of Object.entries(grads)) {
      if (!g) continue;
      const k = nameOf.get(vn);
      if (k === undefined) g.dispose();
      else if (into[k]) {
        const sum = tf.add(into[k], g);
        into[k].dispose();
        g.dispose();
        into[k] = sum;
      } else into[k] = g;
    }
  };
  try {
    // --- E/SIM + C on real features (tape A1) ---
    const gradsEncDisc: tf.NamedTensorMap = {};
    const a1 = tf.variableGrads(() => {
      const out = model.features(images, { training: true, rng: rng.fork('features') });
      const flat = tf.reshape(out.feature, [P, D]) as tf.Tensor2D;
      flatKept = tf.keep(flat);
      if (out.latent) latentKept = tf.keep(tf.reshape(out.latent, [P, D]) as tf.Tensor2D);
      const dReal = model.disc.apply(flat, { training: true, rng: rng.fork('d-real') });
      const logits = tf.reshape(dReal.logits, [n, fh, fw, model.numClasses]) as tf.Tensor4D;
      const clsReal = weightedCrossEntropy(logits, labels, weights);
      let total = tf.mul(clsReal, w.clsReal) as tf.Scalar;
      lossesA.clsReal = tf.keep(clsReal);
      if (out.kl) {
        const kl = maskedMean(out.kl, mask);
        lossesA.kl = tf.keep(kl);
        total = tf.add(total, tf.mul(kl, w.kl));
      }
      return total as tf.Scalar;
    }, [...encVars.values(), ...discVars.values()]);
    a1.value.dispose();
    split(a1.grads, gradsEncDisc);

    // --- D/C on detached real and fake pixels (tape A2) ---
    if (hasPixels) {
      realSel = tf.tidy(() => tf.gather(flatKept as tf.Tensor2D, selIdx) as tf.Tensor2D);
      if (latentKept) latentSel = tf.tidy(() => tf.gather(latentKept as tf.Tensor2D, selIdx) as tf.Tensor2D);
      fakeSel = model.generate(selLab, latentSel ?? undefined, { training: true, rng: rng.fork('g-for-d') });
      const real = realSel as tf.Tensor2D;
      const fake = fakeSel as tf.Tensor2D;
      const a2 = tf.variableGrads(() => {
        const dr = model.disc.apply(real, { training: true, rng: rng.fork('d-real-sel') });
        const df = model.disc.apply(fake, { training: true, rng: rng.fork('d-fake') });
        const advD = tf.add(l1AdversarialLoss(dr.gan, 1), l1AdversarialLoss(df.gan, 0)) as tf.Scalar;
        lossesA.advD = tf.keep(advD);
        let total = tf.mul(advD, 1) as tf.Scalar;
        if (w.clsFakeD > 0) {
          const clsFakeD = pixelListCrossEntropy(df.logits, selLab);
          lossesA.clsFakeD = tf.keep(clsFakeD);
          total = tf.add(total, tf.mul(clsFakeD, w.clsFakeD));
        }
        return total;
      }, [...discVars.values()]);
      a2.value.dispose();
      split(a2.grads, gradsEncDisc);
    }
    const encGrads: tf.NamedTensorMap = {};
    const discGrads: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(gradsEncDisc)) (encVars.has(k) ? encGrads : discGrads)[k] = g;
    applyGrads(opts.encoder, encVars, encGrads);
    applyGrads(opts.disc, discVars, discGrads);

    // --- G update (tape B) ---
    if (hasPixels && realSel) {
      const real = realSel as tf.Tensor2D;
      const z = latentSel ?? undefined;
      const b = tf.variableGrads(() => {
        const fake = model.generate(selLab, z, { training: true, rng: rng.fork('g') });
        const mmd = classwiseMmdLoss(real, fake, selLab);
        const dOut = model.disc.apply(fake, { training: true, rng: rng.fork('d-for-g') });
        const adv = l1AdversarialLoss(dOut.gan, 1);
        lossesA.mmd = tf.keep(mmd);
        lossesA.adv = tf.keep(adv);
        let total = tf.add(tf.mul(mmd, w.mmd), tf.mul(adv, w.adv)) as tf.Scalar;
        if (w.clsFakeG > 0) {
          const clsFakeG = pixelListCrossEntropy(dOut.logits, selLab);
          lossesA.clsFakeG = tf.keep(clsFakeG);
          total = tf.add(total, tf.mul(clsFakeG, w.clsFakeG));
        }
        return total;
      }, [...genVars.values()]);
      b.value.dispose();
      const genGrads: tf.NamedTensorMap = {};
      split(b.grads, genGrads);
      applyGrads(opts.gen, genVars, genGrads);
    }
    return scalarValues(lossesA);
  } finally {
    for (const t of Object.values(lossesA)) t.dispose();
    tf.dispose([images, labels, mask, weights, selIdx, selLab]);
    for (const t of [realSel, latentSel, fakeSel, flatKept, latentKept] as (tf.Tensor | null)[]) t?.dispose();
  }
}

/**
 * The class prior of step 2 (METHOD §4.2): `(1 − r)·uniform(S ∪ U ∪ {bg}) + r·uniform(U)`,
 * r = genUnseenRate. Returns probabilities per class id.
 */
export function transferPrior(numClasses: number, unseen: number[], genUnseenRate: number): Float64Array {
  const p = new Float64Array(numClasses).fill((1 - genUnseenRate) / numClasses);
  for (const u of unseen) p[u] += genUnseenRate / unseen.length;
  return p;
}

function sampleFromPrior(prior: Float64Array, count: number, rng: Rng): Int32Array {
  const cdf = new Float64Array(prior.length);
  let s = 0;
  for (let i = 0; i < prior.length; i++) cdf[i] = s += prior[i];
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const u = rng.uniform() * s;
    let c = 0;
    while (c < cdf.length - 1 && cdf[c] <= u) c++;
    out[k] = c;
  }
  return out;
}

/**
 * Step 2 (METHOD §4.2), one iteration: E/SIM frozen; sample `transferPixels` class ids from
 * the prior, embed them with M, pair with z ~ N(0, I), generate features and train C on them
 * (`clsTransfer·CE`); with `transferMixReal` > 0, real features of a class-balanced sample of
 * the batch's labelled pixels join the same cross-entropy. With `transferUpdatesG`, G is also
 * updated through C's loss.
 */
export function transferUpdate(
  model: SignModel,
  opts: Optimizers,
  batch: HostBatch | null,
  rng: Rng,
  cfg: ExperimentConfig,
): Record<string, number> {
  const s = cfg.schedule;
  const K = model.numClasses;
  const prior = transferPrior(K, model.classes.unseen, s.genUnseenRate);
  const fakeLabels = sampleFromPrior(prior, s.transferPixels, rng.fork('prior-labels'));
  const fakeLab = tf.tensor1d(fakeLabels, 'int32');
  let real: tf.Tensor2D | null = null;
  let realLab: Int32Array = new Int32Array(0);
  if (batch && s.transferMixReal > 0) {
    const { n, height, width, fh, fw } = batch;
    const perClass = Math.max(1, Math.ceil((s.transferMixReal * s.transferPixels) / Math.max(1, K - model.classes.unseen.length)));
    const pix = samplePixels(batch.labels, rng.fork('real-pixels'), perClass, batch.weights);
    if (pix.index.length > 0) {
      realLab = pix.label;
      real = tf.tidy(() => {
        const images = tf.tensor4d(batch.images, [n, height, width, 1]);
        const { feature } = model.features(images, { training: false, rng: rng.fork('features'), noise: 'zero' });
        return tf.gather(tf.reshape(feature, [n * fh * fw, model.featureDim]), tf.tensor1d(pix.index, 'int32')) as tf.Tensor2D;
      });
    }
  }
  const allLab = tf.tensor1d(Int32Array.from([...fakeLabels, ...realLab]), 'int32');
  const discVars = model.discriminatorVariables();
  const genVars = s.transferUpdatesG ? model.generatorVariables() : new Map<string, tf.Variable>();
  const nameOf = new Map<string, string>();
  for (const [k, v] of [...discVars, ...genVars]) nameOf.set(v.name, k);
  const kept: Record<string, tf.Scalar> = {};
  try {
    const { value, grads } = tf.variableGrads(() => {
      let fake = model.generate(fakeLab, undefined, { training: true, rng: rng.fork('g') });
      if (!s.transferUpdatesG) fake = stopGradient(fake) as tf.Tensor2D;
      const feats = real ? (tf.concat([fake, real], 0) as tf.Tensor2D) : fake;
      const { logits } = model.disc.apply(feats, { training: true, rng: rng.fork('c') });
      const ce = pixelListCrossEntropy(logits, allLab);
      kept.clsTransfer = tf.keep(ce);
      return tf.mul(ce, cfg.schedule.lossWeights.clsTransfer) as tf.Scalar;
    }, [...discVars.values(), ...genVars.values()]);
    value.dispose();
    const dg: tf.NamedTensorMap = {};
    const gg: tf.NamedTensorMap = {};
    for (const [vn, g] of Object.entries(grads)) {
      const k = nameOf.get(vn);
      if (!g) continue;
      if (k === undefined) g.dispose();
      else (discVars.has(k) ? dg : gg)[k] = g;
    }
    applyGrads(opts.disc, discVars, dg);
    if (s.transferUpdatesG) applyGrads(opts.gen, genVars, gg);
    return scalarValues(kept);
  } finally {
    for (const t of Object.values(kept)) t.dispose();
    tf.dispose([fakeLab, allLab]);
    real?.dispose();
  }
}
