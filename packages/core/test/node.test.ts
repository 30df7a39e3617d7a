import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '@sign/core/node';

const dir = mkdtempSync(join(tmpdir(), 'sign-core-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes text and bytes, creating the folder, and leaves no temporary file', () => {
    const text = join(dir, 'a', 'b', 'note.txt');
    writeFileAtomic(text, 'héllo\n');
    expect(readFileSync(text, 'utf8')).toBe('héllo\n');
    // a view into a larger buffer: only its own bytes are written
    const big = new Uint8Array([9, 1, 2, 3, 9]);
    const bin = join(dir, 'a', 'b', 'bytes.bin');
    writeFileAtomic(bin, big.subarray(1, 4));
    expect([...readFileSync(bin)]).toEqual([1, 2, 3]);
    writeFileAtomic(bin, new Uint8Array(0));
    expect(readFileSync(bin).length).toBe(0);
    expect(readdirSync(join(dir, 'a', 'b')).sort()).toEqual(['bytes.bin', 'note.txt']);
  });

  it('a failed write names the path, keeps the old content and removes the temporary file', () => {
    const sub = join(dir, 'fail');
    mkdirSync(sub);
    const target = join(sub, 'taken');
    mkdirSync(target); // a folder where the file should go: the rename fails
    expect(() => writeFileAtomic(target, 'x')).toThrow(`could not write ${target}`);
    expect(readdirSync(sub)).toEqual(['taken']);
    expect(readdirSync(target)).toEqual([]);
  });
});
