import * as tf from '@tensorflow/tfjs-core';
import type { Module } from './module';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Converts a PyTorch layer weight to the layout of the @sign parameter it fills (`target`, the
 * parameter's shape):
 * - conv weight [O, I, kh, kw] → conv kernel [kh, kw, I, O] (a transpose);
 * - 1×1 conv weight [O, I, 1, 1] → `Conv1x1`/`Linear` kernel [I, O];
 * - linear weight [O, I] → `Linear` kernel [I, O];
 * - vectors (biases, BatchNorm tensors) and scalars unchanged.
 * The result must have the target's shape, else the error names `name`. Float tensors only.
 *
 * @param t the PyTorch tensor (as read from a checkpoint, row-major in PyTorch's order)
 * @param target the shape of the parameter to fill
 * @param name the key, for messages
 * @returns a new tensor of shape `target` (the caller disposes it)
 * @example
 * const k = fromTorchLayout(w, [3, 3, 64, 128], 'layer2.block1.conv3x3.conv.weight');   // w [128,64,3,3]
 */
export function fromTorchLayout(
  t: tf.Tensor,
  target: readonly number[],
  name = 'tensor',
): tf.Tensor {
  if (!(t instanceof tf.Tensor)) throw new Error(`fromTorchLayout: '${name}' is not a tf.Tensor`);
  const bad = (): Error =>
    new Error(
      `fromTorchLayout: '${name}' has PyTorch shape [${t.shape.join(',')}], which does not fit a parameter of shape [${target.join(',')}]`,
    );
  return tf.tidy(() => {
    let out: tf.Tensor;
    if (t.rank === 4 && target.length === 4) {
      out = tf.transpose(t, [2, 3, 1, 0]);
    } else if (t.rank === 4 && target.length === 2) {
      const [o, i, kh, kw] = t.shape;
      if (kh !== 1 || kw !== 1) throw bad();
      out = tf.transpose(tf.reshape(t, [o, i]));
    } else if (t.rank === 2 && target.length === 2) {
      out = tf.transpose(t);
    } else if (t.rank <= 1 && t.rank === target.length) {
      out = tf.clone(t);
    } else {
      throw bad();
    }
    if (!sameShape(out.shape, target)) throw bad();
    return out.dtype === 'float32' ? out : tf.cast(out, 'float32');
  });
}

/**
 * What a key-mapping function says about one PyTorch state-dict key: the dotted parameter path it
 * fills, `null` for a key that is known but carries no parameter (BatchNorm's
 * `num_batches_tracked`), `undefined` for a key that is not this module's.
 */
export type TorchKeyMapper = (key: string) => string | null | undefined;

/** What {@link loadTorchStateDict} did. */
export interface TorchLoadReport {
  /** `[torch key, parameter path]` for every loaded tensor, in the dict's order. */
  loaded: [string, string][];
  /** Keys mapped to `null` (known, nothing to load). */
  ignored: string[];
  /** Keys the mapper did not know (only with `strict: false`; strict refuses them). */
  unknown: string[];
}

/**
 * Loads a PyTorch state dict (tensors in PyTorch's layout, e.g. from a `.pth` file) into a
 * module: each key goes through `mapKey` to a parameter path and through {@link fromTorchLayout}
 * to the parameter's layout, then `module.loadStateDict` checks and writes them. With `strict`
 * (default), a key that `mapKey` does not know, two keys for one parameter, and a parameter left
 * without a key are errors (naming them); everything is checked before anything is written.
 * The input tensors are not disposed.
 *
 * @example
 * const report = loadTorchStateDict(backbone, tensors, deeplabReleaseKey);
 * report.loaded.length;   // one per parameter
 */
export function loadTorchStateDict(
  module: Module,
  dict: Record<string, tf.Tensor>,
  mapKey: TorchKeyMapper,
  opts: { strict?: boolean } = {},
): TorchLoadReport {
  const strict = opts.strict ?? true;
  const where = `loadTorchStateDict(${module.constructor.name})`;
  const params = module.namedParameters();
  const report: TorchLoadReport = { loaded: [], ignored: [], unknown: [] };
  const byPath = new Map<string, string>();
  const problems: string[] = [];
  for (const key of Object.keys(dict)) {
    const path = mapKey(key);
    if (path === null) {
      report.ignored.push(key);
      continue;
    }
    if (path === undefined) {
      report.unknown.push(key);
      continue;
    }
    if (!params.has(path)) {
      problems.push(`'${key}' maps to '${path}', which is not a parameter`);
      continue;
    }
    const prev = byPath.get(path);
    if (prev !== undefined) problems.push(`'${prev}' and '${key}' both map to '${path}'`);
    byPath.set(path, key);
    report.loaded.push([key, path]);
  }
  if (strict && report.unknown.length) problems.push(`unknown keys: ${report.unknown.join(', ')}`);
  if (strict) {
    const missing = [...params.keys()].filter((p) => !byPath.has(p));
    if (missing.length) problems.push(`no key for parameters: ${missing.join(', ')}`);
  }
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
  const converted: Record<string, tf.Tensor> = {};
  try {
    for (const [key, path] of report.loaded)
      converted[path] = fromTorchLayout(dict[key], params.get(path)!.shape, key);
    module.loadStateDict(converted, { strict: false });
  } catch (e) {
    throw new Error(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    tf.dispose(Object.values(converted));
  }
  return report;
}
