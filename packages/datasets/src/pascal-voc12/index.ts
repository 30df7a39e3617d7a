/**
 * `pascal-voc12`: PASCAL VOC 2012 with the SBD annotations ("SegmentationClassAug"), the paper's
 * VOC benchmark (10,582 training / 1,449 validation images), in the layout DeepLab's and
 * mmsegmentation's users have:
 *
 *   ROOT/JPEGImages/<id>.jpg
 *   ROOT/SegmentationClassAug/<id>.png      8-bit class ids 0..20, 255 = ignore (object borders)
 *   ROOT/train_aug.txt, ROOT/val.txt         the lists (also looked for in ImageSets/SegmentationAug/
 *                                            and ImageSets/Segmentation/): one id per line, or
 *                                            "/JPEGImages/<id>.jpg /SegmentationClassAug/<id>.png"
 *
 * Split 'train' is train_aug.txt, 'val' is val.txt (`lists` changes the files). 21 classes with
 * background 0, named as the CaGNet/SIGN class tables name them. The release (following SPNet
 * and CaGNet) leaves the background out of training and scoring; ZS3Net counts it as a seen class:
 * that is the protocol's choice (metrics' `countBackground`), the labels are the same.
 */
import { z } from 'zod';
import { openPairedDataset, identityLabels, type FilePair } from '../files';
import { paperCheck, paperMeta, paperValidateSchema, pairsFromList, wantedSplits, copySplits } from '../paper';
import { releasePipelines, RELEASE_VOC_SELF_TRAINING_CROP, type ReleasePipelines } from '../release-protocol';
import { DatasetError } from '../errors';
import type { DataConfig, DatasetDefinition } from '../types';

/** The 21 classes in label-id order (background 0), as the CaGNet/SIGN class tables (labels_refined.txt) name them. */
export const PASCAL_VOC12_CLASSES: readonly string[] = Object.freeze([
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'potted_plant', 'sheep', 'sofa', 'train', 'tv',
]);

/**
 * The named unseen sets (METHOD §7): 'cagnet' (CaGNet's and SIGN's five: potted plant, sheep,
 * sofa, train, tv) and ZS3Net's 2/4/6/8/10 (cow, motorbike, airplane, sofa, cat, tv, train,
 * bottle, chair, potted plant: the first k), in the names above (ZS3Net writes 'airplane' and
 * 'potted plant').
 */
export const PASCAL_VOC12_UNSEEN_SPLITS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  cagnet: ['potted_plant', 'sheep', 'sofa', 'train', 'tv'],
  ...zs3netSets(['cow', 'motorbike', 'aeroplane', 'sofa', 'cat', 'tv', 'train', 'bottle', 'chair', 'potted_plant']),
});

/** ZS3Net's nested sets: 'zs3net-2' … 'zs3net-10', the first 2, 4, … of `order`. */
export function zs3netSets(order: readonly string[]): Record<string, string[]> {
  return Object.fromEntries([2, 4, 6, 8, 10].map((k) => [`zs3net-${k}`, order.slice(0, k)]));
}

/** The release's pipelines for VOC: crop 368, self-training crop 328 (CaGNet's `configs_st_voc.yaml`), normalise-only test. */
export const PASCAL_VOC12_PIPELINES: ReleasePipelines = releasePipelines(RELEASE_VOC_SELF_TRAINING_CROP);

/** The pascal-voc12 dataset's own config keys. */
export const pascalVoc12Schema = z.object({
  root: z.string().min(1).describe('the VOC2012 folder (JPEGImages/, SegmentationClassAug/, train_aug.txt, val.txt)'),
  imagesDir: z.string().min(1).default('JPEGImages').describe('images folder under root'),
  labelsDir: z.string().min(1).default('SegmentationClassAug').describe('label PNG folder under root'),
  lists: z.record(z.string().min(1), z.string().min(1)).default({ train: 'train_aug.txt', val: 'val.txt' }).describe('list file of each split (under root, ImageSets/SegmentationAug/ or ImageSets/Segmentation/)'),
  validate: paperValidateSchema,
});

/** A validated pascal-voc12 `data` section. */
export type PascalVoc12Config = DataConfig & z.infer<typeof pascalVoc12Schema>;

/**
 * The `pascal-voc12` dataset type (layout in the module comment). Config:
 * `{ type: 'pascal-voc12', root, imagesDir?, labelsDir?, lists?, validate? }` plus the common keys;
 * `unseenSplit: 'cagnet' | 'zs3net-2' … 'zs3net-10'`.
 *
 * @example
 * const dm = await createDataModule({ type: 'pascal-voc12', root: 'data/VOC2012', unseenSplit: 'cagnet', embeddingsFile: 'voc12.json' }, { io: nodeIo, seed: 0 });
 */
export const pascalVoc12Dataset: DatasetDefinition<PascalVoc12Config> = {
  type: 'pascal-voc12',
  description: 'PASCAL VOC 2012 + SBD (JPEGImages/, SegmentationClassAug/, train_aug.txt, val.txt): 21 classes with background',
  schema: pascalVoc12Schema,
  unseenSplits: () => copySplits(PASCAL_VOC12_UNSEEN_SPLITS),
  meta: () => paperMeta('pascal-voc12', PASCAL_VOC12_CLASSES, 0, [], PASCAL_VOC12_UNSEEN_SPLITS),
  async open(config, { io }) {
    const root = config.root;
    const problems: string[] = [];
    const layout = { root, imagesDir: config.imagesDir, imageExt: '.jpg', labelsDir: config.labelsDir, listDirs: ['', 'ImageSets/SegmentationAug', 'ImageSets/Segmentation'] };
    const splits: Record<string, FilePair[]> = {};
    for (const s of wantedSplits(config, Object.keys(config.lists))) {
      const pairs = await pairsFromList(io, layout, s, config.lists[s] ?? `${s}.txt`, problems);
      if (pairs) splits[s] = pairs;
    }
    if (problems.length > 0) throw new DatasetError(problems, `${root}: not a PASCAL VOC 2012 folder as expected`);
    const count = Object.values(splits).reduce((n, p) => n + p.length, 0);
    return openPairedDataset({
      io,
      root,
      what: 'PASCAL VOC 2012 dataset',
      meta: paperMeta('pascal-voc12', PASCAL_VOC12_CLASSES, 0, Object.keys(splits), PASCAL_VOC12_UNSEEN_SPLITS),
      splits,
      labels: identityLabels(PASCAL_VOC12_CLASSES.length, 255, 'a VOC class id (0..20)'),
      check: paperCheck(config.validate, count),
      embeddings: null,
    });
  },
};
