import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('entry points', () => {
  it('the main entry imports no node: module (browser-safe); only src/node.ts does', () => {
    const src = join(__dirname, '..', 'src');
    const withNode = readdirSync(src).filter((f) => /from ['"](node:)?(fs|path|os|url)(\/promises)?['"]/.test(readFileSync(join(src, f), 'utf8')));
    expect(withNode).toEqual(['node.ts']);
  });
});
