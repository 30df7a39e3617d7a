import * as tf from '@tensorflow/tfjs-core';

/** Throws `${where}: expected ${what} to have rank ${rank}, got shape [..]` unless `t.rank === rank`. */
export function assertRank(t: tf.Tensor, rank: number, where: string, what: string): void {
  if (!(t instanceof tf.Tensor)) {
    throw new TypeError(`${where}: expected ${what} to be a tf.Tensor, got ${describeValue(t)}`);
  }
  if (t.rank !== rank) {
    throw new Error(`${where}: expected ${what} to have rank ${rank}, got shape [${t.shape.join(',')}]`);
  }
}

/** Throws unless `cond` holds; the message is prefixed with the function name. */
export function assert(cond: unknown, where: string, message: string): asserts cond {
  if (!cond) throw new Error(`${where}: ${message}`);
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** Normalises `n | [a, b]` to `[a, b]`, checking that both are positive integers. */
export function pair(v: number | [number, number] | undefined, dflt: number, where: string, what: string): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new Error(`${where}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

/**
 * `import(spec)` of a module named at run time: bundlers and the type checker leave optional
 * packages alone; a missing one rejects here, where the caller can say why.
 */
export function dynamicImport(spec: string): Promise<any> {
  return import(/* @vite-ignore */ spec);
}

/** The first line of an error's message (at most 300 characters), for one-line reasons. */
export function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 300);
}

/**
 * Whether tfjs is recording operations for a gradient right now (inside `tf.grad`,
 * `tf.variableGrads`, an optimizer's `minimize`…): code may take a path without a gradient of
 * its own (e.g. a kernel read in place instead of a sliced copy) only when this is false. Reads
 * the engine's gradient depth; when that cannot be read it answers true (the general path).
 *
 * @example
 * if (!recordingGradients()) console.log('inference: no tape');
 */
export function recordingGradients(): boolean {
  const depth = (tf.engine() as unknown as { state?: { gradientDepth?: unknown } }).state?.gradientDepth;
  return typeof depth === 'number' ? depth > 0 : true;
}
