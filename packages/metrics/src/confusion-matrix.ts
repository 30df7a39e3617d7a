/**
 * A streaming confusion matrix for semantic segmentation.
 *
 * Layout: `matrix[t * numClasses + p]` counts the pixels whose ground truth is class `t` and
 * whose prediction is class `p` (rows = target, columns = prediction). Counts are kept in a
 * Float64Array, exact up to 2^53 pixels.
 */

/** Which classes a mean over per-class IoUs averages. */
export type AverageOver =
  /** Classes with at least one target pixel (default; equals `'union'` on a test set where every class occurs). */
  | 'target'
  /** Classes whose IoU is defined, i.e. target ∪ prediction is non-empty (numpy `nanmean` of the IoU vector). */
  | 'union';

export interface ConfusionMatrixOptions {
  /** Target value whose pixels are skipped. Default 255. */
  ignoreIndex?: number;
}

/**
 * Accumulates a [numClasses × numClasses] confusion matrix over batches of predictions and
 * targets (any flat array-likes of class ids, e.g. the `dataSync()` of an int32 tensor).
 *
 * Pixels whose target equals `ignoreIndex` are skipped. Every other value, in the target and
 * in the prediction, must be an integer in `[0, numClasses)`; anything else throws an error
 * that names the value and its position.
 *
 * @example
 * const cm = new ConfusionMatrix(3);
 * cm.update([0, 1, 2, 2], [0, 1, 1, 255]); // the last pixel is ignored
 * cm.iou(); // [1, 0.5, 0]
 */
export class ConfusionMatrix {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  /** Row-major counts: `matrix[target * numClasses + pred]`. */
  readonly matrix: Float64Array;

  constructor(numClasses: number, opts: ConfusionMatrixOptions = {}) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new Error(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    }
    const ignoreIndex = opts.ignoreIndex ?? 255;
    if (!Number.isInteger(ignoreIndex)) {
      throw new Error(`ConfusionMatrix: ignoreIndex must be an integer, got ${ignoreIndex}`);
    }
    if (ignoreIndex >= 0 && ignoreIndex < numClasses) {
      throw new Error(
        `ConfusionMatrix: ignoreIndex ${ignoreIndex} is a valid class id (numClasses = ${numClasses}); ` +
          'choose an ignoreIndex outside [0, numClasses)',
      );
    }
    this.numClasses = numClasses;
    this.ignoreIndex = ignoreIndex;
    this.matrix = new Float64Array(numClasses * numClasses);
  }

  /**
   * Adds one batch. `pred` and `target` are flat and of equal length (e.g. [N·H·W]).
   * Pixels with `target === ignoreIndex` are skipped (whatever their prediction).
   */
  update(pred: ArrayLike<number>, target: ArrayLike<number>): void {
    if (pred.length !== target.length) {
      throw new Error(
        `ConfusionMatrix.update: pred has ${pred.length} values but target has ${target.length}; they must match`,
      );
    }
    const k = this.numClasses;
    const ign = this.ignoreIndex;
    // Validate first so that a bad batch leaves the matrix untouched.
    for (let i = 0; i < target.length; i++) {
      const t = target[i];
      if (t === ign) continue;
      if (!(Number.isInteger(t) && t >= 0 && t < k)) {
        throw new Error(
          `ConfusionMatrix.update: target value ${t} at index ${i} is not a class id in [0, ${k}) ` +
            `nor the ignoreIndex ${ign}`,
        );
      }
      const p = pred[i];
      if (!(Number.isInteger(p) && p >= 0 && p < k)) {
        throw new Error(`ConfusionMatrix.update: pred value ${p} at index ${i} is not a class id in [0, ${k})`);
      }
    }
    const m = this.matrix;
    for (let i = 0; i < target.length; i++) {
      const t = target[i];
      if (t === ign) continue;
      m[t * k + pred[i]] += 1;
    }
  }

  /** Adds another matrix's counts into this one (e.g. from another worker). Returns `this`. */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) {
      throw new Error(
        `ConfusionMatrix.merge: numClasses differ (${this.numClasses} vs ${other.numClasses})`,
      );
    }
    if (other.ignoreIndex !== this.ignoreIndex) {
      throw new Error(
        `ConfusionMatrix.merge: ignoreIndex differs (${this.ignoreIndex} vs ${other.ignoreIndex})`,
      );
    }
    for (let i = 0; i < this.matrix.length; i++) this.matrix[i] += other.matrix[i];
    return this;
  }

  /** Sets every count to zero. */
  reset(): void {
    this.matrix.fill(0);
  }

  /** A deep copy. */
  clone(): ConfusionMatrix {
    const c = new ConfusionMatrix(this.numClasses, { ignoreIndex: this.ignoreIndex });
    c.matrix.set(this.matrix);
    return c;
  }

  /** Count of pixels with ground truth `target` predicted as `pred`. */
  get(target: number, pred: number): number {
    this.checkClass(target, 'target');
    this.checkClass(pred, 'pred');
    return this.matrix[target * this.numClasses + pred];
  }

  /** Number of counted (non-ignored) pixels. */
  total(): number {
    let s = 0;
    for (let i = 0; i < this.matrix.length; i++) s += this.matrix[i];
    return s;
  }

  /** Pixels per target class (row sums). */
  targetCounts(): number[] {
    const k = this.numClasses;
    const out = new Array<number>(k).fill(0);
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) out[t] += this.matrix[t * k + p];
    return out;
  }

  /** Pixels per predicted class (column sums). */
  predCounts(): number[] {
    const k = this.numClasses;
    const out = new Array<number>(k).fill(0);
    for (let t = 0; t < k; t++) for (let p = 0; p < k; p++) out[p] += this.matrix[t * k + p];
    return out;
  }

  /**
   * IoU per class in [0, 1]: `TP / (TP + FP + FN)`.
   *
   * `NaN` for a class absent from both the targets and the predictions (0/0); a class that is
   * predicted but never in the target has IoU 0.
   *
   * With `exclude` (class ids, e.g. the background in the CaGNet/SIGN protocol), the target
   * pixels of those classes are dropped as if ignored: their rows leave the matrix, so a pixel
   * of an excluded class predicted as `c` is not a false positive of `c`; a pixel of `c`
   * predicted as an excluded class is still a false negative of `c`. Excluded classes get NaN.
   */
  iou(opts: { exclude?: readonly number[] } = {}): number[] {
    const k = this.numClasses;
    const excluded = this.excludedSet(opts.exclude, 'iou');
    const rows = new Array<number>(k).fill(0);
    const cols = new Array<number>(k).fill(0);
    for (let t = 0; t < k; t++) {
      if (excluded.has(t)) continue;
      for (let p = 0; p < k; p++) {
        const v = this.matrix[t * k + p];
        rows[t] += v;
        cols[p] += v;
      }
    }
    const out = new Array<number>(k);
    for (let c = 0; c < k; c++) {
      if (excluded.has(c)) {
        out[c] = NaN;
        continue;
      }
      const tp = this.matrix[c * k + c];
      const union = rows[c] + cols[c] - tp;
      out[c] = union === 0 ? NaN : tp / union;
    }
    return out;
  }

  /**
   * Mean IoU in [0, 1] over `classes` (default: all) minus `exclude`, averaging as `over` says
   * (default `'target'`: classes with at least one target pixel). `NaN` when no class qualifies.
   */
  meanIoU(opts: { classes?: readonly number[]; exclude?: readonly number[]; over?: AverageOver } = {}): number {
    const iou = this.iou({ exclude: opts.exclude });
    const excluded = new Set(opts.exclude ?? []);
    const classes = (opts.classes ?? iou.map((_, i) => i)).filter((c) => !excluded.has(c));
    for (const c of classes) this.checkClass(c, 'classes');
    return meanOver(iou, classes, this.targetCounts(), opts.over ?? 'target');
  }

  /**
   * Fraction of counted pixels predicted correctly, in [0, 1] (`NaN` when nothing was counted).
   * `exclude` drops the target rows of those classes first, as in {@link iou}.
   */
  pixelAccuracy(opts: { exclude?: readonly number[] } = {}): number {
    const k = this.numClasses;
    const excluded = this.excludedSet(opts.exclude, 'pixelAccuracy');
    let correct = 0;
    let total = 0;
    for (let t = 0; t < k; t++) {
      if (excluded.has(t)) continue;
      correct += this.matrix[t * k + t];
      for (let p = 0; p < k; p++) total += this.matrix[t * k + p];
    }
    return total === 0 ? NaN : correct / total;
  }

  /** Plain-object form (for checkpoints and reports). */
  toJSON(): { numClasses: number; ignoreIndex: number; matrix: number[] } {
    return { numClasses: this.numClasses, ignoreIndex: this.ignoreIndex, matrix: Array.from(this.matrix) };
  }

  /** Inverse of {@link toJSON}; checks the shape and the counts. */
  static fromJSON(obj: { numClasses: number; ignoreIndex?: number; matrix: ArrayLike<number> }): ConfusionMatrix {
    const cm = new ConfusionMatrix(obj.numClasses, { ignoreIndex: obj.ignoreIndex });
    if (!obj.matrix || obj.matrix.length !== cm.matrix.length) {
      throw new Error(
        `ConfusionMatrix.fromJSON: matrix must have numClasses² = ${cm.matrix.length} entries, ` +
          `got ${obj.matrix ? obj.matrix.length : 'none'}`,
      );
    }
    for (let i = 0; i < cm.matrix.length; i++) {
      const v = obj.matrix[i];
      if (!(Number.isInteger(v) && v >= 0)) {
        throw new Error(`ConfusionMatrix.fromJSON: matrix[${i}] = ${v} is not a non-negative integer count`);
      }
      cm.matrix[i] = v;
    }
    return cm;
  }

  private checkClass(c: number, what: string): void {
    if (!(Number.isInteger(c) && c >= 0 && c < this.numClasses)) {
      throw new Error(`ConfusionMatrix: ${what} class id ${c} is not in [0, ${this.numClasses})`);
    }
  }

  private excludedSet(exclude: readonly number[] | undefined, fn: string): Set<number> {
    const s = new Set<number>();
    for (const c of exclude ?? []) {
      this.checkClass(c, `${fn} exclude`);
      s.add(c);
    }
    return s;
  }
}

/**
 * Mean of `values[c]` over `classes`, keeping a class when `over` says so:
 * `'target'` keeps classes with `targetCounts[c] > 0`, `'union'` keeps classes whose value is not NaN.
 * `NaN` when none is kept.
 */
export function meanOver(
  values: readonly number[],
  classes: readonly number[],
  targetCounts: readonly number[],
  over: AverageOver,
): number {
  let sum = 0;
  let n = 0;
  for (const c of classes) {
    const keep = over === 'target' ? targetCounts[c] > 0 : !Number.isNaN(values[c]);
    if (!keep) continue;
    sum += values[c];
    n += 1;
  }
  return n === 0 ? NaN : sum / n;
}
