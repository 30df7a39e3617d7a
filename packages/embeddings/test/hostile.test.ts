/**
 * Regression tests for the hostile-input findings of issue 10 in this package. The cases that
 * used to abort or hang the process run in a child process (tooling/fuzz), so that a regression
 * fails the test instead of killing the test run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readInChild } from '../../../tooling/fuzz/harness';
import {
  EmbeddingTable,
  MAX_WORD_VECTOR_DIMENSION,
} from '../src/index';
import {
  fastTextVocabulary,
  loadEmbeddingTable,
  readFastTextBin,
  readFastTextVec,
  readGloveText,
  readWord2vecBinary,
  readWord2vecText,
  saveEmbeddingTable,
} from '../src/node';
import { fastTextBinary } from './fuzz/corpus';

const TARGETS = join(__dirname, 'fuzz', 'targets.ts');
const dir = mkdtempSync(join(tmpdir(), 'sign-emb-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

/** A small, valid fastText model written by the corpus generator. */
const MODEL = {
  dimension: 3,
  bucket: 4,
  minn: 2,
  maxn: 3,
  model: 2,
  words: ['</s>', 'cow', 'grass'],
  input: Array.from({ length: (3 + 4) * 3 }, (_, i) => ((i * 7) % 11) / 10 - 0.5),
  output: Array.from({ length: 3 * 3 }, (_, i) => i / 10),
};

describe('word2vec binary: a header dimension of 2^29..2^30 (used to abort Node inside a file read)', () => {
  // 'cow' then 5 MiB: more than the reader's first buffer, so the old reader tried to read
  // 4 × 536870913 bytes in one call and Node died on `Assertion failed: args[3]->IsInt32()`.
  const big = (dim: string) => new Uint8Array(Buffer.concat([Buffer.from(`1 ${dim}\ncow `), Buffer.alloc(5 * 1024 * 1024)]));

  for (const dim of ['536870913', '1073741823', '2147483649', '99999999999999999999']) {
    it(`dimension ${dim}: an error naming the file, in a child process that survives`, async () => {
      const r = await readInChild({ module: TARGETS, name: 'word2vecBin' }, big(dim), '.bin');
      expect(r.outcome).toBe('error');
      expect(r.message).toContain(`readWord2vecBinary: ${r.path} line 1: dimension ${Number(dim)} is larger than the maximum 100000`);
    });
  }

  it('with the cap lifted, the header is still checked against the file size before anything is read', async () => {
    const p = file('w2v-huge-dim.bin', big('536870913'));
    await expect(readWord2vecBinary(p, { maxDimension: Infinity })).rejects.toThrow(
      `readWord2vecBinary: ${p} line 1: the header declares 1 words of dimension 536870913, which need at least 2147483654 bytes, but the file has 5242884 after the header`,
    );
  });

  it('a huge word count is checked against the file size', async () => {
    const p = file('w2v-huge-count.bin', '4294967297 2\ncow \0\0\0\0\0\0\0\0\n');
    await expect(readWord2vecBinary(p)).rejects.toThrow(
      `${p} line 1: the header declares 4294967297 words of dimension 2, which need at least 42949672970 bytes, but the file has 13 after the header`,
    );
  });

  it('the cap is documented and exported, and the option raises it', async () => {
    expect(MAX_WORD_VECTOR_DIMENSION).toBe(100_000);
    const wide = new Float32Array(100_001).fill(0.5);
    const p = file('w2v-wide.bin', Buffer.concat([Buffer.from('1 100001\nw '), Buffer.from(wide.buffer)]));
    await expect(readWord2vecBinary(p)).rejects.toThrow(/dimension 100001 is larger than the maximum 100000/);
    const r = await readWord2vecBinary(p, { maxDimension: 200_000 });
    expect(r.dimension).toBe(100_001);
    expect(r.vectors.get('w')![100_000]).toBe(0.5);
  });
});

describe('fastText .bin: a corrupt model with the right magic (used to hang for ever)', () => {
  const valid = fastTextBinary(MODEL);
  // the last dictionary word has no terminating NUL: fastText's loader reads it until a NUL that
  // never comes, appending to the word for ever (this hung 11 of 11 times, growing ~13 MB/s)
  const unterminated = fastTextBinary({ ...MODEL, words: ['</s>', 'cow', 'grassland-meadow'] }, { unterminated: true });

  it('an unterminated dictionary word: an error naming the file and offset, at once, in a child process', async () => {
    const t0 = Date.now();
    const r = await readInChild({ module: TARGETS, name: 'fastTextBin' }, unterminated, '.bin', { variant: 4 });
    expect(r.outcome).toBe('error');
    expect(r.message).toContain(`readFastTextBin: ${r.path}: the file ends inside dictionary entry 2 (byte 119;`);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a model cut inside its dictionary: an error naming the file', async () => {
    const p = file('cut.bin', valid.subarray(0, 100));
    await expect(readFastTextBin(p, { words: ['cow'] })).rejects.toThrow(
      `readFastTextBin: ${p}: the dictionary declares 3 entries, more than the 8 bytes left can hold (byte 64;`,
    );
  });

  const lies: [string, Parameters<typeof fastTextBinary>[1], RegExp][] = [
    ['entry count', { dictSize: 0x7fffffff }, /the dictionary has 2147483647 entries but 3 words and 0 labels/],
    ['word count', { nwords: 2 }, /the dictionary has 3 entries but 2 words and 0 labels/],
    ['entry count and word count', { nwords: 5, dictSize: 5 }, /dictionary entry 3 has type 3, expected 0 \(word\) or 1 \(label\)/],
    ['matrix rows', { rows: 2n ** 40n }, /the input matrix has 1099511627776 rows, expected 7 \(3 words \+ 4 buckets\)/],
    ['matrix columns', { cols: 7n }, /the input matrix has 7 columns, the model's dimension is 3/],
    ['prune index', { pruneidx: 2n ** 40n }, /the prune index needs 8796093022208 bytes/],
    ['version', { version: 13 }, /model version 13, expected 11 or 12/],
  ];
  for (const [what, lie, re] of lies) {
    it(`a lying ${what} is refused before the executable runs`, async () => {
      const p = file(`lie-${what.replace(/ /g, '-')}.bin`, fastTextBinary(MODEL, lie));
      await expect(readFastTextBin(p, { words: ['cow'] })).rejects.toThrow(re);
      await expect(readFastTextBin(p, { words: ['cow'] })).rejects.toThrow(p);
    });
  }

  // Models written by fastText itself (test/fixtures/fasttext/make-fixtures.sh): the structure
  // check must accept every layout it writes, dense and quantized.
  const real: [string, number, number, string[]][] = [
    ['cbow.bin', 5, 8, ['cow']],
    ['supervised.bin', 8, 8, ['cow']],
    ['supervised-qnorm.ftz', 8, 8, ['cow']],
    ['supervised-qnorm-qout.ftz', 4, 308, ['cow']],
  ];
  for (const [name, dimension, words, found] of real) {
    it(`accepts a model fastText wrote: ${name}`, async () => {
      const p = join(__dirname, 'fixtures', 'fasttext', name);
      const vocabulary = await fastTextVocabulary(p);
      expect(vocabulary.length).toBe(words);
      expect(vocabulary).toContain('cow');
      const r = await readFastTextBin(p, { words: ['cow'] });
      expect(r.dimension).toBe(dimension);
      expect([...r.vectors.keys()]).toEqual(found);
    });
  }

  it('trailing data and a huge dimension are refused', async () => {
    const p = file('trailing.bin', Buffer.concat([valid, Buffer.from('junk')]));
    await expect(fastTextVocabulary(p)).rejects.toThrow(`${p}: 4 bytes of unexpected data after the output matrix`);
    const wide = fastTextBinary({ ...MODEL, dimension: 200_000, input: [], output: [] });
    const q = file('wide.bin', wide);
    await expect(fastTextVocabulary(q)).rejects.toThrow(/dimension 200000 is larger than the maximum 100000/);
  });

  it('the executable runs under a timeout and a memory bound, and is killed with a clear error', async () => {
    const p = file('model-limits.bin', valid);
    await expect(readFastTextBin(p, { words: ['cow'], timeoutMs: 1 })).rejects.toThrow(
      `readFastTextBin: ${p}: fastText print-word-vectors did not finish within 1 ms and was killed`,
    );
    if (process.platform !== 'win32') {
      await expect(readFastTextBin(p, { words: ['cow'], maxMemoryBytes: 32 * 1024 * 1024 })).rejects.toThrow(
        new RegExp(`readFastTextBin: ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: fastText print-word-vectors failed .*memory bound 32 MiB`),
      );
    }
  });
});

describe('text vectors: a byte-order mark (GloVe used to lose its first word)', () => {
  const body = 'the 0.5 -1\ncat 1 2\n';

  it('GloVe: the first word is kept, without the mark', async () => {
    const p = file('glove-bom.txt', '\uFEFF' + body);
    const r = await readGloveText(p);
    expect([...r.vectors.keys()]).toEqual(['the', 'cat']);
    expect(Array.from(r.vectors.get('the')!)).toEqual([0.5, -1]);
    const only = await readGloveText(p, { words: ['the'] });
    expect(only.missing).toEqual([]);
  });

  it('word2vec text and fastText .vec: the header after a mark is read', async () => {
    const p = file('vec-bom.vec', '\uFEFF2 2\n' + body);
    for (const read of [readWord2vecText, readFastTextVec]) {
      const r = await read(p);
      expect(r.vocabularySize).toBe(2);
      expect([...r.vectors.keys()]).toEqual(['the', 'cat']);
    }
  });

  it('a UTF-16 file is refused, naming the file', async () => {
    const p = file('glove-utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')]));
    await expect(readGloveText(p)).rejects.toThrow(`readGloveText: ${p} line 1: starts with a UTF-16 byte-order mark`);
  });

  it('a line longer than the limit (a binary file read as text) is an error, not a huge string', async () => {
    const p = file('endless.txt', 'a'.repeat(70_000));
    await expect(readGloveText(p, { maxDimension: 1000 })).rejects.toThrow(
      `readGloveText: ${p} line 1 is longer than 68096 bytes`,
    );
  });

  it('a header count is checked against the file size; a wide GloVe line against the cap', async () => {
    const p = file('vec-huge-count.vec', '99999999999 2\n' + body);
    await expect(readFastTextVec(p)).rejects.toThrow(
      `readFastTextVec: ${p} line 1: the header declares 99999999999 words of dimension 2, which need at least 599999999993 bytes, but the file has 19 after the header`,
    );
    const q = file('glove-wide.txt', `w${' 0'.repeat(100_001)}\n`);
    await expect(readGloveText(q)).rejects.toThrow(`readGloveText: ${q} line 1: dimension 100001 is larger than the maximum 100000`);
  });
});

describe('paths that are not regular files', () => {
  for (const kind of ['fifo', 'directory', 'dev-zero', 'missing'] as const) {
    it(`${kind}: every reader gives an error naming the path (a FIFO used to block for ever)`, async () => {
      for (const name of ['word2vecBin', 'word2vecText', 'glove', 'fastTextVec', 'fastTextBin', 'embeddingTable']) {
        const r = await readInChild({ module: TARGETS, name }, kind, '.x', { variant: name === 'fastTextBin' ? 4 : 1, hangMs: 10_000 });
        expect(r.outcome, `${name} on a ${kind}: ${r.message}`).toBe('error');
        expect(r.message).toContain(r.path);
      }
    });
  }
});

describe('EmbeddingTable.load', () => {
  const json = { format: 'sign-embedding-table', version: 1, classNames: ['a'], dimension: 2, vectors: [[1, 2]] };

  it('skips a byte-order mark', () => {
    const p = file('table-bom.json', '\uFEFF' + JSON.stringify(json));
    expect(loadEmbeddingTable(p).classNames).toEqual(['a']);
  });

  it('refuses a dimension above the cap, naming the file', () => {
    const p = file('table-wide.json', JSON.stringify({ ...json, classNames: [], vectors: [], dimension: 1e9 }));
    expect(() => loadEmbeddingTable(p)).toThrow(`'dimension' 1000000000 is larger than the maximum 100000 in ${p}`);
  });

  it('refuses a directory, naming it', () => {
    expect(() => loadEmbeddingTable(dir)).toThrow(`loadEmbeddingTable: cannot read ${dir}: is a directory, not a file`);
  });
});
