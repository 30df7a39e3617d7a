/**
 * What the fuzz child runs for checkpoints (see tooling/fuzz/child.ts): variant 0 loads with
 * loadCheckpoint, 1 with `requireFinite`, 2 decodes the bytes in memory. Every tensor returned is
 * disposed; the harness compares `liveTensors` before and after each case.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { type Checkpoint, decodeSafetensors, findNonFiniteTensor, initBackend } from '../../src/index';
import { loadCheckpoint } from '../../src/node';

export async function setup(): Promise<void> {
  await initBackend('cpu');
}

export const liveTensors = (): number => tf.memory().numTensors;

export async function checkpoint(path: string, variant: number) {
  let c: Checkpoint;
  if (variant === 2) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`); // not the decoder's business
    }
    c = await decodeSafetensors(bytes, path);
  } else {
    c = await loadCheckpoint(path, { requireFinite: variant === 1 });
  }
  try {
    const bad = await findNonFiniteTensor(c.tensors);
    return { tensors: Object.keys(c.tensors).length, checksums: c.checksums, nonFinite: bad?.name ?? null };
  } finally {
    tf.dispose(Object.values(c.tensors));
  }
}
