/**
 * Corpus generators for the safetensors fuzz suite: valid files of every dtype (with and without
 * this library's checksums, with and without a metadata record, tensors stored in any order), and
 * hostile ones that know the format (header lengths and offsets that lie, overlapping and
 * gapped tensors, trailing data, names and dtypes that are Object.prototype keys, wrong
 * checksums). Written without tfjs, so the test process stays light.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { CHECKSUMS_KEY, METADATA_KEY } from '../../src/checkpoint';

const DTYPES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U32: 4, U16: 2, U8: 1, BOOL: 1 } as const;
type Dtype = keyof typeof DTYPES;

export interface StTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface StFile {
  tensors: StTensor[];
  metadata?: Record<string, unknown>;
  checksums: boolean;
  /** Order in which the tensors' bytes are stored. */
  order: number[];
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Bytes for a tensor: random, except that BOOL gets 0/1 and I64/U32 stay in the int32 range. */
function tensorBytes(dtype: Dtype, n: number, seed: number): Uint8Array {
  const b = Buffer.alloc(n * DTYPES[dtype]);
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < n; i++) {
    if (dtype === 'BOOL') b[i] = next() & 1;
    else if (dtype === 'I64') b.writeBigInt64LE(BigInt((next() | 0) >> 1), 8 * i);
    else if (dtype === 'U32') b.writeUInt32LE(next() >>> 1, 4 * i);
    else for (let j = 0; j < DTYPES[dtype]; j++) b[i * DTYPES[dtype] + j] = next() >>> 24;
  }
  return new Uint8Array(b);
}

const nameArb = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,6}(\.[a-z0-9_]{1,6}){0,3}$/),
  fc.constantFrom('encoder.kernel', 'é.ü', '中文', 'a b', 'constructor', 'toString', 'hasOwnProperty'),
);

export const safetensorsFileArb = (): fc.Arbitrary<StFile> =>
  fc
    .uniqueArray(
      fc.record({
        name: nameArb,
        dtype: fc.constantFrom(...(Object.keys(DTYPES) as Dtype[])),
        shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        seed: fc.integer(),
      }),
      { selector: (t) => t.name, maxLength: 6 },
    )
    .chain((ts) =>
      fc.record({
        tensors: fc.constant(
          ts.map(({ name, dtype, shape, seed }) => ({ name, dtype, shape, bytes: tensorBytes(dtype, shape.reduce((a, b) => a * b, 1), seed) })),
        ),
        metadata: fc.option(fc.record({ step: fc.nat(), note: fc.string({ maxLength: 8 }) }), { nil: undefined }),
        checksums: fc.boolean(),
        order: fc.shuffledSubarray([...ts.keys()], { minLength: ts.length, maxLength: ts.length }),
      }),
    );

/** Header entries can be overridden (`lie`) to make hostile files; `tail` is appended. */
export function safetensorsBytes(
  f: StFile,
  opts: { lie?: (header: Record<string, unknown>) => void; tail?: Uint8Array; headerLength?: bigint } = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  const meta: Record<string, string> = {};
  const sums: Record<string, string> = {};
  if (f.metadata) {
    meta[METADATA_KEY] = JSON.stringify(f.metadata);
    sums.__metadata__ = sha(meta[METADATA_KEY]);
  }
  let offset = 0;
  const data: Uint8Array[] = [];
  for (const i of f.order) {
    const t = f.tensors[i];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
    data.push(t.bytes);
    sums[t.name] = sha(t.bytes);
  }
  if (f.checksums) meta[CHECKSUMS_KEY] = JSON.stringify(sums);
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  opts.lie?.(header);
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const h = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.headerLength ?? BigInt(h.length));
  return new Uint8Array(Buffer.concat([len, h, ...data, opts.tail ?? new Uint8Array(0)]));
}

export const safetensorsFiles = (): fc.Arbitrary<Uint8Array> => safetensorsFileArb().map((f) => safetensorsBytes(f));

type Lie = (h: Record<string, unknown>) => void;
const entries = (h: Record<string, unknown>) =>
  Object.entries(h).filter(([k]) => k !== '__metadata__') as [string, { dtype: string; shape: number[]; data_offsets: number[] }][];

const LIES: Record<string, Lie> = {
  'overlap': (h) => entries(h).forEach(([, e]) => (e.data_offsets = [0, e.data_offsets[1] - e.data_offsets[0]])),
  'gap': (h) => entries(h).forEach(([, e]) => (e.data_offsets = e.data_offsets.map((o) => o + 4))),
  'huge offsets': (h) => entries(h).forEach(([, e]) => (e.data_offsets = [2 ** 53, 2 ** 53 + 4])),
  'negative offsets': (h) => entries(h).forEach(([, e]) => (e.data_offsets = [-4, 0])),
  'fractional offsets': (h) => entries(h).forEach(([, e]) => (e.data_offsets = [0.5, 4.5])),
  'huge shape': (h) => entries(h).forEach(([, e]) => (e.shape = [2 ** 31, 2 ** 31, 0])),
  'shape string': (h) => entries(h).forEach(([, e]) => ((e as unknown as { shape: string }).shape = '4')),
  'dtype toString': (h) => entries(h).forEach(([, e]) => (e.dtype = 'toString')),
  'dtype constructor': (h) => entries(h).forEach(([, e]) => (e.dtype = 'constructor')),
  '__proto__ name': (h) => {
    const e = entries(h)[0];
    if (e) {
      delete h[e[0]];
      Object.defineProperty(h, '__proto__', { value: e[1], enumerable: true, configurable: true, writable: true });
    }
  },
  'entry is an array': (h) => {
    const e = entries(h)[0];
    if (e) h[e[0]] = [e[1].dtype, e[1].shape];
  },
  'wrong checksum': (h) => {
    const meta = h.__metadata__ as Record<string, string> | undefined;
    const e = entries(h)[0];
    if (e) h.__metadata__ = { ...meta, [CHECKSUMS_KEY]: JSON.stringify({ [e[0]]: '0'.repeat(64) }) };
  },
  'checksums not JSON': (h) => (h.__metadata__ = { [CHECKSUMS_KEY]: '{oops' }),
  'metadata not a record': (h) => (h.__metadata__ = { [METADATA_KEY]: '[1,2]', other: 'x' }),
  'metadata value not a string': (h) => (h.__metadata__ = { [METADATA_KEY]: 5 }),
};

export const lyingSafetensors = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(safetensorsFileArb(), fc.constantFrom(...Object.keys(LIES)))
    .map(([f, lie]) => safetensorsBytes(f, { lie: LIES[lie] }));

export const trailingSafetensors = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(safetensorsFileArb(), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([f, tail]) => safetensorsBytes(f, { tail }));

export const lyingHeaderLength = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(safetensorsFileArb(), fc.constantFrom(2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, 100n * 1024n * 1024n, 100n * 1024n * 1024n + 1n, 0n, 7n))
    .map(([f, n]) => safetensorsBytes(f, { headerLength: n }));
