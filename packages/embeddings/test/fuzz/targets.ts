/**
 * What the fuzz child runs for this package: each export reads one file with one reader and
 * returns a small summary (see tooling/fuzz/child.ts). Variants: 0 = the whole file, 1 = a few
 * words only (the early-stopping paths), 2 = a small `maxDimension`.
 */
import {
  EmbeddingTable,
  type ReadWordVectorsOptions,
  type WordVectors,
} from '../../src/index';
import {
  fastTextVocabulary,
  loadEmbeddingTable,
  readFastTextBin,
  readFastTextVec,
  readGloveText,
  readWord2vecBinary,
  readWord2vecText,
  saveEmbeddingTable,
} from '../../src/node';

const WORDS = ['a', 'é', 'cow', '中文', '</s>'];

function options(variant: number): ReadWordVectorsOptions {
  if (variant === 1) return { words: WORDS };
  if (variant === 2) return { maxDimension: 1000 };
  return {};
}

function summary(r: WordVectors): { dimension: number; vectors: number; missing: number } {
  return { dimension: r.dimension, vectors: r.vectors.size, missing: r.missing.length };
}

export const word2vecBin = async (path: string, variant: number) => summary(await readWord2vecBinary(path, options(variant)));
export const word2vecText = async (path: string, variant: number) => summary(await readWord2vecText(path, options(variant)));
export const glove = async (path: string, variant: number) => summary(await readGloveText(path, options(variant)));
export const fastTextVec = async (path: string, variant: number) => summary(await readFastTextVec(path, options(variant)));
/**
 * fastText .bin. Variants 0–2 check the model and read its vocabulary without the native
 * executable (each run of which costs 0.25 s of CPU on an idle machine, mostly its fixed 120 MB
 * word table, and over 1 s under load); 3 and 4 run it (4 with a few words), with a short
 * timeout, so that a model that still hangs it is an error naming the file, not a harness hang.
 */
export const fastTextBin = async (path: string, variant: number) => {
  if (variant < 3) return { words: (await fastTextVocabulary(path)).length };
  return summary(await readFastTextBin(path, { ...options(variant - 3), timeoutMs: 5_000 }));
};
export const embeddingTable = async (path: string) => {
  const t = loadEmbeddingTable(path);
  return { classes: t.size, dimension: t.dimension };
};
