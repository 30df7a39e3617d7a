import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type ReadWordVectorsOptions, type WordVectorFormat, type WordVectors, wordSet } from './types';

const FIELD_SEP = /[ \t]+/;

async function checkReadable(path: string, what: string): Promise<void> {
  try {
    await access(path);
  } catch (err) {
    throw new Error(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Reads a text word-vector file, one word per line followed by its values, separated by spaces
 * (or tabs). With `header`, the first line is `<count> <dimension>` (word2vec text, fastText
 * .vec); without, the dimension is taken from the first line (GloVe). A word may itself
 * contain spaces (some GloVe tokens do): the last `dimension` fields are the values, the rest
 * is the word. Only the lines that are kept are parsed; a bad one is an error naming the file
 * and the line number.
 */
async function readTextVectors(
  path: string,
  format: WordVectorFormat,
  header: boolean,
  opts: ReadWordVectorsOptions,
): Promise<WordVectors> {
  const what = readerName(format);
  await checkReadable(path, what);
  const wanted = wordSet(opts.words);
  const wantedHasSpace = wanted ? [...wanted].some((w) => /[ \t]/.test(w)) : false;
  const vectors = new Map<string, Float32Array>();
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let dimension = -1;
  let declared = -1;
  let rows = 0;
  let stoppedEarly = false;
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`${what}: ${path} line ${lineNo}: ${msg}`);
  };
  try {
    for await (const rawLine of lines) {
      lineNo++;
      const line = rawLine.replace(/[\s]+$/u, '');
      if (header && lineNo === 1) {
        const m = /^\s*(\d+)[ \t]+(\d+)$/.exec(line);
        if (!m) fail(`expected a header '<count> <dimension>', got '${line.slice(0, 60)}'`);
        declared = Number(m[1]);
        dimension = Number(m[2]);
        if (dimension <= 0) fail(`dimension in the header must be positive, got ${dimension}`);
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
  } finally {
    lines.close();
    stream.destroy();
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
