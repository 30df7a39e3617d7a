import { join } from 'node:path';
import { describe } from 'vitest';
import { fuzzReader } from '../../../tooling/fuzz/harness';
import { lyingHeaderLength, lyingSafetensors, safetensorsFiles, trailingSafetensors } from './fuzz/corpus';

describe('fuzz: safetensors checkpoints', () => {
  fuzzReader('safetensors', safetensorsFiles(), { module: join(__dirname, 'fuzz', 'targets.ts'), name: 'checkpoint' }, {
    cases: 500,
    variants: 3,
    extension: '.safetensors',
    hostile: { 'lying header': lyingSafetensors(), 'trailing data': trailingSafetensors(), 'lying header length': lyingHeaderLength() },
  });
});
