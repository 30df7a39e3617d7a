/** Regression tests for the idx findings of issue 10 (the gzip bomb), run in a child process. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readInChild } from '../../../tooling/fuzz/harness';
import { MAX_IDX_BYTES } from '../src/index';
import { readIdxFile } from '../src/node';
import { idxBytes } from './fuzz/corpus';

const TARGETS = join(__dirname, 'fuzz', 'targets.ts');
const dir = mkdtempSync(join(tmpdir(), 'sign-data-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gzip idx: the header bounds the inflation', () => {
  it('a 2 MB gzip bomb that inflates to 2.1 GB stops at the size its header declares, in bounded memory', async () => {
    // header [10, 28, 28] (7,840 bytes of data), then 33 gzip members of 64 MiB of zeros each
    const zeros = gzipSync(new Uint8Array(64 * 1024 * 1024), { level: 9 });
    const first = gzipSync(Buffer.concat([idxBytes([10, 28, 28], new Uint8Array(0)), new Uint8Array(64 * 1024 * 1024)]), { level: 9 });
    const bomb = new Uint8Array(Buffer.concat([first, ...Array.from({ length: 32 }, () => zeros)]));
    expect(bomb.length).toBeLessThan(2.5e6);
    const r = await readInChild({ module: TARGETS, name: 'idxPeakMemory' }, bomb, '.gz');
    expect(r.outcome).toBe('valid');
    const { error, maxRssMiB } = JSON.parse(r.message) as { error: string; maxRssMiB: number };
    expect(error).toBe(`${r.path}: the gzip stream inflates to more than the 7856 bytes that its idx header declares (shape [10, 28, 28])`);
    // the whole child (node, tsx, the test code) stays far below the 2.1 GB the stream holds
    expect(maxRssMiB).toBeLessThan(400);
  });

  it('a header that declares more than the file could inflate to is refused before inflating', () => {
    const p = join(dir, 'lying.gz');
    writeFileSync(p, gzipSync(idxBytes([60000, 28, 28], new Uint8Array(100))));
    expect(() => readIdxFile(p)).toThrow(
      /lying\.gz: idx header declares shape \[60000, 28, 28\], 47040016 bytes, more than a \d+-byte gzip file can hold \(truncated or corrupt\)/,
    );
  });

  it('maxBytes caps the file and the declared size (default 1 GiB)', () => {
    expect(MAX_IDX_BYTES).toBe(1024 ** 3);
    const p = join(dir, 'big.idx');
    writeFileSync(p, idxBytes([64, 64], new Uint8Array(4096)));
    expect(readIdxFile(p).dims).toEqual([64, 64]);
    expect(() => readIdxFile(p, { maxBytes: 1000 })).toThrow(`${p}: cannot read idx file: 4108 bytes is more than the maximum 1000 (maxBytes)`);
    const gz = join(dir, 'big.idx.gz');
    writeFileSync(gz, gzipSync(idxBytes([64, 64], new Uint8Array(4096))));
    expect(() => readIdxFile(gz, { maxBytes: 1000 })).toThrow(
      `${gz}: idx header declares shape [64, 64], 4108 bytes, more than the maximum 1000 (maxBytes)`,
    );
  });

  it('a FIFO or a directory is refused, naming it (a FIFO used to block for ever)', async () => {
    for (const kind of ['fifo', 'directory'] as const) {
      const r = await readInChild({ module: TARGETS, name: 'idx' }, kind, '.gz');
      expect(r.outcome, r.message).toBe('error');
      expect(r.message).toContain(`${r.path}: cannot read idx file: is a`);
    }
  });
});
