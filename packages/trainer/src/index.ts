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
export { runExperiment, loadModel, evaluateCheckpoint } from './trainer';
export type { TrainerCallbacks, RunOptions, RunResult, Gzs3Result, TrainedModel, StepEvent, Phase } from './trainer';
