export { builtinModelSchema, recipes } from './registry';
export { buildModel } from './build';
export { GzsModel } from './model';
export type { FeatureOutput, BuildContext } from './model';
export { transferPrior } from './prior';
export {
  CAGNET_LOSSES,
  CAGNET_UNSEEN_RATE,
  MODEL_LIMITS,
  SIGN_SIGMAS,
  TRAINER_BACKBONE_KEYS,
  ZS3NET_SIGMAS,
  backboneSchema,
  discriminatorSchema,
  lossesSchema,
  mlpGeneratorSchema,
  simShape,
  transferPriorSchema,
} from './schema';
export { sign, signSchema, SIM_GAN_GROUPS } from './sign/index';
export type { SignModelConfig } from './sign/index';
export { cagnet, cagnetSchema } from './cagnet/index';
export type { CagnetModelConfig } from './cagnet/index';
export { zs3net, zs3netSchema } from './zs3net/index';
export type { Zs3netModelConfig } from './zs3net/index';
export { LOSS_TERMS, PARTS } from './types';
export type {
  ClassInfo,
  LossSpec,
  LossTerm,
  ModelConfigBase,
  ModuleSpec,
  ParameterGroupSpec,
  Part,
  Recipe,
  TransferPrior,
} from './types';
export {
  isReleaseStateDict,
  loadReleaseStateDict,
  releaseClassEmbeddings,
  releaseClassRows,
  releaseModelConfig,
  releaseModelKey,
  releaseStructure,
} from './release';
export type { ReleaseEntry, ReleaseStructure } from './release';
