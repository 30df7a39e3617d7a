import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingTable, combineSources, cosineSimilarity, l2Norm } from '../src/index';

// The public class-embedding tables of CaGNet/SIGN (vectors from SPNet), kept beside the
// repository in ../shared; absent on a user's machine, where these tests are skipped.
const dir = path.resolve(__dirname, '../../../../shared/data/class-embeddings');
const present = existsSync(dir);
if (!present) console.warn(`real-tables.test: skipped, ${dir} is absent (the shared data is not on this machine)`);

interface CagnetTable {
  dataset: string;
  classes: string[];
  rows: number;
  dim: number;
  word2vec: number[][];
  fasttext: number[][];
}

function read<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as T;
}

function tables(name: string): { w2v: EmbeddingTable; ft: EmbeddingTable; raw: CagnetTable } {
  const raw = read<CagnetTable>(name);
  // rows are indexed like the dataset's label ids; `classes` can be shorter than `rows`
  const n = Math.min(raw.classes.length, raw.rows);
  const make = (key: 'word2vec' | 'fasttext') =>
    new EmbeddingTable({
      classNames: raw.classes.slice(0, n),
      vectors: raw[key].slice(0, n),
      provenance: { dataset: raw.dataset, source: key },
      source: `${name} (${key})`,
    }).validate({ dimension: 300 });
  return { w2v: make('word2vec'), ft: make('fasttext'), raw };
}

function expectUnitRows(t: EmbeddingTable): void {
  for (let i = 0; i < t.size; i++) expect(Math.abs(l2Norm(t.vector(i)) - 1)).toBeLessThanOrEqual(1e-5);
}

describe.skipIf(!present)('the public class-embedding tables (../shared/data/class-embeddings)', () => {
  // vitest collects a skipped suite's body too: the files are read in beforeAll, never at collection
  for (const name of ['voc12.json', 'context.json', 'cocostuff.json']) {
    describe(name, () => {
      let w2v: EmbeddingTable;
      let ft: EmbeddingTable;
      let raw: CagnetTable;
      beforeAll(() => ({ w2v, ft, raw } = tables(name)));

      it('loads through EmbeddingTable with 300-d finite rows', () => {
        expect(w2v.dimension).toBe(300);
        expect(w2v.size).toBe(Math.min(raw.classes.length, raw.rows));
        expect(w2v.classNames).toContain('cow');
        expect(w2v.classNames).toContain('sheep');
        expect(w2v.classNames).toContain('tv');
      });

      it('each unit-normalised row has norm 1 (1e-5), in each source and combined', () => {
        expectUnitRows(w2v.normalized());
        expectUnitRows(ft.normalized());
        const both = combineSources([w2v, ft]);
        expect(both.dimension).toBe(600);
        expectUnitRows(both);
      });

      it('cow is closer to sheep than to tv, in each source and combined', () => {
        for (const t of [w2v, ft, combineSources([w2v, ft])]) {
          const cow = t.vector('cow');
          const sheep = cosineSimilarity(cow, t.vector('sheep'));
          const tv = cosineSimilarity(cow, t.vector('tv'));
          expect(sheep).toBeGreaterThan(tv + 0.1);
        }
      });

      it('the combined row is [w2v/‖w2v‖, ft/‖ft‖] / √2', () => {
        const both = combineSources([w2v, ft]).vector('cow');
        const a = w2v.vector('cow');
        const b = ft.vector('cow');
        const na = l2Norm(a);
        const nb = l2Norm(b);
        for (let j = 0; j < 300; j++) {
          expect(both[j]).toBeCloseTo(a[j] / na / Math.SQRT2, 6);
          expect(both[300 + j]).toBeCloseTo(b[j] / nb / Math.SQRT2, 6);
        }
      });
    });
  }

  it('context.json rows are not unit vectors until normalised (so the check above means something)', () => {
    const { w2v } = tables('context.json');
    expect(l2Norm(w2v.vector('cow'))).toBeGreaterThan(1.5);
  });

  describe('zs3net-voc12.json (ZS3Net word2vec, rows in VOC order, no class names)', () => {
    let t: EmbeddingTable;
    beforeAll(() => {
      const voc = read<CagnetTable>('voc12.json');
      const zs3 = read<{ rows: number; dim: number; word2vec: number[][] }>('zs3net-voc12.json');
      t = new EmbeddingTable({
        classNames: voc.classes,
        vectors: zs3.word2vec,
        provenance: { source: 'ZS3Net' },
        source: 'zs3net-voc12.json',
      }).validate({ dimension: 300, classNames: ['cow', 'sheep', 'tv'] });
    });

    it('has 21 rows; normalised rows have norm 1', () => {
      expect(t.size).toBe(21);
      expectUnitRows(t.normalized());
    });

    it('cow is closer to sheep than to tv', () => {
      const cow = t.vector('cow');
      expect(cosineSimilarity(cow, t.vector('sheep'))).toBeGreaterThan(cosineSimilarity(cow, t.vector('tv')) + 0.1);
    });

    it('single-word classes point the same way as the CaGNet word2vec rows (same GoogleNews vectors)', () => {
      const w2v = tables('voc12.json').w2v;
      for (const c of ['cow', 'sheep', 'cat', 'tv', 'train']) {
        expect(cosineSimilarity(t.vector(c), w2v.vector(c))).toBeGreaterThan(0.9999);
      }
    });
  });
});
