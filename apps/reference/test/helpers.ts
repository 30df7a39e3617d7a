import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A text sink that records what is written. */
export function sink(isTTY = false) {
  const chunks: string[] = [];
  return {
    isTTY,
    columns: 120,
    write(s: string) {
      chunks.push(s);
      return true;
    },
    get text() {
      return chunks.join('');
    },
  };
}

export function tempDir(prefix = 'sign-ref-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
