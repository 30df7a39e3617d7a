export { initBackend, currentBackend, registerGradients, warnIfSlowBackend } from './backend';
export type { BackendPreference, BackendAttempt, BackendReport, InitBackendOptions } from './backend';
export { accelerationInfo } from './accel';
export { defineKernel, runKernel } from './kernels';
export type { KernelDefinition } from './kernels';
export { hostIo } from './host-kernels';
export type { HostIo } from './host-kernels';
export type { AccelerationInfo, BlasPreference } from './accel';
export { addN, conv2d, conv1x1, dense, leakyRelu, matMul, convGeometry, convImplementation, setConvImplementation } from './ops';
export type { Conv2dOptions, Conv2dPadding, ConvGeometry, ConvImplementation } from './ops';
export { recordingGradients } from './util';
export { Rng, dropout, randomNormal, randomUniform } from './random';
export { Module } from './module';
export { Conv2d, Conv1x1, Linear, FrozenBatchNorm, kaimingUniformA5, biasUniform } from './layers';
export type { Conv2dConfig, FrozenBatchNormConfig } from './layers';
export { maxPool2d, maxPoolOutputLength } from './pool';
export type { MaxPool2dOptions } from './pool';
export { fromTorchLayout, loadTorchStateDict } from './torch';
export type { TorchKeyMapper, TorchLoadReport } from './torch';
// Files (saveCheckpoint, loadCheckpoint, writeFileAtomic, …) are in '@sign/core/node': this entry
// imports nothing from Node and runs in browsers.
export {
  encodeSafetensors,
  decodeSafetensors,
  tensorFromBytes,
  findNonFiniteTensor,
  METADATA_KEY,
  CHECKSUMS_KEY,
} from './checkpoint';
export type { Checkpoint, LoadCheckpointOptions, NonFiniteTensor, SafeDtype } from './checkpoint';
export { VERSION } from './version';
export { Registry, closestName, editDistance } from './registry';
export { checkWebgpu, releaseWebgpu, webgpuAdapter, isSoftwareAdapter, describeAdapter, WEBGPU_LIMITS } from './webgpu';
export type { WebgpuAdapterReport, WebgpuLimitName } from './webgpu';
