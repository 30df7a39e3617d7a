import { join } from 'node:path';
import { describe } from 'vitest';
import { fuzzReader } from '../../../tooling/fuzz/harness';
import { jpegFiles, lyingJpegs, lyingPngs, pngFiles } from './fuzz/corpus';

const target = { module: join(__dirname, 'fuzz', 'targets.ts'), name: 'image' };

describe('fuzz: images through the folder dataset io (headers checked before decoding)', () => {
  fuzzReader('png', pngFiles(), target, { cases: 300, variants: 4, extension: '.png', hostile: { 'lying IHDR': lyingPngs() } });
  fuzzReader('jpeg', jpegFiles(), target, { cases: 300, variants: 4, extension: '.jpg', hostile: { 'lying SOF': lyingJpegs() } });
});
