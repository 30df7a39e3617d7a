/**
 * `@sign/datasets/testing` (Node): a generator of small folder datasets for tests, examples and
 * end-to-end runs: coloured shapes on textured backgrounds, where the classes are compositions
 * of a colour and a shape ("red circle", "blue square", …) and the class embeddings are
 * attribute vectors (shape one-hot ⊕ colour one-hot), so that an unseen class combines
 * attributes that seen classes carry and zero-shot transfer is possible.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@sign/core';
import { writeFileAtomic } from '@sign/core/node';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';

/** The shapes and colours of the generated classes. */
export const SHAPES = ['circle', 'square', 'triangle'] as const;
export const COLOURS = { red: [205, 45, 40], green: [55, 165, 65], blue: [45, 75, 215] } as const;
type Shape = (typeof SHAPES)[number];
type Colour = keyof typeof COLOURS;

/** Classes of the shapes dataset, in id order (0 = background). */
export const SHAPES_CLASSES = ['background', 'red circle', 'green square', 'blue triangle', 'red square', 'blue circle', 'green triangle'];
/** Unseen classes: each combines a shape and a colour that seen classes have (circle: red circle; blue: blue triangle; …). */
export const SHAPES_UNSEEN = ['blue circle', 'green triangle'];

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
  /** Write embeddings.json (attribute vectors). Default true. */
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
 * The attribute embedding of a shapes class: [circle, square, triangle, red, green, blue,
 * background] with ones for its shape and colour (background: the last), L2-normalised.
 *
 * @example
 * shapesEmbedding('blue circle') // [0.707, 0, 0, 0, 0, 0.707, 0]
 */
export function shapesEmbedding(name: string): number[] {
  const v = new Array<number>(7).fill(0);
  if (name === 'background') v[6] = 1;
  else {
    const [colour, shape] = name.split(' ') as [Colour, Shape];
    const s = SHAPES.indexOf(shape);
    const c = Object.keys(COLOURS).indexOf(colour);
    if (s < 0 || c < 0) throw new Error(`shapesEmbedding: '${name}' is not '<red|green|blue> <circle|square|triangle>'`);
    v[s] = Math.SQRT1_2;
    v[3 + c] = Math.SQRT1_2;
  }
  return v;
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
  // textured background: a muted base colour, stripes at a random angle, pixel noise
  const base = [90 + rng.int(80), 90 + rng.int(70), 80 + rng.int(60)];
  const angle = rng.uniform() * Math.PI;
  const period = 5 + rng.uniform() * 10;
  const amp = 10 + rng.uniform() * 20;
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
    const [colourName, shapeName] = SHAPES_CLASSES[id]!.split(' ') as [Colour, Shape];
    const r = minSide * (0.14 + rng.uniform() * 0.14);
    const cx = r * 0.5 + rng.uniform() * (width - r);
    const cy = r * 0.5 + rng.uniform() * (height - r);
    const colour = COLOURS[colourName].map((v) => v + Math.round((rng.uniform() - 0.5) * 40));
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

/** A palette for viewing label PNGs (index = class id); unused indices black, 255 white. */
function palette(): [number, number, number][] {
  const p: [number, number, number][] = Array.from({ length: 256 }, () => [0, 0, 0]);
  const named: [number, number, number][] = [[0, 0, 0], [230, 60, 60], [60, 190, 80], [70, 110, 240], [250, 150, 150], [140, 200, 255], [170, 240, 120]];
  named.forEach((c, i) => (p[i] = c));
  p[255] = [255, 255, 255];
  return p;
}

/**
 * Writes a folder dataset (the `folder` layout) of coloured shapes on textured backgrounds to
 * `dir`: `classes.json` (7 classes, background 0), `images/{train,val}/NNNN.png|jpg` (RGB, mixed
 * sizes, every third a JPEG), `labels/{train,val}/NNNN.png` (grey and palette PNGs alternating)
 * and `embeddings.json` (attribute vectors, {@link shapesEmbedding}). Seen classes: red circle,
 * green square, blue triangle, red square; unseen ({@link SHAPES_UNSEEN}): blue circle, green
 * triangle. Deterministic in `seed`. About 0.1 s for the default 56 images.
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
