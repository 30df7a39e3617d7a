import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PyDict, TorchStorage, TorchTensor, isTuple, toTfTensor, type PyValue } from '../src';

export const FIXTURES = join(__dirname, 'fixtures');

/** A fixture's bytes (a plain Uint8Array copy, so that tests may mutate it). */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

/** What make-fixtures.py recorded that torch.load gave for `<name>.pth`. */
export function expected(name: string): unknown {
  return normalise(JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')).value);
}

const FLOAT_TAGS: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity };

/**
 * The recorded JSON with Python floats that JS cannot tell from ints (2.0) as plain numbers, the
 * non-finite ones as numbers, sets in a fixed order.
 */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if ('__float__' in o) {
    const s = o.__float__ as string;
    return s in FLOAT_TAGS ? FLOAT_TAGS[s] : Number(s);
  }
  if ('__tensor__' in o) {
    const t = o.__tensor__ as { values: unknown[] };
    return { __tensor__: { ...t, values: t.values.map((x) => (typeof x === 'string' && x in FLOAT_TAGS ? FLOAT_TAGS[x] : x)) } };
  }
  if ('__set__' in o) return { __set__: sortByJson((o.__set__ as unknown[]).map(normalise)) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) out[k] = normalise(x);
  return out;
}

function sortByJson(items: unknown[]): unknown[] {
  return [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Float values of a float16/bfloat16 tensor, decoded by toTfTensor (so that path is checked too). */
function decodedFloats(t: TorchTensor): number[] {
  const tt = toTfTensor(t);
  try {
    return Array.from(tt.dataSync());
  } finally {
    tt.dispose();
  }
}

/** A value read by parsePth in the JSON form make-fixtures.py writes (see `describe` there). */
export function describe(v: PyValue): unknown {
  if (v instanceof TorchTensor) {
    let values: unknown[];
    if (v.dtype === 'float16' || v.dtype === 'bfloat16') values = decodedFloats(v);
    else if (v.dtype === 'int64' || v.dtype === 'uint64') values = Array.from(v.data as BigInt64Array, (x) => String(x));
    else if (v.dtype === 'bool') values = Array.from(v.data as Uint8Array, (x) => x === 1);
    else values = Array.from(v.data as Float32Array);
    return { __tensor__: { dtype: v.dtype, shape: v.shape, values, parameter: v.parameter, requiresGrad: v.requiresGrad } };
  }
  if (v instanceof TorchStorage) return { __storage__: { dtype: v.dtype, values: Array.from(v.data as Float32Array) } };
  if (v instanceof PyDict) return { [v.ordered ? '__ordereddict__' : '__dict__']: [...v].map(([k, x]) => [describe(k), describe(x)]) };
  if (isTuple(v)) return { __tuple__: v.map(describe) };
  if (Array.isArray(v)) return v.map(describe);
  if (v instanceof Set) return { __set__: sortByJson([...v].map(describe)) };
  if (v instanceof Uint8Array) return { __bytes__: hex(v) };
  if (typeof v === 'bigint') return { __int__: String(v) };
  return v;
}
