import type { FileHandle } from 'node:fs/promises';
import { openRegularFile, writeFileAtomic } from '@sign/core/node';
import { ByteReader } from './bytes';
import { type ReadWordVectorsOptions, type WordVectors, checkDimension, wordSet } from './types';

const MAX_WORD_BYTES = 4096;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Reads a word2vec binary file (the C tool's `-binary 1` output, e.g. GoogleNews-vectors-
 * negative300.bin): an ASCII header line `<count> <dimension>`, then per word its UTF-8 bytes, a
 * space, and `dimension` little-endian float32 values, optionally followed by a newline. The
 * file is streamed; with `words`, only those vectors are kept and reading stops once all are
 * found. A truncated file, a header that does not match the contents, or non-finite values are
 * errors naming the file, the word's index and its byte offset. The header is checked before
 * anything is allocated: the dimension against `maxDimension` (default
 * {@link MAX_WORD_VECTOR_DIMENSION}), and the word count against the file size (every word needs
 * at least `4 × dimension + 2` bytes).
 *
 * @example
 * const { vectors } = await readWord2vecBinary('GoogleNews-vectors-negative300.bin', { words: ['cow'] });
 */
export async function readWord2vecBinary(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readWord2vecBinary';
  const wanted = wordSet(opts.words);
  let fh: FileHandle;
  let fileSize: number;
  try {
    ({ handle: fh, size: fileSize } = await openRegularFile(path));
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
    checkDimension(dimension, opts, what, path, ' line 1');
    r.skip(nl + 1);
    const vecBytes = 4 * dimension;
    // every word is at least one byte, a space and its values: the header must fit the file
    const left = fileSize - (nl + 1);
    if (!Number.isSafeInteger(count) || count * (vecBytes + 2) > left) {
      throw new Error(
        `${what}: ${path} line 1: the header declares ${m[1]} words of dimension ${dimension}, which need at least ${(vecBytes + 2) * count} bytes, but the file has ${left} after the header (truncated, or not a word2vec binary file?)`,
      );
    }
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
