export {
  CONFIG_SCHEMA,
  DEMO_CONFIG,
  QUICK_CONFIG,
  configJsonSchema,
  defaultKnownNames,
  mergeConfig,
  validateConfig,
} from './config';
export type { BackendPreference, DeepPartial, ExperimentConfig, KnownNames } from './config';
export {
  runExperiment,
  loadModel,
  evaluateCheckpoint,
  evaluate,
  checkpointPath,
  totalSteps,
  scheduleAt,
  sampleBatch,
  featureGrid,
  pseudoLabel,
} from './trainer';
export type {
  TrainerCallbacks,
  RunOptions,
  RunResult,
  Gzs3Result,
  NamedGzs3Result,
  NamedZslResult,
  TrainedModel,
  StepEvent,
  Phase,
} from './trainer';
export { SignModel } from './model';
export type { ClassInfo, FeatureOutput } from './model';
export { step1Update, transferUpdate, transferPrior, samplePixels, downsampleLabels } from './stages';
export type { HostBatch, Optimizers } from './stages';
export { Adam, SgdMomentum, polyLr } from './optim';
export type { Optimizer } from './optim';
export { buildClassInfo, buildScenes } from './data';
