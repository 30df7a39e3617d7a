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
  OpenContext,
  Sample,
  TransformConfig,
} from './types';
export { datasets } from './registry';
export { DEFAULT_MAX_PIXELS, checkPixelLimit, joinPath } from './io';
export type { DatasetIo, DecodedImage, DecodedLabel, ImageInfo } from './io';
export { resize, scaledSize } from './transforms/resize';
export type { PixelArray, Interpolation, ResizeOptions } from './transforms/resize';
export { checkNormalization, compose, flip, normalize, pad, randomCrop, randomScale, randomScaleCrop, resizeLongSide, resizeTo } from './transforms/transforms';
export type { LongSideRounding } from './transforms/transforms';
export type { Transform } from './transforms/transforms';
export { TRANSFORM_LIMITS, TRANSFORM_TYPES, buildPipeline, transformConfigSchema } from './transforms/pipeline';
export type { PipelineContext } from './transforms/pipeline';
export { commonDataKeys, dataConfigSchema, datasetConfigSchema, formatIssues, formatPath, validateDataConfig } from './config';
export type { FormatIssuesOptions, ValidateDataConfigOptions } from './config';
export { parseEmbeddings } from './embeddings';
export { DatasetError } from './errors';
export { createDataModule, excludeClasses, unseenIds } from './module';
export { FULL_VALIDATION_LIMIT, GREY_NORMALIZATION, IMAGENET_NORMALIZATION, folderDataset, folderSchema } from './folder/index';
export type { FolderConfig } from './folder/index';
export type { DataModuleOptions } from './module';
export {
  CAFFE_BGR_NORMALIZATION,
  RELEASE_BASE_SIZE,
  RELEASE_CROP,
  RELEASE_TEST_PIPELINE,
  RELEASE_VOC_SELF_TRAINING_CROP,
  labelsToGrid,
  releaseEvalInput,
  releasePipelines,
  releaseTrainPipeline,
} from './release-protocol';
export type { ReleaseEvalOptions, ReleasePipelines, ReleaseTrainOptions } from './release-protocol';
export { PASCAL_VOC12_CLASSES, PASCAL_VOC12_PIPELINES, PASCAL_VOC12_UNSEEN_SPLITS, pascalVoc12Dataset, pascalVoc12Schema, zs3netSets } from './pascal-voc12/index';
export type { PascalVoc12Config } from './pascal-voc12/index';
export {
  PASCAL_CONTEXT33_CLASSES,
  PASCAL_CONTEXT33_UNSEEN_SPLITS,
  PASCAL_CONTEXT59_CLASSES,
  PASCAL_CONTEXT59_FCN_ORDER,
  PASCAL_CONTEXT59_UNSEEN_SPLITS,
  PASCAL_CONTEXT_PIPELINES,
  context33To59Name,
  context59Mapping,
  pascalContextDataset,
  pascalContextSchema,
} from './pascal-context/index';
export type { PascalContextConfig } from './pascal-context/index';
export { COCO_STUFF_CLASSES, COCO_STUFF_PIPELINES, COCO_STUFF_UNSEEN_SPLITS, cocoStuff164kDataset, cocoStuff164kSchema } from './coco-stuff164k/index';
export type { CocoStuff164kConfig } from './coco-stuff164k/index';
export { SIGN_RELEASE_BENCHMARKS, signReleaseDataset, signReleaseSchema } from './sign-release/index';
export type { ReleaseBenchmark, SignReleaseConfig } from './sign-release/index';
export { parseNpy } from './sign-release/npy';
export type { NpyArray } from './sign-release/npy';
export { PAPER_FULL_VALIDATION_LIMIT } from './paper';
export { identityLabels, openPairedDataset } from './files';
export type { FilePair, LabelMapping, PairCheck, PairedDatasetParts } from './files';
