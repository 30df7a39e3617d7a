import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from '@sign/core/node';
import { type ReadWordVectorsOptions, type WordVectors, wordSet } from './types';

const MAX_WORD_BYTES = 4096;

/** A forward-only buffered reader over a file handle. */
class ByteReader {
  private buf = Buffer.alloc(1 << 22);
  start = 0;
  end = 0;
  /** File offset of buf[0]. */
  base = 0;
  eof = false;

  constructor(private readonly fh: FileHandle) {}

  get available(): number {
    return this.end - this.start;
  }

  /** File offset of the next unread byte. */
  get offset(): number {
    return this.base + this.start;
  }

  byte(i: number): number {
    return this.buf[this.start + i];
  }

  /** Makes at least `n` bytes available unless the file ends first; returns the bytes available. */
  async fill(n: number): Promise<number> {
    while (this.available < n && !this.eof) {
      if (this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
        this.base += this.start;
        this.end -= this.start;
        this.start = 0;
      }
      if (this.buf.length - this.end < Math.max(n - this.available, 1 << 16)) {
        const bigger = Buffer.alloc(Math.max(this.buf.length * 2, n + (1 << 16)));
        this.buf.copy(bigger, 0, 0, this.end);
        this.buf = bigger;
      }
      const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, null);
      if (bytesRead === 0) this.eof = true;
      this.end += bytesRead;
    }
    return this.available;
  }

  /** Index (relative to start) of the first byte equal to `b`, searching `limit` bytes; -1 if absent. */
  indexOf(b: number, limit: number): number {
    return this.buf.subarray(this.start, this.start + Math.min(limit, this.available)).indexOf(b);
  }

  text(len: number): string {
    return this.buf.toString('utf8', this.start, this.start + len);
  }

  floats(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let j = 0; j < count; j++) out[j] = this.buf.readFloatLE(this.start + 4 * j);
    return out;
  }

  skip(n: number): void {
    this.start += n;
  }
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Reads a word2vec binary file (the C tool's `-binary 1` output, e.g. GoogleNews-vectors-
 * negative300.bin): an ASCII header line `<count> <dimension>`, then per word its UTF-8 bytes, a
 * space, and `dimension` little-endian float32 values, optionally followed by a newline. The
 * file is streamed; with `words`, only those vectors are kept and reading stops once all are
 * found. A truncated file, a header that does not match the contents, or non-finite values are
 * errors naming the file, the word's index and its byte offset.
 *
 * @example
 * const { vectors } = await readWord2vecBinary('GoogleNews-vectors-negative300.bin', { words: ['cow'] });
 */
export async function readWord2vecBinary(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readWord2vecBinary';
  const wanted = wordSet(opts.words);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new Error(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
  const vectors = new Map<string, Float32Array>();
  try {
    const r = new ByteReader(fh);
    await r.fill(256);
    const nl = r.indexOf(0x0a, 256);
    const headerText = nl >= 0 ? r.text(nl) : '';
    const m = /^\s*(\d+)[ \t]+(\d+)\s*$/.exec(headerText);
    if (!m) {
      throw new Error(
        `${what}: ${path} line 1: expected a header '<count> <dimension>', got '${(nl >= 0 ? headerText : r.text(Math.min(r.available, 40))).slice(0, 40)}'`,
      );
    }
    const count = Number(m[1]);
    const dimension = Number(m[2]);
    if (dimension <= 0) throw new Error(`${what}: ${path} line 1: dimension must be positive, got ${dimension}`);
    r.skip(nl + 1);
    const vecBytes = 4 * dimension;
    let i = 0;
    for (; i < count; i++) {
      // skip the newline (and any white space) between records
      for (;;) {
        if ((await r.fill(1)) === 0) break;
        if (!isSpace(r.byte(0))) break;
        r.skip(1);
      }
      const at = r.offset;
      await r.fill(MAX_WORD_BYTES + 1);
      if (r.available === 0) {
        throw new Error(
          `${what}: ${path} is truncated: the header declares ${count} words but the file ends after ${i} (byte ${at})`,
        );
      }
      const sp = r.indexOf(0x20, MAX_WORD_BYTES + 1);
      if (sp < 0) {
        throw new Error(
          r.eof && r.available <= MAX_WORD_BYTES
            ? `${what}: ${path} is truncated: word ${i} at byte ${at} has no values (the header declares ${count} words)`
            : `${what}: ${path}: word ${i} at byte ${at} is not followed by a space within ${MAX_WORD_BYTES} bytes (not a word2vec binary file?)`,
        );
      }
      const word = r.text(sp);
      r.skip(sp + 1);
      if ((await r.fill(vecBytes)) < vecBytes) {
        throw new Error(
          `${what}: ${path} is truncated: word ${i} ('${word}', byte ${at}) needs ${vecBytes} bytes of values, the file has ${r.available} left`,
        );
      }
      if (!wanted || wanted.has(word)) {
        const v = r.floats(dimension);
        for (let j = 0; j < dimension; j++) {
          if (!Number.isFinite(v[j])) {
            throw new Error(
              `${what}: ${path}: word ${i} ('${word}', byte ${at}) value ${j + 1} is ${v[j]} (corrupt file or not little-endian float32?)`,
            );
          }
        }
        if (!vectors.has(word)) vectors.set(word, v);
      }
      r.skip(vecBytes);
      if (wanted && vectors.size === wanted.size) {
        i++;
        break;
      }
    }
    if (!wanted || vectors.size < wanted.size) {
      // we read every declared word: anything but white space after them means a wrong header
      while ((await r.fill(1)) > 0 && isSpace(r.byte(0))) r.skip(1);
      if (i === count && r.available > 0) {
        throw new Error(
          `${what}: ${path}: data continues after the ${count} words its header declares (byte ${r.offset})`,
        );
      }
    }
    const missing = wanted ? [...wanted].filter((w) => !vectors.has(w)) : [];
    return { path, format: 'word2vec-bin', dimension, vectors, missing, vocabularySize: count };
  } finally {
    await fh.close();
  }
}

/**
 * Writes vectors in word2vec binary format (header, then `word␠<float32 LE × D>\n` per word),
 * e.g. to make small test files or to cut a large file down to the words a project needs.
 * The write is atomic (temporary file + rename).
 */
export function writeWord2vecBinary(path: string, vectors: Map<string, Float32Array | readonly number[]>): void {
  const entries = [...vectors.entries()];
  const dimension = entries.length > 0 ? entries[0][1].length : 0;
  const parts: Buffer[] = [Buffer.from(`${entries.length} ${dimension}\n`, 'ascii')];
  for (const [word, v] of entries) {
    if (/[\s]/.test(word) || word.length === 0) {
      throw new Error(`writeWord2vecBinary: word '${word}' is empty or contains white space`);
    }
    if (v.length !== dimension) {
      throw new Error(`writeWord2vecBinary: word '${word}' has ${v.length} values, expected ${dimension}`);
    }
    const b = Buffer.alloc(4 * dimension);
    for (let j = 0; j < dimension; j++) b.writeFloatLE(v[j], 4 * j);
    parts.push(Buffer.from(`${word} `, 'utf8'), b, Buffer.from('\n', 'ascii'));
  }
  writeFileAtomic(path, Buffer.concat(parts));
}
