import * as tf from '@tensorflow/tfjs-core';
import { tensorFromBytes, type SafeDtype } from '@sign/core';
import type { TorchDtype } from './dtype';
import { PthError, quote } from './errors';
import { PyDict, describeType, type PyKey, type PyValue } from './pickle';
import { TorchTensor } from './torch';

const SAFE: Record<TorchDtype, SafeDtype> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint64: 'U64',
  uint32: 'U32',
  uint16: 'U16',
  uint8: 'U8',
  bool: 'BOOL',
};

export interface NamedTensorsOptions {
  /** The file, for error messages (default '<pth>'). */
  source?: string;
  /** Most containers and values visited (default 10,000,000): shared sub-objects are visited once per path. */
  maxVisits?: number;
}

/** Named tensors and what was not a tensor. */
export interface NamedTensors {
  /** Tensors by dotted path ('conv.weight', 'state.0.exp_avg'), in the order they were saved. */
  tensors: Record<string, TorchTensor>;
  /** Dotted paths of leaves that are not tensors (numbers, strings, None, ...). */
  others: string[];
}

/**
 * Every tensor inside `value` (dicts, lists, tuples, nested), named by its dotted path: dict keys
 * as they are (ints as decimals, other keys as Python prints them), list and tuple items by index.
 * This is how a state_dict's keys come out unchanged (`tensors['back.scale.layer1.conv1.conv.weight']`).
 * Non-tensor leaves are listed in `others`. Throws a PthError naming `source` for a cycle, two
 * tensors with one name, or more than `maxVisits` visits.
 *
 * @example
 * const { tensors } = namedTensors((pth.value as PyDict).get('state_dict'));
 * tensors['Em_all.weight'].shape; // [classes, 300]
 */
export function namedTensors(value: PyValue, options: NamedTensorsOptions = {}): NamedTensors {
  const source = options.source ?? '<pth>';
  const maxVisits = options.maxVisits ?? 10_000_000;
  const tensors: Record<string, TorchTensor> = {};
  const others: string[] = [];
  // Iterative depth-first walk (deep nesting cannot overflow the call stack); `open` holds the
  // containers on the current path, to detect cycles.
  type Frame = { value: PyValue; path: string; exit?: boolean };
  const todo: Frame[] = [{ value, path: '' }];
  const open = new Set<unknown>();
  let visits = 0;
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (f.exit) {
      open.delete(f.value);
      continue;
    }
    if (++visits > maxVisits) throw new PthError(source, `more than ${maxVisits} values to walk (shared sub-objects count once per path)`);
    const v = f.value;
    if (v instanceof TorchTensor) {
      if (Object.hasOwn(tensors, f.path)) throw new PthError(source, `two tensors named ${quote(f.path)}`);
      setOwn(tensors, f.path, v);
      continue;
    }
    const children: [string, PyValue][] = [];
    if (v instanceof PyDict) {
      for (const [k, x] of v) {
        children.push([keyName(k), x]);
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => children.push([String(i), x]));
    } else {
      others.push(f.path);
      continue;
    }
    if (open.has(v)) throw new PthError(source, `${quote(f.path)} contains itself`);
    open.add(v);
    todo.push({ value: v, path: f.path, exit: true });
    for (let i = children.length - 1; i >= 0; i--) {
      const [k, x] = children[i];
      todo.push({ value: x, path: f.path === '' ? k : `${f.path}.${k}` });
    }
  }
  return { tensors, others };
}

/** `record[key] = value` as an own property, also for a key like '__proto__' (a plain assignment would set the prototype). */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A dict key as a path segment: str and int as they are, others as Python would print them
 * (nested tuples shortened to '…' past a few levels or items, so a hostile key stays short).
 */
function keyName(k: PyKey, budget = { calls: 32 }, depth = 0): string {
  if (typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint') return String(k);
  if (k === null) return 'None';
  if (typeof k === 'boolean') return k ? 'True' : 'False';
  if (k instanceof Uint8Array) return `b'${Array.from(k.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('')}${k.length > 16 ? '…' : ''}'`;
  if (depth >= 4 || --budget.calls < 0) return '…';
  const items = k.slice(0, 8).map((x) => keyName(x as PyKey, budget, depth + 1));
  return `(${items.join(', ')}${k.length > 8 ? ', …' : k.length === 1 ? ',' : ''})`;
}

/**
 * A TorchTensor as a tfjs tensor: float32 for float64/float32/float16/bfloat16, int32 for the
 * integer types (values outside int32 are refused, naming the tensor and the file), bool for
 * bool. The caller owns (and disposes) the result.
 *
 * @example
 * const w = toTfTensor(tensors['conv.weight'], 'conv.weight', 'model.pth'); // tf.Tensor [cout, cin, kh, kw] float32
 * w.dispose();
 */
export function toTfTensor(t: TorchTensor, name = '<tensor>', source = '<pth>'): tf.Tensor {
  if (!(t instanceof TorchTensor)) throw new PthError(source, `'${name}' is ${describeType(t)}, not a tensor`);
  const d = t.data;
  return tensorFromBytes(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), SAFE[t.dtype], t.shape, name, source);
}

/**
 * Many TorchTensors as tfjs tensors (see `toTfTensor`), by name. On any failure the tensors made so
 * far are disposed before the error is thrown: nothing leaks.
 *
 * @example
 * const tf32 = toTfTensors(namedTensors(sd).tensors, 'model.pth'); // Record<string, tf.Tensor>
 * model.loadStateDict(tf32); tf.dispose(Object.values(tf32));
 */
export function toTfTensors(tensors: Record<string, TorchTensor>, source = '<pth>'): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  try {
    for (const name of Object.keys(tensors)) setOwn(out, name, toTfTensor(tensors[name], name, source));
  } catch (e) {
    tf.dispose(Object.values(out));
    throw e;
  }
  return out;
}
