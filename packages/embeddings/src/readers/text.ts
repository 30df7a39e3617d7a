import { type ByteSource, type WordVectorInput, toByteSource } from './source';
import {
  type ParseWordVectorsOptions,
  type ReadWordVectorsOptions,
  type WordVectorFormat,
  type WordVectors,
  MAX_WORD_VECTOR_DIMENSION,
  checkDimension,
  wordSet,
} from './types';

const FIELD_SEP = /[ \t]+/;
const CHUNK = 1 << 20;

/**
 * The longest line accepted: room for a long token and `maxDimension` values of up to 63
 * characters each. A longer line (a binary or foreign file read as text) is an error, not a
 * string of gigabytes.
 */
function maxLineBytes(opts: ReadWordVectorsOptions): number {
  return 4096 + 64 * (opts.maxDimension ?? MAX_WORD_VECTOR_DIMENSION);
}

/** A line of the file: its bytes (without the `\n`) and its text. */
interface Line {
  text: string;
  bytes: number;
  /** Line 1 only: its first two bytes, to recognise a UTF-16 byte-order mark. */
  head?: Uint8Array;
}

/**
 * The lines of UTF-8 data (without their `\n`), read in chunks of 1 MiB; a line longer than
 * `maxBytes` is an error naming the source and the line number. Lines are split on the byte 0x0a,
 * which never occurs inside a multi-byte UTF-8 character.
 */
async function* sourceLines(src: ByteSource, maxBytes: number, what: string): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8');
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  let position = 0;
  const tooLong = (): never => {
    throw new Error(
      `${what}: ${src.name} line ${lineNo + 1} is longer than ${maxBytes} bytes (a binary or foreign file? maxDimension sets the limit)`,
    );
  };
  const join = (last: Uint8Array): Uint8Array => {
    if (pending.length === 0) return last;
    const out = new Uint8Array(pendingBytes + last.byteLength);
    let o = 0;
    for (const p of pending) {
      out.set(p, o);
      o += p.byteLength;
    }
    out.set(last, o);
    return out;
  };
  for (;;) {
    const chunk = await src.read(position, CHUNK);
    if (chunk.byteLength === 0) break;
    position += chunk.byteLength;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      if (pendingBytes + nl - start > maxBytes) tooLong();
      const line = join(chunk.subarray(start, nl));
      pending = [];
      pendingBytes = 0;
      lineNo++;
      yield { text: decoder.decode(line), bytes: line.byteLength, ...(lineNo === 1 ? { head: line.slice(0, 2) } : {}) };
      start = nl + 1;
    }
    if (start < chunk.byteLength) {
      pendingBytes += chunk.byteLength - start;
      if (pendingBytes > maxBytes) tooLong();
      // a copy: a source may reuse its buffer for the next read
      pending.push(chunk.slice(start));
    }
  }
  if (pendingBytes > 0) {
    const line = join(new Uint8Array(0));
    lineNo++;
    yield { text: decoder.decode(line), bytes: line.byteLength, ...(lineNo === 1 ? { head: line.slice(0, 2) } : {}) };
  }
}

/** A first line that is a word2vec / fastText `.vec` header: `<count> <dimension>`. */
const HEADER_LINE = /^\s*(\d+)[ \t]+(\d+)$/;

/**
 * Reads text word vectors, one word per line followed by its values, separated by spaces
 * (or tabs). With `header`, the first line is `<count> <dimension>` (word2vec text, fastText
 * .vec); without, the dimension is taken from the first line (GloVe), and a first line that is
 * such a header is refused (a word2vec or `.vec` file read as GloVe). A word may itself
 * contain spaces (some GloVe tokens do): the last `dimension` fields are the values, the rest
 * is the word. Only the lines that are kept are parsed; a bad one is an error naming the source
 * and the line number. A UTF-8 byte-order mark is skipped; a UTF-16 one is an error. The
 * dimension is checked against `maxDimension`, and a header's word count against the size
 * (when known: every line needs at least `2 × dimension + 2` bytes), before the rows are read.
 * The source is closed at the end.
 */
export async function parseTextVectors(
  src: ByteSource,
  format: WordVectorFormat,
  opts: ReadWordVectorsOptions,
  what: string,
): Promise<WordVectors> {
  try {
    return await textVectors(src, format, opts, what);
  } finally {
    await src.close();
  }
}

async function textVectors(src: ByteSource, format: WordVectorFormat, opts: ReadWordVectorsOptions, what: string): Promise<WordVectors> {
  const header = format !== 'glove';
  const path = src.name;
  const wanted = wordSet(opts.words);
  const wantedHasSpace = wanted ? [...wanted].some((w) => /[ \t]/.test(w)) : false;
  const vectors = new Map<string, Float32Array>();
  let lineNo = 0;
  let dimension = -1;
  let declared = -1;
  let rows = 0;
  let stoppedEarly = false;
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`${what}: ${path} line ${lineNo}: ${msg}`);
  };
  for await (const l of sourceLines(src, maxLineBytes(opts), what)) {
    let rawLine = l.text;
    lineNo++;
    if (lineNo === 1) {
      const h = l.head!;
      if (h.length === 2 && ((h[0] === 0xff && h[1] === 0xfe) || (h[0] === 0xfe && h[1] === 0xff))) {
        fail('starts with a UTF-16 byte-order mark; text vectors must be UTF-8');
      }
      if (rawLine.includes('\u0000')) fail('contains NUL bytes: binary data, not a text vector file');
      if (rawLine.startsWith('\uFEFF')) {
        rawLine = rawLine.slice(1); // a UTF-8 byte-order mark
      }
    }
    const line = rawLine.replace(/[\s]+$/u, '');
    if (lineNo === 1 && !header && HEADER_LINE.test(line)) {
      fail(
        `'${line.trim()}' is a '<count> <dimension>' header: this is a word2vec text or fastText .vec file, not GloVe (read it with format 'word2vec-text' or 'fasttext-vec')`,
      );
    }
    if (header && lineNo === 1) {
      const m = HEADER_LINE.exec(line);
      if (!m) fail(`expected a header '<count> <dimension>', got '${line.slice(0, 60)}'`);
      declared = Number(m[1]);
      dimension = Number(m[2]);
      checkDimension(dimension, opts, what, path, ' line 1');
      if (src.size !== undefined) {
        const left = src.size - l.bytes - 1; // l.bytes counts a byte-order mark
        if (!Number.isSafeInteger(declared) || declared * (2 * dimension + 2) - 1 > left) {
          fail(
            `the header declares ${m[1]} words of dimension ${dimension}, which need at least ${declared * (2 * dimension + 2) - 1} bytes, but the file has ${left} after the header (truncated, or not this format?)`,
          );
        }
      } else if (!Number.isSafeInteger(declared)) {
        fail(`the header declares ${m[1]} words, more than can be counted`);
      }
      continue;
    }
    if (line.length === 0) continue;
    rows++;
    // Skip unwanted lines on their first token, before splitting the whole line (GloVe: not
    // the first line, which gives the dimension).
    const sep = line.search(FIELD_SEP);
    const first = sep < 0 ? line : line.slice(0, sep);
    if (wanted && !wantedHasSpace && dimension >= 0 && !wanted.has(first)) continue;
    const fields = line.split(FIELD_SEP);
    if (dimension < 0) {
      if (fields.length < 2) fail(`expected a word and its values, found '${line.slice(0, 60)}'`);
      checkDimension(fields.length - 1, opts, what, path, ` line ${lineNo}`);
      dimension = fields.length - 1;
    }
    const n = fields.length - 1;
    let word = first;
    let values: string[];
    if (n === dimension) {
      values = fields.slice(1);
    } else if (n > dimension && !isNumber(fields[fields.length - dimension - 1])) {
      // a word that contains spaces (some GloVe tokens): the last `dimension` fields are values
      word = fields.slice(0, fields.length - dimension).join(' ');
      values = fields.slice(fields.length - dimension);
    } else {
      fail(`word '${first}' has ${n} value${n === 1 ? '' : 's'}, expected ${dimension}`);
    }
    if (wanted && !wanted.has(word)) continue;
    const v = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) {
      const s = values[j];
      const x = Number(s);
      if (s === '' || !Number.isFinite(x)) fail(`word '${word}' value ${j + 1} is '${s}', not a finite number`);
      v[j] = x;
    }
    if (!vectors.has(word)) vectors.set(word, v);
    if (wanted && vectors.size === wanted.size) {
      stoppedEarly = true;
      break;
    }
  }
  if (header && lineNo === 0) throw new Error(`${what}: ${path} is empty (expected a header line)`);
  if (dimension <= 0) throw new Error(`${what}: ${path} contains no vectors`);
  if (header && !stoppedEarly && rows !== declared) {
    throw new Error(
      `${what}: ${path} declares ${declared} words in its header but has ${rows} (truncated or not this format?)`,
    );
  }
  const missing = wanted ? [...wanted].filter((w) => !vectors.has(w)) : [];
  return { path, format, dimension, vectors, missing, vocabularySize: header ? declared : rows };
}

function isNumber(s: string): boolean {
  return s !== '' && Number.isFinite(Number(s));
}

/**
 * Parses a word2vec text file: a header line `<count> <dimension>`, then `word v1 … vD` per line.
 * `source` names the input in errors (default `'<input>'`). Files: `readWord2vecText` from
 * `@sign/embeddings/node`.
 *
 * @example
 * const { vectors, dimension } = await parseWord2vecText('2 3\ncat 1 0 0\ndog 0 1 0\n', { words: ['cat'] });
 */
export async function parseWord2vecText(input: WordVectorInput, opts: ParseWordVectorsOptions = {}): Promise<WordVectors> {
  return parseTextVectors(toByteSource(input, opts.source ?? '<input>'), 'word2vec-text', opts, 'parseWord2vecText');
}

/**
 * Parses a GloVe text file: `word v1 … vD` per line, no header; D is taken from the first line.
 * A first line `<count> <dimension>` (a word2vec text or fastText `.vec` file) is refused.
 *
 * @example
 * const res = await fetch('glove.6B.300d.txt');
 * const { vectors } = await parseGloveText(res.body!, { words: ['cat'], source: 'glove.6B.300d.txt' });
 */
export async function parseGloveText(input: WordVectorInput, opts: ParseWordVectorsOptions = {}): Promise<WordVectors> {
  return parseTextVectors(toByteSource(input, opts.source ?? '<input>'), 'glove', opts, 'parseGloveText');
}

/**
 * Parses a fastText `.vec` file: a header line `<count> <dimension>`, then `word v1 … vD` per
 * line (the same layout as word2vec text). Out-of-vocabulary words need the `.bin` model
 * (`readFastTextBin` in `@sign/embeddings/node`).
 *
 * @example
 * const { vectors } = await parseFastTextVec(fileInput.files[0], { words: ['cat'] }); // a browser File
 */
export async function parseFastTextVec(input: WordVectorInput, opts: ParseWordVectorsOptions = {}): Promise<WordVectors> {
  return parseTextVectors(toByteSource(input, opts.source ?? '<input>'), 'fasttext-vec', opts, 'parseFastTextVec');
}
