import { readFastTextBin } from './fasttext-bin';
import { readFastTextVec, readGloveText, readWord2vecText } from './text';
import { type ReadWordVectorsOptions, type WordVectorFormat, type WordVectors, WORD_VECTOR_FORMATS } from './types';
import { readWord2vecBinary } from './word2vec-binary';

/** A reader of one word-vector format. */
export type WordVectorReader = (path: string, opts?: ReadWordVectorsOptions) => Promise<WordVectors>;

/** Whether a format can give vectors for words it never saw (fastText models, through subwords). */
export function hasSubwords(format: WordVectorFormat): boolean {
  return format === 'fasttext-bin';
}

const READERS: Readonly<Record<WordVectorFormat, WordVectorReader>> = Object.freeze({
  'word2vec-bin': readWord2vecBinary,
  'word2vec-text': readWord2vecText,
  glove: readGloveText,
  'fasttext-vec': readFastTextVec,
  'fasttext-bin': readFastTextBin,
});

/**
 * The reader for a format; an unknown format is an error that lists the known ones.
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

/** Reads a word-vector file of the given format (see {@link wordVectorReader}). */
export function readWordVectors(path: string, format: WordVectorFormat, opts?: ReadWordVectorsOptions): Promise<WordVectors> {
  return wordVectorReader(format)(path, opts);
}
