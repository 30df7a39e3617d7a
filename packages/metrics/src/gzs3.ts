import { type AverageOver, ConfusionMatrix, meanOver } from './confusion-matrix';

export interface Gzs3Options {
  /** Seen class ids. */
  seen: readonly number[];
  /** Unseen class ids (may be empty; then `mIoUUnseen` and `hIoU` are NaN). */
  unseen: readonly number[];
  /** Id of the background class, if the dataset has one. */
  background?: number;
  /**
   * `false` (default): the CaGNet/SIGN protocol (after SPNet): background is not a class; its
   * target pixels are ignored, and its IoU is NaN. `true`: the ZS3Net protocol: background
   * is counted as a seen class. Needs `background`.
   */
  countBackground?: boolean;
  /** Which classes the means average over; default `'target'` (see README). */
  over?: AverageOver;
}

/** GZS3 metrics, all in percent (0–100). */
export interface Gzs3Metrics {
  /** Mean IoU over the seen classes (background included under `countBackground`). */
  mIoUSeen: number;
  /** Mean IoU over the unseen classes. */
  mIoUUnseen: number;
  /** Harmonic mean of `mIoUSeen` and `mIoUUnseen`: 2·S·U / (S + U); 0 when both are 0. */
  hIoU: number;
  /** Mean IoU over seen ∪ unseen (∪ background under `countBackground`). */
  mIoU: number;
  /** Correct pixels / counted pixels (background target pixels dropped unless counted). */
  pixelAccuracy: number;
  /** IoU per class id, NaN where undefined (class absent from target and prediction, or an excluded background). */
  perClassIoU: number[];
}

/**
 * Harmonic mean `2ab / (a + b)`; 0 when `a + b` is 0; NaN when either is NaN.
 *
 * @example harmonicMean(80, 20) // 32
 */
export function harmonicMean(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  const s = a + b;
  return s === 0 ? 0 : (2 * a * b) / s;
}

/**
 * The GZS3 metrics of METHOD §1 from one confusion matrix over a test set.
 *
 * @example
 * const cm = new ConfusionMatrix(4);
 * cm.update(pred, target);
 * // CaGNet/SIGN protocol: class 0 is background and is left out
 * const m = gzs3Metrics(cm, { seen: [1, 2], unseen: [3], background: 0 });
 * // ZS3Net protocol: background counted as a seen class
 * const z = gzs3Metrics(cm, { seen: [1, 2], unseen: [3], background: 0, countBackground: true });
 */
export function gzs3Metrics(cm: ConfusionMatrix, opts: Gzs3Options): Gzs3Metrics {
  const k = cm.numClasses;
  const countBackground = opts.countBackground ?? false;
  const over = opts.over ?? 'target';
  if (over !== 'target' && over !== 'union') {
    throw new Error(`gzs3Metrics: over must be 'target' or 'union', got ${String(over)}`);
  }
  const where = new Map<number, string>();
  const claim = (c: number, list: string) => {
    if (!(Number.isInteger(c) && c >= 0 && c < k)) {
      throw new Error(`gzs3Metrics: ${list} class id ${c} is not in [0, ${k})`);
    }
    const prev = where.get(c);
    if (prev !== undefined) {
      throw new Error(`gzs3Metrics: class id ${c} is listed in ${prev} and again in ${list}`);
    }
    where.set(c, list);
  };
  for (const c of opts.seen) claim(c, 'seen');
  for (const c of opts.unseen) claim(c, 'unseen');
  const bg = opts.background;
  if (countBackground && bg === undefined) {
    throw new Error('gzs3Metrics: countBackground (ZS3Net protocol) needs the background class id');
  }
  if (bg !== undefined) {
    if (!countBackground && where.has(bg)) {
      throw new Error(
        `gzs3Metrics: background ${bg} is listed in ${where.get(bg)}; with countBackground false ` +
          '(CaGNet/SIGN protocol) the background is not a class: leave it out of seen/unseen',
      );
    }
    if (countBackground && where.get(bg) === 'unseen') {
      throw new Error(`gzs3Metrics: background ${bg} is listed in unseen; the ZS3Net protocol counts it as seen`);
    }
    if (!where.has(bg)) claim(bg, 'background');
  }
  const missing: number[] = [];
  for (let c = 0; c < k; c++) if (!where.has(c)) missing.push(c);
  if (missing.length > 0) {
    throw new Error(
      `gzs3Metrics: class ids ${missing.join(', ')} are in none of seen, unseen, background; ` +
        `every class in [0, ${k}) must be assigned`,
    );
  }

  const exclude = bg !== undefined && !countBackground ? [bg] : [];
  const seen = [...opts.seen];
  if (bg !== undefined && countBackground && !seen.includes(bg)) seen.push(bg);
  const unseen = [...opts.unseen];

  const iou = cm.iou({ exclude });
  const rows = cm.targetCounts();
  const mS = meanOver(iou, seen, rows, over);
  const mU = meanOver(iou, unseen, rows, over);
  const mAll = meanOver(iou, [...seen, ...unseen], rows, over);
  const pct = (v: number) => v * 100;
  return {
    mIoUSeen: pct(mS),
    mIoUUnseen: pct(mU),
    hIoU: harmonicMean(pct(mS), pct(mU)),
    mIoU: pct(mAll),
    pixelAccuracy: pct(cm.pixelAccuracy({ exclude })),
    perClassIoU: iou.map(pct),
  };
}
