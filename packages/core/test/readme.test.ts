import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

/**
 * Runs the README's opening example exactly as written: the first ```ts block is copied into a
 * module under packages/core/.tmp/ (git-ignored) and imported, and what it prints is checked.
 */
describe('README example', () => {
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  const dir = resolve(__dirname, '../.tmp');
  const file = join(dir, `readme-example-${process.pid}.ts`);
  afterAll(() => rmSync(file, { force: true }));

  it('runs, trains (loss falls) and round-trips the checkpoint', async () => {
    expect(match, 'README.md must open with a ```ts example').not.toBeNull();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, match![1]);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
    }
    expect(lines[0]).toMatch(/^backend: (wasm|tensorflow|cpu)/);
    expect(lines).toContain(
      'parameters: features.kernel, features.bias, classifier.kernel, classifier.bias (107 numbers)',
    );
    const losses = lines.filter((l) => l.startsWith('step ')).map((l) => Number(l.split(' loss ')[1]));
    expect(losses.length).toBe(5);
    expect(losses[4]).toBeLessThan(0.7 * losses[0]);
    expect(lines).toContain('checkpoint step 50, seed 42; reloaded model differs by 0');
  });
});
