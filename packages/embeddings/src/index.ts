// The main entry: pure, browser-safe (no Node built-ins). Files, fastText .bin models and
// fasttext.js: '@sign/embeddings/node'.
export {
  EmbeddingTable,
  l2Normalize,
  l2Norm,
  cosineSimilarity,
  EMBEDDING_TABLE_FORMAT,
  EMBEDDING_TABLE_VERSION,
  MAX_EMBEDDING_TABLE_BYTES,
} from './table';
export type { EmbeddingTableInit, EmbeddingTableJSON, ValidateOptions } from './table';
export { combineSources } from './combine';
export { controlEmbeddings } from './control';
export { normalizeClassName, DEFAULT_CLASS_ALIASES } from './names';
export type { NormalizeClassNameOptions } from './names';
export { WORD_VECTOR_FORMATS, MAX_WORD_VECTOR_DIMENSION } from './readers/types';
export type { WordVectorFormat, WordVectors, ReadWordVectorsOptions, ParseWordVectorsOptions } from './readers/types';
export { toByteSource, bytesSource, blobSource, streamSource } from './readers/source';
export type { ByteSource, WordVectorInput } from './readers/source';
export { parseWord2vecText, parseGloveText, parseFastTextVec } from './readers/text';
export { parseWord2vecBinary, encodeWord2vecBinary } from './readers/word2vec-binary';
export { parseWordVectors, hasSubwords } from './readers/index';
export type { WordVectorParser } from './readers/index';
export { detectWordVectorFormat } from './readers/detect';
export { buildClassEmbeddings, buildSourceTable } from './build';
export type { WordVectorData, BuildClassEmbeddingsOptions } from './build';
