/** The .npy reader against files written by NumPy (fixtures/npy, scripts/make-npy-fixtures.py). */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy } from '../src/index';
import { encodeNpy } from '../src/testing';

const dir = join(__dirname, 'fixtures', 'npy');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; data: Array<string | number> }> & {
  refused: Record<string, string>;
};

describe('parseNpy', () => {
  const readable = readdirSync(dir).filter((f) => f.endsWith('.npy') && !(f in expected.refused));
  it('has a fixture for every kind NumPy wrote', () => {
    expect(readable.sort()).toEqual(Object.keys(expected).filter((k) => k.endsWith('.npy')).sort());
    expect(readable.length).toBe(10);
  });

  for (const name of readable) {
    it(`reads ${name} as NumPy does`, () => {
      const e = expected[name]!;
      const a = parseNpy(new Uint8Array(readFileSync(join(dir, name))), name);
      expect(a.dtype).toBe(e.dtype);
      expect(a.shape).toEqual(e.shape);
      expect(a.data).toEqual(e.data);
    });
  }

  for (const [name, why] of Object.entries(expected.refused)) {
    it(`refuses ${name} (${why}), naming the file`, () => {
      expect(() => parseNpy(new Uint8Array(readFileSync(join(dir, name))), `fixtures/${name}`)).toThrow(new RegExp(`^fixtures/${name.replace('.', '\\.')}: not a readable \\.npy array \\(.*${why.replace(/'/g, "'")}`));
    });
  }

  it('refuses every truncation and a file that is not .npy, naming the file', () => {
    for (const name of ['paths-u.npy', 'ids-i8.npy', 'version2-i8.npy']) {
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      for (let n = 0; n < bytes.length; n++) expect(() => parseNpy(bytes.subarray(0, n), 'cut.npy'), `${name} cut at ${n}`).toThrow(/^cut\.npy: not a readable \.npy array/);
      const longer = new Uint8Array(bytes.length + 4);
      longer.set(bytes);
      expect(() => parseNpy(longer, 'long.npy')).toThrow(/^long\.npy: .* bytes of data, the file has/);
    }
    expect(() => parseNpy(new TextEncoder().encode('2007_000033\n2007_000042\n'), 'list.txt')).toThrow(/^list\.txt: not a readable \.npy array \(no \\x93NUMPY magic\)/);
  });

  it("encodeNpy (the tests' writer) writes what numpy.save writes", () => {
    const ids = expected['ids-i8.npy']!.data as number[];
    expect(Buffer.from(encodeNpy(ids)).equals(readFileSync(join(dir, 'ids-i8.npy')))).toBe(true);
    const paths = ['/a/annotations/train/x.png', 'ünï/😀'];
    expect(parseNpy(encodeNpy(paths), 'w.npy')).toEqual({ dtype: '<U26', shape: [2], data: paths });
  });
});
