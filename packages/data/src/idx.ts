import { Gunzip, gzipSync } from 'fflate';

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
 * The largest idx data {@link decodeIdx} (and `readIdxFile` of `@sign/data/node`) accepts unless
 * told otherwise (`maxBytes`): 1 GiB, twice EMNIST's largest file; the full Fashion-MNIST
 * training images are 47 MB.
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
    const magic = Array.from(buf.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
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

/** Options of {@link decodeIdx} (and `readIdxFile`). */
export interface ReadIdxOptions {
  /** The most bytes the file, and the idx data it holds once inflated, may have (default {@link MAX_IDX_BYTES}). */
  maxBytes?: number;
}

/**
 * Compressed bytes given to the inflater at a time: deflate makes at most ~4 MiB of 4 KiB, so
 * inflating stops within that of the cap (16 KiB steps decode the shipped training images in
 * 69 ms instead of 149, but let a gzip bomb's child process reach 210 MiB instead of 155).
 */
const STEP = 4 * 1024;

/** Thrown through the inflater's callback: the reason, passed on as it is. */
class Refusal {
  constructor(readonly error: Error) {}
}

/**
 * Inflates a gzip stream, at most `cap(header)` bytes: `cap` is asked, once the first `need`
 * bytes of output exist, for the most bytes the output may have (it throws to refuse the
 * header). Past the cap the inflater stops (a gzip bomb is never inflated) and `tooLong` says why.
 */
function gunzipBounded(raw: Uint8Array, name: string, need: (head: Uint8Array) => number | undefined, cap: (head: Uint8Array) => number, tooLong: () => string): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let limit = Infinity;
  let ended = false;
  const gz = new Gunzip({}, (chunk, final) => {
    if (chunk.length > 0) {
      parts.push(chunk);
      total += chunk.length;
    }
    if (final) ended = true;
    if (limit === Infinity) {
      const head = total >= 4 ? concat(parts, Math.min(total, 4 + 4 * 255)) : undefined;
      const n = head ? need(head) : undefined;
      if (head && n !== undefined && total >= n) {
        try {
          limit = cap(concat(parts, n));
        } catch (err) {
          throw new Refusal(err as Error);
        }
      }
    }
    if (total > limit) throw new Refusal(new Error(`${name}: ${tooLong()}`));
  });
  try {
    for (let i = 0; i < raw.length; i += STEP) gz.push(raw.subarray(i, i + STEP), i + STEP >= raw.length);
    if (raw.length === 0) gz.push(raw, true);
  } catch (err) {
    if (err instanceof Refusal) throw err.error;
    throw new Error(`${name}: corrupt or truncated gzip stream: ${(err as Error).message}`);
  }
  if (!ended) throw new Error(`${name}: corrupt or truncated gzip stream: it ends before its last block`);
  if (limit === Infinity) cap(concat(parts, total)); // a stream shorter than a header: let the header parser say so
  return concat(parts, total);
}

/** The first `n` bytes of `parts` joined (all of them when n is their total). */
function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1 && parts[0].length === n) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    if (o >= n) break;
    const take = Math.min(p.length, n - o);
    out.set(take === p.length ? p : p.subarray(0, take), o);
    o += take;
  }
  return out;
}

/**
 * Decodes an idx file's bytes, gunzipping them first when they start with the gzip magic bytes
 * (`.gz` files as distributed). `name` (usually the file path) is put in every error message.
 * Nothing is allocated from what the data claims before it is checked: the input must have at
 * most `maxBytes` (default {@link MAX_IDX_BYTES}); for gzip data the header is inflated first,
 * and the shape it declares must fit `maxBytes` and what deflate can make of the input's size;
 * inflating then stops at that size, so a gzip bomb never grows past what its header declares.
 * Pure JavaScript (fflate): runs in browsers. Files: `readIdxFile` from `@sign/data/node`.
 *
 * @example
 * const { dims, data } = decodeIdx(new Uint8Array(await (await fetch('t10k-labels-idx1-ubyte.gz')).arrayBuffer()), 't10k-labels'); // dims [10000]
 */
export function decodeIdx(raw: Uint8Array, name: string, opts: ReadIdxOptions = {}): IdxArray {
  const maxBytes = opts.maxBytes ?? MAX_IDX_BYTES;
  if (raw.length > maxBytes) throw new Error(`${name}: cannot read idx file: ${raw.length} bytes is more than the maximum ${maxBytes} (maxBytes)`);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    let shape = '';
    let expected = 0;
    raw = gunzipBounded(
      raw,
      name,
      (head) => 4 + 4 * head[3]!,
      (head) => {
        const { dims, headerBytes, size } = parseIdxHeader(head, name);
        expected = headerBytes + size;
        shape = `[${dims.join(', ')}]`;
        if (expected > maxBytes) {
          throw new Error(`${name}: idx header declares shape ${shape}, ${expected} bytes, more than the maximum ${maxBytes} (maxBytes)`);
        }
        if (expected > DEFLATE_MAX_RATIO * raw.length + 65536) {
          throw new Error(
            `${name}: idx header declares shape ${shape}, ${expected} bytes, more than a ${raw.length}-byte gzip file can hold (truncated or corrupt)`,
          );
        }
        return expected;
      },
      () => `the gzip stream inflates to more than the ${expected} bytes that its idx header declares (shape ${shape})`,
    );
  }
  return parseIdx(raw, name);
}

/** Compresses bytes with gzip (level 9), as the idx files are distributed. */
export function gzipIdx(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes, { level: 9 });
}
