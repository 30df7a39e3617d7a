import { readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { openRegularFile, regularFileSize, writeFileAtomic } from '@sign/core/node';
import { MAX_EMBEDDING_TABLE_BYTES, EmbeddingTable } from '../table';
import { type ByteSource } from '../readers/source';
import { parseTextVectors } from '../readers/text';
import { type ReadWordVectorsOptions, type WordVectorFormat, type WordVectors, WORD_VECTOR_FORMATS } from '../readers/types';
import { encodeWord2vecBinary, word2vecBinary } from '../readers/word2vec-binary';
import { readFastTextBin } from './fasttext';

/**
 * A {@link ByteSource} over the regular file at `path` (a directory, a FIFO, a device or a socket
 * is refused before it is opened, with an error `<what>: cannot read <path>: <reason>`). The
 * readers close it when they are done.
 *
 * @example
 * const src = await fileSource('vectors.bin', 'my reader');
 * try { console.log(src.size, (await src.read(0, 16)).byteLength); } finally { await src.close(); }
 */
export async function fileSource(path: string, what: string): Promise<ByteSource> {
  let handle: FileHandle;
  let size: number;
  try {
    ({ handle, size } = await openRegularFile(path));
  } catch (err) {
    throw new Error(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
  let closed = false;
  return {
    name: path,
    size,
    async read(position, length) {
      const want = Math.max(0, Math.min(length, size - position));
      const buf = new Uint8Array(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buf, got, want - got, position + got);
        if (bytesRead === 0) break; // the file shrank while being read: report what is there
        got += bytesRead;
      }
      return got === want ? buf : buf.subarray(0, got);
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

/**
 * Reads a word2vec text file: a header line `<count> <dimension>`, then `word v1 … vD` per line.
 * Streamed; see `parseWord2vecText` (main entry) for data in memory.
 *
 * @example
 * const { vectors, dimension } = await readWord2vecText('vectors.txt', { words: ['cat', 'dog'] });
 */
export async function readWord2vecText(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readWord2vecText';
  return parseTextVectors(await fileSource(path, what), 'word2vec-text', opts, what);
}

/**
 * Reads a GloVe text file: `word v1 … vD` per line, no header; D is taken from the first line.
 * A first line `<count> <dimension>` (a word2vec text or `.vec` file) is refused.
 *
 * @example
 * const { vectors } = await readGloveText('glove.6B.300d.txt', { words: new Set(['cat']) });
 */
export async function readGloveText(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readGloveText';
  return parseTextVectors(await fileSource(path, what), 'glove', opts, what);
}

/**
 * Reads a fastText `.vec` file: a header line `<count> <dimension>`, then `word v1 … vD` per
 * line (the layout of word2vec text). Out-of-vocabulary words need the `.bin` model
 * ({@link readFastTextBin}).
 *
 * @example
 * const { vectors } = await readFastTextVec('cc.en.300.vec', { words: ['cat'] });
 */
export async function readFastTextVec(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readFastTextVec';
  return parseTextVectors(await fileSource(path, what), 'fasttext-vec', opts, what);
}

/**
 * Reads a word2vec binary file (e.g. GoogleNews-vectors-negative300.bin), streamed, with the
 * checks of `parseWord2vecBinary` (main entry); the header's word count is checked against the
 * file size before any row is read.
 *
 * @example
 * const { vectors } = await readWord2vecBinary('GoogleNews-vectors-negative300.bin', { words: ['cow'] });
 */
export async function readWord2vecBinary(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readWord2vecBinary';
  return word2vecBinary(await fileSource(path, what), opts, what);
}

/**
 * Writes vectors in word2vec binary format (`encodeWord2vecBinary`), atomically (temporary file
 * + rename), e.g. to cut a large file down to the words a project needs.
 *
 * @example
 * writeWord2vecBinary('small.bin', new Map([['cat', [1, 0]], ['dog', [0, 1]]]));
 */
export function writeWord2vecBinary(path: string, vectors: Map<string, Float32Array | readonly number[]>): void {
  writeFileAtomic(path, encodeWord2vecBinary(vectors));
}

/** A reader of one word-vector format, from a file path. */
export type WordVectorReader = (path: string, opts?: ReadWordVectorsOptions) => Promise<WordVectors>;

const READERS: Readonly<Record<WordVectorFormat, WordVectorReader>> = Object.freeze({
  'word2vec-bin': readWord2vecBinary,
  'word2vec-text': readWord2vecText,
  glove: readGloveText,
  'fasttext-vec': readFastTextVec,
  'fasttext-bin': readFastTextBin,
});

/**
 * The file reader for a format; an unknown format is an error that lists the known ones.
 *
 * @example
 * const read = wordVectorReader('glove');
 * const { vectors } = await read('glove.6B.100d.txt', { words: ['cat'] });
 */
export function wordVectorReader(format: string): WordVectorReader {
  if (!Object.prototype.hasOwnProperty.call(READERS, format)) {
    throw new Error(`unknown word-vector format '${format}'; known: ${WORD_VECTOR_FORMATS.map((f) => `'${f}'`).join(', ')}`);
  }
  return READERS[format as WordVectorFormat];
}

/**
 * Reads a word-vector file of the given format (see {@link wordVectorReader}).
 *
 * @example
 * const { vectors, missing } = await readWordVectors('glove.txt', 'glove', { words: ['cat', 'okapi'] });
 */
export function readWordVectors(path: string, format: WordVectorFormat, opts?: ReadWordVectorsOptions): Promise<WordVectors> {
  return wordVectorReader(format)(path, opts);
}

/**
 * Writes a table as JSON (`EmbeddingTable.toJSON`), atomically (temporary file + rename).
 *
 * @example
 * saveEmbeddingTable(table, 'runs/a/classes.json');
 */
export function saveEmbeddingTable(table: EmbeddingTable, path: string): void {
  if (!(table instanceof EmbeddingTable)) throw new Error(`saveEmbeddingTable: ${path}: expected an EmbeddingTable`);
  writeFileAtomic(path, JSON.stringify(table.toJSON()) + '\n');
}

/**
 * Reads a table written by {@link saveEmbeddingTable} and validates it (`EmbeddingTable.parse`);
 * errors name the file. Only regular files are read; files larger than
 * {@link MAX_EMBEDDING_TABLE_BYTES} are refused before they are read.
 *
 * @example
 * const table = loadEmbeddingTable('runs/a/classes.json').validate({ dimension: 600 });
 */
export function loadEmbeddingTable(path: string): EmbeddingTable {
  let bytes: Uint8Array;
  try {
    const size = regularFileSize(path);
    if (size > MAX_EMBEDDING_TABLE_BYTES) {
      throw new Error(`${size} bytes is more than the ${MAX_EMBEDDING_TABLE_BYTES} an embedding table may have`);
    }
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`loadEmbeddingTable: cannot read ${path}: ${(err as Error).message}`);
  }
  return EmbeddingTable.parse(bytes, path);
}
