/**
 * `pascal-context`: PASCAL Context (VOC 2010 images, 4,998 / 5,105 train / val in CaGNet's
 * release, 4,996 / 5,104 in mmsegmentation's conversion) with 59-class label PNGs, in
 * mmsegmentation's layout:
 *
 *   ROOT/JPEGImages/<id>.jpg
 *   ROOT/SegmentationClassContext/<id>.png   8-bit: 0 = background (everything outside the 59
 *                                            classes), 1..59 the classes, 255 ignore
 *   ROOT/train.txt, ROOT/val.txt              (also looked for in ImageSets/SegmentationContext/)
 *
 * The label ids 1..59 are in the order of mmsegmentation's converter (the Detail API's sorted
 * 459-class ids, i.e. alphabetical: aeroplane, bag, bed, …, wood); `labelOrder: 'fcn'` reads PNGs
 * written in the order of FCN's and ZS3Net's `classes-59.txt` (the 20 VOC classes first) instead.
 *
 * Two protocols (`classes`):
 * - `59` (ZS3Net's): 60 classes, background 0 then the 59 in the order above, named as ZS3Net
 *   names them (its code renames classes-59.txt's 'diningtable', 'bedcloth', 'clothes' to 'table',
 *   'bedclothes', 'cloth').
 * - `33` (CaGNet's and SIGN's): 34 ids, 0 'unlabel' then CaGNet's 33 classes (the 20 VOC ones, sky,
 *   grass, ground, road, building, tree, water, mountain, wall, floor, track, keyboard, ceiling),
 *   named as its class tables name them. CaGNet ships its Context data already converted to these
 *   ids; its code holds no conversion. Here each of the 33 is the 59-class label of the same name
 *   (CaGNet's 'diningtable', 'potted_plant', 'tv' are 'table', 'pottedplant', 'tvmonitor'), and the
 *   other 26 classes and the background become 0 'unlabel', which the release, like the
 *   background of VOC, leaves out of training and scoring.
 */
import { z } from 'zod';
import { DatasetError } from '../errors';
import { openPairedDataset, type FilePair, type LabelMapping } from '../files';
import { copySplits, paperCheck, paperMeta, paperValidateSchema, pairsFromList, wantedSplits } from '../paper';
import { zs3netSets } from '../pascal-voc12/index';
import { RELEASE_CROP, releasePipelines, type ReleasePipelines } from '../release-protocol';
import type { DataConfig, DatasetDefinition } from '../types';

/** ZS3Net's 59-class protocol: background, then the 59 classes in mmsegmentation's label order. */
export const PASCAL_CONTEXT59_CLASSES: readonly string[] = Object.freeze([
  'background', 'aeroplane', 'bag', 'bed', 'bedclothes', 'bench', 'bicycle', 'bird', 'boat', 'book', 'bottle', 'building',
  'bus', 'cabinet', 'car', 'cat', 'ceiling', 'chair', 'cloth', 'computer', 'cow', 'cup', 'curtain', 'dog', 'door', 'fence',
  'floor', 'flower', 'food', 'grass', 'ground', 'horse', 'keyboard', 'light', 'motorbike', 'mountain', 'mouse', 'person',
  'plate', 'platform', 'pottedplant', 'road', 'rock', 'sheep', 'shelves', 'sidewalk', 'sign', 'sky', 'snow', 'sofa', 'table',
  'track', 'train', 'tree', 'truck', 'tvmonitor', 'wall', 'water', 'window', 'wood',
]);

/** The label order of FCN's and ZS3Net's `classes-59.txt` (VOC classes first), in the names above. */
export const PASCAL_CONTEXT59_FCN_ORDER: readonly string[] = Object.freeze([
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'table', 'dog',
  'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor', 'bag', 'bed', 'bench', 'book',
  'building', 'cabinet', 'ceiling', 'cloth', 'computer', 'cup', 'door', 'fence', 'floor', 'flower', 'food', 'grass',
  'ground', 'keyboard', 'light', 'mountain', 'mouse', 'curtain', 'platform', 'sign', 'plate', 'road', 'rock', 'shelves',
  'sidewalk', 'sky', 'snow', 'bedclothes', 'track', 'tree', 'truck', 'wall', 'water', 'window', 'wood',
]);

/** CaGNet's and SIGN's 33-class protocol: 'unlabel' (0), then its 33 classes, as its class tables (labels_refined.txt) name them. */
export const PASCAL_CONTEXT33_CLASSES: readonly string[] = Object.freeze([
  'unlabel', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog',
  'horse', 'motorbike', 'person', 'potted_plant', 'sheep', 'sofa', 'train', 'tv', 'sky', 'grass', 'ground', 'road',
  'building', 'tree', 'water', 'mountain', 'wall', 'floor', 'track', 'keyboard', 'ceiling',
]);

/** CaGNet's names that differ from the 59-class names of the same classes. */
const CAGNET_TO_59: Readonly<Record<string, string>> = { diningtable: 'table', potted_plant: 'pottedplant', tv: 'tvmonitor' };

/** The 59-class name of each of CaGNet's 33 classes (index 0, 'unlabel', has none). */
export function context33To59Name(name: string): string {
  return CAGNET_TO_59[name] ?? name;
}

/** Unseen sets of the 59-class protocol: ZS3Net's 2/4/6/8/10 (cow, motorbike, sofa, cat, boat, fence, bird, tvmonitor, keyboard, aeroplane). */
export const PASCAL_CONTEXT59_UNSEEN_SPLITS: Readonly<Record<string, readonly string[]>> = Object.freeze(
  zs3netSets(['cow', 'motorbike', 'sofa', 'cat', 'boat', 'fence', 'bird', 'tvmonitor', 'keyboard', 'aeroplane']),
);

/** Unseen set of the 33-class protocol: 'cagnet' (cow, motorbike, sofa, cat). */
export const PASCAL_CONTEXT33_UNSEEN_SPLITS: Readonly<Record<string, readonly string[]>> = Object.freeze({ cagnet: ['cow', 'motorbike', 'sofa', 'cat'] });

/** The release's pipelines for PASCAL Context: crop 368, self-training crop 368 too (CaGNet's `configs_st_context.yaml`). */
export const PASCAL_CONTEXT_PIPELINES: ReleasePipelines = releasePipelines(RELEASE_CROP);

/**
 * Raw 59-class label values (in `order`) → class ids of the protocol: identity-like for 59 (by
 * name), CaGNet's 33 ids (others → 0) for 33; 255 stays ignore, 60..254 are errors.
 */
export function context59Mapping(order: readonly string[], classes: 33 | 59): LabelMapping {
  const table = new Int16Array(256).fill(-1);
  const target = classes === 59 ? PASCAL_CONTEXT59_CLASSES : PASCAL_CONTEXT33_CLASSES.map((n, i) => (i === 0 ? 'background' : context33To59Name(n)));
  order.forEach((name, raw) => {
    const id = target.indexOf(name);
    table[raw] = id >= 0 ? id : 0;
  });
  table[255] = 255;
  return { table, valid: 'a PASCAL Context 59-class label (0 background, 1..59) nor the ignore index 255' };
}

/** The pascal-context dataset's own config keys. */
export const pascalContextSchema = z.object({
  root: z.string().min(1).describe('the VOC2010 folder (JPEGImages/, SegmentationClassContext/, train.txt, val.txt)'),
  classes: z.union([z.literal(59), z.literal(33)]).default(59).describe("59: ZS3Net's protocol (background + 59); 33: CaGNet's and SIGN's ('unlabel' + 33)"),
  labelOrder: z.enum(['mmseg', 'fcn']).default('mmseg').describe("order of the label PNGs' ids 1..59: mmsegmentation's converter (alphabetical) or FCN's / ZS3Net's classes-59.txt"),
  imagesDir: z.string().min(1).default('JPEGImages').describe('images folder under root'),
  labelsDir: z.string().min(1).default('SegmentationClassContext').describe('label PNG folder under root'),
  lists: z.record(z.string().min(1), z.string().min(1)).default({ train: 'train.txt', val: 'val.txt' }).describe('list file of each split (under root or ImageSets/SegmentationContext/)'),
  validate: paperValidateSchema,
});

/** A validated pascal-context `data` section. */
export type PascalContextConfig = DataConfig & z.infer<typeof pascalContextSchema>;

/**
 * The `pascal-context` dataset type (layout and protocols in the module comment). Config:
 * `{ type: 'pascal-context', root, classes?: 59 | 33, labelOrder?, imagesDir?, labelsDir?, lists?, validate? }`;
 * `unseenSplit`: 'zs3net-2' … 'zs3net-10' with 59 classes, 'cagnet' with 33.
 *
 * @example
 * const dm = await createDataModule({ type: 'pascal-context', root: 'data/VOC2010', classes: 33, unseenSplit: 'cagnet', embeddingsFile: 'context.json' }, { io: nodeIo, seed: 0 });
 */
export const pascalContextDataset: DatasetDefinition<PascalContextConfig> = {
  type: 'pascal-context',
  description: "PASCAL Context with 59-class label PNGs (JPEGImages/, SegmentationClassContext/, train.txt, val.txt): ZS3Net's 59-class or CaGNet's 33-class protocol",
  schema: pascalContextSchema,
  unseenSplits: (config) => copySplits(config.classes === 33 ? PASCAL_CONTEXT33_UNSEEN_SPLITS : PASCAL_CONTEXT59_UNSEEN_SPLITS),
  meta: (config) =>
    paperMeta('pascal-context', config.classes === 59 ? PASCAL_CONTEXT59_CLASSES : PASCAL_CONTEXT33_CLASSES, 0, [], config.classes === 59 ? PASCAL_CONTEXT59_UNSEEN_SPLITS : PASCAL_CONTEXT33_UNSEEN_SPLITS),
  async open(config, { io }) {
    const root = config.root;
    const problems: string[] = [];
    const layout = { root, imagesDir: config.imagesDir, imageExt: '.jpg', labelsDir: config.labelsDir, listDirs: ['', 'ImageSets/SegmentationContext'] };
    const splits: Record<string, FilePair[]> = {};
    for (const s of wantedSplits(config, Object.keys(config.lists))) {
      const pairs = await pairsFromList(io, layout, s, config.lists[s] ?? `${s}.txt`, problems);
      if (pairs) splits[s] = pairs;
    }
    if (problems.length > 0) throw new DatasetError(problems, `${root}: not a PASCAL Context folder as expected`);
    const count = Object.values(splits).reduce((n, p) => n + p.length, 0);
    const classes = config.classes;
    return openPairedDataset({
      io,
      root,
      what: 'PASCAL Context dataset',
      meta: paperMeta('pascal-context', classes === 59 ? PASCAL_CONTEXT59_CLASSES : PASCAL_CONTEXT33_CLASSES, 0, Object.keys(splits), classes === 59 ? PASCAL_CONTEXT59_UNSEEN_SPLITS : PASCAL_CONTEXT33_UNSEEN_SPLITS),
      splits,
      labels: context59Mapping(config.labelOrder === 'fcn' ? PASCAL_CONTEXT59_FCN_ORDER : PASCAL_CONTEXT59_CLASSES, classes),
      check: paperCheck(config.validate, count),
      embeddings: null,
    });
  },
};
