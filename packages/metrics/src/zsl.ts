import { ConfusionMatrix, meanOver } from './confusion-matrix';

/** Metrics of the ZSL protocol, in percent (0–100). */
export interface ZslMetrics {
  /** Mean IoU over the unseen classes present in the truth. */
  mIoU: number;
  /** Unseen pixels given their own class / unseen pixels: how often the embeddings name the right unseen class. */
  pixelAccuracy: number;
  /** IoU per unseen class, in the order of `unseen`; NaN for a class absent from truth and prediction. */
  perClassIoU: number[];
  /** Unseen pixels counted. */
  pixels: number;
}

/**
 * Unseen-class predictions of the ZSL protocol (ZS3Net's "ZSL" setting): for each pixel, the
 * best-scoring class among `unseen` only, from a flat `[pixels × numClasses]` score array
 * (logits or probabilities, row-major, e.g. a `[N,H,W,C]` tensor's `dataSync()`); ties go to the
 * class listed first.
 *
 * @example
 * restrictedArgmax([0.6, 0.1, 0.3, 0.9, 0.05, 0.05], 3, [1, 2]) // Int32Array [2, 1]
 */
export function restrictedArgmax(scores: ArrayLike<number>, numClasses: number, classes: readonly number[]): Int32Array {
  const fn = 'restrictedArgmax';
  if (!(Number.isInteger(numClasses) && numClasses >= 1)) throw new Error(`${fn}: numClasses must be a positive integer, got ${numClasses}`);
  if (classes.length === 0) throw new Error(`${fn}: classes is empty`);
  for (const c of classes) {
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses)) throw new Error(`${fn}: class id ${c} is not in [0, ${numClasses})`);
  }
  if (scores.length % numClasses !== 0) {
    throw new Error(`${fn}: scores has ${scores.length} values, not a multiple of numClasses ${numClasses}`);
  }
  const n = scores.length / numClasses;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * numClasses;
    let best = classes[0];
    let bestScore = scores[base + best];
    for (let j = 1; j < classes.length; j++) {
      const s = scores[base + classes[j]];
      if (s > bestScore || (Number.isNaN(bestScore) && !Number.isNaN(s))) {
        best = classes[j];
        bestScore = s;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * Keeps only the pixels whose truth is one of `unseen`: every other target becomes
 * `ignoreIndex`, so a confusion matrix updated with it counts the unseen pixels alone.
 *
 * @example
 * unseenTargets([0, 3, 255, 2], [3]) // Int32Array [255, 3, 255, 255]
 */
export function unseenTargets(target: ArrayLike<number>, unseen: readonly number[], ignoreIndex = 255): Int32Array {
  const keep = new Set(unseen);
  const out = new Int32Array(target.length);
  for (let i = 0; i < target.length; i++) out[i] = keep.has(target[i]) ? target[i] : ignoreIndex;
  return out;
}

/**
 * The ZSL protocol's metrics from a confusion matrix filled with {@link restrictedArgmax}
 * predictions and {@link unseenTargets} targets: only unseen classes compete and only unseen
 * pixels count, so the score measures whether the model tells the unseen classes apart (which
 * is what their embeddings decide), free of the bias towards seen classes that the GZS3
 * metrics include.
 *
 * @example
 * const cm = new ConfusionMatrix(4);
 * const probs = [0.1, 0.5, 0.1, 0.3, 0.1, 0.1, 0.7, 0.1, 0.1, 0.2, 0.3, 0.4]; // 3 pixels × 4 classes
 * cm.update(restrictedArgmax(probs, 4, [2, 3]), unseenTargets([3, 2, 2], [2, 3]));
 * zslMetrics(cm, [2, 3]).pixelAccuracy // 66.67: pixel 0 → 3 (right), 1 → 2 (right), 2 → 3 (wrong)
 */
export function zslMetrics(cm: ConfusionMatrix, unseen: readonly number[]): ZslMetrics {
  const fn = 'zslMetrics';
  const k = cm.numClasses;
  if (unseen.length === 0) throw new Error(`${fn}: unseen is empty`);
  const set = new Set<number>();
  for (const c of unseen) {
    if (!(Number.isInteger(c) && c >= 0 && c < k)) throw new Error(`${fn}: unseen class id ${c} is not in [0, ${k})`);
    if (set.has(c)) throw new Error(`${fn}: unseen class id ${c} is listed twice`);
    set.add(c);
  }
  for (let t = 0; t < k; t++)
    for (let p = 0; p < k; p++) {
      if (cm.get(t, p) === 0) continue;
      if (!set.has(t)) throw new Error(`${fn}: the matrix counts pixels of class ${t}, which is not unseen (use unseenTargets)`);
      if (!set.has(p)) throw new Error(`${fn}: the matrix has predictions of class ${p}, which is not unseen (use restrictedArgmax)`);
    }
  // Every count sits in an unseen row and column (checked above), so the matrix's own IoU,
  // mean over classes present in the truth and accuracy are those of the ZSL protocol.
  const iou = cm.iou();
  const rows = cm.targetCounts();
  return {
    mIoU: 100 * meanOver(iou, unseen, rows, 'target'),
    pixelAccuracy: 100 * cm.pixelAccuracy(),
    perClassIoU: unseen.map((c) => 100 * iou[c]),
    pixels: unseen.reduce((a, c) => a + rows[c], 0),
  };
}
