import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  readFastTextVec,
  readGloveText,
  readWord2vecBinary,
  readWord2vecText,
  readWordVectors,
  wordVectorReader,
  writeWord2vecBinary,
} from '../src/node';

const dir = mkdtempSync(join(tmpdir(), 'sign-emb-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Values exactly representable in float32, so equality is exact through every format.
const VOCAB: [string, number[]][] = [
  ['cat', [0.5, -1.25, 2, 0.125]],
  ['dog', [1, 0, -0.5, 3.75]],
  ['potted', [-2, 0.25, 0.75, 1.5]],
  ['plant', [0.0625, 8, -4, 0]],
  ['café', [1.5, 1.5, -1.5, -1.5]],
];
const D = 4;

function textLines(rows: [string, number[]][]): string {
  return rows.map(([w, v]) => `${w} ${v.join(' ')}`).join('\n') + '\n';
}

/** word2vec binary bytes, written by hand (not with the package's writer). */
function w2vBinary(rows: [string, number[]][], dim: number, newline = true): Buffer {
  const parts: Buffer[] = [Buffer.from(`${rows.length} ${dim}\n`)];
  for (const [w, v] of rows) {
    const b = Buffer.alloc(4 * dim);
    v.forEach((x, j) => b.writeFloatLE(x, 4 * j));
    parts.push(Buffer.from(`${w} `, 'utf8'), b);
    if (newline) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function file(name: string, data: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

function expectVocab(vectors: Map<string, Float32Array>, words: string[]): void {
  expect([...vectors.keys()].sort()).toEqual([...words].sort());
  for (const w of words) {
    const want = VOCAB.find(([x]) => x === w)![1];
    expect(Array.from(vectors.get(w)!)).toEqual(want);
  }
}

const ALL = VOCAB.map(([w]) => w);

describe('word2vec text / fastText .vec (header line)', () => {
  for (const [name, read] of [
    ['readWord2vecText', readWord2vecText],
    ['readFastTextVec', readFastTextVec],
  ] as const) {
    it(`${name} reads every word with exact values`, async () => {
      const p = file(`${name}.txt`, `${VOCAB.length} ${D}\n` + textLines(VOCAB));
      const r = await read(p);
      expect(r.dimension).toBe(D);
      expect(r.vocabularySize).toBe(5);
      expect(r.missing).toEqual([]);
      expectVocab(r.vectors, ALL);
    });
  }

  it('keeps only the requested words and reports the missing ones', async () => {
    const p = file('filter.vec', `${VOCAB.length} ${D}\n` + textLines(VOCAB));
    const r = await readFastTextVec(p, { words: ['dog', 'plant', 'unicorn'] });
    expectVocab(r.vectors, ['dog', 'plant']);
    expect(r.missing).toEqual(['unicorn']);
  });

  it('stops early once every requested word is found (later garbage is never parsed)', async () => {
    const p = file('early.vec', `${VOCAB.length + 1} ${D}\n` + textLines(VOCAB) + 'broken x y\n');
    const r = await readFastTextVec(p, { words: ['cat'] });
    expectVocab(r.vectors, ['cat']);
    await expect(readFastTextVec(p)).rejects.toThrow(/early\.vec line 7: word 'broken' has 2 values, expected 4/);
  });

  it('accepts CRLF line ends and trailing spaces (fastText writes one)', async () => {
    const text = `2 ${D}\r\n` + VOCAB.slice(0, 2).map(([w, v]) => `${w} ${v.join(' ')} \r\n`).join('');
    const r = await readWord2vecText(file('crlf.txt', text));
    expectVocab(r.vectors, ['cat', 'dog']);
  });

  it('names the file and line of a bad row', async () => {
    const rows = textLines(VOCAB).split('\n');
    rows[2] = 'potted -2 0.25 abc 1.5';
    const bad = file('nonnumeric.vec', `${VOCAB.length} ${D}\n` + rows.join('\n'));
    await expect(readFastTextVec(bad)).rejects.toThrow(
      /readFastTextVec: .*nonnumeric\.vec line 4: word 'potted' value 3 is 'abc', not a finite number/,
    );
    rows[2] = 'potted -2 0.25 1.5';
    const short = file('short.vec', `${VOCAB.length} ${D}\n` + rows.join('\n'));
    await expect(readFastTextVec(short)).rejects.toThrow(/short\.vec line 4: word 'potted' has 3 values, expected 4/);
    rows[2] = 'potted -2 0.25 1.5 1 7';
    const long = file('long.vec', `${VOCAB.length} ${D}\n` + rows.join('\n'));
    await expect(readFastTextVec(long)).rejects.toThrow(/long\.vec line 4: word 'potted' has 5 values, expected 4/);
  });

  it('refuses a bad header and a truncated file', async () => {
    await expect(readWord2vecText(file('nohdr.txt', textLines(VOCAB)))).rejects.toThrow(
      /nohdr\.txt line 1: expected a header '<count> <dimension>', got 'cat 0\.5/,
    );
    await expect(readWord2vecText(file('trunc.txt', `9 ${D}\n` + textLines(VOCAB)))).rejects.toThrow(
      /trunc\.txt declares 9 words in its header but has 5/,
    );
    await expect(readWord2vecText(file('empty.txt', ''))).rejects.toThrow(/empty\.txt is empty/);
    await expect(readWord2vecText(join(dir, 'absent.txt'))).rejects.toThrow(/cannot read .*absent\.txt/);
  });
});

describe('GloVe text (no header)', () => {
  it('infers the dimension from the first line and reads exact values', async () => {
    const r = await readGloveText(file('glove.txt', textLines(VOCAB)));
    expect(r.dimension).toBe(D);
    expect(r.vocabularySize).toBe(5);
    expectVocab(r.vectors, ALL);
  });

  it('reads a token that contains spaces (as in GloVe 840B)', async () => {
    const r = await readGloveText(file('spaces.txt', textLines(VOCAB) + 'at name 1 2 3 4\n'), {
      words: ['at name', 'dog'],
    });
    expect(Array.from(r.vectors.get('at name')!)).toEqual([1, 2, 3, 4]);
    expect(r.vectors.has('dog')).toBe(true);
  });

  it('names the file and line of a row with the wrong length', async () => {
    const p = file('glove-bad.txt', textLines(VOCAB) + 'cow 1 2 3\n');
    await expect(readGloveText(p)).rejects.toThrow(/readGloveText: .*glove-bad\.txt line 6: word 'cow' has 3 values, expected 4/);
    // an unrequested bad line is not parsed
    const r = await readGloveText(p, { words: ['cat'] });
    expect(r.vectors.size).toBe(1);
  });
});

describe('word2vec binary', () => {
  it('reads a file written by hand, with and without the newline after each vector', async () => {
    for (const newline of [true, false]) {
      const p = file(`w2v-${newline}.bin`, w2vBinary(VOCAB, D, newline));
      const r = await readWord2vecBinary(p);
      expect(r.format).toBe('word2vec-bin');
      expect(r.dimension).toBe(D);
      expect(r.vocabularySize).toBe(5);
      expectVocab(r.vectors, ALL);
    }
  });

  it('filters words and stops early', async () => {
    // garbage after the first record (as many bytes as 4 more records would need, so that the
    // header fits the file size): never read, since 'cat' is all we ask for
    const good = w2vBinary(VOCAB.slice(0, 1), D);
    const garbage = Buffer.from('zz'.repeat(2 * (4 * D + 2)));
    const bytes = Buffer.concat([Buffer.from(`5 ${D}\n`), good.subarray(good.indexOf(0x0a) + 1), garbage]);
    const p = file('w2v-early.bin', bytes);
    const r = await readWord2vecBinary(p, { words: new Set(['cat']) });
    expectVocab(r.vectors, ['cat']);
    await expect(readWord2vecBinary(p)).rejects.toThrow(/w2v-early\.bin is truncated/);
  });

  it('handles vectors that straddle its read buffer (many records)', async () => {
    const rows: [string, number[]][] = [];
    for (let i = 0; i < 3000; i++) rows.push([`w${i}`, Array.from({ length: 300 }, (_, j) => ((i * 7 + j) % 13) - 6)]);
    const p = file('w2v-big.bin', w2vBinary(rows, 300));
    const r = await readWord2vecBinary(p, { words: ['w0', 'w1777', 'w2999', 'nope'] });
    expect(r.vectors.size).toBe(3);
    expect(Array.from(r.vectors.get('w1777')!)).toEqual(rows[1777][1]);
    expect(Array.from(r.vectors.get('w2999')!)).toEqual(rows[2999][1]);
    expect(r.missing).toEqual(['nope']);
    const all = await readWord2vecBinary(p);
    expect(all.vectors.size).toBe(3000);
  });

  it('names the file, word and offset of a truncated file', async () => {
    const full = w2vBinary(VOCAB, D);
    await expect(readWord2vecBinary(file('cut-values.bin', full.subarray(0, full.length - 7)))).rejects.toThrow(
      /cut-values\.bin is truncated: word 4 \('café', byte \d+\) needs 16 bytes of values, the file has \d+ left/,
    );
    const hdr = Buffer.from(`7 ${D}\n`);
    await expect(
      readWord2vecBinary(file('cut-words.bin', Buffer.concat([hdr, full.subarray(full.indexOf(0x0a) + 1)]))),
    ).rejects.toThrow(
      /cut-words\.bin line 1: the header declares 7 words of dimension 4, which need at least 126 bytes, but the file has 112 after the header/,
    );
    // the header fits the file size, but the second word never gets its values
    const one = w2vBinary(VOCAB.slice(0, 1), D);
    const cutWord = Buffer.concat([Buffer.from(`2 ${D}\n`), one.subarray(one.indexOf(0x0a) + 1), Buffer.from('d'.repeat(40))]);
    await expect(readWord2vecBinary(file('cut-word.bin', cutWord))).rejects.toThrow(
      /cut-word\.bin is truncated: word 1 at byte \d+ has no values/,
    );
  });

  it('refuses a text file, a bad header, extra data and non-finite values', async () => {
    await expect(readWord2vecBinary(file('text-as-bin.bin', textLines(VOCAB)))).rejects.toThrow(
      /text-as-bin\.bin line 1: expected a header '<count> <dimension>'/,
    );
    await expect(readWord2vecBinary(file('extra.bin', Buffer.concat([w2vBinary(VOCAB, D), Buffer.from('more 1234')])))).rejects.toThrow(
      /extra\.bin: data continues after the 5 words its header declares/,
    );
    await expect(readWord2vecBinary(file('nan.bin', w2vBinary([['cow', [1, NaN, 0, 0]]], D)))).rejects.toThrow(
      /nan\.bin: word 0 \('cow', byte 4\) value 2 is NaN/,
    );
  });

  it('writeWord2vecBinary round-trips through the reader, atomically', async () => {
    const sub = join(dir, 'out');
    const p = join(sub, 'written.bin');
    writeWord2vecBinary(p, new Map(VOCAB));
    expectVocab((await readWord2vecBinary(p)).vectors, ALL);
    expect(readdirSync(sub)).toEqual(['written.bin']);
    expect(() => writeWord2vecBinary(join(dir, 'x.bin'), new Map([['two words', [1]]]))).toThrow(/white space/);
  });
});

describe('reader registry', () => {
  it('dispatches on the format', async () => {
    const p = file('reg.txt', textLines(VOCAB));
    expectVocab((await readWordVectors(p, 'glove', { words: ['cat'] })).vectors, ['cat']);
    expect(wordVectorReader('glove')).toBe(readGloveText);
  });
  it('lists the known formats for an unknown one', () => {
    expect(() => wordVectorReader('npy')).toThrow(
      /unknown word-vector format 'npy'; known: 'word2vec-bin', 'word2vec-text', 'glove', 'fasttext-vec', 'fasttext-bin'/,
    );
  });
});
