import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const example = path.join(__dirname, 'readme-example.ts');
const readme = path.join(__dirname, '..', 'README.md');

describe('README example', () => {
  it('is the first code block of the README, character for character', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'));
    expect(block, 'README.md has no ```ts block').not.toBeNull();
    expect(block![1]).toBe(readFileSync(example, 'utf8'));
  });

  it('runs and prints what its comments say', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('./readme-example');
      expect(log.mock.calls).toEqual([[5], [true], [[4, 5]]]);
    } finally {
      log.mockRestore();
    }
  });
});
