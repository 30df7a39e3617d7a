import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The README's first example (a complete custom generator), run as it stands. It is written next
// to this file (in an ignored .tmp/ folder) so that its imports resolve as they do in the package.
const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const dir = resolve(__dirname, `.tmp/readme-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README example', () => {
  it('defines, registers, creates and runs a custom generator, printing what its comments say', async () => {
    expect(example).toContain("from '@sign/generator'");
    expect(example).toContain("registry.register('linear'");
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
    // parameter counts by hand: linear (6+4)·4+4 = 44; sign [16,16]: 10·16+16 + 16·16+16 + 16·4+4 = 516;
    // gmmn: (6+6)·256+256 + 256·4+4 = 4356
    const expected = ['sign cagnet gmmn linear', 'linear 10x4 44', 'sign 10x4 516', 'gmmn 10x4 4356', '10x1 10x5'];
    expect(lines).toEqual(expected);
    for (const l of expected) expect(example).toContain(`// ${l}`);
  });
});
