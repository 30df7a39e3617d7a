/** The word-vector file formats this package reads. */
export type WordVectorFormat = 'word2vec-bin' | 'word2vec-text' | 'glove' | 'fasttext-vec' | 'fasttext-bin';

/** Every {@link WordVectorFormat}, in a fixed order. */
export const WORD_VECTOR_FORMATS: readonly WordVectorFormat[] = Object.freeze([
  'word2vec-bin',
  'word2vec-text',
  'glove',
  'fasttext-vec',
  'fasttext-bin',
]);

/** Options every reader accepts. */
export interface ReadWordVectorsOptions {
  /**
   * Only these words are kept (exact, case-sensitive match), so that a large file is streamed
   * without holding it in memory; reading stops early once every word has been found. Without
   * it, every word of the file is returned.
   */
  words?: Iterable<string>;
}

/** What a reader returns. */
export interface WordVectors {
  /** The file read. */
  path: string;
  format: WordVectorFormat;
  /** Length of every vector. */
  dimension: number;
  /** The vectors found (only the requested ones when `words` was given). */
  vectors: Map<string, Float32Array>;
  /** Requested words that the file does not have (empty without `words`). */
  missing: string[];
  /** Number of words the file declares (header) or that were scanned (no header, or stopped early). */
  vocabularySize: number;
}

export function wordSet(words: Iterable<string> | undefined): Set<string> | undefined {
  if (words === undefined) return undefined;
  if (typeof words === 'string') {
    throw new Error("the 'words' option must be a collection of words, not a single string");
  }
  return words instanceof Set ? words : new Set(words);
}
