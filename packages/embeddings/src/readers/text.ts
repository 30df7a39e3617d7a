import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { regularFileSize } from '@sign/core/node';
import {
  type ReadWordVectorsOptions,
  type WordVectorFormat,
  type WordVectors,
  MAX_WORD_VECTOR_DIMENSION,
  checkDimension,
  wordSet,
} from './types';

const FIELD_SEP = /[ \t]+/;

/**
 * The longest line accepted: room for a long token and `maxDimension` values of up to 63
 * characters each. A longer line (a binary or foreign file read as text) is an error, not a
 * string of gigabytes.
 */
function maxLineBytes(opts: ReadWordVectorsOptions): number {
  return 4096 + 64 * (opts.maxDimension ?? MAX_WORD_VECTOR_DIMENSION);
}

/**
 * The lines of a UTF-8 file (without their `\n`), read in chunks; a line longer than `maxBytes`
 * is an error naming the file and the line number. Lines are split on the byte 0x0a, which never
 * occurs inside a multi-byte UTF-8 character.
 */
async function* fileLines(path: string, maxBytes: number, what: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  const tooLong = (): never => {
    throw new Error(
      `${what}: ${path} line ${lineNo + 1} is longer than ${maxBytes} bytes (a binary or foreign file? maxDimension sets the limit)`,
    );
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        if (pendingBytes + nl - start > maxBytes) tooLong();
        const part = chunk.subarray(start, nl);
        const line = pending.length === 0 ? part : Buffer.concat([...pending, part]);
        pending = [];
        pendingBytes = 0;
        lineNo++;
        yield line.toString('utf8');
        start = nl + 1;
      }
      if (start < chunk.length) {
        pendingBytes += chunk.length - start;
        if (pendingBytes > maxBytes) tooLong();
        pending.push(chunk.subarray(start));
      }
    }
    if (pendingBytes > 0) yield Buffer.concat(pending).toString('utf8');
  } finally {
    stream.destroy();
  }
}

/**
 * Reads a text word-vector file, one word per line followed by its values, separated by spaces
 * (or tabs). With `header`, the first line is `<count> <dimension>` (word2vec text, fastText
 * .vec); without, the dimension is taken from the first line (GloVe). A word may itself
 * contain spaces (some GloVe tokens do): the last `dimension` fields are the values, the rest
 * is the word. Only the lines that are kept are parsed; a bad one is an error naming the file
 * and the line number. A UTF-8 byte-order mark is skipped; a UTF-16 one is an error. The
 * dimension is checked against `maxDimension`, and a header's word count against the file size
 * (every line needs at least `2 × dimension + 2` bytes), before the rows are read.
 */
async function readTextVectors(
  path: string,
  format: WordVectorFormat,
  header: boolean,
  opts: ReadWordVectorsOptions,
): Promise<WordVectors> {
  const what = readerName(format);
  let fileSize: number;
  try {
    fileSize = regularFileSize(path);
  } catch (err) {
    throw new Error(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
  const wanted = wordSet(opts.words);
  const wantedHasSpace = wanted ? [...wanted].some((w) => /[ \t]/.test(w)) : false;
  const vectors = new Map<string, Float32Array>();
  let bomBytes = 0;
  let lineNo = 0;
  let dimension = -1;
  let declared = -1;
  let rows = 0;
  let stoppedEarly = false;
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`${what}: ${path} line ${lineNo}: ${msg}`);
  };
  for await (let rawLine of fileLines(path, maxLineBytes(opts), what)) {
    lineNo++;
    if (lineNo === 1) {
      if (/^\uFFFD\uFFFD/.test(rawLine) && utf16Mark(path)) {
        fail('starts with a UTF-16 byte-order mark; text vectors must be UTF-8');
      }
      if (rawLine.includes('\u0000')) fail('contains NUL bytes: binary data, not a text vector file');
      if (rawLine.startsWith('\uFEFF')) {
        rawLine = rawLine.slice(1); // a UTF-8 byte-order mark
        bomBytes = 3;
      }
    }
    const line = rawLine.replace(/[\s]+$/u, '');
    if (header && lineNo === 1) {
      const m = /^\s*(\d+)[ \t]+(\d+)$/.exec(line);
      if (!m) fail(`expected a header '<count> <dimension>', got '${line.slice(0, 60)}'`);
      declared = Number(m[1]);
      dimension = Number(m[2]);
      checkDimension(dimension, opts, what, path, ' line 1');
      const left = fileSize - bomBytes - Buffer.byteLength(rawLine, 'utf8') - 1;
      if (!Number.isSafeInteger(declared) || declared * (2 * dimension + 2) - 1 > left) {
        fail(
          `the header declares ${m[1]} words of dimension ${dimension}, which need at least ${declared * (2 * dimension + 2) - 1} bytes, but the file has ${left} after the header (truncated, or not this format?)`,
        );
      }
      continue;
    }
    if (line.length === 0) continue;
    rows++;
    // Skip unwanted lines on their first token, before splitting the whole line.
    const sep = line.search(FIELD_SEP);
    const first = sep < 0 ? line : line.slice(0, sep);
    if (wanted && !wantedHasSpace && !wanted.has(first)) continue;
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

/** Whether the file starts with a UTF-16 byte-order mark (FF FE or FE FF). */
function utf16Mark(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const n = readSync(fd, b, 0, 2, 0);
    return n === 2 && ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff));
  } finally {
    closeSync(fd);
  }
}

function isNumber(s: string): boolean {
  return s !== '' && Number.isFinite(Number(s));
}

function readerName(format: WordVectorFormat): string {
  switch (format) {
    case 'word2vec-text':
      return 'readWord2vecText';
    case 'glove':
      return 'readGloveText';
    case 'fasttext-vec':
      return 'readFastTextVec';
    default:
      return `read(${format})`;
  }
}

/**
 * Reads a word2vec text file: a header line `<count> <dimension>`, then `word v1 … vD` per line.
 *
 * @example
 * const { vectors, dimension } = await readWord2vecText('vectors.txt', { words: ['cat', 'dog'] });
 */
export function readWord2vecText(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  return readTextVectors(path, 'word2vec-text', true, opts);
}

/**
 * Reads a GloVe text file: `word v1 … vD` per line, no header; D is taken from the first line.
 *
 * @example
 * const { vectors } = await readGloveText('glove.6B.300d.txt', { words: new Set(['cat']) });
 */
export function readGloveText(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  return readTextVectors(path, 'glove', false, opts);
}

/**
 * Reads a fastText `.vec` file: a header line `<count> <dimension>`, then `word v1 … vD` per
 * line (the same layout as word2vec text). Out-of-vocabulary words need the `.bin` model
 * ({@link readFastTextBin}).
 *
 * @example
 * const { vectors } = await readFastTextVec('cc.en.300.vec', { words: ['cat'] });
 */
export function readFastTextVec(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  return readTextVectors(path, 'fasttext-vec', true, opts);
}
