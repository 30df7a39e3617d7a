import { Registry } from '@sign/core';
import { cocoStuff164kDataset } from './coco-stuff164k/index';
import { folderDataset } from './folder/index';
import { pascalContextDataset } from './pascal-context/index';
import { pascalVoc12Dataset } from './pascal-voc12/index';
import { signReleaseDataset } from './sign-release/index';
import type { DatasetDefinition } from './types';

/**
 * The process-wide dataset registry (`Registry.shared('dataset')` of @sign/core: one object for
 * the ESM and the CJS build). Built-in dataset types are provided here, one line each; a plug-in
 * from another package is added with `datasets.register(name, definition)` (or `provide`, which
 * is idempotent), after which configs may use `data.type: name`.
 *
 * @example
 * import { datasets } from '@sign/datasets';
 * import { fashionScenesDataset } from '@sign/data/node';
 * datasets.provide('fashion-scenes', fashionScenesDataset);
 * datasets.names(); // ['folder', 'pascal-voc12', 'pascal-context', 'coco-stuff164k', 'sign-release', 'fashion-scenes']
 */
export const datasets: Registry<DatasetDefinition> = Registry.shared<DatasetDefinition>('dataset');
// Your own images and label maps in a folder (mmsegmentation's custom layout).
datasets.provide('folder', folderDataset);
// PASCAL VOC 2012 + SBD (JPEGImages/, SegmentationClassAug/, train_aug.txt, val.txt).
datasets.provide('pascal-voc12', pascalVoc12Dataset);
// PASCAL Context with 59-class label PNGs; ZS3Net's 59-class or CaGNet's 33-class protocol.
datasets.provide('pascal-context', pascalContextDataset);
// COCO-Stuff 164k (images/{train2017,val2017}/, stuffthingmaps/).
datasets.provide('coco-stuff164k', cocoStuff164kDataset);
// The SIGN release's (CaGNet's) preprocessed data (images/, annotations/, split/*.npy).
datasets.provide('sign-release', signReleaseDataset);
