import { join } from 'node:path';
import { describe } from 'vitest';
import { fuzzReader } from '../../../tooling/fuzz/harness';
import {
  endlessLine,
  fastTextFiles,
  gloveFiles,
  headerTextFiles,
  lyingFastText,
  lyingHeaderText,
  lyingTables,
  lyingWord2vecBinary,
  lyingWord2vecBinaryLarge,
  tableFiles,
  wideGlove,
  word2vecBinaryFiles,
} from './fuzz/corpus';

const TARGETS = join(__dirname, 'fuzz', 'targets.ts');
const target = (name: string) => ({ module: TARGETS, name });

describe('fuzz: word-vector readers and loadEmbeddingTable', () => {
  fuzzReader('word2vec-bin', word2vecBinaryFiles(), target('word2vecBin'), {
    cases: 500,
    variants: 3,
    extension: '.bin',
    hostile: {
      'lying header': lyingWord2vecBinary(),
      'lying header, large file': lyingWord2vecBinaryLarge(),
      'endless line': endlessLine(),
    },
  });
  fuzzReader('word2vec-text', headerTextFiles(), target('word2vecText'), {
    cases: 300,
    variants: 3,
    extension: '.txt',
    hostile: { 'lying header': lyingHeaderText(), 'endless line': endlessLine() },
  });
  fuzzReader('glove', gloveFiles(), target('glove'), {
    cases: 300,
    variants: 3,
    extension: '.txt',
    hostile: { 'endless line': endlessLine(), 'too wide': wideGlove() },
  });
  fuzzReader('fasttext-vec', headerTextFiles(), target('fastTextVec'), {
    cases: 150,
    variants: 3,
    extension: '.vec',
    hostile: { 'lying header': lyingHeaderText() },
  });
  fuzzReader('fasttext-bin', fastTextFiles(), target('fastTextBin'), {
    cases: 150,
    variants: 5,
    extension: '.bin',
    hostile: { 'lying model': lyingFastText() },
  });
  fuzzReader('embedding-table', tableFiles(), target('embeddingTable'), {
    cases: 200,
    extension: '.json',
    hostile: { 'lying table': lyingTables() },
  });
});
