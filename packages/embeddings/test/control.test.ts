import { describe, expect, it } from 'vitest';
import { Rng } from '@sign/core';
import { EmbeddingTable, controlEmbeddings, cosineSimilarity, l2Normalize } from '../src/index';

const norm = (v: Float32Array) => Math.hypot(...v);

/** 10 classes with seeded random unit rows of width 119 (the fashion-scenes table's width). */
const names = ['t-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'];
const rng = new Rng(7);
const real = new EmbeddingTable({ classNames: names, vectors: names.map(() => l2Normalize(rng.normalArray(119))) });

describe('controlEmbeddings', () => {
  const unseen = ['pullover', 'dress', 'sandal'];
  const seen = names.filter((n) => !unseen.includes(n));

  it('random: unseen rows become seeded random unit vectors; seen rows are kept', () => {
    const a = controlEmbeddings(real, unseen, 'random', 1);
    const a2 = controlEmbeddings(real, unseen, 'random', 1);
    const b = controlEmbeddings(real, unseen, 'random', 2);
    a.validate({ dimension: 119 });
    for (const n of seen) expect(Array.from(a.vector(n))).toEqual(Array.from(real.vector(n)));
    for (const n of unseen) {
      expect(norm(a.vector(n))).toBeCloseTo(1, 5);
      expect(Array.from(a.vector(n))).toEqual(Array.from(a2.vector(n)));
      expect(Math.abs(cosineSimilarity(a.vector(n), b.vector(n)))).toBeLessThan(0.5);
      expect(Math.abs(cosineSimilarity(a.vector(n), real.vector(n)))).toBeLessThan(0.5);
    }
    expect(a.provenance.control).toBe('random');
  });

  it('permuted: every unseen class gets another unseen class’s vector; seen rows are kept', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = controlEmbeddings(real, unseen, 'permuted', seed);
      for (const n of seen) expect(Array.from(p.vector(n))).toEqual(Array.from(real.vector(n)));
      const mapping = p.provenance.controlMapping as Record<string, string>;
      expect(Object.keys(mapping).sort()).toEqual([...unseen].sort());
      expect(Object.values(mapping).sort()).toEqual([...unseen].sort());
      for (const n of unseen) {
        expect(mapping[n]).not.toBe(n);
        expect(Array.from(p.vector(n))).toEqual(Array.from(real.vector(mapping[n]!)));
      }
    }
    const two = controlEmbeddings(real, ['pullover', 'sandal'], 'permuted', 9);
    expect(Array.from(two.vector('pullover'))).toEqual(Array.from(real.vector('sandal')));
  });

  it('rejects bad arguments', () => {
    expect(() => controlEmbeddings(real, ['hat'], 'random', 1)).toThrow(/no class 'hat'/);
    expect(() => controlEmbeddings(real, ['bag'], 'permuted', 1)).toThrow(/at least 2 unseen/);
    expect(() => controlEmbeddings(real, [], 'random', 1)).toThrow(/no unseen classes/);
    expect(() => controlEmbeddings(real, ['bag', 'bag'], 'random', 1)).toThrow(/listed twice/);
    expect(() => controlEmbeddings(real, unseen, 'shuffle' as 'random', 1)).toThrow(/mode must be 'random' or 'permuted'/);
  });
});
