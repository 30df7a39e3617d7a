import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, beforeEach, describe } from 'vitest';
import { initBackend, type BackendPreference } from './backend';
import { checkWebgpu } from './webgpu';

/** A backend a test can ask for by name. */
export type TestBackend = Exclude<BackendPreference, 'auto'>;

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
 * Backends named in the environment variable `SIGN_SKIP_BACKENDS` (comma-separated, e.g.
 * `webgpu` on a machine without EGL or Vulkan): their `forEachBackend` blocks are skipped, and
 * say so in their name.
 */
export function skippedBackends(): string[] {
  const v = typeof process !== 'undefined' ? process.env?.SIGN_SKIP_BACKENDS : undefined;
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Declares one vitest `describe` block per backend; each activates its backend (initBackend) in
 * `beforeAll`, so the blocks run one after another on 'cpu', 'wasm', 'webgpu', ... A block fails
 * if it did not get the backend it named (`initBackend('webgpu')` falls back to wasm where no
 * adapter fits: the tests must not pass on wasm in its place); `SIGN_SKIP_BACKENDS` skips some.
 *
 * @example
 * forEachBackend(['wasm', 'cpu', 'webgpu'], (backend) => {
 *   it('adds', async () => { expect((await tf.add(1, 2).data())[0]).toBe(3); });
 * });
 */
export function forEachBackend(backends: TestBackend[], body: (backend: TestBackend) => void): void {
  const skipped = skippedBackends();
  for (const b of backends) {
    if (skipped.includes(b)) {
      describe.skip(`backend ${b} (skipped: SIGN_SKIP_BACKENDS=${skipped.join(',')})`, () => body(b));
      continue;
    }
    describe(`backend ${b}`, () => {
      beforeAll(async () => {
        const report = await initBackend(b);
        if (report.backend !== b) {
          const why = report.attempts
            .filter((a) => !a.ok)
            .map((a) => `${a.name}: ${a.reason}`)
            .join('; ');
          throw new Error(
            `forEachBackend: asked for '${b}' but got '${report.backend}' (${why}); ` +
              `for webgpu run \`pnpm webgpu:setup\`, or set SIGN_SKIP_BACKENDS=${b} to skip these tests`,
          );
        }
      });
      if (b === 'webgpu') {
        // A failed test leaves the device failed (every later op throws its error): start the
        // next test on a fresh one, so that one failure does not fail the rest.
        beforeEach(async () => {
          try {
            checkWebgpu();
          } catch {
            await initBackend('webgpu');
          }
        });
      }
      body(b);
    });
  }
}

/**
 * Runs `fn` with `backend` active, then switches back to the backend that was active before.
 * `fn` must create its tensors itself (from host arrays) and return plain values: tensors do not
 * move between backends (webgpu cannot read synchronously).
 *
 * @example
 * const ref = await onBackend('cpu', async () => Array.from(await tf.square(tf.tensor([1, 2])).data()));
 */
export async function onBackend<T>(backend: TestBackend, fn: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  await initBackend(backend);
  try {
    return await fn();
  } finally {
    if (previous && previous !== backend) await tf.setBackend(previous);
  }
}

/** Named outputs of a computation, read back to the host. */
export type HostValues = Record<string, ArrayLike<number>>;

/**
 * One computation to compare across backends (`expectMatchesCpu(c.compute, c.tol)`): vitest
 * files declare one test per case, and the GPU device check runs the same lists outside vitest.
 */
export interface ParityCase {
  name: string;
  /** relative tolerance; default 1e-4 */
  tol?: number;
  compute: () => Promise<HostValues>;
}

/**
 * Reads tensors back to the host with `await data()` (the only read webgpu has in Node), then
 * disposes them.
 *
 * @example
 * const out = await readAll({ y: tf.square(x) });   // { y: Float32Array }
 */
export async function readAll(tensors: Record<string, tf.Tensor>): Promise<HostValues> {
  const out: HostValues = {};
  try {
    for (const [k, t] of Object.entries(tensors)) out[k] = await t.data();
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return out;
}

/**
 * Runs `compute` on the cpu backend (the reference) and then on the active backend, and throws
 * unless every named output agrees: `max |a − b| ≤ tol · max(1, max |reference|)`. Returns the
 * worst relative difference per output. `compute` builds its inputs from host arrays (see
 * `onBackend`) and returns host values (see `readAll`).
 *
 * @example
 * await expectMatchesCpu(async () => readAll({ y: conv2d(tf.tensor4d(xs, shape), k, { strides: 2 }) }), 1e-4);
 */
export async function expectMatchesCpu(
  compute: () => Promise<HostValues>,
  tol = 1e-4,
): Promise<Record<string, number>> {
  const reference = await onBackend('cpu', compute);
  const actual = await compute();
  const worst: Record<string, number> = {};
  const failures: string[] = [];
  for (const [k, ref] of Object.entries(reference)) {
    const got = actual[k];
    if (!got || got.length !== ref.length) {
      failures.push(`${k}: ${got ? `${got.length} values` : 'missing'}, cpu has ${ref.length}`);
      continue;
    }
    let scale = 1;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
    let d = 0;
    let at = -1;
    for (let i = 0; i < ref.length; i++) {
      const e = Math.abs(got[i] - ref[i]);
      if (!(e <= d)) {
        d = e;
        at = i;
      }
    }
    worst[k] = d / scale;
    if (!(d <= tol * scale)) {
      failures.push(`${k}[${at}]: ${got[at]} vs cpu ${ref[at]} (|diff| ${d.toExponential(2)} > ${tol} × ${scale.toPrecision(3)})`);
    }
  }
  if (failures.length) throw new Error(`expectMatchesCpu on ${tf.getBackend()}: ${failures.join('; ')}`);
  return worst;
}
