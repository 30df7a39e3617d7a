/**
 * The harness must tell every outcome apart, or a fuzz run that passes means nothing: a target
 * for each (tooling/fuzz/test/broken-targets.ts) runs in the child process.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FuzzChild, applyMutation, caseArbitrary, classify, readInChild } from '../harness';

const TARGETS = join(__dirname, 'broken-targets.ts');
const t = (name: string) => ({ module: TARGETS, name });
const bytes = new Uint8Array([1, 2, 3]);

describe('fuzz harness outcomes', () => {
  it('valid, clear error, raw errors (built-in type, no path, system error) and leaks', async () => {
    expect((await readInChild(t('valid'), bytes)).outcome).toBe('valid');
    expect((await readInChild(t('clearError'), bytes)).outcome).toBe('error');
    expect((await readInChild(t('typeError'), bytes)).outcome).toBe('raw'); // names the path, but a TypeError
    expect((await readInChild(t('noPath'), bytes)).outcome).toBe('raw');
    expect((await readInChild(t('systemError'), bytes)).outcome).toBe('raw');
    const leak = await readInChild(t('leak'), bytes);
    expect(leak.outcome).toBe('leak');
    expect(leak.leaked).toBe(1);
  });

  it('an abort is counted and the child restarted', async () => {
    const r = await readInChild(t('abort'), bytes);
    expect(r.outcome).toBe('abort');
    expect(r.message).toMatch(/the process died \(SIGABRT\)/);
    expect((await readInChild(t('valid'), bytes)).outcome).toBe('valid');
  });

  it('a hang is counted, and what the case started is killed with the child', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sign-fuzz-selftest-'));
    try {
      const path = join(dir, 'f');
      writeFileSync(path, bytes);
      const child = new FuzzChild(TARGETS);
      const r = await child.run('hangWithChild', path, 0, 3_000);
      expect(r.outcome).toBe('hang');
      const pid = Number(readFileSync(`${path}.pid`, 'utf8'));
      await new Promise((res) => setTimeout(res, 300));
      expect(existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] : 'gone').toMatch(/gone|Z/);
      expect((await child.run('valid', path, 0, 3_000)).outcome).toBe('valid');
      child.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('classify: an error message must contain the exact path', () => {
    const reply = { id: 1, ok: false, name: 'Error', message: 'reader: /a/b.bin: bad' };
    expect(classify(reply, '/a/b.bin')).toBe('error');
    expect(classify(reply, '/a/c.bin')).toBe('raw');
    expect(classify({ ...reply, code: 'ERR_OUT_OF_RANGE' }, '/a/b.bin')).toBe('raw');
    expect(classify({ id: 1, ok: true, leaked: 0 }, '/a/b.bin')).toBe('valid');
  });
});

describe('mutations', () => {
  it('are seeded: the same seed draws the same cases', () => {
    const arb = caseArbitrary(fc.uint8Array({ minLength: 4, maxLength: 16 }), { variants: 3 });
    const a = fc.sample(arb, { seed: 7, numRuns: 50 });
    const b = fc.sample(arb, { seed: 7, numRuns: 50 });
    expect(a.map((c) => [c.how, Array.from(c.bytes), c.variant])).toEqual(b.map((c) => [c.how, Array.from(c.bytes), c.variant]));
    expect(new Set(a.map((c) => c.variant))).toEqual(new Set([0, 1, 2]));
  });

  it('apply as described', () => {
    const b = new Uint8Array([0x31, 0x32, 0x20, 0x33, 0x0a]); // "12 3\n"
    expect(Array.from(applyMutation(b, { op: 'truncate', at: 2 }))).toEqual([0x31, 0x32]);
    expect(Buffer.from(applyMutation(b, { op: 'number', which: 1, text: '1e999' })).toString()).toBe('12 1e999\n');
    expect(Array.from(applyMutation(b, { op: 'int', at: 0, nearStart: true, width: 4, value: 2n ** 31n, bigEndian: true }))).toEqual([
      0x80, 0, 0, 0, 0x0a,
    ]);
    expect(Array.from(applyMutation(b, { op: 'bom', utf16: false }).subarray(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
    const f = applyMutation(new Uint8Array(8), { op: 'float', at: 1, width: 4, value: NaN });
    expect(Number.isNaN(new DataView(f.buffer).getFloat32(4, true))).toBe(true);
  });
});

