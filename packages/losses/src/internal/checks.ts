import * as tf from '@tensorflow/tfjs-core';

/** Throws unless `t` is a tf.Tensor of the given rank; the message names the function and argument. */
export function assertRank(
  fn: string,
  name: string,
  t: unknown,
  rank: number,
  layout: string,
): void {
  if (!(t instanceof tf.Tensor)) {
    throw new TypeError(`${fn}: ${name} must be a tf.Tensor ${layout}, got ${describe(t)}`);
  }
  if (t.rank !== rank) {
    throw new Error(
      `${fn}: ${name} must have rank ${rank} ${layout}, got shape [${t.shape.join(', ')}]`,
    );
  }
}

/** Throws unless `t` has dtype int32 (class ids are int32 everywhere in sign-ts). */
export function assertInt32(fn: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== 'int32') {
    throw new Error(
      `${fn}: ${name} must be int32 class ids, got dtype ${t.dtype} (create it with dtype 'int32' or tf.cast(x, 'int32'))`,
    );
  }
}

/** Throws unless `t` has a float dtype. */
export function assertFloat(fn: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== 'float32') {
    throw new Error(`${fn}: ${name} must be float32, got dtype ${t.dtype}`);
  }
}

/** Throws unless the two shapes are equal; `what` says which axes are compared. */
export function assertSameShape(
  fn: string,
  nameA: string,
  a: readonly number[],
  nameB: string,
  b: readonly number[],
): void {
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new Error(
      `${fn}: ${nameA} [${a.join(', ')}] and ${nameB} [${b.join(', ')}] must have the same shape`,
    );
  }
}

/** Throws unless `v` is a non-negative integer (used for class ids and ignore indices). */
export function assertClassId(fn: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new Error(`${fn}: ${name} must be a non-negative integer, got ${String(v)}`);
  }
}

/** Throws unless `v` is a finite number. */
export function assertFiniteNumber(fn: string, name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`${fn}: ${name} must be a finite number, got ${String(v)}`);
  }
}

/**
 * Checks a 0/1 mask (any numeric dtype, or bool) against the expected shape and returns it as
 * float32 (a new tensor, owned by the caller's tidy scope).
 */
export function maskAsFloat(
  fn: string,
  name: string,
  mask: tf.Tensor,
  shape: readonly number[],
): tf.Tensor {
  if (!(mask instanceof tf.Tensor)) {
    throw new TypeError(`${fn}: ${name} must be a tf.Tensor, got ${describe(mask)}`);
  }
  if (mask.dtype === 'string' || mask.dtype === 'complex64') {
    throw new Error(`${fn}: ${name} must be a numeric 0/1 tensor, got dtype ${mask.dtype}`);
  }
  assertSameShape(fn, name, mask.shape, 'the expected shape', shape);
  return mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array (wrap it with tf.tensor)';
  return typeof v;
}
