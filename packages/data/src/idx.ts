import { readFileSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { regularFileSize, writeFileAtomic } from '@sign/core/node';

/** An idx array (the format of MNIST and Fashion-MNIST): unsigned bytes with a shape. */
export interface IdxArray {
  /** Shape, outermost first, e.g. `[60000, 28, 28]` for images, `[60000]` for labels. */
  dims: number[];
  /** Row-major bytes, `dims` multiplied together. */
  data: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

/**
 * The largest idx data {@link readIdxFile} accepts unless told otherwise (`maxBytes`): 1 GiB,
 * twice EMNIST's largest file; the full Fashion-MNIST training images are 47 MB.
 */
export const MAX_IDX_BYTES = 1024 ** 3;

/** The most bytes that deflate can make of one compressed byte (zlib's limit is about 1032). */
const DEFLATE_MAX_RATIO = 1040;

interface IdxHeader {
  dims: number[];
  /** Header length in bytes (4 + 4 × rank). */
  headerBytes: number;
  /** Data length in bytes that the header declares (the product of dims). */
  size: number;
}

/**
 * Reads an idx header from the start of `buf`; throws naming `name` when it is not one, or when
 * `buf` ends inside it. Counts are not compared with the data here.
 */
function parseIdxHeader(buf: Uint8Array, name: string): IdxHeader {
  if (buf.length < 4) {
    throw new Error(`${name}: not an idx file: ${buf.length} bytes, shorter than the 4-byte header`);
  }
  if (buf[0] !== 0 || buf[1] !== 0) {
    const magic = Buffer.from(buf.subarray(0, 4)).toString('hex');
    throw new Error(`${name}: wrong magic number 0x${magic} (an idx file starts with 0x0000 then type and rank bytes)`);
  }
  const type = buf[2]!;
  if (type !== UBYTE) {
    const what = TYPE_NAMES[type] ?? 'unknown type';
    throw new Error(`${name}: idx element type 0x${type.toString(16).padStart(2, '0')} (${what}) is not supported; expected 0x08 (unsigned byte)`);
  }
  const rank = buf[3]!;
  if (rank === 0) throw new Error(`${name}: idx header declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) {
    throw new Error(`${name}: truncated idx header: ${rank} dimensions need ${headerBytes} bytes, file has ${buf.length}`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  return { dims, headerBytes, size };
}

/**
 * Parses an (uncompressed) idx buffer. Only the unsigned-byte element type is supported, which is
 * what MNIST-style datasets use. `name` (usually the file path) is put in every error message.
 *
 * Layout: two zero bytes, a type byte (0x08 = unsigned byte), a byte with the number of
 * dimensions, one big-endian uint32 per dimension, then the data.
 *
 * @example
 * const { dims, data } = parseIdx(bytes, 'train-labels-idx1-ubyte'); // dims [60000]
 */
export function parseIdx(buf: Uint8Array, name: string): IdxArray {
  const { dims, headerBytes, size } = parseIdxHeader(buf, name);
  const have = buf.length - headerBytes;
  if (have < size) {
    throw new Error(`${name}: truncated idx data: shape [${dims.join(', ')}] needs ${size} bytes, file has ${have}`);
  }
  if (have > size) {
    throw new Error(`${name}: ${have - size} unexpected bytes after the idx data of shape [${dims.join(', ')}]`);
  }
  return { dims, data: buf.slice(headerBytes, headerBytes + size) };
}

/** Encodes an unsigned-byte idx array (uncompressed). */
export function encodeIdx(arr: IdxArray): Uint8Array {
  const size = arr.dims.reduce((a, b) => a * b, 1);
  if (arr.dims.length === 0 || arr.dims.length > 255) throw new Error(`encodeIdx: rank ${arr.dims.length} out of range 1..255`);
  if (size !== arr.data.length) {
    throw new Error(`encodeIdx: shape [${arr.dims.join(', ')}] needs ${size} bytes, data has ${arr.data.length}`);
  }
  const header = 4 + 4 * arr.dims.length;
  const out = new Uint8Array(header + size);
  const view = new DataView(out.buffer);
  out[2] = UBYTE;
  out[3] = arr.dims.length;
  arr.dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(arr.data, header);
  return out;
}

/** Options of {@link readIdxFile}. */
export interface ReadIdxOptions {
  /** The most bytes the file, and the idx data it holds once inflated, may have (default {@link MAX_IDX_BYTES}). */
  maxBytes?: number;
}

/**
 * Inflates the start of a gzip stream: enough to hold an idx header (at most 1,024 bytes), never
 * more than deflate can make of the first 16 KiB. Returns what came out (maybe shorter than a
 * header, for a truncated or odd stream).
 */
function inflateStart(raw: Uint8Array, path: string): Buffer {
  let out: Buffer = Buffer.alloc(0);
  for (const k of [1024, 16 * 1024]) {
    const prefix = raw.subarray(0, Math.min(k, raw.length));
    try {
      out = gunzipSync(prefix, {
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: DEFLATE_MAX_RATIO * prefix.length + 65536,
      });
    } catch (err) {
      throw new Error(`${path}: corrupt gzip stream: ${(err as Error).message}`);
    }
    if (out.length >= 4 && out.length >= 4 + 4 * out[3]!) return out;
    if (prefix.length === raw.length) break;
  }
  return out;
}

/**
 * Reads an idx file, gunzipping it first when it starts with the gzip magic bytes (`.gz` files
 * as distributed). Errors name the file. Nothing is allocated from what the file claims before
 * it is checked: the file must be a regular file of at most `maxBytes` (default
 * {@link MAX_IDX_BYTES}); for a gzip file the header is inflated first, and the shape it
 * declares must fit `maxBytes` and what deflate can make of the file's size; the rest is then
 * inflated with that size as a hard cap, so a gzip bomb stops at the size its header declares.
 *
 * @example
 * const { dims, data } = readIdxFile('train-labels-idx1-ubyte.gz'); // dims [60000]
 */
export function readIdxFile(path: string, opts: ReadIdxOptions = {}): IdxArray {
  const maxBytes = opts.maxBytes ?? MAX_IDX_BYTES;
  let raw: Uint8Array;
  try {
    const fileBytes = regularFileSize(path);
    if (fileBytes > maxBytes) throw new Error(`${fileBytes} bytes is more than the maximum ${maxBytes} (maxBytes)`);
    raw = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read idx file: ${(err as Error).message}`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    const { dims, headerBytes, size } = parseIdxHeader(inflateStart(raw, path), path);
    const expected = headerBytes + size;
    const shape = `[${dims.join(', ')}]`;
    if (expected > maxBytes) {
      throw new Error(`${path}: idx header declares shape ${shape}, ${expected} bytes, more than the maximum ${maxBytes} (maxBytes)`);
    }
    if (expected > DEFLATE_MAX_RATIO * raw.length + 65536) {
      throw new Error(
        `${path}: idx header declares shape ${shape}, ${expected} bytes, more than a ${raw.length}-byte gzip file can hold (truncated or corrupt)`,
      );
    }
    try {
      raw = gunzipSync(raw, { maxOutputLength: expected });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`${path}: the gzip stream inflates to more than the ${expected} bytes that its idx header declares (shape ${shape})`);
      }
      throw new Error(`${path}: corrupt or truncated gzip stream: ${(err as Error).message}`);
    }
  }
  return parseIdx(raw, path);
}

/** Writes an idx array, gzip-compressed when `path` ends in `.gz`; atomic (temp file + rename). */
export function writeIdxFile(path: string, arr: IdxArray): void {
  const bytes = encodeIdx(arr);
  writeFileAtomic(path, path.endsWith('.gz') ? gzipSync(bytes, { level: 9 }) : bytes);
}
