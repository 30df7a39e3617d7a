import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import {
  EmbeddingTable,
  combineSources,
  cosineSimilarity,
  l2Normalize,
} from '@sign/embeddings';
import {
  loadEmbeddingTable,
  saveEmbeddingTable,
} from '@sign/embeddings/node';

const dir = mkdtempSync(join(tmpdir(), 'sign-emb-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function table3(): EmbeddingTable {
  return new EmbeddingTable({
    classNames: ['cat', 'dog', 'potted_plant'],
    vectors: [
      [1, 2, 2],
      [0, 3, 4],
      [0.5, -0.25, 0.125],
    ],
    provenance: { test: true },
  });
}

describe('l2Normalize', () => {
  it('divides by the euclidean norm', () => {
    expect(Array.from(l2Normalize([3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const v = l2Normalize(new Float32Array([1, 2, 2]));
    expect(v[0]).toBeCloseTo(1 / 3, 7);
    expect(v[1]).toBeCloseTo(2 / 3, 7);
    expect(v[2]).toBeCloseTo(2 / 3, 7);
  });
  it('keeps a zero vector at zero (eps 1e-12, like F.normalize)', () => {
    expect(Array.from(l2Normalize([0, 0, 0]))).toEqual([0, 0, 0]);
  });
  it('does not modify its input', () => {
    const v = new Float32Array([3, 4]);
    l2Normalize(v);
    expect(Array.from(v)).toEqual([3, 4]);
  });
});

describe('EmbeddingTable', () => {
  it('looks rows up by name and by id', () => {
    const t = table3();
    expect(t.size).toBe(3);
    expect(t.dimension).toBe(3);
    expect(t.id('dog')).toBe(1);
    expect(t.has('dog')).toBe(true);
    expect(t.has('cow')).toBe(false);
    expect(Array.from(t.vector('dog'))).toEqual([0, 3, 4]);
    expect(Array.from(t.vector(2))).toEqual([0.5, -0.25, 0.125]);
    expect(t.provenance).toEqual({ test: true });
  });

  it('returns copies, so callers cannot change the table', () => {
    const t = table3();
    t.vector('cat')[0] = 99;
    expect(t.vector('cat')[0]).toBe(1);
  });

  it('names the unknown class and the known ones', () => {
    expect(() => table3().id('cow')).toThrow(/no class 'cow'.*'cat', 'dog', 'potted_plant'/);
    expect(() => table3().vector(3)).toThrow(/class id 3 is out of range \[0, 3\)/);
  });

  it('refuses structural errors at construction, naming class and row', () => {
    expect(
      () => new EmbeddingTable({ classNames: ['a', 'b'], vectors: [[1, 2], [1, 2, 3]] }),
    ).toThrow(/row 1 \(class 'b'\) has 3 values, expected dimension 2/);
    expect(() => new EmbeddingTable({ classNames: ['a', 'a'], vectors: [[1], [2]] })).toThrow(
      /class 'a' appears twice \(rows 0 and 1\)/,
    );
    expect(() => new EmbeddingTable({ classNames: ['a'], vectors: [[1], [2]] })).toThrow(
      /1 class names but 2 vectors/,
    );
    expect(
      () => new EmbeddingTable({ classNames: ['a'], vectors: [[1, null as unknown as number]] }),
    ).toThrow(/row 0 \(class 'a'\) value 1 is null/);
  });

  it('subset keeps the requested order and names missing classes', () => {
    const s = table3().subset(['potted_plant', 'cat']);
    expect(s.classNames).toEqual(['potted_plant', 'cat']);
    expect(Array.from(s.vector(1))).toEqual([1, 2, 2]);
    expect(() => table3().subset(['cat', 'cow', 'tv'])).toThrow(/missing classes 'cow', 'tv'/);
  });

  it('normalized() gives unit rows', () => {
    const n = table3().normalized();
    for (let i = 0; i < n.size; i++) {
      const v = n.vector(i);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
    expect(Array.from(n.vector('dog'))).toEqual([0, Math.fround(0.6), Math.fround(0.8)]);
  });

  describe('validate', () => {
    it('passes a good table and returns it', () => {
      const t = table3();
      expect(t.validate({ classNames: ['cat', 'dog'], dimension: 3 })).toBe(t);
    });
    it('refuses NaN and Inf, naming class, row and position', () => {
      const t = new EmbeddingTable({
        classNames: ['cat', 'cow'],
        vectors: [
          [1, 2],
          [NaN, Infinity],
        ],
      });
      expect(() => t.validate()).toThrow(/row 1 \(class 'cow'\) has non-finite values \[0\]=NaN, \[1\]=Infinity/);
    });
    it('refuses a wrong dimension', () => {
      expect(() => table3().validate({ dimension: 300 })).toThrow(/dimension is 3, expected 300/);
    });
    it('refuses missing classes, naming them', () => {
      expect(() => table3().validate({ classNames: ['cat', 'sheep', 'tv'] })).toThrow(
        /missing classes 'sheep', 'tv'/,
      );
    });
    it('optionally refuses all-zero rows', () => {
      const t = new EmbeddingTable({ classNames: ['a', 'b'], vectors: [[0, 0], [1, 0]] });
      expect(() => t.validate()).not.toThrow();
      expect(() => t.validate({ rejectZeroRows: true })).toThrow(/row 0 \(class 'a'\) is all zeros/);
    });
    it('names the file of a loaded table', () => {
      const p = join(dir, 'nan.json');
      const j = table3().toJSON();
      writeFileSync(p, JSON.stringify(j));
      const t = loadEmbeddingTable(p);
      expect(() => t.validate({ dimension: 4 })).toThrow(new RegExp(`invalid in ${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    });
  });

  describe('JSON', () => {
    it('round-trips every float32 bit through save/load', () => {
      const vals = [Math.PI, -1e-30, 3.4e38, 1 / 3, -0.1, 7];
      const t = new EmbeddingTable({
        classNames: ['x', 'y'],
        vectors: [vals.slice(0, 3), vals.slice(3)],
        provenance: { words: { x: ['x'], y: ['y'] } },
      });
      const p = join(dir, 'sub', 'table.json');
      saveEmbeddingTable(t, p);
      const u = loadEmbeddingTable(p);
      expect(u.classNames).toEqual(['x', 'y']);
      expect(u.dimension).toBe(3);
      expect(u.provenance).toEqual({ words: { x: ['x'], y: ['y'] } });
      expect(u.source).toBe(p);
      const a = new Uint32Array(t.toFlatArray().buffer);
      const b = new Uint32Array(u.toFlatArray().buffer);
      expect(Array.from(b)).toEqual(Array.from(a));
      // no temporary file left behind
      expect(readdirSync(join(dir, 'sub'))).toEqual(['table.json']);
      expect(JSON.parse(readFileSync(p, 'utf8')).format).toBe('sign-embedding-table');
    });

    it('refuses bad files, naming the file', () => {
      const p = join(dir, 'bad.json');
      writeFileSync(p, '{"format":"sign-embedding-table","version":1,"classNames":["a"],"dimension":2,');
      expect(() => loadEmbeddingTable(p)).toThrow(/bad\.json is not valid JSON/);
      writeFileSync(p, JSON.stringify({ format: 'other' }));
      expect(() => loadEmbeddingTable(p)).toThrow(/'format' is "other".*bad\.json/);
      // NaN becomes null in JSON
      writeFileSync(p, JSON.stringify({ ...table3().toJSON(), vectors: [[1, 2, 3], [1, NaN, 3], [0, 0, 0]] }));
      expect(() => loadEmbeddingTable(p)).toThrow(/row 1 \(class 'dog'\) value 1 is null.*bad\.json/);
      writeFileSync(p, JSON.stringify({ ...table3().toJSON(), vectors: [[1, 2, 3], [1, 3], [0, 0, 0]] }));
      expect(() => loadEmbeddingTable(p)).toThrow(/row 1 \(class 'dog'\) has 2 values, expected dimension 3.*bad\.json/);
      expect(() => loadEmbeddingTable(join(dir, 'absent.json'))).toThrow(/cannot read .*absent\.json/);
    });
  });
});

describe('lookups by name', () => {
  const t = new EmbeddingTable({
    classNames: ['background', 'traffic light', 'tvmonitor', 'T-shirt/top'],
    vectors: [[1, 0], [0, 1], [1, 1], [2, 2]],
  });
  it('normalise names with the rule tables are built with (normalizeClassName)', () => {
    expect(t.id('traffic light')).toBe(1);
    expect(t.id('traffic_light')).toBe(1);
    expect(t.id('Traffic-Light')).toBe(1);
    expect(t.id('tv monitor')).toBe(2); // the default alias tvmonitor → tv, monitor
    expect(t.id('t-shirt / top')).toBe(3);
    expect(t.has('traffic_light')).toBe(true);
    expect(Array.from(t.vector('traffic_light'))).toEqual([0, 1]);
    expect(t.subset(['traffic_light', 'background']).classNames).toEqual(['traffic_light', 'background']);
    expect(Array.from(t.subset(['traffic_light']).vector(0))).toEqual([0, 1]);
    expect(() => t.validate({ classNames: ['traffic_light', 'tv_monitor'] })).not.toThrow();
  });
  it('an unknown name is still an error listing the known ones', () => {
    expect(t.has('traffic')).toBe(false);
    expect(() => t.id('light traffic')).toThrow("EmbeddingTable: no class 'light traffic'; known: 'background', 'traffic light', 'tvmonitor', 'T-shirt/top'");
    expect(() => t.validate({ classNames: ['cat'] })).toThrow(/missing class 'cat'/);
  });
  it('uses the aliases recorded in the provenance by buildClassEmbeddings', () => {
    const u = new EmbeddingTable({ classNames: ['fridge'], vectors: [[1]], provenance: { aliases: { refrigerator: ['fridge'] } } });
    expect(u.id('refrigerator')).toBe(0);
    expect(u.has('tv monitor')).toBe(false);
  });
  it('a name that matches two rows after normalisation is an error naming both', () => {
    const u = new EmbeddingTable({ classNames: ['traffic light', 'traffic_light'], vectors: [[1], [2]] });
    expect(u.id('traffic_light')).toBe(1); // exact names first
    expect(u.has('Traffic Light')).toBe(false);
    expect(() => u.id('Traffic Light')).toThrow(
      "EmbeddingTable: 'Traffic Light' matches the classes 'traffic light' and 'traffic_light' (the same words after normalizeClassName); use the exact name",
    );
    expect(() => u.subset(['Traffic Light'])).toThrow(/matches the classes/);
  });
});

describe('combineSources', () => {
  it('normalises each source, concatenates, normalises again (hand-computed)', () => {
    const w2v = new EmbeddingTable({ classNames: ['cat', 'dog'], vectors: [[3, 4], [1, 0]] });
    const ft = new EmbeddingTable({
      classNames: ['dog', 'cat'],
      vectors: [
        [0, 2, 0],
        [5, 0, 0],
      ],
    });
    const c = combineSources([w2v, ft]);
    expect(c.classNames).toEqual(['cat', 'dog']);
    expect(c.dimension).toBe(5);
    const s = Math.SQRT1_2;
    // cat: l2([3,4]) = [.6,.8], l2([5,0,0]) = [1,0,0] → concat norm √2
    const cat = c.vector('cat');
    [0.6 * s, 0.8 * s, s, 0, 0].forEach((x, i) => expect(cat[i]).toBeCloseTo(x, 6));
    const dog = c.vector('dog');
    [s, 0, 0, s, 0].forEach((x, i) => expect(dog[i]).toBeCloseTo(x, 6));
    expect(c.provenance.combination).toMatch(/l2\(concat/);
  });

  it('with sources of unequal norms, each source gets equal weight', () => {
    // un-normalised concat would be dominated by the big source; the rule gives 1/√2 each
    const a = new EmbeddingTable({ classNames: ['x'], vectors: [[1000, 0]] });
    const b = new EmbeddingTable({ classNames: ['x'], vectors: [[0, 0.001]] });
    const v = combineSources([a, b]).vector('x');
    expect(v[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(v[3]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(cosineSimilarity(v, [1, 0, 0, 1])).toBeCloseTo(1, 6);
  });

  it('a single source is just normalised', () => {
    const v = combineSources([table3()]).vector('dog');
    expect(Array.from(v)).toEqual([0, Math.fround(0.6), Math.fround(0.8)]);
  });

  it('names the classes that do not match', () => {
    const a = new EmbeddingTable({ classNames: ['cat', 'dog', 'cow'], vectors: [[1], [1], [1]] });
    const b = new EmbeddingTable({ classNames: ['cat', 'tv'], vectors: [[1], [1]], provenance: { name: 'fasttext' } });
    expect(() => combineSources([a, b])).toThrow(/table 1 \(fasttext\) lacks 'dog', 'cow'.*table 0 lacks 'tv'/);
  });

  it('refuses an all-zero row, naming the class', () => {
    const a = new EmbeddingTable({ classNames: ['cat'], vectors: [[0, 0]] });
    expect(() => combineSources([a])).toThrow(/class 'cat' has an all-zero vector in table 0/);
  });
});

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe('toTensor', () => {
    it('gives a [C, D] float32 tensor with the rows in order', async () => {
      expect(tf.getBackend()).toBe(backend);
      const w = table3().toTensor();
      expect(w.shape).toEqual([3, 3]);
      expect(w.dtype).toBe('float32');
      expect(Array.from(await w.data())).toEqual([1, 2, 2, 0, 3, 4, 0.5, -0.25, 0.125]);
      w.dispose();
    });
    it('leaks nothing but the returned tensor', async () => {
      const before = tf.memory().numTensors;
      const w = await expectNoLeaks(() => table3().toTensor());
      expect(tf.memory().numTensors).toBe(before + 1);
      w.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
