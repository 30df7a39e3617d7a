/**
 * What the paper's datasets (`pascal-voc12`, `pascal-context`, `coco-stuff164k`, `sign-release`)
 * share: the release's normalisation in their meta, the `validate` key, and samples named by
 * list files (one id, or an image path and a label path, per line).
 */
import { z } from 'zod';
import { errorMessage, firstExisting, readListFile, type FilePair, type PairCheck } from './files';
import { joinPath, type DatasetIo } from './io';
import { CAFFE_BGR_NORMALIZATION } from './release-protocol';
import { IGNORE_INDEX, type DataConfig, type DatasetMeta } from './types';

/** Samples up to which `validate: 'auto'` decodes every file when a paper dataset opens (above: existence only). */
export const PAPER_FULL_VALIDATION_LIMIT = 500;

/** The `validate` key of the paper datasets. */
export const paperValidateSchema = z
  .enum(['auto', 'exists', 'headers', 'full'])
  .default('auto')
  .describe(`'exists': every listed file is there (folders listed, nothing opened); 'headers': and every header fits; 'full': and every file decodes with valid labels; 'auto': full up to ${PAPER_FULL_VALIDATION_LIMIT} samples, else exists`);

/** The check `validate` asks for, given the number of samples. */
export function paperCheck(validate: 'auto' | PairCheck, count: number): PairCheck {
  return validate === 'auto' ? (count <= PAPER_FULL_VALIDATION_LIMIT ? 'full' : 'exists') : validate;
}

/** The meta of a paper dataset: 3 channels, ignore 255, the release's BGR Caffe-mean normalisation. */
export function paperMeta(type: string, classNames: readonly string[], background: number | null, splits: string[], unseenSplits: Record<string, readonly string[]>): DatasetMeta {
  return {
    type,
    classNames: [...classNames],
    background,
    ignoreIndex: IGNORE_INDEX,
    channels: 3,
    normalization: { ...CAFFE_BGR_NORMALIZATION, mean: [...CAFFE_BGR_NORMALIZATION.mean], std: [...CAFFE_BGR_NORMALIZATION.std] },
    splits,
    unseenSplits: Object.fromEntries(Object.entries(unseenSplits).map(([k, v]) => [k, [...v]])),
  };
}

/** Copies of a table of unseen sets (callers may not change the built-in one). */
export function copySplits(sets: Record<string, readonly string[]>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, [...v]]));
}

/** The split names a config asks for: the dataset's own, and the config's trainSplit / testSplit. */
export function wantedSplits(config: DataConfig, own: readonly string[]): string[] {
  return [...new Set([...own, config.trainSplit, config.testSplit].filter((s): s is string => !!s))];
}

/** Where a list-file dataset keeps its files. */
export interface ListedLayout {
  root: string;
  /** Images: `ROOT/<imagesDir>/<id><imageExt>`. */
  imagesDir: string;
  imageExt: string;
  /** Labels: `ROOT/<labelsDir>/<id>.png`. */
  labelsDir: string;
  /** Folders under ROOT where list files are looked for, in order ('' = ROOT itself). */
  listDirs: string[];
}

/**
 * The pairs a list file names: a line is an id (`2007_000032`: `imagesDir/<id><ext>` and
 * `labelsDir/<id>.png`) or two paths relative to ROOT (`/JPEGImages/2007_000032.jpg
 * /SegmentationClassAug/2007_000032.png`, DeepLab's list format). Returns undefined (and a
 * problem naming every place looked at) when no list file is found; bad lines are problems
 * naming the file and line.
 */
export async function pairsFromList(io: DatasetIo, layout: ListedLayout, split: string, file: string, problems: string[]): Promise<FilePair[] | undefined> {
  const looked = layout.listDirs.map((d) => (d ? joinPath(d, file) : file));
  const path = await firstExisting(io, layout.root, looked);
  if (!path) {
    problems.push(`${layout.root}: no list of the '${split}' split (looked for ${looked.map((l) => joinPath(layout.root, l)).join(', ')})`);
    return undefined;
  }
  let lines: Array<[number, string]>;
  try {
    lines = await readListFile(io, path);
  } catch (err) {
    problems.push(errorMessage(err));
    return undefined;
  }
  const pairs: FilePair[] = [];
  for (const [n, text] of lines) {
    const parts = text.split(/\s+/);
    const source = `${path}, line ${n}`;
    if (parts.length === 1) {
      const id = parts[0]!;
      if (id.includes('/')) {
        problems.push(`${source}: '${id}' is a path; a line holds an id, or an image path and a label path`);
        continue;
      }
      pairs.push({ id, image: joinPath(layout.root, layout.imagesDir, id + layout.imageExt), label: joinPath(layout.root, layout.labelsDir, `${id}.png`), source });
    } else if (parts.length === 2) {
      const [image, label] = parts as [string, string];
      const name = image.slice(image.lastIndexOf('/') + 1);
      const dot = name.lastIndexOf('.');
      pairs.push({ id: dot > 0 ? name.slice(0, dot) : name, image: joinPath(layout.root, image), label: joinPath(layout.root, label), source });
    } else problems.push(`${source}: ${parts.length} fields; a line holds an id, or an image path and a label path`);
  }
  if (pairs.length === 0 && lines.length === 0) problems.push(`${path}: the '${split}' list is empty`);
  return pairs;
}
