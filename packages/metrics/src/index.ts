export { ConfusionMatrix, meanOver } from './confusion-matrix';
export type { AverageOver, ConfusionMatrixOptions } from './confusion-matrix';
export { gzs3Metrics, harmonicMean } from './gzs3';
export type { Gzs3Metrics, Gzs3Options } from './gzs3';
export { restrictedArgmax, unseenTargets, zslMetrics } from './zsl';
export type { ZslMetrics } from './zsl';
