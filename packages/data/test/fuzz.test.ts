import { join } from 'node:path';
import { describe } from 'vitest';
import { fuzzReader } from '../../../tooling/fuzz/harness';
import { gzipBomb, idxFiles, lyingGzip, lyingRaw, oddGzip } from './fuzz/corpus';

describe('fuzz: idx files, raw and gzip', () => {
  fuzzReader('idx', idxFiles(), { module: join(__dirname, 'fuzz', 'targets.ts'), name: 'idx' }, {
    cases: 400,
    variants: 2,
    extension: '.gz',
    hostile: { 'lying gzip header': lyingGzip(), 'gzip bomb': gzipBomb(), 'lying raw header': lyingRaw(), 'odd gzip': oddGzip() },
  });
});
