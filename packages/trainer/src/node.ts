// The trainer's Node-only parts: config files, checkpoint files, runs that read data from disk and
// write checkpoints. Everything else is in the main entry ('@sign/trainer'), which runs in browsers.
export { MAX_BASE_DEPTH, MAX_CONFIG_FILE_BYTES, composeConfigFile, loadConfigFile } from './config/compose';
export {
  checkpointing,
  checkpointPath,
  findResumeCheckpoint,
  listCheckpoints,
  loadModel,
  loadTrainingState,
  readCheckpointFile,
  readModel,
  saveModel,
  saveTrainingState,
  stepCheckpointPath,
  writeCheckpointFiles,
} from './files';
export type { CheckpointFile, ReadModelOptions } from './files';
export { evaluateCheckpoint, runExperiment } from './experiment';
export { loadPretrainedBackbone } from './pretrained';
export type { RunOptions, RunResult } from './experiment';
