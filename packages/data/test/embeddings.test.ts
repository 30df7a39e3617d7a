import { describe, expect, it } from 'vitest';
import { EmbeddingTable, cosineSimilarity, l2Normalize } from '@sign/embeddings';
import {
  CLASS_WORDS,
  DEFAULT_UNSEEN,
  FASHION_ATTRIBUTES,
  FASHION_CLASSES,
  FASHION_ITEM_CLASSES,
  attributeVector,
  fashionEmbeddings,
  fashionGloveTable,
} from '../src/index';

const norm = (v: Float32Array) => Math.hypot(...v);

describe('fashionEmbeddings', () => {
  const dims = { glove: 100, attributes: FASHION_ATTRIBUTES.length, both: 100 + FASHION_ATTRIBUTES.length } as const;

  for (const source of ['glove', 'attributes', 'both'] as const) {
    it(`${source}: 10 item rows in class-id order, finite, unit norm, dimension ${dims[source]}`, () => {
      const t = fashionEmbeddings(source);
      expect(t).toBeInstanceOf(EmbeddingTable);
      expect(t.classNames).toEqual(FASHION_ITEM_CLASSES);
      expect(t.dimension).toBe(dims[source]);
      t.validate({ classNames: FASHION_ITEM_CLASSES, dimension: dims[source], rejectZeroRows: true });
      for (const n of t.classNames) expect(norm(t.vector(n))).toBeCloseTo(1, 5);
      // rows are pairwise distinct
      for (let i = 0; i < 10; i++) for (let j = i + 1; j < 10; j++) expect(cosineSimilarity(t.vector(i), t.vector(j))).toBeLessThan(0.999);
    });

    it(`${source}: includeBackground adds row 0 = background and leaves the item rows unchanged`, () => {
      const t = fashionEmbeddings(source, { includeBackground: true });
      expect(t.classNames).toEqual(FASHION_CLASSES);
      expect(norm(t.vector('background'))).toBeCloseTo(1, 5);
      const items = fashionEmbeddings(source);
      for (const n of FASHION_ITEM_CLASSES) expect(Array.from(t.vector(n))).toEqual(Array.from(items.vector(n)));
    });
  }

  it('the default is both, and both = l2(concat(l2(glove), l2(attributes)))', () => {
    const both = fashionEmbeddings();
    const g = fashionEmbeddings('glove');
    const a = fashionEmbeddings('attributes');
    expect(both.dimension).toBe(119);
    for (const n of FASHION_ITEM_CLASSES) {
      const expected = l2Normalize([...g.vector(n), ...a.vector(n)]);
      const got = both.vector(n);
      for (let i = 0; i < expected.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 6);
      // each half carries 1/√2 of the norm
      expect(norm(got.subarray(0, 100))).toBeCloseTo(Math.SQRT1_2, 5);
    }
  });

  it('a GloVe class vector is the mean of its words’ vectors, and the table records the words', () => {
    const file = fashionGloveTable();
    const t = fashionEmbeddings('glove', { includeBackground: true });
    for (const name of FASHION_CLASSES) {
      expect(file.classes[name]!.words).toEqual(CLASS_WORDS[name]);
      const ws = CLASS_WORDS[name]!;
      const mean = new Array(100).fill(0);
      for (const w of ws) file.words[w]!.forEach((x, i) => (mean[i] += x / ws.length));
      const expected = l2Normalize(mean);
      const got = t.vector(name);
      for (let i = 0; i < 100; i++) expect(got[i]).toBeCloseTo(expected[i]!, 5);
    }
    expect((t.provenance.words as Record<string, string[]>)['pullover']).toEqual(['pullover', 'sweater']);
    // GloVe knows clothes: sneaker is nearer to sandal than to coat
    expect(cosineSimilarity(t.vector('sneaker'), t.vector('sandal'))).toBeGreaterThan(cosineSimilarity(t.vector('sneaker'), t.vector('coat')));
  });

  it('attributes: the table has 19 documented attributes and every unseen class has a seen relative', () => {
    expect(FASHION_ATTRIBUTES.length).toBe(19);
    expect(attributeVector('sandal')).toHaveLength(19);
    expect(() => attributeVector('hat')).toThrow(/no attribute row for class 'hat'/);
    const t = fashionEmbeddings('attributes');
    const seen = FASHION_ITEM_CLASSES.filter((n) => !DEFAULT_UNSEEN.includes(n));
    const nearest = (n: string) => seen.map((s) => [s, cosineSimilarity(t.vector(n), t.vector(s))] as const).sort((a, b) => b[1] - a[1])[0]!;
    expect(['coat', 'shirt']).toContain(nearest('pullover')[0]);
    expect(['sneaker', 'ankle boot']).toContain(nearest('sandal')[0]);
    expect(['t-shirt/top', 'trouser']).toContain(nearest('dress')[0]);
    for (const u of DEFAULT_UNSEEN) expect(nearest(u)[1]).toBeGreaterThan(0.4);
    // background is orthogonal to every item in attribute space
    const bg = fashionEmbeddings('attributes', { includeBackground: true });
    for (const n of FASHION_ITEM_CLASSES) expect(cosineSimilarity(bg.vector('background'), bg.vector(n))).toBe(0);
  });

  it('rejects an unknown source', () => {
    expect(() => fashionEmbeddings('word2vec' as 'glove')).toThrow(/unknown source 'word2vec'/);
  });
});
