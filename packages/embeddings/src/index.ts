export {
  EmbeddingTable,
  l2Normalize,
  l2Norm,
  cosineSimilarity,
  EMBEDDING_TABLE_FORMAT,
  EMBEDDING_TABLE_VERSION,
} from './table';
export type { EmbeddingTableInit, EmbeddingTableJSON, ValidateOptions } from './table';
export { combineSources } from './combine';
