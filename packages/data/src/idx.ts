import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeFileAtomic } from '@sign/core/node';

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

/**
 * Reads an idx file, gunzipping it first when it starts with the gzip magic bytes (`.gz` files
 * as distributed). Errors name the file.
 */
export function readIdxFile(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read idx file: ${(err as Error).message}`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (err) {
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
