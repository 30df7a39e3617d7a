import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The README's example, run as it stands. It is written next to this file (in an ignored .tmp/
// folder) so that its imports resolve as they do in the package.
const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const dir = resolve(__dirname, `.tmp/readme-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README example', () => {
  it('runs and prints what its comments say', async () => {
    expect(example).toContain("from '@sign/sim'");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'example.ts');
    writeFileSync(file, example);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
    }
    const promised = [...example.matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
    expect(promised.length).toBe(3);
    expect(lines).toEqual(promised);
    // sin(511) with f_0 = 1: the last column of a 4-wide map sits at x = 511
    expect(lines[0]).toBe(`3x4x8 ${Math.sin(511).toFixed(4)}`);
  });
});
