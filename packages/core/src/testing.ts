import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe } from 'vitest';
import { initBackend, type BackendPreference } from './backend';

function countTensors(v: unknown, seen: Set<unknown>): number {
  if (v === null || typeof v !== 'object' || seen.has(v)) return 0;
  seen.add(v);
  if (v instanceof tf.Tensor) return v.isDisposed ? 0 : 1;
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += countTensors(x, seen);
  else if (v instanceof Map) for (const x of v.values()) n += countTensors(x, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) n += countTensors(x, seen);
  return n;
}

/**
 * Runs `fn` and throws if it left more tensors alive than it returned (tensors in the result,
 * also inside arrays, Maps and plain objects, are allowed). Use it around every public tensor
 * function and training step in tests.
 *
 * @example
 * const y = await expectNoLeaks(() => conv2d(x, k));   // y is allowed; any other survivor fails
 * y.dispose();
 */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  const returned = countTensors(result, new Set());
  const leaked = after - before - returned;
  if (leaked !== 0) {
    throw new Error(
      `expectNoLeaks: ${leaked} tensor(s) leaked (numTensors ${before} before, ${after} after, ${returned} returned)`,
    );
  }
  return result;
}

/**
 * Declares one vitest `describe` block per backend; each activates its backend (initBackend) in
 * `beforeAll`, so the blocks run one after another on 'wasm', 'cpu', ...
 *
 * @example
 * forEachBackend(['wasm', 'cpu'], (backend) => {
 *   it('adds', () => { expect(tf.add(1, 2).dataSync()[0]).toBe(3); });
 * });
 */
export function forEachBackend(
  backends: Exclude<BackendPreference, 'auto'>[],
  body: (backend: Exclude<BackendPreference, 'auto'>) => void,
): void {
  for (const b of backends) {
    describe(`backend ${b}`, () => {
      beforeAll(async () => {
        await initBackend(b);
      });
      body(b);
    });
  }
}
