/**
 * `@sign/datasets/testing` (Node): a generator of small folder datasets for tests, examples and
 * end-to-end runs: coloured shapes on textured backgrounds, where a class is a colour (the shape
 * of each object is drawn at random and says nothing about its class) and a class embedding is
 * the class's colour itself (its RGB on 0..1, plus a background dimension). Seen: red, blue and
 * their mixture magenta; unseen: yellow (red + green) and cyan (blue + green). Each unseen colour
 * shares one primary with a different seen colour, so its embedding says which seen colour it
 * looks most like; the green they both add is a primary no seen class has.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@sign/core';
import { writeFileAtomic } from '@sign/core/node';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { SIGN_RELEASE_BENCHMARKS } from './sign-release/index';

/** The shapes objects are drawn as (at random, whatever their class). */
export const SHAPES = ['circle', 'square', 'triangle'] as const;
type Shape = (typeof SHAPES)[number];

/** The colour of each object class, RGB 0..255 (before per-object jitter and shading). */
export const SHAPES_COLOURS: Readonly<Record<string, readonly [number, number, number]>> = Object.freeze({
  red: [215, 35, 35],
  blue: [35, 35, 215],
  magenta: [215, 35, 215],
  yellow: [215, 215, 35],
  cyan: [35, 215, 215],
});

/** Classes of the shapes dataset, in id order (0 = background). */
export const SHAPES_CLASSES = ['background', 'red', 'blue', 'magenta', 'yellow', 'cyan'];
/** Unseen classes: yellow (between red and green) and cyan (between blue and green); green is no class. */
export const SHAPES_UNSEEN = ['yellow', 'cyan'];

/** Options of {@link writeShapesFolder}. */
export interface ShapesFolderOptions {
  /** Same seed, same files. Default 0. */
  seed?: number;
  /** Images in images/train and images/val. Defaults 40 and 16. */
  trainCount?: number;
  valCount?: number;
  /** Image sides are drawn from [minSide, maxSide] (each side on its own: mixed sizes and aspect ratios). Defaults 56, 96. */
  minSide?: number;
  maxSide?: number;
  /** Every `jpegEvery`-th image is written as JPEG (quality 92), the others as PNG. Default 3; 0: PNG only. */
  jpegEvery?: number;
  /** How many of the training images are written as grey PNGs. Default 0 (all RGB). */
  greyCount?: number;
  /** Write embeddings.json ({@link shapesEmbedding}). Default true. */
  embeddings?: boolean;
}

/** What {@link writeShapesFolder} wrote. */
export interface ShapesFolder {
  root: string;
  classNames: string[];
  seen: string[];
  unseen: string[];
  /** Images per split. */
  counts: { train: number; val: number };
}

/**
 * The embedding of a shapes class, [cos h, sin h, background]: an object class's hue h (the HSV
 * hue of its colour, {@link SHAPES_COLOURS}) on the unit circle, background [0, 0, 1]. Red 0°,
 * yellow 60°, cyan 180°, blue 240°, magenta 300°: yellow is at distance 1 from red, √3 from
 * magenta and 2 from blue, cyan the same with red and blue swapped, and, the three seen hues not
 * being on one line, each unseen embedding is an affine combination of the seen ones (yellow =
 * 2·red + blue − 2·magenta, cyan = red + 2·blue − 2·magenta). An earlier [r, g, b] code put the
 * unseen colours on a green axis no seen class varies, so what G made of them depended on its
 * initial weights (packages/trainer/NOTES.md §7).
 *
 * @example
 * shapesEmbedding('yellow') // [0.5, 0.866025403784, 0]
 */
export function shapesEmbedding(name: string): number[] {
  if (name === 'background') return [0, 0, 1];
  const rgb = SHAPES_COLOURS[name];
  if (!rgb) throw new Error(`shapesEmbedding: '${name}' is not a class (valid: ${SHAPES_CLASSES.join(', ')})`);
  const h = (hueDegrees(rgb) * Math.PI) / 180;
  const round = (v: number) => Math.round(v * 1e12) / 1e12 + 0; // + 0: no −0
  return [round(Math.cos(h)), round(Math.sin(h)), 0];
}

/** HSV hue in degrees [0, 360) of an RGB colour (0 for greys). */
function hueDegrees([r, g, b]: readonly [number, number, number]): number {
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return 0;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return h < 0 ? h * 60 + 360 : h * 60;
}

function inside(shape: Shape, dx: number, dy: number, r: number): boolean {
  if (shape === 'circle') return dx * dx + dy * dy <= r * r;
  if (shape === 'square') return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
  // triangle, apex up: dy from −r (apex) to +r·0.8 (base); half-width grows linearly
  if (dy < -r || dy > 0.8 * r) return false;
  return Math.abs(dx) <= ((dy + r) / (1.8 * r)) * r;
}

/** One scene: RGB pixels and class ids. */
function scene(rng: Rng, height: number, width: number): { image: Uint8Array; label: Uint8Array } {
  const image = new Uint8Array(height * width * 3);
  const label = new Uint8Array(height * width);
  // textured background: a dark, muted base colour, stripes at a random angle, pixel noise (darker
  // than any object, so that an unseen colour never looks like background)
  const grey = 25 + rng.int(50);
  const base = [0, 1, 2].map(() => grey + rng.int(31) - 15);
  const angle = rng.uniform() * Math.PI;
  const period = 5 + rng.uniform() * 10;
  const amp = 8 + rng.uniform() * 12;
  const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const t = amp * Math.sin(((x * ca + y * sa) / period) * 2 * Math.PI);
      for (let k = 0; k < 3; k++) image[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(base[k]! + t + (rng.uniform() - 0.5) * 24)));
    }
  const objects = 1 + rng.int(3);
  const minSide = Math.min(height, width);
  for (let o = 0; o < objects; o++) {
    const id = 1 + rng.int(SHAPES_CLASSES.length - 1);
    const shapeName = SHAPES[rng.int(SHAPES.length)]!;
    const r = minSide * (0.14 + rng.uniform() * 0.14);
    const cx = r * 0.5 + rng.uniform() * (width - r);
    const cy = r * 0.5 + rng.uniform() * (height - r);
    const colour = SHAPES_COLOURS[SHAPES_CLASSES[id]!]!.map((v) => v + Math.round((rng.uniform() - 0.5) * 40));
    const shade = (rng.uniform() - 0.5) * 0.6; // light from one side
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, Math.ceil(cy + r + 1)); y++)
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(width, Math.ceil(cx + r + 1)); x++) {
        if (!inside(shapeName, x - cx, y - cy, r)) continue;
        label[y * width + x] = id;
        const light = 1 + (shade * (x - cx)) / r;
        for (let k = 0; k < 3; k++) image[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(colour[k]! * light + (rng.uniform() - 0.5) * 16)));
      }
  }
  return { image, label };
}

/** A palette for viewing label PNGs (index = class id: the class's colour); unused indices black, 255 white. */
function palette(): [number, number, number][] {
  const p: [number, number, number][] = Array.from({ length: 256 }, () => [0, 0, 0]);
  SHAPES_CLASSES.forEach((c, i) => (p[i] = i === 0 ? [0, 0, 0] : ([...SHAPES_COLOURS[c]!] as [number, number, number])));
  p[255] = [255, 255, 255];
  return p;
}

/**
 * Writes a folder dataset (the `folder` layout) of coloured shapes on textured backgrounds to
 * `dir`: `classes.json` (6 classes, background 0), `images/{train,val}/NNNN.png|jpg` (RGB, mixed
 * sizes, every third a JPEG), `labels/{train,val}/NNNN.png` (grey and palette PNGs alternating)
 * and `embeddings.json` (each class's colour, {@link shapesEmbedding}). Seen classes: red, blue,
 * magenta; unseen ({@link SHAPES_UNSEEN}): yellow, cyan. Deterministic in `seed`. About
 * 0.1 s for the default 56 images.
 *
 * @example
 * import { writeShapesFolder } from '@sign/datasets/testing';
 * const { root, unseen } = await writeShapesFolder('/tmp/shapes', { seed: 1 });
 * const dm = await createDataModule({ type: 'folder', root, unseen }, { io: nodeIo, seed: 0 });
 */
export async function writeShapesFolder(dir: string, opts: ShapesFolderOptions = {}): Promise<ShapesFolder> {
  const seed = opts.seed ?? 0;
  const counts = { train: opts.trainCount ?? 40, val: opts.valCount ?? 16 };
  const minSide = opts.minSide ?? 56;
  const maxSide = opts.maxSide ?? 96;
  const jpegEvery = opts.jpegEvery ?? 3;
  const greyCount = opts.greyCount ?? 0;
  if (!Number.isInteger(minSide) || !Number.isInteger(maxSide) || minSide < 8 || maxSide < minSide) throw new Error(`writeShapesFolder: need integers 8 ≤ minSide ≤ maxSide, got ${minSide}, ${maxSide}`);
  for (const [k, v] of Object.entries(counts)) if (!Number.isInteger(v) || v < 0) throw new Error(`writeShapesFolder: ${k}Count must be a non-negative integer, got ${v}`);
  const root = new Rng(seed).fork('shapes-folder');
  const pal = palette();
  for (const split of ['train', 'val'] as const) {
    mkdirSync(join(dir, 'images', split), { recursive: true });
    mkdirSync(join(dir, 'labels', split), { recursive: true });
    for (let i = 0; i < counts[split]; i++) {
      const rng = root.fork(`${split}/${i}`);
      const height = minSide + rng.int(maxSide - minSide + 1);
      const width = minSide + rng.int(maxSide - minSide + 1);
      const { image, label } = scene(rng, height, width);
      const stem = String(i).padStart(4, '0');
      const grey = split === 'train' && i < greyCount;
      const jpeg = !grey && jpegEvery > 0 && i % jpegEvery === jpegEvery - 1;
      let pixels = sharp(Buffer.from(image.buffer, image.byteOffset, image.byteLength), { raw: { width, height, channels: 3 } });
      if (grey) pixels = pixels.toColourspace('b-w');
      const encoded = jpeg ? await pixels.jpeg({ quality: 92 }).toBuffer() : await pixels.png().toBuffer();
      writeFileAtomic(join(dir, 'images', split, `${stem}.${jpeg ? 'jpg' : 'png'}`), encoded);
      const labelPng = i % 2 === 0 ? encodePng({ width, height, data: label, channels: 1, depth: 8 }) : encodePng({ width, height, data: label, channels: 1, depth: 8, palette: pal });
      writeFileAtomic(join(dir, 'labels', split, `${stem}.png`), labelPng);
    }
  }
  writeFileAtomic(join(dir, 'classes.json'), JSON.stringify({ classes: SHAPES_CLASSES, background: 0, ignoreIndex: 255 }, null, 2) + '\n');
  if (opts.embeddings ?? true) writeFileAtomic(join(dir, 'embeddings.json'), JSON.stringify(Object.fromEntries(SHAPES_CLASSES.map((c) => [c, shapesEmbedding(c)]))) + '\n');
  return { root: dir, classNames: [...SHAPES_CLASSES], seen: SHAPES_CLASSES.filter((c) => c !== 'background' && !SHAPES_UNSEEN.includes(c)), unseen: [...SHAPES_UNSEEN], counts };
}

/** The layouts {@link writePaperTree} writes. */
export type PaperLayout = 'pascal-voc12' | 'pascal-context' | 'coco-stuff164k' | 'sign-release-voc12' | 'sign-release-context' | 'sign-release-cocostuff';

/** Options of {@link writePaperTree}. */
export interface PaperTreeOptions {
  /** Same seed, same files. Default 0. */
  seed?: number;
  /** Samples in the training and the test split. Defaults 4 and 3. */
  trainCount?: number;
  testCount?: number;
  /** Image sides are drawn from [minSide, maxSide] (odd and even, mixed aspect ratios). Defaults 23, 61. */
  minSide?: number;
  maxSide?: number;
  /** pascal-context: write the label PNGs in FCN's / ZS3Net's classes-59 order instead of mmsegmentation's. */
  fcnOrder?: boolean;
  /**
   * Label maps to write instead of random scenes, per split (that split then has one sample per
   * map, whatever trainCount / testCount say): values exactly as the PNGs store them (the
   * layout's raw ids, e.g. PASCAL Context's 59-class ids; `fcnOrder` does not apply), 255 ignore.
   * The image is painted from the labels (one colour per value). For tests that work out the
   * expected scores by hand from the label maps.
   */
  labels?: Partial<Record<'train' | 'test', ReadonlyArray<{ height: number; width: number; label: Uint8Array }>>>;
}

/** What {@link writePaperTree} wrote. */
export interface PaperTree {
  root: string;
  /** Raw label values used (as stored in the PNGs), besides 255. */
  labelValues: number[];
  /** The samples, in list order per split: id, size, and the label map as stored. */
  samples: Record<string, Array<{ id: string; height: number; width: number; label: Uint8Array }>>;
}

/**
 * Raw label values each layout's tiny tree uses (besides 255): background or common classes,
 * and classes of the 'cagnet' unseen set.
 */
export const PAPER_TREE_LABELS: Readonly<Record<PaperLayout, readonly number[]>> = Object.freeze({
  'pascal-voc12': [0, 1, 8, 15, 17, 20], // background, aeroplane, cat, person, sheep*, tv*
  'pascal-context': [0, 2, 15, 20, 29, 47, 55], // mmseg ids: background, bag (not in the 33), cat*, cow*, grass, sky, tvmonitor
  'coco-stuff164k': [0, 20, 123, 156, 168], // person, cow*, grass*, sky-other, tree*
  'sign-release-voc12': [0, 1, 8, 15, 17, 20],
  'sign-release-context': [0, 8, 10, 21, 22, 20], // unlabel, cat*, cow*, sky, grass, tv
  'sign-release-cocostuff': [0, 20, 123, 156, 168],
});

/** PASCAL Context's label order in FCN's classes-59.txt, by the mmsegmentation id of each name (for fcnOrder). */
const FCN_FROM_MMSEG: Readonly<Record<number, number>> = { 0: 0, 2: 21, 15: 8, 20: 10, 29: 36, 47: 50, 55: 20 };

/** A scene of class regions: a background value, and rectangles of other values with a 255 border (as VOC's object boundaries). */
function paperScene(rng: Rng, height: number, width: number, values: readonly number[]): { image: Uint8Array; label: Uint8Array } {
  const label = new Uint8Array(height * width).fill(values[0]!);
  const regions = 2 + rng.int(2);
  for (let r = 0; r < regions; r++) {
    const v = values[1 + rng.int(values.length - 1)]!;
    const h = 5 + rng.int(Math.max(1, Math.floor(height / 2)));
    const w = 5 + rng.int(Math.max(1, Math.floor(width / 2)));
    const top = rng.int(Math.max(1, height - h));
    const left = rng.int(Math.max(1, width - w));
    for (let y = top; y < Math.min(height, top + h); y++)
      for (let x = left; x < Math.min(width, left + w); x++) {
        const edge = y === top || x === left || y === top + h - 1 || x === left + w - 1;
        label[y * width + x] = edge ? 255 : v;
      }
  }
  return { image: paintLabels(label), label };
}

/** An RGB image [H·W·3] for a label map: one colour per value (grey for 255), with a little deterministic texture. */
function paintLabels(label: Uint8Array): Uint8Array {
  const image = new Uint8Array(label.length * 3);
  for (let i = 0; i < label.length; i++) {
    const v = label[i]!;
    const colour = v === 255 ? [128, 128, 128] : [(v * 97) % 256, (v * 57 + 80) % 256, (v * 31 + 160) % 256];
    const noise = (Math.imul(i + 1, 2654435761) >>> 27) - 15; // cheap deterministic texture, −15..16
    for (let k = 0; k < 3; k++) image[i * 3 + k] = Math.max(0, Math.min(255, colour[k]! + noise * (k + 1) / 2));
  }
  return image;
}

/**
 * A NumPy `.npy` file (format 1.0) of a 1-D array: strings as `<U{n}` (n = the longest, at least
 * 1) or integers as `<i8`, as `numpy.save` writes them.
 *
 * @example
 * writeFileSync('split/test_list.npy', encodeNpy(['/data/annotations/val/2007_000033.png']));
 */
export function encodeNpy(items: readonly string[] | readonly number[]): Uint8Array {
  const strings = items.length > 0 && typeof items[0] === 'string';
  const n = strings ? Math.max(1, ...(items as string[]).map((s) => [...s].length)) : 8;
  const descr = strings ? `<U${n}` : '<i8';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${items.length},), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const itemBytes = strings ? 4 * n : 8;
  const out = new Uint8Array(10 + header.length + items.length * itemBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const at = 10 + header.length;
  items.forEach((item, i) => {
    if (strings) [...(item as string)].forEach((ch, j) => view.setUint32(at + i * itemBytes + 4 * j, ch.codePointAt(0)!, true));
    else view.setBigInt64(at + i * 8, BigInt(item as number), true);
  });
  return out;
}

/**
 * Writes a tiny dataset in the exact on-disk layout of one of the paper's datasets, for tests and
 * end-to-end runs: JPEG images of odd and even sizes, 8-bit label PNGs (grey, one palette), the
 * list files, with a few class regions per image (bordered by 255) of {@link PAPER_TREE_LABELS},
 * or the label maps given in `labels` (tests that work out their expected scores by hand).
 * - `pascal-voc12`: JPEGImages/, SegmentationClassAug/, train_aug.txt (ids), val.txt (DeepLab's
 *   "/JPEGImages/<id>.jpg /SegmentationClassAug/<id>.png" lines);
 * - `pascal-context`: JPEGImages/, SegmentationClassContext/ (59-class ids, mmsegmentation's
 *   order unless `fcnOrder`), ImageSets/SegmentationContext/{train,val}.txt;
 * - `coco-stuff164k`: images/{train2017,val2017}/, stuffthingmaps/{train2017,val2017}/;
 * - `sign-release-*`: images/<split>/, annotations/<split>/, split/{train,test}_list.npy,
 *   split/{seen,novel}_cls.npy, labels_refined.txt of the benchmark.
 *
 * @example
 * const tree = await writePaperTree('/tmp/voc', 'pascal-voc12', { seed: 1 });
 * const dm = await createDataModule({ type: 'pascal-voc12', root: tree.root, unseenSplit: 'cagnet', embeddingsFile }, { io: nodeIo, seed: 0 });
 */
export async function writePaperTree(dir: string, layout: PaperLayout, opts: PaperTreeOptions = {}): Promise<PaperTree> {
  const seed = opts.seed ?? 0;
  const counts = { train: opts.labels?.train?.length ?? opts.trainCount ?? 4, test: opts.labels?.test?.length ?? opts.testCount ?? 3 };
  for (const [split, maps] of Object.entries(opts.labels ?? {}))
    maps?.forEach((m, i) => {
      if (!Number.isInteger(m.height) || !Number.isInteger(m.width) || m.height < 1 || m.width < 1 || !(m.label instanceof Uint8Array) || m.label.length !== m.height * m.width)
        throw new Error(`writePaperTree: labels.${split}[${i}] must be a Uint8Array of height×width values, got ${m.label?.length} for ${m.height}×${m.width}`);
    });
  const minSide = opts.minSide ?? 23;
  const maxSide = opts.maxSide ?? 61;
  if (!Number.isInteger(minSide) || !Number.isInteger(maxSide) || minSide < 12 || maxSide < minSide) throw new Error(`writePaperTree: need integers 12 ≤ minSide ≤ maxSide, got ${minSide}, ${maxSide}`);
  const values = PAPER_TREE_LABELS[layout];
  const rngRoot = new Rng(seed).fork(`paper-tree/${layout}`);
  const release = layout.startsWith('sign-release-');
  const benchmark = release ? layout.slice('sign-release-'.length) : '';
  const coco = layout === 'coco-stuff164k' || benchmark === 'cocostuff';
  const folderOf = { train: coco ? 'train2017' : 'train', test: coco ? 'val2017' : 'val' };
  const samples: PaperTree['samples'] = {};
  const lists: Record<'train' | 'test', string[]> = { train: [], test: [] };
  const pal = palette();
  for (const split of ['train', 'test'] as const) {
    samples[split] = [];
    for (let i = 0; i < counts[split]; i++) {
      const given = opts.labels?.[split]?.[i];
      const rng = rngRoot.fork(`${split}/${i}`);
      const height = given ? given.height : minSide + rng.int(maxSide - minSide + 1);
      const width = given ? given.width : minSide + rng.int(maxSide - minSide + 1);
      const { image, label } = given ? { image: paintLabels(given.label), label: Uint8Array.from(given.label) } : paperScene(rng, height, width, values);
      const id = coco ? String(100 + i * 7 + (split === 'test' ? 50000 : 0)).padStart(12, '0') : `20${String(8 + (i % 3)).padStart(2, '0')}_${String(1000 + i * 37 + (split === 'test' ? 500 : 0)).padStart(6, '0')}`;
      const stored = !given && layout === 'pascal-context' && opts.fcnOrder ? label.map((v) => (v === 255 ? 255 : FCN_FROM_MMSEG[v]!)) : label;
      const jpeg = await sharp(Buffer.from(image.buffer, image.byteOffset, image.byteLength), { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
      const png = i === 1 ? encodePng({ width, height, data: stored, channels: 1, depth: 8, palette: pal }) : encodePng({ width, height, data: stored, channels: 1, depth: 8 });
      let imagePath: string;
      let labelPath: string;
      if (layout === 'pascal-voc12') [imagePath, labelPath] = [`JPEGImages/${id}.jpg`, `SegmentationClassAug/${id}.png`];
      else if (layout === 'pascal-context') [imagePath, labelPath] = [`JPEGImages/${id}.jpg`, `SegmentationClassContext/${id}.png`];
      else if (layout === 'coco-stuff164k') [imagePath, labelPath] = [`images/${folderOf[split]}/${id}.jpg`, `stuffthingmaps/${folderOf[split]}/${id}.png`];
      else [imagePath, labelPath] = [`images/${folderOf[split]}/${id}.jpg`, `annotations/${folderOf[split]}/${id}.png`];
      for (const p of [imagePath, labelPath]) mkdirSync(join(dir, p.slice(0, p.lastIndexOf('/'))), { recursive: true });
      writeFileAtomic(join(dir, imagePath), jpeg);
      writeFileAtomic(join(dir, labelPath), png);
      samples[split]!.push({ id, height, width, label: stored });
      if (layout === 'pascal-voc12') lists[split].push(split === 'train' ? id : `/${imagePath} /${labelPath}`);
      else if (layout === 'pascal-context') lists[split].push(id);
      else if (release) lists[split].push(`/home/someone/dataset/${benchmark}/annotations/${folderOf[split]}/${id}${benchmark === 'context' ? '' : '.png'}`);
    }
  }
  if (layout === 'pascal-voc12') {
    writeFileAtomic(join(dir, 'train_aug.txt'), lists.train.join('\n') + '\n');
    writeFileAtomic(join(dir, 'val.txt'), lists.test.join('\n') + '\n');
  } else if (layout === 'pascal-context') {
    mkdirSync(join(dir, 'ImageSets', 'SegmentationContext'), { recursive: true });
    writeFileAtomic(join(dir, 'ImageSets', 'SegmentationContext', 'train.txt'), lists.train.join('\n') + '\n');
    writeFileAtomic(join(dir, 'ImageSets', 'SegmentationContext', 'val.txt'), lists.test.join('\n'));
  } else if (release) {
    const b = SIGN_RELEASE_BENCHMARKS[benchmark as 'voc12' | 'context' | 'cocostuff'];
    const novel = b.unseenSplits.cagnet!.map((n) => b.classNames.indexOf(n));
    const seen = b.classNames.map((_, i) => i).filter((i) => i !== b.background && !novel.includes(i));
    mkdirSync(join(dir, 'split'), { recursive: true });
    writeFileAtomic(join(dir, 'split', 'train_list.npy'), encodeNpy(lists.train));
    writeFileAtomic(join(dir, 'split', 'test_list.npy'), encodeNpy(lists.test));
    writeFileAtomic(join(dir, 'split', 'seen_cls.npy'), encodeNpy(seen));
    writeFileAtomic(join(dir, 'split', 'novel_cls.npy'), encodeNpy(novel));
    writeFileAtomic(join(dir, 'labels_refined.txt'), b.classNames.map((n, i) => `${i}\t${n}`).join('\n'));
  }
  return { root: dir, labelValues: [...values], samples };
}
