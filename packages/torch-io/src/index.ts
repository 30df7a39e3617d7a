/**
 * @sign/torch-io: PyTorch `.pth` checkpoints read in TypeScript, without Python. The main entry
 * is browser-safe (bytes in, values out); reading and converting files is in `@sign/torch-io/node`.
 */
export { parsePth, TorchTensor, TorchStorage } from './torch';
export type { PthFile, PthLimits, PthReadOptions } from './torch';
export { PyDict, isTuple, unpickle } from './pickle';
export type { PyGlobal, PyKey, PyValue, UnpickleOptions, UnpickleResult } from './pickle';
export type { TorchDtype, TorchTypedArray, TorchArrays } from './dtype';
export { PthError } from './errors';
export { namedTensors, toTfTensor, toTfTensors } from './tensors';
export type { NamedTensors, NamedTensorsOptions } from './tensors';
