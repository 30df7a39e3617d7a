/**
 * The two updates of METHOD §4, generic over a recipe's losses: each takes (model, optimizers,
 * batch, rng, losses) and performs one update of every part whose weights are not all 0. The
 * weights come from the recipe's `LossSpec` (per term, per part), so nothing here names a recipe.
 * Loss values come back as scalar tensors (the caller reads them asynchronously and disposes
 * them): nothing in an update reads from the backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@sign/core';
import { classwiseMmdLoss, klDivergence, l1AdversarialLoss, weightedCrossEntropy } from '@sign/losses';
import { transferPrior, type GzsModel, type LossSpec, type Part, type TransferPrior } from '@sign/recipes';
import type { Optimizer } from './optim/optimizers';

export const IGNORE = 255;

/** One optimizer per part. */
export type Optimizers = Record<Part, Optimizer>;

/**
 * `scaleGradient(x, k)`: the identity forward, k·dy backward (k = 0 stops the gradient). Used
 * where one loss term reaches two parts with different weights: the term is weighted for the
 * downstream part and the gradient into the upstream part is scaled by the ratio.
 */
export function scaleGradient<T extends tf.Tensor>(x: T, k: number): T {
  const op = tf.customGrad(((t: tf.Tensor) => ({
    value: tf.mul(t, 1),
    gradFunc: (dy: tf.Tensor) => (k === 0 ? tf.zerosLike(dy) : tf.mul(dy, k)),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (op as unknown as (t: tf.Tensor) => T)(x);
}

/** A training batch on the host: images at full resolution, targets at feature resolution. */
export interface HostBatch {
  /** [n, H, W, C], normalised */
  images: Float32Array;
  n: number;
  height: number;
  width: number;
  channels: number;
  /** targets at the feature map's resolution [n, fh, fw]; 255 = ignore */
  labels: Int32Array;
  /** per-pixel CE weights [n, fh, fw] (1 for labelled pixels when absent) */
  weights?: Float32Array;
  fh: number;
  fw: number;
}

/** What the updates read besides the losses. */
export interface UpdateSettings {
  losses: LossSpec;
  /** Clip each part's gradient to this global L2 norm before its update (absent: no clipping). */
  clipGradNorm?: Partial<Record<Part, number>>;
  /**
   * When given, each update adds one scalar per part it updated (owned by the caller), NaN when
   * a value was not finite (or the values summed beyond float32's range) and 0 otherwise: `gradient.<part>` (its gradient, before clipping) and
   * `state.<part>` (its optimizer state after the update). One reduction per tensor, no read.
   */
  probes?: Record<string, tf.Scalar>;
  /** Step 1: pixels per class fed to G, D and the MMD. */
  pixelsPerClass: number;
  /** Step 2: generated pixels, prior, share of real pixels mixed in. */
  transferPixels: number;
  transferPrior: TransferPrior;
  transferMixReal: number;
}

/**
 * Nearest-neighbour downsampling of a label map [n, H, W] to [n, h, w] (the centre pixel of
 * each cell), as the CaGNet code does for targets at the feature resolution.
 *
 * @example
 * downsampleLabels(Uint8Array.from([0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 255]), 1, 4, 4, 2, 2); // [1, 2, 3, 255]
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
 *
 * @example
 * samplePixels(Int32Array.from([0, 0, 0, 1, 255]), new Rng(0), 2); // 2 pixels of class 0, 1 of class 1
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

/** Throws, naming the pixel, unless every label is a class id < numClasses or the ignore index. */
export function checkLabels(labels: Int32Array, numClasses: number, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c !== IGNORE && (c < 0 || c >= numClasses)) throw new Error(`${what}: label ${c} at pixel ${i} is not a class id (0..${numClasses - 1}) nor ${IGNORE}`);
  }
}

/** CE of pixel logits [P, K] against labels [P] (weightedCrossEntropy on a 1×P image; labels checked by the caller). */
export function pixelListCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const [p, k] = logits.shape;
  return weightedCrossEntropy(tf.reshape(logits, [1, 1, p, k]) as tf.Tensor4D, tf.reshape(labels, [1, 1, p]) as tf.Tensor3D, undefined, {
    checkLabels: false,
  });
}

/** Gradients by model path (variables of other parts are dropped), summed into `into`. */
function collect(grads: tf.NamedTensorMap, nameOf: Map<string, string>, into: tf.NamedTensorMap): void {
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
}

/** The sum of scalars by a tree of two-input adds (WebGPU's addN binds every input at once: at most 16). */
function sumScalars(list: tf.Tensor[]): tf.Scalar {
  let level = list;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? tf.add(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return (level[0] ?? tf.scalar(0)) as tf.Scalar;
}

/**
 * NaN when one of `tensors` holds NaN or ±Infinity (or their values sum beyond float32's range,
 * ~3.4e38: no training state is sane there either), else 0: (Σ x)·0, one reduction per tensor,
 * one scalar, not read.
 */
function finiteProbe(tensors: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.mul(sumScalars(tensors.map((t) => tf.sum(t))), 0));
}

function addProbe(probes: Record<string, tf.Scalar>, key: string, probe: tf.Scalar): void {
  const prev = probes[key];
  if (!prev) probes[key] = probe;
  else {
    probes[key] = tf.add(prev, probe);
    tf.dispose([prev, probe]);
  }
}

/**
 * `grads` scaled by min(1, maxNorm / (‖grads‖₂ + 1e-6)) over all of them together (PyTorch's
 * `clip_grad_norm_`), computed on the device (no read).
 */
function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const list = Object.values(grads);
    const norm = tf.sqrt(sumScalars(list.map((g) => tf.sum(tf.square(g)))));
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, coef);
    return out;
  });
}

function applyGrads(opt: Optimizer, vars: Map<string, tf.Variable>, grads: tf.NamedTensorMap, part: Part, s: Pick<UpdateSettings, 'clipGradNorm' | 'probes'>): void {
  let mine: tf.NamedTensorMap = {};
  for (const [k, g] of Object.entries(grads)) if (vars.has(k)) mine[k] = g;
  const owned = Object.values(mine);
  try {
    if (owned.length === 0) return;
    if (s.probes) addProbe(s.probes, `gradient.${part}`, finiteProbe(owned));
    const clip = s.clipGradNorm?.[part];
    if (clip !== undefined) {
      mine = clipByGlobalNorm(mine, clip);
      owned.push(...Object.values(mine));
    }
    opt.apply(vars, mine);
    if (s.probes) addProbe(s.probes, `state.${part}`, finiteProbe(Object.values(opt.state())));
  } finally {
    for (const g of owned) g.dispose();
  }
}

/**
 * `w_down · term` where `w_up`/`w_down` are the term's weights on the part that produced the
 * input (upstream) and the part that consumes it (downstream): the input's gradient is scaled
 * by w_up/w_down. Returns the input to use and the factor of the term (0: skip the term).
 */
function route<T extends tf.Tensor>(x: T, wUp: number, wDown: number): { input: T; factor: number } {
  if (wDown > 0) return { input: wUp === wDown ? x : scaleGradient(x, wUp / wDown), factor: wDown };
  return { input: x, factor: wUp };
}

/**
 * Step 1 (METHOD §4.1), one iteration on a batch of seen-labelled (or pseudo-labelled) images:
 * - backbone (E/SIM) and classifier (D/C), one tape: `clsReal` (C on F; its backbone weight
 *   reaches E/SIM through a gradient scale at F) and `kl` (z's KL, over labelled pixels);
 * - classifier on a class-balanced pixel sample, F and z detached: `advD` (L1(D(F), 1) +
 *   L1(D(G̃), 0), G̃ generated outside the tape) and the classifier weight of `clsFake`;
 * - generator on the same pixels, z detached: `mmd`, `advG` (L1(D(G), 1)) and the generator weight
 *   of `clsFake`.
 * Terms with weight 0 on a part do not update it; terms the model cannot compute (no SIM: `kl`;
 * no GAN head: `advD`, `advG`) are skipped.
 *
 * @returns the loss values (scalars, owned by the caller): clsReal, kl, advD, clsFakeD, mmd, advG, clsFakeG
 */
export function step1Update(
  model: GzsModel,
  opts: Optimizers,
  batch: HostBatch,
  rng: Rng,
  s: Pick<UpdateSettings, 'losses' | 'pixelsPerClass' | 'clipGradNorm' | 'probes'>,
): Record<string, tf.Scalar> {
  const L = s.losses;
  const w = {
    clsRealB: L.clsReal?.backbone ?? 0,
    clsRealC: L.clsReal?.classifier ?? 0,
    kl: model.sim ? (L.kl?.backbone ?? 0) : 0,
    advD: model.hasGanHead ? (L.advD?.classifier ?? 0) : 0,
    clsFakeC: L.clsFake?.classifier ?? 0,
    clsFakeG: L.clsFake?.generator ?? 0,
    mmd: L.mmd?.generator ?? 0,
    advG: model.hasGanHead ? (L.advG?.generator ?? 0) : 0,
  };
  const { n, height, width, channels, fh, fw } = batch;
  const P = n * fh * fw;
  const pixels = samplePixels(batch.labels, rng.fork('pixels'), s.pixelsPerClass, batch.weights);
  const D = model.featureDim;
  const encVars = model.partVariables('backbone');
  const discVars = model.partVariables('classifier');
  const genVars = model.partVariables('generator');
  const nameOf = new Map<string, string>();
  for (const [k, v] of [...encVars, ...discVars, ...genVars]) nameOf.set(v.name, k);

  const images = tf.tensor4d(batch.images, [n, height, width, channels]);
  const labels = tf.tensor3d(batch.labels, [n, fh, fw], 'int32');
  const mask = tf.tidy(() => tf.cast(tf.notEqual(labels, IGNORE), 'float32')) as tf.Tensor3D;
  const weights = (batch.weights ? tf.tensor3d(batch.weights, [n, fh, fw]) : mask.clone()) as tf.Tensor3D;
  const selIdx = tf.tensor1d(pixels.index, 'int32');
  const selLab = tf.tensor1d(pixels.label, 'int32');
  const hasPixels = pixels.index.length > 0;

  let realSel: tf.Tensor2D | null = null;
  let latentSel: tf.Tensor2D | null = null;
  let fakeSel: tf.Tensor2D | null = null;
  let flatKept: tf.Tensor2D | null = null;
  let latentKept: tf.Tensor2D | null = null;
  const losses: Record<string, tf.Scalar> = {};
  try {
    // --- backbone (E/SIM) + classifier on real features (tape A1) ---
    const gradsEncDisc: tf.NamedTensorMap = {};
    const forward = (): tf.Scalar => {
      const out = model.features(images, { training: true, rng: rng.fork('features') });
      const flat = tf.reshape(out.feature, [P, D]) as tf.Tensor2D;
      flatKept = tf.keep(flat);
      if (out.latent) latentKept = tf.keep(tf.reshape(out.latent, [P, D]) as tf.Tensor2D);
      let total = tf.scalar(0);
      if (w.clsRealB > 0 || w.clsRealC > 0) {
        const { input, factor } = route(flat, w.clsRealB, w.clsRealC);
        const dReal = model.disc.apply(input, { training: true, rng: rng.fork('d-real') });
        const logits = tf.reshape(dReal.logits, [n, fh, fw, model.numClasses]) as tf.Tensor4D;
        const clsReal = weightedCrossEntropy(logits, labels, weights, { checkLabels: false });
        total = tf.mul(clsReal, factor) as tf.Scalar;
        losses.clsReal = tf.keep(clsReal);
      }
      if (w.kl > 0 && out.mu && out.logvar) {
        const kl = klDivergence(out.mu, out.logvar, mask, { variance: out.variance });
        losses.kl = tf.keep(kl);
        total = tf.add(total, tf.mul(kl, w.kl));
      }
      return total as tf.Scalar;
    };
    if (w.clsRealB > 0 || w.clsRealC > 0 || w.kl > 0) {
      const a1 = tf.variableGrads(forward, [...encVars.values(), ...(w.clsRealC > 0 ? discVars.values() : [])]);
      a1.value.dispose();
      collect(a1.grads, nameOf, gradsEncDisc);
    } else {
      tf.tidy(forward); // the features G, D and the MMD need; nothing to update from real features
    }

    // --- classifier on detached real and generated pixels (tape A2) ---
    if (hasPixels) {
      realSel = tf.tidy(() => tf.gather(flatKept as tf.Tensor2D, selIdx) as tf.Tensor2D);
      if (latentKept) latentSel = tf.tidy(() => tf.gather(latentKept as tf.Tensor2D, selIdx) as tf.Tensor2D);
    }
    if (hasPixels && (w.advD > 0 || w.clsFakeC > 0)) {
      fakeSel = model.generate(selLab, latentSel ?? undefined, { training: true, rng: rng.fork('g-for-d') });
      const realD = realSel as tf.Tensor2D;
      const fakeD = fakeSel as tf.Tensor2D;
      const a2 = tf.variableGrads(() => {
        let total = tf.scalar(0) as tf.Scalar;
        const df = model.disc.apply(fakeD, { training: true, rng: rng.fork('d-fake') });
        if (w.advD > 0) {
          const dr = model.disc.apply(realD, { training: true, rng: rng.fork('d-real-sel') });
          const advD = tf.add(l1AdversarialLoss(dr.gan!, 1), l1AdversarialLoss(df.gan!, 0)) as tf.Scalar;
          losses.advD = tf.keep(advD);
          total = tf.mul(advD, w.advD);
        }
        if (w.clsFakeC > 0) {
          const clsFakeD = pixelListCrossEntropy(df.logits, selLab);
          losses.clsFakeD = tf.keep(clsFakeD);
          total = tf.add(total, tf.mul(clsFakeD, w.clsFakeC));
        }
        return total;
      }, [...discVars.values()]);
      a2.value.dispose();
      collect(a2.grads, nameOf, gradsEncDisc);
    }
    applyGrads(opts.backbone, encVars, gradsEncDisc, 'backbone', s);
    applyGrads(opts.classifier, discVars, gradsEncDisc, 'classifier', s);

    // --- generator (tape B): z comes from outside the tape, so nothing reaches the SIM ---
    if (hasPixels && realSel && (w.mmd > 0 || w.advG > 0 || w.clsFakeG > 0)) {
      const realG = realSel as tf.Tensor2D;
      const z = latentSel ?? undefined;
      const b = tf.variableGrads(() => {
        const fake = model.generate(selLab, z, { training: true, rng: rng.fork('g') });
        let total = tf.scalar(0) as tf.Scalar;
        if (w.mmd > 0) {
          const mmd = classwiseMmdLoss(realG, fake, pixels.label, { sigmas: L.mmd!.sigmas });
          losses.mmd = tf.keep(mmd);
          total = tf.mul(mmd, w.mmd);
        }
        if (w.advG > 0 || w.clsFakeG > 0) {
          const dOut = model.disc.apply(fake, { training: true, rng: rng.fork('d-for-g') });
          if (w.advG > 0) {
            const advG = l1AdversarialLoss(dOut.gan!, 1);
            losses.advG = tf.keep(advG);
            total = tf.add(total, tf.mul(advG, w.advG));
          }
          if (w.clsFakeG > 0) {
            const clsFakeG = pixelListCrossEntropy(dOut.logits, selLab);
            losses.clsFakeG = tf.keep(clsFakeG);
            total = tf.add(total, tf.mul(clsFakeG, w.clsFakeG));
          }
        }
        return total;
      }, [...genVars.values()]);
      b.value.dispose();
      const genGrads: tf.NamedTensorMap = {};
      collect(b.grads, nameOf, genGrads);
      applyGrads(opts.generator, genVars, genGrads, 'generator', s);
    }
    return losses;
  } catch (err) {
    for (const t of Object.values(losses)) t.dispose();
    throw err;
  } finally {
    tf.dispose([images, labels, mask, weights, selIdx, selLab]);
    for (const t of [realSel, latentSel, fakeSel, flatKept, latentKept] as (tf.Tensor | null)[]) t?.dispose();
  }
}

/** `count` class ids drawn from `prior` (probabilities per class id, [K]) by inverse CDF. */
export function sampleFromPrior(prior: Float64Array, count: number, rng: Rng): Int32Array {
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
 * Step 2 (METHOD §4.2), one iteration: backbone (E/SIM) frozen (its features are computed
 * outside the tape); `transferPixels` class ids are drawn from the transfer prior, embedded with
 * M, paired with z ~ N(0, I), and G's features train C with the classifier weight of
 * `clsTransfer`; G is trained through C's loss with its generator weight (0: not at all). With
 * `transferMixReal` > 0, real features of a class-balanced sample of the batch's labelled pixels
 * join the same cross-entropy.
 *
 * @returns the loss values (scalars, owned by the caller): clsTransfer
 */
export function transferUpdate(
  model: GzsModel,
  opts: Optimizers,
  batch: HostBatch | null,
  rng: Rng,
  s: Pick<UpdateSettings, 'losses' | 'transferPixels' | 'transferPrior' | 'transferMixReal' | 'clipGradNorm' | 'probes'>,
): Record<string, tf.Scalar> {
  const K = model.numClasses;
  const wC = s.losses.clsTransfer?.classifier ?? 0;
  const wG = s.losses.clsTransfer?.generator ?? 0;
  if (wC === 0 && wG === 0) return {};
  const prior = transferPrior(s.transferPrior, model.classes);
  const fakeLabels = sampleFromPrior(prior, s.transferPixels, rng.fork('prior-labels'));
  const fakeLab = tf.tensor1d(fakeLabels, 'int32');
  let real: tf.Tensor2D | null = null;
  let realLab: Int32Array = new Int32Array(0);
  if (batch && s.transferMixReal > 0) {
    const { n, height, width, channels, fh, fw } = batch;
    const perClass = Math.max(1, Math.ceil((s.transferMixReal * s.transferPixels) / Math.max(1, K - model.classes.unseen.length)));
    const pix = samplePixels(batch.labels, rng.fork('real-pixels'), perClass, batch.weights);
    if (pix.index.length > 0) {
      realLab = pix.label;
      real = tf.tidy(() => {
        const images = tf.tensor4d(batch.images, [n, height, width, channels]);
        const { feature } = model.features(images, { training: false, rng: rng.fork('features'), noise: 'zero' });
        return tf.gather(tf.reshape(feature, [n * fh * fw, model.featureDim]), tf.tensor1d(pix.index, 'int32')) as tf.Tensor2D;
      });
    }
  }
  const allLab = tf.tensor1d(Int32Array.from([...fakeLabels, ...realLab]), 'int32');
  const discVars = wC > 0 ? model.partVariables('classifier') : new Map<string, tf.Variable>();
  const genVars = wG > 0 ? model.partVariables('generator') : new Map<string, tf.Variable>();
  const nameOf = new Map<string, string>();
  for (const [k, v] of [...discVars, ...genVars]) nameOf.set(v.name, k);
  const losses: Record<string, tf.Scalar> = {};
  try {
    const { value, grads } = tf.variableGrads(() => {
      const generated = model.generate(fakeLab, undefined, { training: true, rng: rng.fork('g') });
      const { input: fake, factor } = route(generated, wG, wC);
      const feats = real ? (tf.concat([fake, real], 0) as tf.Tensor2D) : fake;
      const { logits } = model.disc.apply(feats, { training: true, rng: rng.fork('c') });
      const ce = pixelListCrossEntropy(logits, allLab);
      losses.clsTransfer = tf.keep(ce);
      return tf.mul(ce, factor) as tf.Scalar;
    }, [...discVars.values(), ...genVars.values()]);
    value.dispose();
    const all: tf.NamedTensorMap = {};
    collect(grads, nameOf, all);
    applyGrads(opts.classifier, discVars, all, 'classifier', s);
    applyGrads(opts.generator, genVars, all, 'generator', s);
    return losses;
  } catch (err) {
    for (const t of Object.values(losses)) t.dispose();
    throw err;
  } finally {
    tf.dispose([fakeLab, allLab]);
    real?.dispose();
  }
}
