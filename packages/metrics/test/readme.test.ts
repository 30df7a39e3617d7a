import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
// written inside the package (in the git-ignored .tmp/) so that imports resolve exactly as in the package
const dir = resolve(__dirname, '../.tmp');
const file = join(dir, `readme-example-${process.pid}.ts`);
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(file, { force: true }));

describe('README example', () => {
  it('runs and prints what its comments say', async () => {
    expect(example).toContain("from '@sign/metrics'");
    writeFileSync(file, example);
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      spy.mockRestore();
    }
    // the values the README promises, which the hand computation gives:
    // CaGNet/SIGN: IoU1 = 1, IoU2 = 1/2, IoU3 = 1/3 → 75, 33.33, hIoU 46.15
    // ZS3Net: + IoU0 = 1/2 → seen (1/2 + 1 + 1/2)/3 = 66.67, hIoU 44.44
    expect(lines).toEqual(['75.00 33.33 46.15', '66.67 33.33 44.44']);
    const promised = [...example.matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
    expect(promised).toEqual(lines);
  });
});
