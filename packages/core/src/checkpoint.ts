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

export interface Checkpoint {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, unknown>;
}

class CheckpointError extends Error {
  constructor(source: string, message: string) {
    super(`checkpoint ${source}: ${message}`);
    this.name = 'CheckpointError';
  }
}

function checkPlatform(): void {
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
  const header: Record<string, unknown> = { __metadata__: { [METADATA_KEY]: metaJson } };
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
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
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

function decodeF16(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
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
  if (!(dtype in DTYPE_BYTES)) throw new CheckpointError(source, `tensor '${name}' has unsupported dtype ${dtype}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * DTYPE_BYTES[dtype]) {
    throw new CheckpointError(source, `tensor '${name}': ${bytes.byteLength} bytes for ${dtype} [${shape}], expected ${count * DTYPE_BYTES[dtype]}`);
  }
  // Copy into a fresh, aligned buffer (the file buffer's offset need not be a multiple of 4).
  const buf = new Uint8Array(bytes).buffer; // a copy (Buffer.slice would be a view into a shared pool)
  const n = shape.reduce((a, b) => a * b, 1);
  switch (dtype) {
    case 'F32':
      return tf.tensor(new Float32Array(buf), shape, 'float32');
    case 'I32':
      return tf.tensor(new Int32Array(buf), shape, 'int32');
    case 'BOOL':
      return tf.tensor(new Uint8Array(buf), shape, 'bool');
    case 'F64':
      return tf.tensor(Float32Array.from(new Float64Array(buf)), shape, 'float32');
    case 'F16': {
      const h = new Uint16Array(buf);
      return tf.tensor(Float32Array.from(h, decodeF16), shape, 'float32');
    }
    case 'BF16': {
      const h = new Uint16Array(buf);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = h[i] << 16;
      return tf.tensor(new Float32Array(out.buffer), shape, 'float32');
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
      return tf.tensor(out, shape, 'int32');
    }
    case 'U64': {
      const v = new BigUint64Array(buf);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (v[i] > 2147483647n) throw new CheckpointError(source, `tensor '${name}' (U64) has value ${v[i]} outside the int32 range`);
        out[i] = Number(v[i]);
      }
      return tf.tensor(out, shape, 'int32');
    }
    case 'U32': {
      const v = new Uint32Array(buf);
      if (v.some((x) => x > 2147483647)) throw new CheckpointError(source, `tensor '${name}' (U32) has values outside the int32 range`);
      return tf.tensor(Int32Array.from(v), shape, 'int32');
    }
    case 'I16':
      return tf.tensor(Int32Array.from(new Int16Array(buf)), shape, 'int32');
    case 'U16':
      return tf.tensor(Int32Array.from(new Uint16Array(buf)), shape, 'int32');
    case 'I8':
      return tf.tensor(Int32Array.from(new Int8Array(buf)), shape, 'int32');
    case 'U8':
      return tf.tensor(Int32Array.from(new Uint8Array(buf)), shape, 'int32');
  }
}

/**
 * Decodes safetensors bytes. F32, I32 and BOOL load as float32, int32 and bool bit for bit;
 * F64/F16/BF16 convert to float32 and the other integer types to int32 (PyTorch checkpoints).
 * Throws an error naming `source` for a truncated, foreign or corrupt file.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<memory>'): Checkpoint {
  checkPlatform();
  if (bytes.byteLength < 8) {
    throw new CheckpointError(source, `truncated: ${bytes.byteLength} bytes, not even the 8-byte safetensors header length`);
  }
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(source, `not a safetensors file (header length ${n64} bytes is implausible)`);
  }
  const n = Number(n64);
  if (8 + n > bytes.byteLength) {
    throw new CheckpointError(source, `truncated: the header claims ${n} bytes but the file has only ${bytes.byteLength - 8} after the length`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new CheckpointError(source, `not a safetensors file (header is not valid JSON: ${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new CheckpointError(source, 'not a safetensors file (header is not a JSON object)');
  }
  const data = bytes.subarray(8 + n);
  const entries = Object.entries(header as Record<string, unknown>);
  // Validate every entry before creating any tensor, so nothing leaks on a bad file.
  const plan: { name: string; dtype: SafeDtype; shape: number[]; begin: number; end: number }[] = [];
  let metaRaw: Record<string, unknown> = {};
  for (const [name, v] of entries) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw new CheckpointError(source, 'bad header: __metadata__ must map strings to strings');
      }
      metaRaw = v as Record<string, unknown>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') throw new CheckpointError(source, `bad header entry for '${name}'`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) {
      throw new CheckpointError(source, `tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
    }
    const dtype = e.dtype as SafeDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new CheckpointError(source, `tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    }
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
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
    if (off[1] > data.byteLength) {
      throw new CheckpointError(source, `truncated: tensor '${name}' ends at byte ${off[1]} of the data but the file holds only ${data.byteLength}`);
    }
    plan.push({ name, dtype, shape, begin: off[0], end: off[1] });
  }
  let metadata: Record<string, unknown> = {};
  if (typeof metaRaw[METADATA_KEY] === 'string') {
    try {
      const m = JSON.parse(metaRaw[METADATA_KEY] as string);
      if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new Error('not an object');
      metadata = m;
    } catch (e) {
      throw new CheckpointError(source, `__metadata__.${METADATA_KEY} is not a JSON object: ${(e as Error).message}`);
    }
  }
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const p of plan) tensors[p.name] = tensorFromBytes(data.subarray(p.begin, p.end), p.dtype, p.shape, p.name, source);
  } catch (e) {
    tf.dispose(Object.values(tensors));
    throw e;
  }
  return { tensors, metadata };
}

/**
 * Saves named tensors and a JSON metadata record (config, step, seed, ...) as a safetensors file
 * that PyTorch (`safetensors.torch.load_file`) reads. The record is stored as a JSON string under
 * `__metadata__.sign`, with `versions` of @sign/core and tfjs-core added. The write is atomic: a
 * temporary file in the same folder is written, flushed and renamed over `path`.
 *
 * @example
 * await saveCheckpoint('runs/a/step-1000.safetensors', model.stateDict(), { step: 1000, seed: 42, config });
 */
export async function saveCheckpoint(
  path: string,
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const fs = await import('node:fs/promises');
  const chunks = await encodeSafetensors(tensors, metadata, path);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  let fh: Awaited<ReturnType<typeof fs.open>> | null = null;
  try {
    fh = await fs.open(tmp, 'w');
    for (const c of chunks) {
      let written = 0;
      while (written < c.byteLength) {
        const { bytesWritten } = await fh.write(c, written, c.byteLength - written);
        written += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => {});
    await fs.unlink(tmp).catch(() => {});
    throw new Error(`checkpoint ${path}: could not write: ${(e as Error).message}`);
  }
}

/**
 * Loads a safetensors checkpoint: the tensors by name and the JSON metadata record (empty for
 * files written by other tools). A truncated, foreign or corrupt file is refused with an error
 * naming the file. The caller owns (and disposes) the returned tensors.
 *
 * @example
 * const { tensors, metadata } = await loadCheckpoint('runs/a/step-1000.safetensors');
 * model.loadStateDict(tensors); tf.dispose(Object.values(tensors));
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw new Error(`checkpoint ${path}: could not read: ${(e as Error).message}`);
  }
  return decodeSafetensors(bytes, path);
}
