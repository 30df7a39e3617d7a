export { IGNORE_INDEX } from './types';
export type {
  Batch,
  DataConfig,
  DataModule,
  Dataset,
  DatasetDefinition,
  DatasetMeta,
  DatasetSplit,
  Normalization,
  Sample,
  TransformConfig,
} from './types';
