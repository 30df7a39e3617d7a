import { join } from 'node:path';
import { describe } from 'vitest';
import { fuzzReader } from '../../../tooling/fuzz/harness';
import { garbagePickles, pthFiles, zipBomb } from './fuzz/corpus';

// The same readers as fuzz.test.ts, through tooling/fuzz: in a child process (aborts and hangs
// are seen), from files on disk (readPth, special paths), with the tensor leak check per case.
describe('fuzz: .pth files in a child process (readPth → namedTensors → toTfTensors)', () => {
  fuzzReader('pth', pthFiles(), { module: join(__dirname, 'fuzz', 'targets.ts'), name: 'pth' }, {
    cases: 150,
    budgetMs: 60_000,
    variants: 2,
    extension: '.pth',
    hostile: { 'garbage pickle': garbagePickles(), 'zip bomb': zipBomb() },
  });
});
