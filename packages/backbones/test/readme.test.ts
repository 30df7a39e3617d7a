import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

describe('README example', () => {
  it('runs, prints what its comments say and frees its tensors', async () => {
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).toContain("from '@sign/backbones'");
    expect(lines).toEqual(['[8,16,16,32]', '4 32 44576']);
    expect(promised).toEqual(lines);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(0);
  });
});
