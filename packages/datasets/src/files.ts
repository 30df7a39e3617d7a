/**
 * Datasets of image files paired with label PNGs: what every file-based dataset type shares
 * (`folder`, `pascal-voc12`, `pascal-context`, `coco-stuff164k`, `sign-release`). A type finds its
 * pairs (by listing folders, or from its list files) and its class table; {@link openPairedDataset}
 * checks the files as far as asked (existence, headers, or every pixel), reporting every problem
 * at once with the file named, and returns a {@link Dataset} whose samples are read from disk
 * when asked for. Raw label values become class ids through a {@link LabelMapping} (identity for
 * most datasets; PASCAL Context's 59 → 33 classes is a table).
 */
import type { EmbeddingTable } from '@sign/embeddings';
import { DatasetError } from './errors';
import { joinPath, type DatasetIo } from './io';
import type { Dataset, DatasetMeta, DatasetSplit, Sample } from './types';

/** One sample on disk: an image file (PNG or JPEG) and its label PNG. */
export interface FilePair {
  /** The sample id (the file stem), for messages and output names. */
  id: string;
  image: string;
  label: string;
  /** Where the pair was named (e.g. `ROOT/val.txt, line 12`), for messages; absent when found by listing. */
  source?: string;
}

/**
 * How raw label values (as stored in the PNG) become class ids: `table[raw]` is the class id,
 * the ignore index, or −1 for a value that may not occur (an error naming the file when read).
 */
export interface LabelMapping {
  table: Int16Array;
  /** The values that may occur, for messages: e.g. `a class id of classes.json (0..6) nor the ignore index 255`. */
  valid: string;
}

/**
 * The identity mapping: values `0 … classes − 1` are class ids, `ignoreIndex` stays ignore,
 * anything else is an error.
 *
 * @example
 * identityLabels(21, 255, 'PASCAL VOC class id (0..20)').table[20] // 20
 */
export function identityLabels(classes: number, ignoreIndex: number, what: string): LabelMapping {
  const table = new Int16Array(256).fill(-1);
  for (let v = 0; v < Math.min(classes, 256); v++) table[v] = v;
  table[ignoreIndex] = ignoreIndex;
  return { table, valid: `${what} nor the ignore index ${ignoreIndex}` };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
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

/** An error's message (or the thrown value as text). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The lower-case extension of a file name with its dot ('.png'), or ''. */
export function extOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/** Image file extensions the datasets read. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/**
 * Pairs the images of `imageDir` (.png, .jpg, .jpeg) with the label PNGs of `labelDir` by file
 * stem, sorted by id. Problems name the files: a file that is not an image (or not a PNG label),
 * two images with one stem, an image without a label and the reverse (the first 50, then a
 * count); `names` says what the folders are in messages (`{ images: 'images/train/', labels:
 * 'labels/train/' }`). An unreadable folder is a problem and gives no pairs.
 *
 * @example
 * const pairs = await pairFolders(io, 'data/images/train', 'data/labels/train', problems, { images: 'images/train/', labels: 'labels/train/' });
 */
export async function pairFolders(io: DatasetIo, imageDir: string, labelDir: string, problems: string[], names: { images: string; labels: string }): Promise<FilePair[]> {
  let imageNames: string[] = [];
  let labelNames: string[] = [];
  try {
    imageNames = await io.list(imageDir);
  } catch (err) {
    problems.push(errorMessage(err));
  }
  try {
    labelNames = await io.list(labelDir);
  } catch (err) {
    problems.push(`${errorMessage(err)} (every ${names.images} needs a ${names.labels})`);
    return [];
  }
  let reported = 0;
  const report = (msg: string) => {
    if (++reported <= 50) problems.push(msg);
  };
  const images = new Map<string, string>();
  for (const name of imageNames) {
    if (name.startsWith('.')) continue;
    const ext = extOf(name);
    const path = joinPath(imageDir, name);
    if (!IMAGE_EXTENSIONS.includes(ext)) {
      report(`${path}: not an image file (${names.images} holds .png, .jpg or .jpeg files)`);
      continue;
    }
    const stem = name.slice(0, name.length - ext.length);
    const other = images.get(stem);
    if (other) report(`${path}: two images with the stem '${stem}' (${other} too); one label cannot serve both`);
    else images.set(stem, path);
  }
  const labels = new Map<string, string>();
  for (const name of labelNames) {
    if (name.startsWith('.')) continue;
    const ext = extOf(name);
    const path = joinPath(labelDir, name);
    if (ext !== '.png') {
      report(`${path}: not a PNG label map (${names.labels} holds <image stem>.png files)`);
      continue;
    }
    labels.set(name.slice(0, name.length - ext.length), path);
  }
  const pairs: FilePair[] = [];
  for (const [stem, image] of images) {
    const label = labels.get(stem);
    if (!label) report(`${image}: image without a label (expected ${joinPath(labelDir, `${stem}.png`)})`);
    else pairs.push({ id: stem, image, label });
  }
  for (const [stem, label] of labels) if (!images.has(stem)) report(`${label}: label without an image (expected ${joinPath(imageDir, stem)}.png, .jpg or .jpeg)`);
  if (reported > 50) problems.push(`… ${reported} such problems in all`);
  pairs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return pairs;
}

/** Where a pair was named, as a message suffix. */
function from(p: FilePair): string {
  return p.source ? ` (listed in ${p.source})` : '';
}

/** Header checks of one pair: readable, within the pixel limit, label format, equal sizes. */
export async function checkPairHeaders(io: DatasetIo, p: FilePair): Promise<string[]> {
  const problems: string[] = [];
  const [img, lab] = await Promise.all([io.imageInfo(p.image).catch((e: unknown) => errorMessage(e)), io.imageInfo(p.label).catch((e: unknown) => errorMessage(e))]);
  if (typeof img === 'string') problems.push(img + from(p));
  else if (img.width * img.height > io.maxPixels) problems.push(`${p.image}: ${img.width}×${img.height} = ${img.width * img.height} pixels is over the decoding limit of ${io.maxPixels}`);
  if (typeof lab === 'string') problems.push(lab + from(p));
  else if (lab.format !== 'png') problems.push(`${p.label}: a ${lab.format} file; label maps must be PNG`);
  else if (!lab.palette && lab.channels !== 1) problems.push(`${p.label}: a label map must be an 8-bit grey or a palette PNG whose value (or index) is the class id, got ${lab.channels} channels${lab.channels >= 3 ? ' (colour-coded labels must be converted to class ids first)' : ''}`);
  else if (lab.bitDepth > 8) problems.push(`${p.label}: a ${lab.bitDepth}-bit label PNG; label maps must be 8-bit (or less) grey or palette`);
  if (typeof img !== 'string' && typeof lab !== 'string' && (img.width !== lab.width || img.height !== lab.height))
    problems.push(`${p.image} is ${img.width}×${img.height} but its label ${p.label} is ${lab.width}×${lab.height}`);
  return problems;
}

/**
 * Maps raw label values through `labels.table` in place; returns a message naming the values that
 * may not occur (with pixel counts), or '' when every value is valid.
 */
function mapLabels(data: Uint8Array, labels: LabelMapping): string {
  const table = labels.table;
  let counts: Map<number, number> | undefined;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const m = table[v]!;
    if (m < 0) {
      counts ??= new Map();
      counts.set(v, (counts.get(v) ?? 0) + 1);
    } else data[i] = m;
  }
  if (!counts) return '';
  const list = [...counts].sort((a, b) => a[0] - b[0]).map(([v, n]) => `${v} (${n} pixel${n > 1 ? 's' : ''})`);
  return `label value${counts.size > 1 ? 's' : ''} ${list.join(', ')} ${counts.size > 1 ? 'are' : 'is'} not ${labels.valid}`;
}

/** RGB → grey as OpenCV's COLOR_RGB2GRAY on uint8: (4899·R + 9617·G + 1868·B + 2^13) >> 14. */
function rgbToGrey(data: Uint8Array, px: number): Uint8Array {
  const out = new Uint8Array(px);
  for (let i = 0; i < px; i++) out[i] = (4899 * data[3 * i]! + 9617 * data[3 * i + 1]! + 1868 * data[3 * i + 2]! + 8192) >> 14;
  return out;
}

/** Grey replicated to three channels (as OpenCV's `imread(…, IMREAD_COLOR)` reads a grey file). */
function greyToRgb(data: Uint8Array, px: number): Uint8Array {
  const out = new Uint8Array(px * 3);
  for (let i = 0; i < px; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = data[i]!;
  return out;
}

/**
 * Decodes one pair and checks it (equal sizes, every label value valid); the label values come
 * out mapped to class ids and the image with `meta.channels` channels. Throws naming the file.
 */
export async function readPair(io: DatasetIo, p: FilePair, meta: DatasetMeta, labels: LabelMapping): Promise<Sample> {
  const [img, lab] = await Promise.all([io.decodeImage(p.image), io.decodeLabel(p.label)]);
  if (img.width !== lab.width || img.height !== lab.height) throw new Error(`${p.image} is ${img.width}×${img.height} but its label ${p.label} is ${lab.width}×${lab.height}`);
  const bad = mapLabels(lab.data, labels);
  if (bad) throw new Error(`${p.label}: ${bad}`);
  const px = img.width * img.height;
  const image = img.channels === meta.channels ? img.data : meta.channels === 3 ? greyToRgb(img.data, px) : rgbToGrey(img.data, px);
  return { id: p.id, height: img.height, width: img.width, channels: meta.channels, image, label: lab.data };
}

/** Decodes every pair (4 at a time), returning one problem per bad file. */
export async function checkPairsFully(io: DatasetIo, pairs: readonly FilePair[], meta: DatasetMeta, labels: LabelMapping): Promise<string[]> {
  const problems: string[] = [];
  await mapLimit(pairs, 4, async (p) => {
    try {
      await readPair(io, p, meta, labels);
    } catch (err) {
      problems.push(errorMessage(err));
    }
  });
  return problems;
}

function parentOf(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? ['.', path] : [path.slice(0, slash) || '/', path.slice(slash + 1)];
}

/**
 * Checks that every file of `pairs` exists, listing each folder once (no file is opened), and
 * returns one problem per missing file (naming it and where it was listed) or unreadable folder.
 */
export async function checkPairsExist(io: DatasetIo, pairs: readonly FilePair[]): Promise<string[]> {
  const problems: string[] = [];
  const folders = new Map<string, Set<string> | string>();
  for (const p of pairs) for (const f of [p.image, p.label]) folders.set(parentOf(f)[0], new Set());
  for (const dir of folders.keys()) {
    try {
      folders.set(dir, new Set(await io.list(dir)));
    } catch (err) {
      folders.set(dir, errorMessage(err));
      problems.push(errorMessage(err));
    }
  }
  let missing = 0;
  for (const p of pairs)
    for (const f of [p.image, p.label]) {
      const [dir, name] = parentOf(f);
      const names = folders.get(dir)!;
      if (typeof names !== 'string' && !names.has(name)) {
        missing++;
        if (missing <= 50) problems.push(`${f}: no such file${from(p)}`);
      }
    }
  if (missing > 50) problems.push(`… ${missing} missing files in all`);
  return problems;
}

/** How much {@link openPairedDataset} checks before returning. */
export type PairCheck = 'exists' | 'headers' | 'full';

/** What {@link openPairedDataset} needs. */
export interface PairedDatasetParts {
  io: DatasetIo;
  /** The dataset folder, for messages. */
  root: string;
  /** What the dataset is, for message headings ('PASCAL VOC 2012', 'folder dataset'). */
  what: string;
  meta: DatasetMeta;
  /** The pairs of each split, in sample order. */
  splits: Record<string, FilePair[]>;
  labels: LabelMapping;
  /** 'exists': every file is there; 'headers': and every header fits; 'full': and every file decodes with valid labels. */
  check: PairCheck;
  embeddings: EmbeddingTable | null;
  /** Problems the caller found already (pairing, list files, …): reported first; any of them skips the full decode. */
  problems?: string[];
  /** Problems the caller found that do not concern the image files (e.g. a bad embeddings file): reported last. */
  laterProblems?: string[];
  /** How a split the dataset does not have is called, for the error (default: `no split 'x'`). */
  unknownSplit?: (name: string, known: string[]) => string;
}

/**
 * Checks the files of a paired dataset as far as `check` asks, throwing one {@link DatasetError}
 * that lists every problem (each naming its file), and returns the {@link Dataset}: `split(name)`
 * reads samples from disk on each `get`; `validate()` decodes every file.
 *
 * @example
 * const dataset = await openPairedDataset({ io, root, what: 'PASCAL VOC 2012', meta, splits: { train, val },
 *   labels: identityLabels(21, 255, 'a VOC class id (0..20)'), check: 'exists', embeddings: null });
 * const sample = await dataset.split('val').get(0); // { id, height, width, channels: 3, image, label }
 */
export async function openPairedDataset(parts: PairedDatasetParts): Promise<Dataset> {
  const { io, root, what, meta, labels } = parts;
  const problems = [...(parts.problems ?? [])];
  const names = Object.keys(parts.splits);
  const all = names.flatMap((s) => parts.splits[s]!);
  if (parts.check === 'exists') problems.push(...(await checkPairsExist(io, all)));
  else {
    for (const list of await mapLimit(all, 8, (p) => checkPairHeaders(io, p))) problems.push(...list);
    if (parts.check === 'full' && problems.length === 0) problems.push(...(await checkPairsFully(io, all, meta, labels)));
  }
  problems.push(...(parts.laterProblems ?? []));
  if (problems.length > 0) throw new DatasetError(problems, `${root}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the ${what}`);

  const splits: Record<string, DatasetSplit> = {};
  for (const name of names) {
    const pairs = parts.splits[name]!;
    splits[name] = {
      name,
      size: pairs.length,
      get(index: number) {
        const p = pairs[index];
        if (!p) return Promise.reject(new Error(`${what} split '${name}': index ${index} is out of range [0, ${pairs.length})`));
        return readPair(io, p, meta, labels);
      },
    };
  }
  return {
    meta,
    split(name) {
      const s = splits[name];
      if (!s) throw new Error(parts.unknownSplit?.(name, names) ?? `${root} has no split '${name}'; known: ${names.join(', ')}`);
      return s;
    },
    async embeddings() {
      return parts.embeddings;
    },
    async validate() {
      const found = await checkPairsFully(io, all, meta, labels);
      if (found.length > 0) throw new DatasetError(found, `${root}: ${found.length} bad file${found.length > 1 ? 's' : ''} in the ${what}`);
    },
  };
}

/**
 * Reads a list file of a dataset (one entry per line; blank lines and surrounding spaces
 * ignored), rejecting with a message that names the file. Returns `[line number, text]` pairs.
 *
 * @example
 * await readListFile(io, 'VOC2012/val.txt') // [[1, '2007_000033'], [2, '2007_000042'], …]
 */
export async function readListFile(io: DatasetIo, path: string): Promise<Array<[number, string]>> {
  const text = await io.readText(path);
  const out: Array<[number, string]> = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t) out.push([i + 1, t]);
  });
  return out;
}

/** The first of `candidates` (paths under `root`) that exists, or undefined. */
export async function firstExisting(io: DatasetIo, root: string, candidates: readonly string[]): Promise<string | undefined> {
  for (const c of candidates) {
    const p = joinPath(root, c);
    if (await io.exists(p)) return p;
  }
  return undefined;
}
