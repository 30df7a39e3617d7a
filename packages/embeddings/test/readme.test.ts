import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readmeExample } from '../../../tooling/vitest/readme';

const example = path.join(__dirname, 'readme-example.ts');

describe('README example', () => {
  it('is the first code block of the README, character for character', () => {
    expect(readmeExample(path.join(__dirname, '..'))).toBe(readFileSync(example, 'utf8'));
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
