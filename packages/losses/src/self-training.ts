import * as tf from '@tensorflow/tfjs-core';
import {
  assertClassId,
  assertFiniteNumber,
  assertFloat,
  assertInt32,
  assertRank,
  assertSameShape,
} from './internal/checks';

/** Pseudo-labelled targets for the student: labels to train on, and a weight per pixel. */
export interface SelfTrainingTargets {
  /** [N, H, W] int32: the ground truth where it exists, a pseudo label (or ignoreIndex) elsewhere. */
  labels: tf.Tensor3D;
  /** [N, H, W] float32: the weight of each pixel in {@link weightedCrossEntropy}. */
  weights: tf.Tensor3D;
}

/** Options of {@link annealedSelfTrainingTargets}. */
export interface AnnealedSelfTrainingOptions {
  /** T ≥ 0; 0 gives plain pseudo-labelling (every weight 1), larger T trusts only the most confident pixels. */
  temperature: number;
  /** The label of unlabelled pixels; default 255. */
  ignoreIndex?: number;
}

/** Options of {@link topPPseudoLabels}. */
export interface TopPOptions {
  /**
   * rule 'rank' (default): an integer ≥ 1, the number of top-ranked classes (over all classes) in
   * which the pixel's best unseen class must be. rule 'percentPerClass': a fraction in (0, 1],
   * the share of each unseen class's candidate pixels to keep (0.75 = the top 75 %).
   */
  topP: number;
  /** The label of unlabelled pixels; default 255. */
  ignoreIndex?: number;
  /** Which reading of CaGNet's top-p self-training to apply; default 'rank' (the released code). */
  rule?: 'rank' | 'percentPerClass';
}

/**
 * Targets of SIGN's annealed self-training (AST, METHOD §4). A frozen teacher's class
 * probabilities label the unlabelled pixels of the training images:
 *
 * - every pixel whose label is `ignoreIndex` gets u* = its most probable *unseen* class (argmax
 *   of probs over `unseen`; the first one on ties) and confidence p = probs[u*];
 * - within each image, over its pseudo-labelled pixels, the weight is
 *   w = softmax(T·p) / max softmax(T·p) = exp(T·(p − p_max)), p_max the image's largest p;
 * - labelled pixels keep their label and weight 1; an image without unlabelled pixels has all
 *   weights 1.
 *
 * The public SIGN code zeroes p before its softmax, so all its weights are 1 (METHOD §5); this
 * follows the paper's formula. Train the student with
 * `weightedCrossEntropy(logits, targets.labels, targets.weights)`.
 *
 * @param probs teacher class probabilities, [N, H, W, C] float32
 * @param labels ground truth, [N, H, W] int32, `ignoreIndex` where unlabelled
 * @param unseen the unseen class ids (distinct, each in [0, C))
 * @param opts `temperature` T ≥ 0 (required), `ignoreIndex` (default 255)
 * @returns `{ labels: [N, H, W] int32, weights: [N, H, W] float32 }`
 *
 * @example
 * // one image of 1×3 pixels, classes 0..2, class 2 unseen; pixel 0 is labelled 0, pixels 1, 2 are not
 * const probs = tf.tensor4d([[[[0.7, 0.2, 0.1], [0.3, 0.1, 0.6], [0.5, 0.1, 0.4]]]]);
 * const labels = tf.tensor3d([[[0, 255, 255]]], undefined, 'int32');
 * const t = annealedSelfTrainingTargets(probs, labels, [2], { temperature: 5 });
 * // t.labels = [[[0, 2, 2]]], t.weights = [[[1, 1, exp(5·(0.4 − 0.6)) ≈ 0.3679]]]
 */
export function annealedSelfTrainingTargets(
  probs: tf.Tensor4D,
  labels: tf.Tensor3D,
  unseen: number[],
  opts: AnnealedSelfTrainingOptions,
): SelfTrainingTargets {
  const fn = 'annealedSelfTrainingTargets';
  checkCommon(fn, probs, labels, unseen);
  if (opts === undefined || opts === null) throw new Error(`${fn}: opts.temperature is required`);
  assertFiniteNumber(fn, 'opts.temperature', opts.temperature);
  if (opts.temperature < 0)
    throw new Error(`${fn}: opts.temperature must be ≥ 0, got ${opts.temperature}`);
  const ignoreIndex = opts.ignoreIndex ?? 255;
  assertClassId(fn, 'opts.ignoreIndex', ignoreIndex);
  const temperature = opts.temperature;

  return tf.tidy(() => {
    const { uStar, p } = bestUnseen(probs, unseen);
    const ignored = tf.equal(labels, ignoreIndex);
    const newLabels = tf.where(ignored, uStar, labels) as tf.Tensor3D;
    // Per-image maximum of p over the pseudo-labelled pixels. Labelled pixels are filled with the
    // global minimum of p so they never win the max and nothing becomes ±Inf; in an image with no
    // unlabelled pixel the max is meaningless, but every weight there is replaced by 1 below.
    const fill = tf.broadcastTo(tf.min(p), p.shape);
    const pMax = tf.max(tf.where(ignored, p, fill), [1, 2], true);
    const w = tf.exp(tf.mul(tf.sub(p, pMax), temperature));
    const weights = tf.where(ignored, w, tf.onesLike(w)) as tf.Tensor3D;
    return { labels: newLabels, weights };
  });
}

/**
 * CaGNet's self-training rule, the baseline for annealed self-training (METHOD §4): an unlabelled
 * pixel gets a pseudo label only where the teacher is confident enough that it shows an unseen
 * class; every other unlabelled pixel stays `ignoreIndex` with weight 0. Labelled pixels keep
 * their label and weight 1; kept pixels have weight 1.
 *
 * Two readings of "top p" are available:
 * - `rule: 'rank'` (default; what CaGNet's released code does, with top_p = 1 in its configs):
 *   with u* the pixel's most probable unseen class, the pixel is kept, labelled u*, when u* is
 *   among the `topP` most probable classes of all classes, i.e. fewer than `topP` classes have a
 *   strictly higher probability than u* (so ties are resolved in the pixel's favour). With
 *   topP = 1 this keeps exactly the pixels whose overall argmax is an unseen class.
 * - `rule: 'percentPerClass'`: a share of pixels per unseen class. The candidates of class u are
 *   the unlabelled pixels whose overall most probable class is u (the rank rule with topP = 1);
 *   of the n_u candidates of u in the whole batch, the ceil(topP · n_u) with the highest
 *   probability of u are kept (ties: lower flat pixel index first). Computed on the host.
 *
 * @param probs teacher class probabilities, [N, H, W, C] float32
 * @param labels ground truth, [N, H, W] int32, `ignoreIndex` where unlabelled
 * @param unseen the unseen class ids (distinct, each in [0, C))
 * @param opts `topP` (see the rules), `ignoreIndex` (default 255), `rule` (default 'rank')
 * @returns `{ labels: [N, H, W] int32, weights: [N, H, W] float32 (1 or 0) }`
 *
 * @example
 * // classes 0..2, class 2 unseen; both pixels unlabelled
 * const probs = tf.tensor4d([[[[0.5, 0.1, 0.4], [0.2, 0.7, 0.1]]]]);
 * const labels = tf.tensor3d([[[255, 255]]], undefined, 'int32');
 * topPPseudoLabels(probs, labels, [2], { topP: 1 }); // labels [[[255, 255]]], weights [[[0, 0]]]
 * topPPseudoLabels(probs, labels, [2], { topP: 2 }); // labels [[[2, 255]]],   weights [[[1, 0]]]
 */
export function topPPseudoLabels(
  probs: tf.Tensor4D,
  labels: tf.Tensor3D,
  unseen: number[],
  opts: TopPOptions,
): SelfTrainingTargets {
  const { rule, topP, ignoreIndex } = checkTopP('topPPseudoLabels', probs, labels, unseen, opts);
  if (rule === 'rank') return rankTargets(probs, labels, unseen, topP, ignoreIndex);
  const [candidateLabel, candidateP] = percentCandidates(probs, labels, unseen, ignoreIndex);
  try {
    const host = keepTopShare(
      candidateLabel.dataSync() as Int32Array,
      candidateP.dataSync() as Float32Array,
      labels.dataSync() as Int32Array,
      unseen,
      topP,
      ignoreIndex,
    );
    return hostTargets(host, labels.shape as [number, number, number]);
  } finally {
    candidateLabel.dispose();
    candidateP.dispose();
  }
}

/**
 * {@link topPPseudoLabels} with asynchronous reads (`await data()`): the same targets, for
 * backends without synchronous reads (the WebGPU backend in Node). Only rule 'percentPerClass'
 * reads anything back; rule 'rank' stays on the backend.
 *
 * @example
 * const { labels, weights } = await topPPseudoLabelsAsync(probs, gt, [2], { topP: 0.5, rule: 'percentPerClass' });
 */
export async function topPPseudoLabelsAsync(
  probs: tf.Tensor4D,
  labels: tf.Tensor3D,
  unseen: number[],
  opts: TopPOptions,
): Promise<SelfTrainingTargets> {
  const { rule, topP, ignoreIndex } = checkTopP('topPPseudoLabelsAsync', probs, labels, unseen, opts);
  if (rule === 'rank') return rankTargets(probs, labels, unseen, topP, ignoreIndex);
  const [candidateLabel, candidateP] = percentCandidates(probs, labels, unseen, ignoreIndex);
  try {
    const [cand, conf, gt] = await Promise.all([candidateLabel.data(), candidateP.data(), labels.data()]);
    const host = keepTopShare(cand as Int32Array, conf as Float32Array, gt as Int32Array, unseen, topP, ignoreIndex);
    return hostTargets(host, labels.shape as [number, number, number]);
  } finally {
    candidateLabel.dispose();
    candidateP.dispose();
  }
}

function checkTopP(
  fn: string,
  probs: tf.Tensor4D,
  labels: tf.Tensor3D,
  unseen: number[],
  opts: TopPOptions,
): { rule: 'rank' | 'percentPerClass'; topP: number; ignoreIndex: number } {
  checkCommon(fn, probs, labels, unseen);
  if (opts === undefined || opts === null) throw new Error(`${fn}: opts.topP is required`);
  const rule = opts.rule ?? 'rank';
  const ignoreIndex = opts.ignoreIndex ?? 255;
  assertClassId(fn, 'opts.ignoreIndex', ignoreIndex);
  assertFiniteNumber(fn, 'opts.topP', opts.topP);
  const topP = opts.topP;
  if (rule === 'rank') {
    if (!Number.isInteger(topP) || topP < 1) {
      throw new Error(
        `${fn}: with rule 'rank', opts.topP must be an integer ≥ 1 (a number of ranks), got ${topP}`,
      );
    }
  } else if (rule === 'percentPerClass') {
    if (!(topP > 0 && topP <= 1)) {
      throw new Error(
        `${fn}: with rule 'percentPerClass', opts.topP must be a fraction in (0, 1], got ${topP}`,
      );
    }
  } else {
    throw new Error(`${fn}: opts.rule must be 'rank' or 'percentPerClass', got ${String(rule)}`);
  }
  return { rule, topP, ignoreIndex };
}

/** Rule 'rank', on the backend. */
function rankTargets(
  probs: tf.Tensor4D,
  labels: tf.Tensor3D,
  unseen: number[],
  topP: number,
  ignoreIndex: number,
): SelfTrainingTargets {
  return tf.tidy(() => {
    const { uStar, p } = bestUnseen(probs, unseen);
    const ignored = tf.equal(labels, ignoreIndex);
    const higher = tf.sum(tf.cast(tf.greater(probs, tf.expandDims(p, -1)), 'int32'), -1);
    const keep = tf.logicalAnd(ignored, tf.less(higher, topP));
    const newLabels = tf.where(keep, uStar, labels) as tf.Tensor3D;
    const dropped = tf.logicalAnd(ignored, tf.logicalNot(keep));
    const weights = tf.where(dropped, tf.zeros(labels.shape), tf.ones(labels.shape)) as tf.Tensor3D;
    return { labels: newLabels, weights };
  });
}

/** Rule 'percentPerClass', backend part: the rank-1 candidate class of each unlabelled pixel (−1: none) and p. */
function percentCandidates(
  probs: tf.Tensor4D,
  labels: tf.Tensor3D,
  unseen: number[],
  ignoreIndex: number,
): [tf.Tensor3D, tf.Tensor3D] {
  return tf.tidy(() => {
    const { uStar, p } = bestUnseen(probs, unseen);
    const ignored = tf.equal(labels, ignoreIndex);
    const higher = tf.sum(tf.cast(tf.greater(probs, tf.expandDims(p, -1)), 'int32'), -1);
    const candidate = tf.logicalAnd(ignored, tf.equal(higher, 0));
    return [tf.where(candidate, uStar, tf.fill(labels.shape, -1, 'int32')) as tf.Tensor3D, p];
  });
}

/** Rule 'percentPerClass', host part: the most confident share of each unseen class's candidates. */
function keepTopShare(
  cand: Int32Array,
  conf: Float32Array,
  gt: Int32Array,
  unseen: number[],
  topP: number,
  ignoreIndex: number,
): { labels: Int32Array; weights: Float32Array } {
  const outLabels = Int32Array.from(gt);
  const outWeights = new Float32Array(gt.length);
  for (let i = 0; i < gt.length; i++) outWeights[i] = gt[i] === ignoreIndex ? 0 : 1;
  for (const u of unseen) {
    const idx: number[] = [];
    for (let i = 0; i < cand.length; i++) if (cand[i] === u) idx.push(i);
    if (idx.length === 0) continue;
    idx.sort((a, b) => conf[b] - conf[a] || a - b);
    const k = Math.ceil(topP * idx.length - 1e-9);
    for (let j = 0; j < k; j++) {
      outLabels[idx[j]] = u;
      outWeights[idx[j]] = 1;
    }
  }
  return { labels: outLabels, weights: outWeights };
}

function hostTargets(host: { labels: Int32Array; weights: Float32Array }, shape: [number, number, number]): SelfTrainingTargets {
  return {
    labels: tf.tensor3d(host.labels, shape, 'int32'),
    weights: tf.tensor3d(host.weights, shape, 'float32'),
  };
}

/** u* (argmax of probs over the unseen classes, as class ids) and p = probs[u*], both [N, H, W]. */
function bestUnseen(probs: tf.Tensor4D, unseen: number[]): { uStar: tf.Tensor3D; p: tf.Tensor3D } {
  const ids = tf.tensor1d(unseen, 'int32');
  const pu = tf.gather(probs, ids, 3);
  const which = tf.argMax(pu, -1);
  const uStar = tf.gather(ids, which) as unknown as tf.Tensor3D;
  const p = tf.max(pu, -1) as tf.Tensor3D;
  return { uStar, p };
}

function checkCommon(fn: string, probs: tf.Tensor4D, labels: tf.Tensor3D, unseen: number[]): void {
  assertRank(fn, 'probs', probs, 4, '[N, H, W, C]');
  assertRank(fn, 'labels', labels, 3, '[N, H, W]');
  assertFloat(fn, 'probs', probs);
  assertInt32(fn, 'labels', labels);
  assertSameShape(fn, 'labels', labels.shape, 'probs [N, H, W]', probs.shape.slice(0, 3));
  const numClasses = probs.shape[3];
  if (!Array.isArray(unseen) || unseen.length === 0) {
    throw new Error(`${fn}: unseen must be a non-empty array of class ids`);
  }
  const seen = new Set<number>();
  for (const u of unseen) {
    assertClassId(fn, 'every unseen class id', u);
    if (u >= numClasses) {
      throw new Error(
        `${fn}: unseen class ${u} is outside [0, ${numClasses}) (probs has C = ${numClasses})`,
      );
    }
    if (seen.has(u)) throw new Error(`${fn}: unseen class ${u} is listed twice`);
    seen.add(u);
  }
}
