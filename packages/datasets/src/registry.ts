import { Registry } from '@sign/core';
import { folderDataset } from './folder/index';
import type { DatasetDefinition } from './types';

/**
 * The process-wide dataset registry (`Registry.shared('dataset')` of @sign/core: one object for
 * the ESM and the CJS build). Built-in dataset types are provided here, one line each; a plug-in
 * from another package is added with `datasets.register(name, definition)` (or `provide`, which
 * is idempotent), after which configs may use `data.type: name`.
 *
 * @example
 * import { datasets } from '@sign/datasets';
 * import { fashionScenesDataset } from '@sign/data';
 * datasets.provide('fashion-scenes', fashionScenesDataset);
 * datasets.names(); // ['folder', 'fashion-scenes']
 */
export const datasets: Registry<DatasetDefinition> = Registry.shared<DatasetDefinition>('dataset');
// Your own images and label maps in a folder (mmsegmentation's custom layout).
datasets.provide('folder', folderDataset);
