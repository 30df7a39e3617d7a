import { Rng } from '@sign/core';
import { FASHION_CLASSES, DEFAULT_UNSEEN, IGNORE_INDEX, classIds } from './classes';
import type { FashionMnistSplit } from './fashion-mnist';

/** A batch of scenes, row-major. */
export interface SceneBatch {
  /** [n, height, width, 1] greyscale in 0..1 (NHWC, ready for `tf.tensor4d`). */
  images: Float32Array;
  /** [n, height, width] class ids: 0 background, 1..10 items, 255 ignore (unseen, train only). */
  labels: Uint8Array;
  n: number;
  height: number;
  width: number;
}

export type SceneLayout = 'outfit' | 'random';

export interface FashionScenesOptions {
  /** 'train' scenes use training items only; 'test' scenes test items only. */
  split: 'train' | 'test';
  /** Number of scenes. */
  count: number;
  /** Seed: the same seed and options give byte-identical scenes. */
  seed: number;
  /** 'outfit' (default): tops high, trousers/dresses in the middle, footwear low, bags at the sides. 'random': anywhere. */
  layout?: SceneLayout;
  /** Canvas side in pixels (square), 32..128; 64–96 is the intended range. Default 64. */
  size?: number;
  /** Unseen classes (names or ids 1..10); their pixels become 255 in training scenes. Default {@link DEFAULT_UNSEEN}. */
  unseen?: ReadonlyArray<string | number>;
  /**
   * The Fashion-MNIST items to draw from: the split named by `split` (`loadFashionMnist` of
   * `@sign/data/node` reads the shipped subset or a folder; `fashionMnistSplit` makes one from
   * idx bytes anywhere). Required here; `makeFashionScenes` of `@sign/data/node` reads them
   * (from `fashionMnistDir`, default the shipped subset) when absent.
   */
  items?: FashionMnistSplit;
  /** `@sign/data/node` only: folder with the full Fashion-MNIST idx files (e.g. /usr/share/datasets/fashion-mnist). Default: the shipped subset. */
  fashionMnistDir?: string;
  /** Inclusive range of items per scene. Default [3, 5]. */
  itemsPerScene?: [number, number];
  /** An item pixel belongs to the item (label and image) where its resized intensity > threshold (0..1). Default 0.1. */
  threshold?: number;
}

/** One placed item of a scene (exposed for tests and the sample sheet). */
export interface PlacedItem {
  /** Class id 1..10. */
  classId: number;
  /** Index of the item in its Fashion-MNIST split. */
  index: number;
  /** Top-left corner on the canvas (may be negative: items can be cut by the border). */
  x: number;
  y: number;
  /** Side of the resized (square) item in pixels. */
  side: number;
}

// Class ids by outfit role (1-based ids from FASHION_CLASSES).
const TOPS = [1, 3, 5, 7]; // t-shirt/top, pullover, coat, shirt
const MIDDLE = [2, 4]; // trouser, dress
const FOOTWEAR = [6, 8, 10]; // sandal, sneaker, ankle boot
const BAG = 9;

/** Uniform in [lo, hi). */
function between(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

interface Plan {
  classId: number;
  /** Centre and side as fractions of the canvas. */
  cx: number;
  cy: number;
  side: number;
}

/**
 * Outfit layout: a top (high), a trouser or dress (middle), footwear (low); with more items, a bag
 * at one side, the second shoe of the pair, or a second top layered over the first. Positions
 * jitter; sizes vary per outfit (zoom 0.85–1.15) and per item (0.85–1.15).
 */
function planOutfit(rng: Rng, k: number): Plan[] {
  const zoom = between(rng, 0.85, 1.15); // the whole outfit nearer or farther
  const scale = () => zoom * between(rng, 0.85, 1.15);
  const top = (): Plan => ({ classId: pick(rng, TOPS), cx: 0.5 + between(rng, -0.08, 0.08), cy: 0.26 + between(rng, -0.05, 0.05), side: 0.4 * scale() });
  const middle = (): Plan => ({ classId: pick(rng, MIDDLE), cx: 0.5 + between(rng, -0.08, 0.08), cy: 0.56 + between(rng, -0.05, 0.05), side: 0.42 * scale() });
  const footSide = rng.uniform() < 0.5 ? -1 : 1;
  const foot = (sign: number, classId = pick(rng, FOOTWEAR)): Plan => ({ classId, cx: 0.5 + sign * between(rng, 0.08, 0.24), cy: 0.86 + between(rng, -0.04, 0.04), side: 0.27 * scale() });
  const core: Array<() => Plan> = [top, middle, () => foot(footSide)];
  const extras: Array<(first: Plan[]) => Plan> = [
    () => ({ classId: BAG, cx: (rng.uniform() < 0.5 ? 0.14 : 0.86) + between(rng, -0.04, 0.04), cy: 0.5 + between(rng, -0.12, 0.12), side: 0.3 * scale() }),
    // the other shoe of the pair (same class, other side)
    (first) => foot(-footSide, first.find((p) => FOOTWEAR.includes(p.classId))?.classId),
    // a second top layered over the first, shifted
    () => { const p = top(); p.cx += between(rng, -0.12, 0.12); p.cy += between(rng, -0.04, 0.06); return p; },
  ];
  const plans: Plan[] = [];
  const coreOrder = rng.shuffle([0, 1, 2]).slice(0, Math.min(k, 3)).sort();
  for (const i of coreOrder) plans.push(core[i]!());
  const extraOrder = rng.shuffle([0, 1, 2]).slice(0, Math.max(0, k - 3));
  for (const i of extraOrder) plans.push(extras[i]!(plans));
  return plans;
}

/** Random layout: any class, anywhere, at any of a range of sizes. */
function planRandom(rng: Rng, k: number): Plan[] {
  const plans: Plan[] = [];
  for (let i = 0; i < k; i++) {
    const side = between(rng, 0.25, 0.5);
    // keep at least 80 % of the item's width and height on the canvas
    const m = 0.2 * side;
    plans.push({ classId: 1 + rng.int(10), cx: between(rng, side / 2 - m, 1 - side / 2 + m), cy: between(rng, side / 2 - m, 1 - side / 2 + m), side });
  }
  return plans;
}

/**
 * Bilinear resize (half-pixel centres, edge clamped) of one `h`×`w` byte image into a
 * `side`×`side` float image in 0..1.
 */
export function resizeBilinear(src: Uint8Array, offset: number, h: number, w: number, side: number): Float32Array {
  const out = new Float32Array(side * side);
  const ys = sampleAxis(h, side);
  const xs = sampleAxis(w, side); // computed once, not once per output row
  for (let i = 0; i < side; i++) {
    const row0 = offset + ys.i0[i] * w;
    const row1 = offset + ys.i1[i] * w;
    const ty = ys.t[i];
    for (let j = 0; j < side; j++) {
      const x0 = xs.i0[j];
      const x1 = xs.i1[j];
      const tx = xs.t[j];
      const a = src[row0 + x0]!;
      const b = src[row0 + x1]!;
      const c = src[row1 + x0]!;
      const d = src[row1 + x1]!;
      const top = a + (b - a) * tx;
      const bottom = c + (d - c) * tx;
      out[i * side + j] = (top + (bottom - top) * ty) / 255;
    }
  }
  return out;
}

/**
 * Source coordinates of `side` output samples along an axis of length `n` (half-pixel centres,
 * clamped to the edge): lower index, upper index and the weight of the upper one.
 */
function sampleAxis(n: number, side: number): { i0: Int32Array; i1: Int32Array; t: Float64Array } {
  const i0 = new Int32Array(side);
  const i1 = new Int32Array(side);
  const t = new Float64Array(side);
  const scale = n / side;
  for (let k = 0; k < side; k++) {
    let f = (k + 0.5) * scale - 0.5;
    if (f < 0) f = 0;
    if (f > n - 1) f = n - 1;
    const lo = Math.floor(f);
    i0[k] = lo;
    i1[k] = lo + 1 < n ? lo + 1 : lo;
    t[k] = f - lo;
  }
  return { i0, i1, t };
}

function checkOptions(opts: FashionScenesOptions) {
  if (!opts || typeof opts !== 'object') throw new Error('makeFashionScenes: options object required');
  const { split, count, seed } = opts;
  if (split !== 'train' && split !== 'test') throw new Error(`makeFashionScenes: split must be 'train' or 'test', got '${String(split)}'`);
  if (!Number.isInteger(count) || count < 0) throw new Error(`makeFashionScenes: count must be a non-negative integer, got ${count}`);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new Error(`makeFashionScenes: seed must be a finite number, got ${String(seed)}`);
  const layout = opts.layout ?? 'outfit';
  if (layout !== 'outfit' && layout !== 'random') throw new Error(`makeFashionScenes: layout must be 'outfit' or 'random', got '${String(layout)}'`);
  const size = opts.size ?? 64;
  if (!Number.isInteger(size) || size < 32 || size > 128) throw new Error(`makeFashionScenes: size must be an integer in 32..128 (64–96 intended), got ${size}`);
  const [minItems, maxItems] = opts.itemsPerScene ?? [3, 5];
  if (!Number.isInteger(minItems) || !Number.isInteger(maxItems) || minItems < 1 || maxItems < minItems || maxItems > 12) {
    throw new Error(`makeFashionScenes: itemsPerScene must be [min, max] integers with 1 ≤ min ≤ max ≤ 12, got [${minItems}, ${maxItems}]`);
  }
  const threshold = opts.threshold ?? 0.1;
  if (!(threshold >= 0 && threshold < 1)) throw new Error(`makeFashionScenes: threshold must be in [0, 1), got ${threshold}`);
  const unseen = classIds(opts.unseen ?? DEFAULT_UNSEEN, 'unseen class');
  return { split, count, seed, layout, size, minItems, maxItems, threshold, unseen };
}

/**
 * Plans scene `i` of a batch: which items go where, in drawing order (later items occlude earlier
 * ones). Depends only on the seed, split, layout, size, item range, the item pool and `i`, so
 * scene i is the same whatever `count` is.
 */
function planScene(rng: Rng, data: FashionMnistSplit, layout: SceneLayout, size: number, minItems: number, maxItems: number): PlacedItem[] {
  const k = minItems + rng.int(maxItems - minItems + 1);
  const plans = layout === 'outfit' ? planOutfit(rng, k) : planRandom(rng, k);
  rng.shuffle(plans); // drawing order
  return plans.map((p) => {
    const side = Math.max(4, Math.round(p.side * size));
    const pool = data.byLabel[p.classId - 1]!;
    if (pool.length === 0) throw new Error(`no items of class '${FASHION_CLASSES[p.classId]}' in ${data.dir}`);
    return {
      classId: p.classId,
      index: pool[rng.int(pool.length)]!,
      x: Math.round(p.cx * size - side / 2),
      y: Math.round(p.cy * size - side / 2),
      side,
    };
  });
}

/**
 * Generates fashion-scenes: square canvases with several Fashion-MNIST items at varied scales
 * (bilinear resize), label = item class (1..10) where the item's pixel is above `threshold`,
 * background 0 elsewhere; later items occlude earlier ones. In training scenes (split 'train'),
 * pixels of unseen classes are labelled 255 (ignore) — the GZS3 protocol; test scenes keep every
 * label. Train scenes draw from training items only, test scenes from test items only.
 * Deterministic: the same options give byte-identical output.
 *
 * @returns images [n, size, size, 1] in 0..1 and labels [n, size, size]
 * @example
 * import { loadFashionMnist } from '@sign/data/node';
 * const train = makeFashionScenes({ split: 'train', count: 8, seed: 1, layout: 'outfit', items: loadFashionMnist('train') });
 * const x = tf.tensor4d(train.images, [train.n, train.height, train.width, 1]);
 */
export function makeFashionScenes(opts: FashionScenesOptions): SceneBatch {
  return generate(opts).batch;
}

/** Like {@link makeFashionScenes}, also returning the placed items of every scene. */
export function makeFashionScenesWithItems(opts: FashionScenesOptions): { batch: SceneBatch; items: PlacedItem[][] } {
  return generate(opts);
}

function generate(opts: FashionScenesOptions): { batch: SceneBatch; items: PlacedItem[][] } {
  const o = checkOptions(opts);
  const data = opts.items;
  if (!data) {
    throw new Error(
      "makeFashionScenes: no Fashion-MNIST items given (options.items): pass loadFashionMnist(split) from '@sign/data/node', or call makeFashionScenes from '@sign/data/node', which reads them",
    );
  }
  const { size } = o;
  const px = size * size;
  const images = new Float32Array(o.count * px);
  const labels = new Uint8Array(o.count * px);
  const unseen = new Set(o.unseen);
  const root = new Rng(o.seed).fork(`fashion-scenes/${o.split}/${o.layout}`);
  const all: PlacedItem[][] = [];
  for (let s = 0; s < o.count; s++) {
    const items = planScene(root.fork(`scene ${s}`), data, o.layout, size, o.minItems, o.maxItems);
    all.push(items);
    const base = s * px;
    for (const it of items) {
      const item = resizeBilinear(data.images, it.index * data.height * data.width, data.height, data.width, it.side);
      const label = o.split === 'train' && unseen.has(it.classId) ? IGNORE_INDEX : it.classId;
      for (let i = 0; i < it.side; i++) {
        const y = it.y + i;
        if (y < 0 || y >= size) continue;
        for (let j = 0; j < it.side; j++) {
          const x = it.x + j;
          if (x < 0 || x >= size) continue;
          const v = item[i * it.side + j]!;
          if (v > o.threshold) {
            images[base + y * size + x] = v;
            labels[base + y * size + x] = label;
          }
        }
      }
    }
  }
  return { batch: { images, labels, n: o.count, height: size, width: size }, items: all };
}
