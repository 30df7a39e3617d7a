// Configs: zod schema (types, validation, JSON schema), composition from _base_ files
export { BACKENDS, CONFIG_LIMITS, buildExperimentSchema, configJsonSchema, experimentSchema, scheduleSchema } from './config/schema';
export type {
  BackendPreference,
  ExperimentConfig,
  ExperimentConfigInput,
  ModelConfig,
  OptimizerConfig,
  SelfTrainingConfig,
} from './config/schema';
export { ConfigError, FORBIDDEN_KEYS, MAX_CONFIG_DEPTH, closedConfigProblems, parseConfig, validateConfig } from './config/validate';
export { RESUMABLE_KEYS, describeChanges, diffPaths, resumeChanges } from './config/changes';
export { mergeConfig } from './config/merge';
export type { DeepPartial } from './config/merge';

// Optimizers, learning-rate schedules, self-training rules: registries
export { Adam, SgdMomentum } from './optim/optimizers';
export type { LrMultiplier, Optimizer } from './optim/optimizers';
export { lrSchedules, optimizers, scheduledLr } from './optim/registry';
export type { LrScheduleDefinition, OptimizerDefinition } from './optim/registry';
export { astTemperature, selfTrainingRules } from './self-training';
export type { SelfTrainingRule, StageProgress } from './self-training';

// The updates of METHOD §4 (losses as data from the recipe)
export { checkLabels, downsampleLabels, samplePixels, scaleGradient, step1Update, transferUpdate } from './updates';
export type { HostBatch, Optimizers, UpdateSettings } from './updates';

// The loop and its callbacks
export { NonFiniteError, featureGrid, fit, hostBatch, pseudoLabel, scheduleAt, totalSteps } from './loop';
export type { Callback, FitOptions, Phase, StepEvent, TrainState } from './loop';
export { lossAverages, periodicEvaluation, stageEvaluation } from './callbacks';

// Data, evaluation, checkpoints in memory, inference from bytes
export { classInfo } from './data';
export { evaluate, relabelByName } from './evaluation';
export type { EvaluateOptions, EvaluationResult, Gzs3Result, NamedGzs3Result, NamedZslResult, ProtocolResult } from './evaluation';
export { CHECKPOINT_FORMAT, assertFinite, createModel, frozenCopy, modelFromCheckpoint, restoreTrainingState, storedConfig, withTrainingTensors } from './checkpoint';
export type { CheckpointMeta, ModelFromCheckpointOptions, TrainingState } from './checkpoint';
export { loadModelFromBytes, toChannels, trainedModel } from './inference';
export type { AddedClass, ImageBatch, PredictedImage, TrainedModel } from './inference';
export { createOptimizers } from './optim/create';

// A class added by name after training; one-call segmentation
export { addClass } from './add-class';
export type { AddClassOptions } from './add-class';
export { segment } from './segment';
export type { SegmentImage, SegmentOptions, Segmentation } from './segment';

// Files (config files, checkpoint files, runExperiment, evaluateCheckpoint, loadModel) are in
// '@sign/trainer/node': this entry imports nothing from Node and runs in browsers.
