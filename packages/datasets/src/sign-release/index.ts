/**
 * `sign-release`: the preprocessed data of the SIGN release, which is CaGNet's (its
 * `CaGNet_VOC2012_data.tar`, `CaGNet_context_data.tar`, and COCO-Stuff arranged as its
 * instructions say), in the layout its loader (`LoaderZLS`) reads:
 *
 *   ROOT/images/<split>/<id>.jpg
 *   ROOT/annotations/<split>/<id>.png     8-bit class ids of the benchmark, 255 = ignore
 *   ROOT/split/train_list.npy             NumPy arrays of paths; only the last two parts count:
 *   ROOT/split/test_list.npy              `…/<split>/<id>.png` (Context's entries have no '.png')
 *   ROOT/split/seen_cls.npy, novel_cls.npy   optional: checked against the benchmark's 'cagnet' set
 *   ROOT/labels_refined.txt               optional: "<id>\t<name>" lines, checked against the classes
 *
 * (`<split>` is train/val for VOC and Context, train2017/val2017 for COCO-Stuff.) The dataset's
 * splits are 'train' and 'test' (the two lists). `benchmark` picks the class table: 'voc12' (21
 * ids, 0 background), 'context' (CaGNet's 34 ids, 0 'unlabel'), 'cocostuff' (182, no
 * background). The release leaves the background / 'unlabel' out of training and scoring.
 */
import { z } from 'zod';
import { COCO_STUFF_CLASSES, COCO_STUFF_PIPELINES, COCO_STUFF_UNSEEN_SPLITS } from '../coco-stuff164k/index';
import { DatasetError } from '../errors';
import { errorMessage, identityLabels, openPairedDataset, type FilePair } from '../files';
import { joinPath, type DatasetIo } from '../io';
import { copySplits, paperCheck, paperMeta, paperValidateSchema, wantedSplits } from '../paper';
import { PASCAL_CONTEXT33_CLASSES, PASCAL_CONTEXT33_UNSEEN_SPLITS, PASCAL_CONTEXT_PIPELINES } from '../pascal-context/index';
import { PASCAL_VOC12_CLASSES, PASCAL_VOC12_PIPELINES, PASCAL_VOC12_UNSEEN_SPLITS } from '../pascal-voc12/index';
import type { ReleasePipelines } from '../release-protocol';
import type { DataConfig, DatasetDefinition } from '../types';
import { parseNpy } from './npy';

/** The release's benchmarks. */
export type ReleaseBenchmark = 'voc12' | 'context' | 'cocostuff';

/** Per benchmark: classes (label-id order), background id, unseen sets, pipelines. */
export const SIGN_RELEASE_BENCHMARKS: Readonly<
  Record<ReleaseBenchmark, { classNames: readonly string[]; background: number | null; unseenSplits: Readonly<Record<string, readonly string[]>>; pipelines: ReleasePipelines }>
> = Object.freeze({
  voc12: { classNames: PASCAL_VOC12_CLASSES, background: 0, unseenSplits: PASCAL_VOC12_UNSEEN_SPLITS, pipelines: PASCAL_VOC12_PIPELINES },
  context: { classNames: PASCAL_CONTEXT33_CLASSES, background: 0, unseenSplits: PASCAL_CONTEXT33_UNSEEN_SPLITS, pipelines: PASCAL_CONTEXT_PIPELINES },
  cocostuff: { classNames: COCO_STUFF_CLASSES, background: null, unseenSplits: COCO_STUFF_UNSEEN_SPLITS, pipelines: COCO_STUFF_PIPELINES },
});

/** The sign-release dataset's own config keys. */
export const signReleaseSchema = z.object({
  root: z.string().min(1).describe('the benchmark folder of the release data (images/, annotations/, split/)'),
  benchmark: z.enum(['voc12', 'context', 'cocostuff']).describe("the class table: 'voc12' (21), 'context' (CaGNet's 33 + unlabel), 'cocostuff' (182)"),
  lists: z.record(z.string().min(1), z.string().min(1)).default({ train: 'split/train_list.npy', test: 'split/test_list.npy' }).describe('list (.npy of paths) of each split, under root'),
  validate: paperValidateSchema,
});

/** A validated sign-release `data` section. */
export type SignReleaseConfig = DataConfig & z.infer<typeof signReleaseSchema>;

/** Reads an .npy list of paths; its entries' last two parts name the split folder and the id. */
async function listPairs(io: DatasetIo, root: string, split: string, file: string, problems: string[]): Promise<FilePair[] | undefined> {
  const path = joinPath(root, file);
  let entries: string[];
  try {
    const arr = parseNpy(await io.readFile(path), path);
    if (typeof arr.data[0] !== 'string' && arr.data.length > 0) throw new Error(`${path}: a list of '${arr.dtype}' numbers; the '${split}' list holds paths`);
    entries = arr.data as string[];
  } catch (err) {
    problems.push(`${errorMessage(err)} (the list of the '${split}' split)`);
    return undefined;
  }
  const pairs: FilePair[] = [];
  entries.forEach((entry, i) => {
    const parts = entry.split('/').filter((p) => p.length > 0);
    const source = `${path}, item ${i}`;
    if (parts.length < 2) {
      problems.push(`${source}: '${entry}' does not end in <split folder>/<id>`);
      return;
    }
    const folder = parts[parts.length - 2]!;
    const id = parts[parts.length - 1]!.replace(/\.png$/, '');
    pairs.push({ id, image: joinPath(root, 'images', folder, `${id}.jpg`), label: joinPath(root, 'annotations', folder, `${id}.png`), source });
  });
  if (entries.length === 0) problems.push(`${path}: the '${split}' list is empty`);
  return pairs;
}

/** Checks labels_refined.txt and split/{seen,novel}_cls.npy when present, against the benchmark. */
async function checkReleaseTables(io: DatasetIo, root: string, benchmark: ReleaseBenchmark, problems: string[]): Promise<void> {
  const b = SIGN_RELEASE_BENCHMARKS[benchmark];
  const labelsPath = joinPath(root, 'labels_refined.txt');
  if (await io.exists(labelsPath)) {
    try {
      const lines = (await io.readText(labelsPath)).split(/\r?\n/).filter((l) => l.trim().length > 0);
      for (const [n, line] of lines.entries()) {
        const [idText, name] = line.split('\t');
        const id = Number(idText);
        if (!Number.isInteger(id) || name === undefined) problems.push(`${labelsPath}, line ${n + 1}: expected "<id>\\t<name>", got ${JSON.stringify(line)}`);
        else if (b.classNames[id] !== name.trim()) problems.push(`${labelsPath}, line ${n + 1}: class ${id} is '${name.trim()}', the '${benchmark}' benchmark has '${b.classNames[id] ?? '(no such id)'}' (is benchmark right?)`);
      }
    } catch (err) {
      problems.push(errorMessage(err));
    }
  }
  const cagnet = b.unseenSplits.cagnet!.map((n) => b.classNames.indexOf(n)).sort((x, y) => x - y);
  const novelPath = joinPath(root, 'split', 'novel_cls.npy');
  const seenPath = joinPath(root, 'split', 'seen_cls.npy');
  try {
    if (await io.exists(novelPath)) {
      const novel = (parseNpy(await io.readFile(novelPath), novelPath).data as number[]).slice().sort((x, y) => x - y);
      if (novel.join() !== cagnet.join()) problems.push(`${novelPath}: unseen ids ${novel.join(', ')}, the '${benchmark}' benchmark's 'cagnet' set is ${cagnet.join(', ')} (is benchmark right?)`);
    }
    if (await io.exists(seenPath)) {
      const seen = parseNpy(await io.readFile(seenPath), seenPath).data as number[];
      const overlap = seen.filter((c) => cagnet.includes(c));
      const outside = seen.filter((c) => !(Number.isInteger(c) && c >= 0 && c < b.classNames.length));
      if (overlap.length > 0 || outside.length > 0) problems.push(`${seenPath}: seen ids ${[...overlap, ...outside].join(', ')} are unseen in the 'cagnet' set or not class ids of '${benchmark}'`);
    }
  } catch (err) {
    problems.push(errorMessage(err));
  }
}

/**
 * The `sign-release` dataset type (layout in the module comment). Config:
 * `{ type: 'sign-release', root, benchmark: 'voc12' | 'context' | 'cocostuff', lists?, validate? }`;
 * `unseenSplit`: 'cagnet' (all three), 'zs3net-2' … 'zs3net-10' (voc12).
 *
 * @example
 * const dm = await createDataModule({ type: 'sign-release', root: 'dataset/voc12', benchmark: 'voc12', unseenSplit: 'cagnet', embeddingsFile: 'voc12.json' }, { io: nodeIo, seed: 0 });
 */
export const signReleaseDataset: DatasetDefinition<SignReleaseConfig> = {
  type: 'sign-release',
  description: "the SIGN release's (CaGNet's) preprocessed data: images/<split>/, annotations/<split>/, split/{train,test}_list.npy",
  schema: signReleaseSchema,
  unseenSplits: (config) => copySplits(SIGN_RELEASE_BENCHMARKS[config.benchmark].unseenSplits),
  meta: (config) => {
    const b = SIGN_RELEASE_BENCHMARKS[config.benchmark];
    return paperMeta('sign-release', b.classNames, b.background, [], b.unseenSplits);
  },
  async open(config, { io }) {
    const root = config.root;
    const b = SIGN_RELEASE_BENCHMARKS[config.benchmark];
    const problems: string[] = [];
    const splits: Record<string, FilePair[]> = {};
    for (const s of wantedSplits(config, Object.keys(config.lists))) {
      const file = config.lists[s];
      if (!file) {
        problems.push(`data.lists: no list for the split '${s}' (known: ${Object.keys(config.lists).join(', ')})`);
        continue;
      }
      const pairs = await listPairs(io, root, s, file, problems);
      if (pairs) splits[s] = pairs;
    }
    await checkReleaseTables(io, root, config.benchmark, problems);
    if (problems.length > 0) throw new DatasetError(problems, `${root}: not the release's '${config.benchmark}' data as expected`);
    const count = Object.values(splits).reduce((n, p) => n + p.length, 0);
    return openPairedDataset({
      io,
      root,
      what: `SIGN release '${config.benchmark}' data`,
      meta: paperMeta('sign-release', b.classNames, b.background, Object.keys(splits), b.unseenSplits),
      splits,
      labels: identityLabels(b.classNames.length, 255, `a '${config.benchmark}' class id (0..${b.classNames.length - 1})`),
      check: paperCheck(config.validate, count),
      embeddings: null,
    });
  },
};
