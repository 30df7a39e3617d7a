import { type WordVectorInput } from './source';
import { parseFastTextVec, parseGloveText, parseWord2vecText } from './text';
import { type ParseWordVectorsOptions, type WordVectorFormat, type WordVectors, WORD_VECTOR_FORMATS } from './types';
import { parseWord2vecBinary } from './word2vec-binary';

/** Whether a format can give vectors for words it never saw (fastText models, through subwords). */
export function hasSubwords(format: WordVectorFormat): boolean {
  return format === 'fasttext-bin';
}

/** A parser of one word-vector format, from data. */
export type WordVectorParser = (input: WordVectorInput, opts?: ParseWordVectorsOptions) => Promise<WordVectors>;

function fastTextBinNeedsNode(): never {
  throw new Error(
    "word-vector format 'fasttext-bin' is read by the native fastText executable: use readFastTextBin from '@sign/embeddings/node' (Node only), or the model's .vec file (format 'fasttext-vec')",
  );
}

const PARSERS: Readonly<Record<WordVectorFormat, WordVectorParser>> = Object.freeze({
  'word2vec-bin': parseWord2vecBinary,
  'word2vec-text': parseWord2vecText,
  glove: parseGloveText,
  'fasttext-vec': parseFastTextVec,
  'fasttext-bin': async () => fastTextBinNeedsNode(),
});

/**
 * Parses word vectors of the given format from data: bytes, a Blob or `File`, a stream (a
 * `fetch` body), or the file's text. An unknown format is an error that lists the known ones;
 * `fasttext-bin` needs the native executable (`@sign/embeddings/node`).
 *
 * @example
 * const { vectors, missing } = await parseWordVectors('cat 1 0\ndog 0 1\n', 'glove', { words: ['cat', 'okapi'] });
 * // vectors: cat → [1, 0]; missing: ['okapi']
 */
export function parseWordVectors(input: WordVectorInput, format: WordVectorFormat, opts?: ParseWordVectorsOptions): Promise<WordVectors> {
  if (!Object.prototype.hasOwnProperty.call(PARSERS, format)) {
    return Promise.reject(
      new Error(`unknown word-vector format '${format}'; known: ${WORD_VECTOR_FORMATS.map((f) => `'${f}'`).join(', ')}`),
    );
  }
  return PARSERS[format](input, opts);
}
