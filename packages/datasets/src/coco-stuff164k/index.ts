/**
 * `coco-stuff164k`: COCO-Stuff 164k (118,287 training / 5,000 validation images), in the layout of
 * the COCO-Stuff download (`stuffthingmaps_trainval2017.zip` unpacked into `stuffthingmaps/`):
 *
 *   ROOT/images/train2017/<id>.jpg        ROOT/stuffthingmaps/train2017/<id>.png
 *   ROOT/images/val2017/<id>.jpg          ROOT/stuffthingmaps/val2017/<id>.png
 *
 * Label PNGs are 8-bit: 0..181 the classes (COCO's ids minus one: things 0..90, stuff 91..181),
 * 255 unlabelled. 182 classes, no background, named as the CaGNet/SIGN class table
 * (labels_refined.txt) names them; 11 of the ids ('street sign', 'hat', 'shoe', 'eye glasses',
 * …) are COCO things without annotations, kept so that ids stay COCO's. Images are paired with
 * labels by listing the folders (as the release's loader globs them), sorted by name.
 * Split 'train' is train2017, 'val' is val2017 (`splits` changes the folders; `labelsDir:
 * 'annotations'` reads the layout of CaGNet's and deeplab-pytorch's instructions).
 */
import { z } from 'zod';
import { DatasetError } from '../errors';
import { identityLabels, openPairedDataset, pairFolders, type FilePair } from '../files';
import { joinPath } from '../io';
import { copySplits, paperCheck, paperMeta, paperValidateSchema, wantedSplits } from '../paper';
import { RELEASE_CROP, releasePipelines, type ReleasePipelines } from '../release-protocol';
import type { DataConfig, DatasetDefinition } from '../types';

/** The 182 classes in label-id order, as the CaGNet/SIGN class table (labels_refined.txt) names them. */
export const COCO_STUFF_CLASSES: readonly string[] = Object.freeze([
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'street sign', 'stop sign', 'parking meter', 'bench', 'bird',
  'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'hat', 'backpack',
  'umbrella', 'shoe', 'eye glasses', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
  'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
  'tennis racket', 'bottle', 'plate', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl',
  'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake',
  'chair', 'couch', 'potted plant', 'bed', 'mirror', 'dining table', 'window', 'desk', 'toilet',
  'door', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'blender', 'book', 'clock', 'vase', 'scissors', 'teddy bear',
  'hair drier', 'toothbrush', 'hair brush', 'banner', 'blanket', 'branch', 'bridge',
  'building-other', 'bush', 'cabinet', 'cage', 'cardboard', 'carpet', 'ceiling-other',
  'ceiling-tile', 'cloth', 'clothes', 'clouds', 'counter', 'cupboard', 'curtain', 'desk-stuff',
  'dirt', 'door-stuff', 'fence', 'floor-marble', 'floor-other', 'floor-stone', 'floor-tile',
  'floor-wood', 'flower', 'fog', 'food-other', 'fruit', 'furniture-other', 'grass', 'gravel',
  'ground-other', 'hill', 'house', 'leaves', 'light', 'mat', 'metal', 'mirror-stuff', 'moss',
  'mountain', 'mud', 'napkin', 'net', 'paper', 'pavement', 'pillow', 'plant-other', 'plastic',
  'platform', 'playingfield', 'railing', 'railroad', 'river', 'road', 'rock', 'roof', 'rug', 'salad',
  'sand', 'sea', 'shelf', 'sky-other', 'skyscraper', 'snow', 'solid-other', 'stairs', 'stone',
  'straw', 'structural-other', 'table', 'tent', 'textile-other', 'towel', 'tree', 'vegetable',
  'wall-brick', 'wall-concrete', 'wall-other', 'wall-panel', 'wall-stone', 'wall-tile', 'wall-wood',
  'water-other', 'waterdrops', 'window-blind', 'window-other', 'wood',
]);

/** The unseen set of CaGNet and SIGN (SPNet's 15), METHOD §7. */
export const COCO_STUFF_UNSEEN_SPLITS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  cagnet: ['cow', 'giraffe', 'suitcase', 'frisbee', 'skateboard', 'carrot', 'scissors', 'cardboard', 'clouds', 'grass', 'playingfield', 'river', 'road', 'tree', 'wall-concrete'],
});

/** The release's pipelines for COCO-Stuff: crop 368, self-training crop 368 too (CaGNet's `configs_st_coco.yaml`). */
export const COCO_STUFF_PIPELINES: ReleasePipelines = releasePipelines(RELEASE_CROP);

/** The coco-stuff164k dataset's own config keys. */
export const cocoStuff164kSchema = z.object({
  root: z.string().min(1).describe('the COCO-Stuff folder (images/{train2017,val2017}/, stuffthingmaps/{train2017,val2017}/)'),
  imagesDir: z.string().min(1).default('images').describe('images folder under root'),
  labelsDir: z.string().min(1).default('stuffthingmaps').describe("label PNG folder under root ('annotations' in CaGNet's layout)"),
  splits: z.record(z.string().min(1), z.string().min(1)).default({ train: 'train2017', val: 'val2017' }).describe('folder of each split under imagesDir and labelsDir'),
  validate: paperValidateSchema,
});

/** A validated coco-stuff164k `data` section. */
export type CocoStuff164kConfig = DataConfig & z.infer<typeof cocoStuff164kSchema>;

/**
 * The `coco-stuff164k` dataset type (layout in the module comment). Config:
 * `{ type: 'coco-stuff164k', root, imagesDir?, labelsDir?, splits?, validate? }`; `unseenSplit: 'cagnet'`.
 *
 * @example
 * const dm = await createDataModule({ type: 'coco-stuff164k', root: 'data/cocostuff', unseenSplit: 'cagnet', embeddingsFile: 'cocostuff.json' }, { io: nodeIo, seed: 0 });
 */
export const cocoStuff164kDataset: DatasetDefinition<CocoStuff164kConfig> = {
  type: 'coco-stuff164k',
  description: 'COCO-Stuff 164k (images/{train2017,val2017}/, stuffthingmaps/): 182 classes, no background',
  schema: cocoStuff164kSchema,
  unseenSplits: () => copySplits(COCO_STUFF_UNSEEN_SPLITS),
  meta: () => paperMeta('coco-stuff164k', COCO_STUFF_CLASSES, null, [], COCO_STUFF_UNSEEN_SPLITS),
  async open(config, { io }) {
    const root = config.root;
    const problems: string[] = [];
    const splits: Record<string, FilePair[]> = {};
    for (const s of wantedSplits(config, Object.keys(config.splits))) {
      const folder = config.splits[s] ?? s;
      splits[s] = await pairFolders(io, joinPath(root, config.imagesDir, folder), joinPath(root, config.labelsDir, folder), problems, { images: `${config.imagesDir}/${folder}/`, labels: `${config.labelsDir}/${folder}/` });
    }
    if (problems.length > 0) throw new DatasetError(problems, `${root}: not a COCO-Stuff folder as expected`);
    const count = Object.values(splits).reduce((n, p) => n + p.length, 0);
    return openPairedDataset({
      io,
      root,
      what: 'COCO-Stuff dataset',
      meta: paperMeta('coco-stuff164k', COCO_STUFF_CLASSES, null, Object.keys(splits), COCO_STUFF_UNSEEN_SPLITS),
      splits,
      labels: identityLabels(COCO_STUFF_CLASSES.length, 255, 'a COCO-Stuff class id (0..181)'),
      check: paperCheck(config.validate, count),
      embeddings: null,
    });
  },
};
