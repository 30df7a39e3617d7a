import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry, closestName, editDistance } from '@sign/core';

describe('Registry', () => {
  it('register / get / has / names / unregister, in registration order', () => {
    const r = new Registry<number>('widget');
    r.register('b', 2).register('a', 1);
    expect(r.names()).toEqual(['b', 'a']);
    expect(r.get('a')).toBe(1);
    expect(r.has('b')).toBe(true);
    expect(r.has('c')).toBe(false);
    expect(r.unregister('b')).toBe(true);
    expect(r.unregister('b')).toBe(false);
    expect(r.names()).toEqual(['a']);
  });

  it("unknown names: one message everywhere, with 'did you mean' for near misses", () => {
    const r = new Registry<number>('generator').register('sign', 1).register('cagnet', 2);
    expect(() => r.get('wgan')).toThrow("unknown generator 'wgan'; known: sign, cagnet");
    expect(() => r.get('sgin')).toThrow("unknown generator 'sgin' (did you mean 'sign'?); known: sign, cagnet");
    expect(() => new Registry('thing').get('x')).toThrow("unknown thing 'x'; known: none");
    expect(r.unknownMessage(42)).toBe("unknown generator '42'; known: sign, cagnet");
  });

  it('register refuses taken, empty and padded names and missing values; provide is idempotent', () => {
    const r = new Registry<number>('dataset').register('folder', 1);
    expect(() => r.register('folder', 2)).toThrow("register dataset 'folder': the name is taken (known: folder)");
    expect(() => r.register('', 2)).toThrow(/non-empty string/);
    expect(() => r.register(' x', 2)).toThrow(/without surrounding spaces/);
    expect(() => r.register('y', undefined as never)).toThrow("register dataset 'y': value is undefined");
    r.provide('folder', 3).provide('voc', 4);
    expect(r.get('folder')).toBe(1);
    expect(r.get('voc')).toBe(4);
  });

  it('shared(kind) is one object per kind per process', () => {
    const a = Registry.shared<number>('test-kind-a');
    expect(Registry.shared('test-kind-a')).toBe(a);
    expect(Registry.shared('test-kind-b')).not.toBe(a);
  });

  it('the ESM and the CJS build share one registry (needs the built dist/)', () => {
    const dist = join(__dirname, '..', 'dist');
    if (!existsSync(join(dist, 'index.cjs'))) return; // `pnpm test` builds first; a bare vitest run may not
    const script = `
      const { Registry: C } = require(${JSON.stringify(join(dist, 'index.cjs'))});
      C.shared('x').register('from-cjs', 1);
      import(${JSON.stringify(join(dist, 'index.js'))}).then(({ Registry: E }) => {
        if (E === C) throw new Error('expected two module instances');
        process.stdout.write(JSON.stringify(E.shared('x').names()));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(['from-cjs']);
  });
});

describe('closestName / editDistance', () => {
  it('edit distance counts inserts, deletes and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
  it('suggests only close names (case-insensitive)', () => {
    expect(closestName('seeed', ['seed', 'name'])).toBe('seed');
    expect(closestName('SEED', ['seed'])).toBe('seed');
    expect(closestName('backbone', ['seed', 'name'])).toBeUndefined();
  });
});
