import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
// written inside the package (in the git-ignored .tmp/) so that imports resolve exactly as in the package
const dir = resolve(__dirname, '../.tmp');
const file = join(dir, `readme-example-${process.pid}.ts`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(file, { force: true }));

describe('README example', () => {
  it('runs, prints what its comments say and frees its tensors', async () => {
    expect(example).toContain("from '@sign/backbones'");
    writeFileSync(file, example);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['[8,16,16,32]', '4 32 44576']);
    const promised = [...example.matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
    expect(promised).toEqual(lines);
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.memory().numTensors).toBe(0);
  });
});
