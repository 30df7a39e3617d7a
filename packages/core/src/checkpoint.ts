import * as tf from '@tensorflow/tfjs-core';
import { VERSION } from './version';

/**
 * safetensors, written and read by hand: 8-byte little-endian header length N, N bytes of JSON
 * header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__: { string: string } }`
 * (padded with spaces to a multiple of 8), then the raw little-endian tensor bytes. Our JSON
 * metadata record is stored as a string under `__metadata__.sign`.
 * Spec: https://github.com/huggingface/safetensors#format
 */

/** The safetensors element types (`dtype` in the header). */
export type SafeDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<SafeDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Metadata key under which the JSON record is stored in `__metadata__`. */
export const METADATA_KEY = 'sign';

/**
 * Metadata key under which the checksums are stored in `__metadata__`: a JSON string mapping
 * every tensor name to the SHA-256 (hex) of its bytes as stored, and `__metadata__` to the
 * SHA-256 of the JSON record under {@link METADATA_KEY}.
 */
export const CHECKSUMS_KEY = 'sign.sha256';

export interface Checkpoint {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, unknown>;
  /**
   * `'verified'`: every tensor and the metadata record matched the SHA-256 checksums stored in
   * the file. `'absent'`: the file has no checksums (written by another tool, or by a version of
   * this library before checksums), so nothing was verified.
   */
  checksums: 'verified' | 'absent';
}

/** Options of {@link loadCheckpoint} and {@link decodeSafetensors}. */
export interface LoadCheckpointOptions {
  /**
   * Refuse a file whose float tensors hold NaN or ±Infinity, with an error naming the file, the
   * tensor and the first bad position (default false: such values load as they are).
   */
  requireFinite?: boolean;
}

/** An error naming the checkpoint (`checkpoint <source>: …`). */
export class CheckpointError extends Error {
  constructor(source: string, message: string) {
    super(`checkpoint ${source}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** Refuses big-endian platforms (safetensors is little-endian). */
export function checkPlatform(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('checkpoint: big-endian platforms are not supported (safetensors is little-endian)');
  }
}

function safeDtype(t: tf.Tensor, name: string, source: string): SafeDtype {
  switch (t.dtype) {
    case 'float32':
      return 'F32';
    case 'int32':
      return 'I32';
    case 'bool':
      return 'BOOL';
    default:
      throw new CheckpointError(source, `tensor '${name}' has dtype ${t.dtype}, which safetensors cannot store`);
  }
}

/** Metadata as stored: the caller's record plus library versions (the caller's `versions` win). */
function withVersions(metadata: Record<string, unknown>): Record<string, unknown> {
  const given = (metadata.versions ?? {}) as Record<string, unknown>;
  return {
    ...metadata,
    versions: { '@sign/core': VERSION, '@tensorflow/tfjs-core': tf.version_core, ...given },
  };
}

/**
 * Encodes named tensors and a JSON metadata record as safetensors bytes (the header and each
 * tensor's bytes, in order; concatenate them or write them one after another).
 */
export async function encodeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, unknown> = {},
  source = '<memory>',
): Promise<Uint8Array[]> {
  checkPlatform();
  if (tensors === null || typeof tensors !== 'object') throw new CheckpointError(source, 'tensors must be an object of named tensors');
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    if (!(t instanceof tf.Tensor)) throw new CheckpointError(source, `'${name}' is not a tf.Tensor`);
    if (t.isDisposed) throw new CheckpointError(source, `tensor '${name}' is disposed`);
    if (name === '__metadata__' || name.length === 0) throw new CheckpointError(source, `invalid tensor name '${name}'`);
  }
  let metaJson: string;
  try {
    metaJson = JSON.stringify(withVersions(metadata));
  } catch (e) {
    throw new CheckpointError(source, `metadata is not JSON-serialisable: ${(e as Error).message}`);
  }
  // Wider dtypes first keeps every tensor aligned to its element size (as the reference writer does).
  const dtypes = new Map(names.map((n) => [n, safeDtype(tensors[n], n, source)]));
  const order = [...names].sort((a, b) => DTYPE_BYTES[dtypes.get(b)!] - DTYPE_BYTES[dtypes.get(a)!] || (a < b ? -1 : a > b ? 1 : 0));
  const meta: Record<string, string> = { [METADATA_KEY]: metaJson };
  const header: Record<string, unknown> = { __metadata__: meta };
  const sums: Record<string, string> = { __metadata__: await sha256(new TextEncoder().encode(metaJson)) };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of order) {
    const t = tensors[name];
    const data = await t.data();
    const bytes =
      t.dtype === 'bool'
        ? Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0))
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const expected = t.size * DTYPE_BYTES[dtypes.get(name)!];
    if (bytes.byteLength !== expected) throw new CheckpointError(source, `tensor '${name}' has ${bytes.byteLength} bytes, expected ${expected}`);
    header[name] = { dtype: dtypes.get(name), shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    sums[name] = await sha256(bytes);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  meta[CHECKSUMS_KEY] = JSON.stringify(sums);
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.byteLength % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  return [prefix, headerBytes, ...chunks];
}

/** SHA-256 of `bytes` as lowercase hex (WebCrypto: Node ≥ 20 and browsers). */
async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

function decodeF16(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

type Decoded = { values: Float32Array | Int32Array | Uint8Array; dtype: 'float32' | 'int32' | 'bool' };

/** The values of one stored tensor, converted to a tfjs dtype (no tensor is created). */
function decodeValues(bytes: Uint8Array, dtype: SafeDtype, n: number, name: string, source: string): Decoded {
  // Copy into a fresh, aligned buffer (the file buffer's offset need not be a multiple of 4).
  const buf = new Uint8Array(bytes).buffer; // a copy (Buffer.slice would be a view into a shared pool)
  switch (dtype) {
    case 'F32':
      return { values: new Float32Array(buf), dtype: 'float32' };
    case 'I32':
      return { values: new Int32Array(buf), dtype: 'int32' };
    case 'BOOL':
      return { values: new Uint8Array(buf), dtype: 'bool' };
    case 'F64':
      return { values: Float32Array.from(new Float64Array(buf)), dtype: 'float32' };
    case 'F16':
      return { values: Float32Array.from(new Uint16Array(buf), decodeF16), dtype: 'float32' };
    case 'BF16': {
      const h = new Uint16Array(buf);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = h[i] << 16;
      return { values: new Float32Array(out.buffer), dtype: 'float32' };
    }
    case 'I64': {
      const v = new BigInt64Array(buf);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (v[i] > 2147483647n || v[i] < -2147483648n) {
          throw new CheckpointError(source, `tensor '${name}' (I64) has value ${v[i]} outside the int32 range`);
        }
        out[i] = Number(v[i]);
      }
      return { values: out, dtype: 'int32' };
    }
    case 'U64': {
      const v = new BigUint64Array(buf);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (v[i] > 2147483647n) throw new CheckpointError(source, `tensor '${name}' (U64) has value ${v[i]} outside the int32 range`);
        out[i] = Number(v[i]);
      }
      return { values: out, dtype: 'int32' };
    }
    case 'U32': {
      const v = new Uint32Array(buf);
      if (v.some((x) => x > 2147483647)) throw new CheckpointError(source, `tensor '${name}' (U32) has values outside the int32 range`);
      return { values: Int32Array.from(v), dtype: 'int32' };
    }
    case 'I16':
      return { values: Int32Array.from(new Int16Array(buf)), dtype: 'int32' };
    case 'U16':
      return { values: Int32Array.from(new Uint16Array(buf)), dtype: 'int32' };
    case 'I8':
      return { values: Int32Array.from(new Int8Array(buf)), dtype: 'int32' };
    case 'U8':
      return { values: Int32Array.from(new Uint8Array(buf)), dtype: 'int32' };
  }
}

/**
 * Makes a tfjs tensor from raw little-endian element bytes of a safetensors dtype (also used for
 * PyTorch storages by @sign/torch-io). F32, I32 and BOOL load bit for bit; F64/F16/BF16 convert to
 * float32; the other integer types to int32, refusing values outside its range with an error
 * naming `name` and `source`. `bytes.length` must be `prod(shape) * size(dtype)` (checked).
 *
 * @example
 * const t = tensorFromBytes(new Uint8Array(new Float32Array([1, 2]).buffer), 'F32', [2], 'w', 'x.safetensors');
 */
export function tensorFromBytes(bytes: Uint8Array, dtype: SafeDtype, shape: number[], name: string, source: string): tf.Tensor {
  checkPlatform();
  if (!Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
    throw new CheckpointError(source, `tensor '${name}' has unsupported dtype ${dtype}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * DTYPE_BYTES[dtype]) {
    throw new CheckpointError(source, `tensor '${name}': ${bytes.byteLength} bytes for ${dtype} [${shape}], expected ${count * DTYPE_BYTES[dtype]}`);
  }
  const d = decodeValues(bytes, dtype, count, name, source);
  return tf.tensor(d.values, shape, d.dtype);
}

interface PlanEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface Header {
  plan: PlanEntry[];
  metadata: Record<string, unknown>;
  /** The JSON record as stored (for its checksum), when there is one. */
  metaJson?: string;
  checksums?: Record<string, string>;
}

const MAX_DIM = 2 ** 31 - 1;

/**
 * Parses and checks a safetensors header against the size of the data section that follows it:
 * every entry well formed, the tensors' byte ranges covering the data section exactly (no gap,
 * no overlap, no trailing bytes), the metadata record and the checksums readable. Nothing is
 * allocated from what the header claims.
 */
export function parseHeader(headerBytes: Uint8Array, dataBytes: number, source: string): Header {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (e) {
    throw new CheckpointError(source, `not a safetensors file (header is not valid JSON: ${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new CheckpointError(source, 'not a safetensors file (header is not a JSON object)');
  }
  const plan: PlanEntry[] = [];
  let metaRaw: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw new CheckpointError(source, 'bad header: __metadata__ must map strings to strings');
      }
      metaRaw = v as Record<string, unknown>;
      continue;
    }
    if (name.length === 0 || name === '__proto__') throw new CheckpointError(source, `invalid tensor name ${JSON.stringify(name)}`);
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new CheckpointError(source, `bad header entry for '${name}'`);
    if (typeof e.dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, e.dtype)) {
      throw new CheckpointError(source, `tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
    }
    const dtype = e.dtype as SafeDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_DIM)) {
      throw new CheckpointError(source, `tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[1] < off[0]) {
      throw new CheckpointError(source, `tensor '${name}' has bad data_offsets ${JSON.stringify(off)}`);
    }
    const shape = e.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== size * DTYPE_BYTES[dtype]) {
      throw new CheckpointError(
        source,
        `tensor '${name}': data_offsets span ${off[1] - off[0]} bytes but ${dtype} [${shape}] needs ${size * DTYPE_BYTES[dtype]}`,
      );
    }
    if (off[1] > dataBytes) {
      throw new CheckpointError(source, `truncated: tensor '${name}' ends at byte ${off[1]} of the data but the file holds only ${dataBytes}`);
    }
    plan.push({ name, dtype, shape, begin: off[0], end: off[1] });
  }
  // The tensors must tile the data section exactly, as the safetensors specification requires.
  const sorted = [...plan].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const p of sorted) {
    if (p.begin !== cursor) {
      throw new CheckpointError(
        source,
        p.begin > cursor
          ? `bad header: ${p.begin - cursor} bytes of the data before tensor '${p.name}' belong to no tensor`
          : `bad header: tensor '${p.name}' overlaps another tensor (it starts at byte ${p.begin}, before byte ${cursor})`,
      );
    }
    cursor = p.end;
  }
  if (cursor !== dataBytes) {
    throw new CheckpointError(source, `${dataBytes - cursor} bytes of trailing data after the last tensor (a corrupt file, or two files joined?)`);
  }
  let metadata: Record<string, unknown> = {};
  const metaJson = typeof metaRaw[METADATA_KEY] === 'string' ? (metaRaw[METADATA_KEY] as string) : undefined;
  if (metaJson !== undefined) {
    try {
      const m = JSON.parse(metaJson);
      if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
      metadata = m;
    } catch (e) {
      throw new CheckpointError(source, `__metadata__.${METADATA_KEY} is not a JSON object: ${(e as Error).message}`);
    }
  }
  let checksums: Record<string, string> | undefined;
  if (typeof metaRaw[CHECKSUMS_KEY] === 'string') {
    try {
      const c = JSON.parse(metaRaw[CHECKSUMS_KEY] as string);
      if (c === null || typeof c !== 'object' || Array.isArray(c) || !Object.values(c).every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))) {
        throw new Error('expected an object of SHA-256 hex digests');
      }
      checksums = c;
    } catch (e) {
      throw new CheckpointError(source, `__metadata__.${CHECKSUMS_KEY} is unreadable: ${(e as Error).message}`);
    }
  }
  return { plan, metadata, metaJson, checksums };
}

/**
 * Verifies the checksums (when the file has them), decodes every tensor's values, checks them
 * when `requireFinite`, and only then creates the tensors: a file refused at any step creates none.
 */
export async function materialize(h: Header, data: Uint8Array, source: string, opts: LoadCheckpointOptions): Promise<Checkpoint> {
  if (h.checksums) {
    const sums = h.checksums;
    const expected = new Set(h.plan.map((p) => p.name));
    for (const key of Object.keys(sums)) {
      if (key !== '__metadata__' && !expected.has(key)) throw new CheckpointError(source, `the checksums name tensor '${key}', which the file does not hold`);
    }
    if (h.metaJson !== undefined || sums.__metadata__ !== undefined) {
      const got = h.metaJson === undefined ? undefined : await sha256(new TextEncoder().encode(h.metaJson));
      if (got !== sums.__metadata__) {
        throw new CheckpointError(source, `the metadata record fails its SHA-256 check (stored ${sums.__metadata__ ?? 'none'}, computed ${got ?? 'none'}): the file is corrupt`);
      }
    }
    for (const p of h.plan) {
      const want = sums[p.name];
      if (want === undefined) throw new CheckpointError(source, `tensor '${p.name}' has no checksum, though the file has checksums`);
      const got = await sha256(data.subarray(p.begin, p.end));
      if (got !== want) {
        throw new CheckpointError(source, `tensor '${p.name}' fails its SHA-256 check (stored ${want.slice(0, 12)}…, computed ${got.slice(0, 12)}…): the file is corrupt`);
      }
    }
  }
  const decoded = h.plan.map((p) => {
    const d = decodeValues(data.subarray(p.begin, p.end), p.dtype, p.shape.reduce((a, b) => a * b, 1), p.name, source);
    if (opts.requireFinite && d.dtype === 'float32') {
      const bad = firstNonFinite(d.values as Float32Array);
      if (bad) {
        throw new CheckpointError(
          source,
          `tensor '${p.name}' has ${bad.count} non-finite value${bad.count === 1 ? '' : 's'} (first: ${bad.value} at index ${bad.index})`,
        );
      }
    }
    return d;
  });
  const tensors: Record<string, tf.Tensor> = {};
  try {
    h.plan.forEach((p, i) => {
      tensors[p.name] = tf.tensor(decoded[i].values, p.shape, decoded[i].dtype);
    });
  } catch (e) {
    tf.dispose(Object.values(tensors));
    throw new CheckpointError(source, `could not create the tensors: ${(e as Error).message}`);
  }
  return { tensors, metadata: h.metadata, checksums: h.checksums ? 'verified' : 'absent' };
}

/** Reads the 8-byte header length and checks it against the bytes that follow. */
export function headerLength(prefix: Uint8Array, total: number, source: string): number {
  if (total < 8) {
    throw new CheckpointError(source, `truncated: ${total} bytes, not even the 8-byte safetensors header length`);
  }
  const n64 = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(source, `not a safetensors file (header length ${n64} bytes is implausible)`);
  }
  const n = Number(n64);
  if (8 + n > total) {
    throw new CheckpointError(source, `truncated: the header claims ${n} bytes but the file has only ${total - 8} after the length`);
  }
  return n;
}

/**
 * Decodes safetensors bytes. F32, I32 and BOOL load as float32, int32 and bool bit for bit;
 * F64/F16/BF16 convert to float32 and the other integer types to int32 (PyTorch checkpoints).
 * Throws an error naming `source` for a truncated, foreign or corrupt file (also for bytes after
 * the last tensor, or a tensor failing its checksum); a refused file creates no tensor.
 */
export async function decodeSafetensors(
  bytes: Uint8Array,
  source = '<memory>',
  opts: LoadCheckpointOptions = {},
): Promise<Checkpoint> {
  checkPlatform();
  const n = headerLength(bytes, bytes.byteLength, source);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, source);
  return materialize(header, bytes.subarray(8 + n), source, opts);
}

/** The first non-finite value of `v`, and how many there are; undefined when all are finite. */
function firstNonFinite(v: ArrayLike<number>): { index: number; value: number; count: number } | undefined {
  let first = -1;
  let count = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) {
      // NaN - NaN and Inf - Inf are NaN; every finite x gives 0
      if (first < 0) first = i;
      count++;
    }
  }
  return first < 0 ? undefined : { index: first, value: v[first], count };
}

/** What {@link findNonFiniteTensor} reports. */
export interface NonFiniteTensor {
  /** The tensor's name (its key in the record). */
  name: string;
  /** Flat (row-major) index of its first non-finite value. */
  index: number;
  /** That value: NaN, Infinity or -Infinity. */
  value: number;
  /** How many of its values are non-finite. */
  count: number;
}

/**
 * The first float tensor (in the record's key order) holding NaN or ±Infinity, with the position
 * of its first such value; `undefined` when every value is finite. One reduction per tensor
 * (`all(isFinite(t))`) finds it; only the bad tensor is read back in full. int32 and bool
 * tensors are always finite. Creates no lasting tensor; the inputs are not disposed.
 *
 * @example
 * const { tensors } = await loadCheckpoint(path);
 * const bad = await findNonFiniteTensor(tensors);
 * if (bad) throw new Error(`${path}: tensor '${bad.name}' is ${bad.value} at index ${bad.index}`);
 */
export async function findNonFiniteTensor(tensors: Record<string, tf.Tensor>): Promise<NonFiniteTensor | undefined> {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== 'float32' && t.dtype !== 'complex64') continue;
    if (t.size === 0) continue;
    const ok = tf.tidy(() => tf.all(tf.isFinite(t)));
    const allFinite = (await ok.data())[0] === 1;
    ok.dispose();
    if (allFinite) continue;
    const bad = firstNonFinite(await t.data<'float32'>());
    if (bad) return { name, ...bad };
  }
  return undefined;
}
