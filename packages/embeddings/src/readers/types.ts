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

/**
 * The largest word-vector dimension a reader accepts unless told otherwise (`maxDimension`):
 * published vectors have 25 to 1,000 values (GoogleNews 300, GloVe 50–300, fastText 300), and a
 * header that declares more is almost always a corrupt or foreign file, which would otherwise make
 * the reader allocate gigabytes before it notices.
 */
export const MAX_WORD_VECTOR_DIMENSION = 100_000;

/** Options every reader accepts. */
export interface ReadWordVectorsOptions {
  /**
   * Only these words are kept (exact, case-sensitive match), so that a large file is streamed
   * without holding it in memory; reading stops early once every word has been found. Without
   * it, every word of the file is returned.
   */
  words?: Iterable<string>;
  /**
   * The largest dimension accepted (default {@link MAX_WORD_VECTOR_DIMENSION}); a file that
   * declares more is refused with an error naming the file, before anything is allocated.
   */
  maxDimension?: number;
  /**
   * fastText `.bin` only (`readFastTextBin`, Node): the native executable is killed after this
   * many milliseconds (default 60 s + 60 s per GiB of model).
   */
  timeoutMs?: number;
  /**
   * fastText `.bin` only (`readFastTextBin`, Node): the native executable's address-space limit
   * in bytes, set with `ulimit -v` on POSIX (default twice the model file + 1 GiB).
   */
  maxMemoryBytes?: number;
}

/** Options of the `parse*` readers (data in memory, Blobs, streams). */
export interface ParseWordVectorsOptions extends ReadWordVectorsOptions {
  /** The name errors give the input (a file name, a URL); default `'<input>'`. */
  source?: string;
}

/** What a reader returns. */
export interface WordVectors {
  /** The file read (its path, or the `source` name given to a `parse*` reader). */
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

/**
 * Checks a dimension read from `path` against the cap; throws naming the file (and `where`, e.g.
 * 'line 1') otherwise.
 */
export function checkDimension(dimension: number, opts: ReadWordVectorsOptions, what: string, path: string, where: string): void {
  const max = opts.maxDimension ?? MAX_WORD_VECTOR_DIMENSION;
  if (!Number.isInteger(dimension) || dimension <= 0) {
    throw new Error(`${what}: ${path}${where}: dimension must be a positive integer, got ${dimension}`);
  }
  if (dimension > max) {
    throw new Error(
      `${what}: ${path}${where}: dimension ${dimension} is larger than the maximum ${max} (a corrupt or foreign file? pass maxDimension to allow more)`,
    );
  }
}
