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
export type { WordVectorFormat, WordVectors, ReadWordVectorsOptions } from './readers/types';
export { readWord2vecText, readGloveText, readFastTextVec } from './readers/text';
export { readWord2vecBinary, writeWord2vecBinary } from './readers/word2vec-binary';
export {
  readFastTextBin,
  fastTextVocabulary,
  fastTextExecutable,
  loadFastTextJs,
  trainFastTextVectors,
} from './readers/fasttext-bin';
export type { TrainFastTextOptions, FastTextJsConstructor, FastTextJsInstance } from './readers/fasttext-bin';
export { readWordVectors, wordVectorReader, hasSubwords } from './readers/index';
export type { WordVectorReader } from './readers/index';
export { buildClassEmbeddings, buildSourceTable } from './build';
export type { WordVectorSource, BuildClassEmbeddingsOptions } from './build';
