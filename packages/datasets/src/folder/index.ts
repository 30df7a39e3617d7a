/**
 * `folder`: your own images and label maps on disk, laid out like mmsegmentation's custom
 * datasets:
 *
 *   ROOT/classes.json           {"classes": ["background", "cat", …], "background": 0 | null, "ignoreIndex": 255}
 *   ROOT/images/<split>/*.png|jpg|jpeg
 *   ROOT/labels/<split>/<same stem>.png   (8-bit grey or palette PNG: value / index = class id)
 *   ROOT/embeddings.json        optional: {"cat": [..], …} or a table written by `sign embed`
 *
 * Splits are the `images/<split>` folders among 'train', 'val', 'test' and the config's
 * trainSplit/testSplit. `open` checks the layout, classes.json, the pairing of images and labels,
 * every file's header (a readable PNG/JPEG, the pixel limit, label format, image size = label
 * size) and, with `validate: 'full'` (the default for up to 500 samples), decodes every file and
 * checks every label value. All problems are reported at once, each naming its file. Samples
 * are read from disk when asked for; nothing is kept in memory.
 */
import { z } from 'zod';
import { parseEmbeddings } from '../embeddings';
import { joinPath, type DatasetIo } from '../io';
import { DatasetError } from '../errors';
import type { DataConfig, Dataset, DatasetDefinition, DatasetMeta, DatasetSplit, Normalization, Sample } from '../types';

/** Samples up to which `validate: 'auto'` decodes every file when opening. */
export const FULL_VALIDATION_LIMIT = 500;

const IMAGE_EXT = ['.png', '.jpg', '.jpeg'];

const normalizationSchema = z.strictObject({
  order: z.enum(['rgb', 'bgr', 'grey']),
  scale: z.number().positive(),
  mean: z.array(z.number()).min(1).max(3),
  std: z.array(z.number().positive()).min(1).max(3),
});

/** The folder dataset's own config keys. */
export const folderSchema = z.object({
  root: z.string().min(1).describe('the dataset folder (classes.json, images/<split>/, labels/<split>/)'),
  channels: z.union([z.literal(1), z.literal(3)]).default(3).describe('channels the model sees: grey images are replicated to 3, colour images converted to grey for 1'),
  normalization: normalizationSchema.optional().describe('default: ImageNet mean/std on 0..1 RGB (grey: their channel means)'),
  validate: z.enum(['auto', 'headers', 'full']).default('auto').describe(`'full' decodes every file when opening; 'headers' reads headers only; 'auto': full up to ${FULL_VALIDATION_LIMIT} samples`),
});

/** A validated folder `data` section. */
export type FolderConfig = DataConfig & z.infer<typeof folderSchema>;

/** ImageNet statistics on 0..1 RGB (torchvision's), the usual choice for pre-trained backbones. */
export const IMAGENET_NORMALIZATION: Normalization = { order: 'rgb', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** Grey: the means of ImageNet's channel statistics. */
export const GREY_NORMALIZATION: Normalization = { order: 'grey', scale: 1 / 255, mean: [0.449], std: [0.226] };

const classesSchema = z.strictObject({
  classes: z.array(z.string().min(1)).min(1).max(255),
  background: z.number().int().min(0).nullable(),
  ignoreIndex: z.number().int().min(0).max(255).default(255),
});

interface Pair {
  stem: string;
  image: string;
  label: string;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function extOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

async function readClasses(io: DatasetIo, root: string): Promise<{ classNames: string[]; background: number | null; ignoreIndex: number }> {
  const path = joinPath(root, 'classes.json');
  let text: string;
  try {
    text = await io.readText(path);
  } catch (err) {
    throw new DatasetError([`${message(err)} (a folder dataset needs classes.json: {"classes": ["background", "cat", …], "background": 0, "ignoreIndex": 255})`]);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new DatasetError([`${path}: not valid JSON (${message(err)})`]);
  }
  const r = classesSchema.safeParse(obj);
  if (!r.success) throw new DatasetError(r.error.issues.map((i) => `${path}: ${i.path.map(String).join('.') || '(root)'}: ${i.code === 'invalid_type' && i.message.includes('undefined') ? `missing (${i.path[0] === 'background' ? 'the id of the background class, or null when every class is an object class' : i.message})` : i.message}`));
  const { classes, background, ignoreIndex } = r.data;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  classes.forEach((c, i) => {
    if (seen.has(c)) problems.push(`${path}: class '${c}' is listed twice (ids ${seen.get(c)} and ${i})`);
    seen.set(c, i);
  });
  if (background !== null && background >= classes.length) problems.push(`${path}: background is ${background}, but the class ids are 0..${classes.length - 1}`);
  if (ignoreIndex < classes.length) problems.push(`${path}: ignoreIndex ${ignoreIndex} is a class id ('${classes[ignoreIndex]}'); use a value ≥ ${classes.length} (255)`);
  if (problems.length > 0) throw new DatasetError(problems);
  return { classNames: classes, background, ignoreIndex };
}

/** Pairs `images/<split>` with `labels/<split>` by file stem; problems name the files. */
async function pairSplit(io: DatasetIo, root: string, split: string, problems: string[]): Promise<Pair[]> {
  const imageDir = joinPath(root, 'images', split);
  const labelDir = joinPath(root, 'labels', split);
  let imageNames: string[] = [];
  let labelNames: string[] = [];
  try {
    imageNames = await io.list(imageDir);
  } catch (err) {
    problems.push(message(err));
  }
  try {
    labelNames = await io.list(labelDir);
  } catch (err) {
    problems.push(`${message(err)} (every images/${split}/ needs a labels/${split}/)`);
    return [];
  }
  const images = new Map<string, string>();
  for (const name of imageNames) {
    if (name.startsWith('.')) continue;
    const ext = extOf(name);
    const path = joinPath(imageDir, name);
    if (!IMAGE_EXT.includes(ext)) {
      problems.push(`${path}: not an image file (images/${split}/ holds .png, .jpg or .jpeg files)`);
      continue;
    }
    const stem = name.slice(0, name.length - ext.length);
    const other = images.get(stem);
    if (other) problems.push(`${path}: two images with the stem '${stem}' (${other} too); one label cannot serve both`);
    else images.set(stem, path);
  }
  const labels = new Map<string, string>();
  for (const name of labelNames) {
    if (name.startsWith('.')) continue;
    const ext = extOf(name);
    const path = joinPath(labelDir, name);
    if (ext !== '.png') {
      problems.push(`${path}: not a PNG label map (labels/${split}/ holds <image stem>.png files)`);
      continue;
    }
    labels.set(name.slice(0, name.length - ext.length), path);
  }
  const pairs: Pair[] = [];
  for (const [stem, image] of images) {
    const label = labels.get(stem);
    if (!label) problems.push(`${image}: image without a label (expected ${joinPath(labelDir, `${stem}.png`)})`);
    else pairs.push({ stem, image, label });
  }
  for (const [stem, label] of labels) if (!images.has(stem)) problems.push(`${label}: label without an image (expected ${joinPath(imageDir, stem)}.png, .jpg or .jpeg)`);
  pairs.sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
  return pairs;
}

/** Header checks of one pair: readable, within the pixel limit, label format, equal sizes. */
async function checkHeaders(io: DatasetIo, p: Pair): Promise<string[]> {
  const problems: string[] = [];
  const [img, lab] = await Promise.all([io.imageInfo(p.image).catch((e: unknown) => message(e)), io.imageInfo(p.label).catch((e: unknown) => message(e))]);
  if (typeof img === 'string') problems.push(img);
  else if (img.width * img.height > io.maxPixels) problems.push(`${p.image}: ${img.width}×${img.height} = ${img.width * img.height} pixels is over the decoding limit of ${io.maxPixels}`);
  if (typeof lab === 'string') problems.push(lab);
  else if (lab.format !== 'png') problems.push(`${p.label}: a ${lab.format} file; label maps must be PNG`);
  else if (!lab.palette && lab.channels !== 1) problems.push(`${p.label}: a label map must be an 8-bit grey or a palette PNG whose value (or index) is the class id, got ${lab.channels} channels${lab.channels >= 3 ? ' (colour-coded labels must be converted to class ids first)' : ''}`);
  else if (lab.bitDepth > 8) problems.push(`${p.label}: a ${lab.bitDepth}-bit label PNG; label maps must be 8-bit (or less) grey or palette`);
  if (typeof img !== 'string' && typeof lab !== 'string' && (img.width !== lab.width || img.height !== lab.height))
    problems.push(`${p.image} is ${img.width}×${img.height} but its label ${p.label} is ${lab.width}×${lab.height}`);
  return problems;
}

/** Label values that are neither a class id nor the ignore index, with counts, as a message; '' when none. */
function badLabelValues(data: Uint8Array, classes: number, ignoreIndex: number): string {
  const counts = new Map<number, number>();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v >= classes && v !== ignoreIndex) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (counts.size === 0) return '';
  const list = [...counts].sort((a, b) => a[0] - b[0]).map(([v, n]) => `${v} (${n} pixel${n > 1 ? 's' : ''})`);
  return `label value${counts.size > 1 ? 's' : ''} ${list.join(', ')} ${counts.size > 1 ? 'are' : 'is'} not a class id of classes.json (0..${classes - 1}) nor the ignore index ${ignoreIndex}`;
}

/** RGB → grey as OpenCV's COLOR_RGB2GRAY on uint8: (4899·R + 9617·G + 1868·B + 2^13) >> 14. */
function rgbToGrey(data: Uint8Array, px: number): Uint8Array {
  const out = new Uint8Array(px);
  for (let i = 0; i < px; i++) out[i] = (4899 * data[3 * i]! + 9617 * data[3 * i + 1]! + 1868 * data[3 * i + 2]! + 8192) >> 14;
  return out;
}

function greyToRgb(data: Uint8Array, px: number): Uint8Array {
  const out = new Uint8Array(px * 3);
  for (let i = 0; i < px; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i]!;
  return out;
}

/** Decodes and checks one pair; throws naming the file. */
async function readPair(io: DatasetIo, p: Pair, meta: DatasetMeta): Promise<Sample> {
  const [img, lab] = await Promise.all([io.decodeImage(p.image), io.decodeLabel(p.label)]);
  if (img.width !== lab.width || img.height !== lab.height) throw new Error(`${p.image} is ${img.width}×${img.height} but its label ${p.label} is ${lab.width}×${lab.height}`);
  const bad = badLabelValues(lab.data, meta.classNames.length, meta.ignoreIndex);
  if (bad) throw new Error(`${p.label}: ${bad}`);
  const px = img.width * img.height;
  const image = img.channels === meta.channels ? img.data : meta.channels === 3 ? greyToRgb(img.data, px) : rgbToGrey(img.data, px);
  return { id: p.stem, height: img.height, width: img.width, channels: meta.channels, image, label: lab.data };
}

/** Decodes every pair (4 at a time), returning one problem per bad file. */
async function fullCheck(io: DatasetIo, pairs: readonly Pair[], meta: DatasetMeta): Promise<string[]> {
  const problems: string[] = [];
  await mapLimit(pairs, 4, async (p) => {
    try {
      await readPair(io, p, meta);
    } catch (err) {
      problems.push(message(err));
    }
  });
  return problems;
}

function splitOf(io: DatasetIo, name: string, pairs: readonly Pair[], meta: DatasetMeta): DatasetSplit {
  return {
    name,
    size: pairs.length,
    get(index: number) {
      const p = pairs[index];
      if (!p) return Promise.reject(new Error(`folder split '${name}': index ${index} is out of range [0, ${pairs.length})`));
      return readPair(io, p, meta);
    },
  };
}

/**
 * The `folder` dataset type (see the module comment for the layout). Config:
 * `{ type: 'folder', root, channels?: 1 | 3 (3), normalization?, validate?: 'auto' | 'headers' | 'full' }`
 * plus the common keys.
 *
 * @example
 * const dm = await createDataModule({ type: 'folder', root: 'data/shapes', unseen: ['blue circle'] }, { io: nodeIo, seed: 0 });
 */
export const folderDataset: DatasetDefinition<FolderConfig> = {
  type: 'folder',
  description: "your own images and label maps in a folder (mmsegmentation's custom layout: classes.json, images/<split>/, labels/<split>/)",
  schema: folderSchema,
  async open(config, { io }) {
    const root = config.root;
    const { classNames, background, ignoreIndex } = await readClasses(io, root);
    const channels = config.channels;
    const normalization = config.normalization ?? (channels === 3 ? IMAGENET_NORMALIZATION : GREY_NORMALIZATION);
    const problems: string[] = [];
    const wantChannels = normalization.order === 'grey' ? 1 : 3;
    if (wantChannels !== channels || normalization.mean.length !== channels || normalization.std.length !== channels)
      throw new DatasetError([`data.normalization: order '${normalization.order}' with ${normalization.mean.length} mean(s) and ${normalization.std.length} std(s) does not fit channels ${channels}`]);

    const candidates = [...new Set(['train', 'val', 'test', config.trainSplit, config.testSplit].filter((s): s is string => !!s))];
    const present: string[] = [];
    for (const s of candidates) if (await io.exists(joinPath(root, 'images', s))) present.push(s);
    const trainSplit = config.trainSplit ?? 'train';
    if (!present.includes(trainSplit)) throw new DatasetError([`${joinPath(root, 'images', trainSplit)}: no such folder (the training split; found: ${present.map((s) => `images/${s}`).join(', ') || 'no split folders'})`]);
    const pairs: Record<string, Pair[]> = {};
    for (const s of present) pairs[s] = await pairSplit(io, root, s, problems);
    const all = present.flatMap((s) => pairs[s]!);
    for (const list of await mapLimit(all, 8, (p) => checkHeaders(io, p))) problems.push(...list);

    const meta: DatasetMeta = { type: 'folder', classNames, background, ignoreIndex, channels, normalization, splits: present };
    const full = config.validate === 'full' || (config.validate === 'auto' && all.length <= FULL_VALIDATION_LIMIT);
    if (full && problems.length === 0) problems.push(...(await fullCheck(io, all, meta)));

    let embeddings = null;
    const embPath = joinPath(root, 'embeddings.json');
    if (await io.exists(embPath)) {
      try {
        embeddings = parseEmbeddings(await io.readText(embPath), embPath, classNames);
      } catch (err) {
        problems.push(message(err));
      }
    }
    if (problems.length > 0) throw new DatasetError(problems, `${root}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the folder dataset`);

    const splits = Object.fromEntries(present.map((s) => [s, splitOf(io, s, pairs[s]!, meta)]));
    const dataset: Dataset = {
      meta,
      split(name) {
        const s = splits[name];
        if (!s) throw new Error(`${root} has no split '${name}' (no images/${name}/); known: ${present.join(', ')}`);
        return s;
      },
      async embeddings() {
        return embeddings;
      },
      async validate() {
        const found = await fullCheck(io, all, meta);
        if (found.length > 0) throw new DatasetError(found, `${root}: ${found.length} bad file${found.length > 1 ? 's' : ''} in the folder dataset`);
      },
    };
    return dataset;
  },
};
