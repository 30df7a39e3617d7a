import { ByteReader } from './bytes';
import { type ByteSource, type WordVectorInput, toByteSource } from './source';
import { type ParseWordVectorsOptions, type ReadWordVectorsOptions, type WordVectors, checkDimension, wordSet } from './types';

const MAX_WORD_BYTES = 4096;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Parses a word2vec binary file (the C tool's `-binary 1` output, e.g. GoogleNews-vectors-
 * negative300.bin): an ASCII header line `<count> <dimension>`, then per word its UTF-8 bytes, a
 * space, and `dimension` little-endian float32 values, optionally followed by a newline. The
 * input is streamed (a Blob or a stream is never held whole); with `words`, only those vectors
 * are kept and reading stops once all are found. A truncated file, a header that does not match
 * the contents, or non-finite values are errors naming the source, the word's index and its byte
 * offset. The header is checked before anything is allocated: the dimension against
 * `maxDimension` (default {@link MAX_WORD_VECTOR_DIMENSION}), and the word count against the
 * size when it is known (every word needs at least `4 × dimension + 2` bytes). Files:
 * `readWord2vecBinary` from `@sign/embeddings/node`.
 *
 * @example
 * const res = await fetch('vectors.bin');
 * const { vectors } = await parseWord2vecBinary(await res.blob(), { words: ['cow'], source: 'vectors.bin' });
 */
export async function parseWord2vecBinary(input: WordVectorInput, opts: ParseWordVectorsOptions = {}): Promise<WordVectors> {
  return word2vecBinary(toByteSource(input, opts.source ?? '<input>'), opts, 'parseWord2vecBinary');
}

/** The word2vec binary reader over a source (closed at the end); `what` starts error messages. */
export async function word2vecBinary(src: ByteSource, opts: ReadWordVectorsOptions, what: string): Promise<WordVectors> {
  const path = src.name;
  const fileSize = src.size;
  const vectors = new Map<string, Float32Array>();
  try {
    const wanted = wordSet(opts.words);
    const r = new ByteReader(src);
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
    const left = fileSize === undefined ? Infinity : fileSize - (nl + 1);
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
    await src.close();
  }
}

/**
 * Encodes vectors in word2vec binary format (header, then `word␠<float32 LE × D>\n` per word),
 * e.g. to make small test files or to cut a large file down to the words a project needs.
 * `writeWord2vecBinary` in `@sign/embeddings/node` writes them to a file atomically.
 *
 * @example
 * const bytes = encodeWord2vecBinary(new Map([['cat', [1, 0]], ['dog', [0, 1]]])); // 2 × (4 + 8) + 4 bytes
 */
export function encodeWord2vecBinary(vectors: Map<string, Float32Array | readonly number[]>): Uint8Array {
  const entries = [...vectors.entries()];
  const dimension = entries.length > 0 ? entries[0][1].length : 0;
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [enc.encode(`${entries.length} ${dimension}\n`)];
  for (const [word, v] of entries) {
    if (/[\s]/.test(word) || word.length === 0) {
      throw new Error(`encodeWord2vecBinary: word '${word}' is empty or contains white space`);
    }
    if (v.length !== dimension) {
      throw new Error(`encodeWord2vecBinary: word '${word}' has ${v.length} values, expected ${dimension}`);
    }
    const b = new Uint8Array(4 * dimension);
    const view = new DataView(b.buffer);
    for (let j = 0; j < dimension; j++) view.setFloat32(4 * j, v[j], true);
    parts.push(enc.encode(`${word} `), b, enc.encode('\n'));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
