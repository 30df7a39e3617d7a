/**
 * What the fuzz child runs for `.pth` files (see tooling/fuzz/child.ts): `readPth`, then
 * `namedTensors` and `toTfTensors` (disposed); variant 1 with small limits (file 1 MB, pickle
 * 100 KB, inflated entries 1 MB, memo 1,000).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { namedTensors, toTfTensors } from '../../src/index';
import { readPth } from '../../src/node';

export async function setup(): Promise<void> {
  await initBackend('cpu');
}

export const liveTensors = (): number => tf.memory().numTensors;

export async function pth(path: string, variant: number) {
  const limits = variant === 1 ? { maxFileBytes: 1e6, maxPickleBytes: 1e5, maxInflatedBytes: 1e6, maxMemo: 1000 } : {};
  const file = await readPth(path, limits);
  const { tensors } = namedTensors(file.value, { source: path, maxVisits: 1_000_000 });
  let converted = 0;
  try {
    const t = toTfTensors(tensors, path);
    converted = Object.keys(t).length;
    tf.dispose(Object.values(t));
  } catch (err) {
    // int64 values beyond int32 are refused naming the tensor and the file: a clear error too
    if (!(err instanceof Error) || !err.message.includes(path)) throw err;
  }
  return { format: file.format, tensors: Object.keys(tensors).length, converted };
}
