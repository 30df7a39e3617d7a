import { join } from 'node:path';
import { describe } from 'vitest';
import { fuzzReader } from '../../../tooling/fuzz/harness';
import { configFiles, deepAndLongConfigs, forbiddenKeyConfigs, hostileBases, hugeValueConfigs } from './fuzz/corpus';

describe('fuzz: config files (JSON, _base_ chains)', () => {
  fuzzReader('config', configFiles(), { module: join(__dirname, 'fuzz', 'targets.ts'), name: 'config' }, {
    cases: 400,
    variants: 2,
    extension: '.json',
    hostile: {
      'forbidden key': forbiddenKeyConfigs(),
      'huge value': hugeValueConfigs(),
      'deep or long': deepAndLongConfigs(),
      'hostile _base_': hostileBases(),
    },
  });
});
