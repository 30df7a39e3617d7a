export { mmdLoss, classwiseMmdLoss, DEFAULT_SIGMAS, KERNEL_EXPONENT_FLOOR } from './mmd';
export type { ClasswiseMmdOptions } from './mmd';
export { klDivergence } from './kl';
export { weightedCrossEntropy } from './cross-entropy';
export type { WeightedCrossEntropyOptions } from './cross-entropy';
export { l1AdversarialLoss, leastSquaresAdversarialLoss } from './adversarial';
export { annealedSelfTrainingTargets, topPPseudoLabels, topPPseudoLabelsAsync } from './self-training';
export type {
  AnnealedSelfTrainingOptions,
  SelfTrainingTargets,
  TopPOptions,
} from './self-training';
