/**
 * The main entry's readers over data (the browser path): the same results from text, bytes, a
 * Blob, a ReadableStream and an async iterable, chunked any way; format detection; the GloVe
 * reader refusing a word2vec / .vec header; EmbeddingTable.parse.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EmbeddingTable,
  MAX_EMBEDDING_TABLE_BYTES,
  type WordVectorInput,
  detectWordVectorFormat,
  encodeWord2vecBinary,
  parseFastTextVec,
  parseGloveText,
  parseWord2vecBinary,
  parseWord2vecText,
  parseWordVectors,
  streamSource,
} from '../src/index';
import { readGloveText, readWord2vecBinary } from '../src/node';

const dir = mkdtempSync(join(tmpdir(), 'sign-emb-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS: [string, number[]][] = [
  ['cat', [0.5, -1.25, 2]],
  ['dog', [1, 0, -0.5]],
  ['café', [1.5, 1.5, -1.5]],
  ['中文', [0.25, 8, -4]],
];
const GLOVE = ROWS.map(([w, v]) => `${w} ${v.join(' ')}`).join('\n') + '\n';
const VEC = `${ROWS.length} 3\n` + GLOVE;
const BIN = encodeWord2vecBinary(new Map(ROWS));

/** `bytes` as an async iterable of chunks of `size` bytes (1: every byte apart, splitting UTF-8 characters). */
async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

function inputs(bytes: Uint8Array): [string, () => WordVectorInput][] {
  return [
    ['Uint8Array', () => bytes],
    ['ArrayBuffer', () => bytes.slice().buffer],
    ['Blob', () => new Blob([bytes])],
    ['ReadableStream', () => new Blob([bytes]).stream()],
    ['async iterable, 1-byte chunks', () => chunks(bytes, 1)],
    ['async iterable, 5-byte chunks', () => chunks(bytes, 5)],
  ];
}

function plain(m: Map<string, Float32Array>): Record<string, number[]> {
  return Object.fromEntries([...m].map(([w, v]) => [w, Array.from(v)]));
}

const WANT = Object.fromEntries(ROWS);

describe('parse* over every kind of input', () => {
  const enc = new TextEncoder();
  for (const [kind, make] of inputs(enc.encode(GLOVE))) {
    it(`GloVe from ${kind}`, async () => {
      const r = await parseGloveText(make(), { source: 'g.txt' });
      expect(r.path).toBe('g.txt');
      expect(plain(r.vectors)).toEqual(WANT);
      const few = await parseGloveText(make(), { words: ['中文', 'okapi'] });
      expect(plain(few.vectors)).toEqual({ 中文: WANT['中文'] });
      expect(few.missing).toEqual(['okapi']);
    });
  }
  for (const [kind, make] of inputs(enc.encode(VEC))) {
    it(`word2vec text / .vec from ${kind}`, async () => {
      expect(plain((await parseWord2vecText(make())).vectors)).toEqual(WANT);
      expect(plain((await parseFastTextVec(make())).vectors)).toEqual(WANT);
    });
  }
  for (const [kind, make] of inputs(BIN)) {
    it(`word2vec binary from ${kind}`, async () => {
      const r = await parseWord2vecBinary(make(), { source: 'v.bin' });
      expect(r.format).toBe('word2vec-bin');
      expect(plain(r.vectors)).toEqual(WANT);
    });
  }

  it('the text of a file as a string; the same vectors as the Node file readers', async () => {
    const g = join(dir, 'g.txt');
    writeFileSync(g, GLOVE);
    const b = join(dir, 'v.bin');
    writeFileSync(b, BIN);
    expect(plain((await parseGloveText(GLOVE)).vectors)).toEqual(plain((await readGloveText(g)).vectors));
    expect(plain((await parseWord2vecBinary(BIN)).vectors)).toEqual(plain((await readWord2vecBinary(b)).vectors));
  });

  it('a truncated stream is reported (no size to check the header against first)', async () => {
    await expect(parseWord2vecBinary(chunks(BIN.subarray(0, BIN.length - 5), 7), { source: 'cut.bin' })).rejects.toThrow(
      /parseWord2vecBinary: cut\.bin is truncated: word 3 \('中文', byte \d+\) needs 12 bytes of values, the file has \d+ left/,
    );
    await expect(parseWord2vecText(chunks(new TextEncoder().encode(`9 3\n${GLOVE}`), 4), { source: 'cut.txt' })).rejects.toThrow(
      'parseWord2vecText: cut.txt declares 9 words in its header but has 4',
    );
    // with a known size, the header is checked before any row
    await expect(parseWord2vecText(`9 3\n${GLOVE}`, { source: 'cut.txt' })).rejects.toThrow(/cut\.txt line 1: the header declares 9 words of dimension 3/);
  });

  it('a stream source cannot go backwards, and stops reading when closed', async () => {
    const src = streamSource(chunks(BIN, 3), 's');
    expect(Array.from(await src.read(2, 4))).toEqual(Array.from(BIN.subarray(2, 6)));
    await expect(src.read(0, 1)).rejects.toThrow('s: a stream cannot be read backwards (byte 0 after 2)');
    await src.close();
    expect((await src.read(10, 4)).length).toBe(0);
  });

  it('refuses what is not data, naming the source', async () => {
    await expect(parseGloveText(42 as never, { source: 'x' })).rejects.toThrow(/x: cannot read a number: expected the file's text, bytes/);
    async function* strings() {
      yield 'cat 1 2' as unknown as Uint8Array;
    }
    await expect(parseGloveText(strings(), { source: 'y' })).rejects.toThrow('y: the stream gave a string chunk, expected bytes (Uint8Array)');
    await expect(parseWordVectors(GLOVE, 'npy' as never)).rejects.toThrow(/unknown word-vector format 'npy'; known: 'word2vec-bin'/);
  });
});

describe('a word2vec / .vec header read as GloVe', () => {
  it('is refused, with and without a word filter (the filter used to skip line 1 unseen)', async () => {
    for (const opts of [{}, { words: ['cat'] }]) {
      await expect(parseGloveText(VEC, { ...opts, source: 'vectors.vec' })).rejects.toThrow(
        "parseGloveText: vectors.vec line 1: '4 3' is a '<count> <dimension>' header: this is a word2vec text or fastText .vec file, not GloVe (read it with format 'word2vec-text' or 'fasttext-vec')",
      );
    }
    const p = join(dir, 'vectors.vec');
    writeFileSync(p, VEC);
    await expect(readGloveText(p, { words: ['dog'] })).rejects.toThrow(`readGloveText: ${p} line 1: '4 3' is a '<count> <dimension>' header`);
  });

  it('a GloVe file whose first word is a number is still GloVe', async () => {
    const r = await parseGloveText('2021 0.5 1 2\ncat 1 2 3\n');
    expect(plain(r.vectors)).toEqual({ 2021: [0.5, 1, 2], cat: [1, 2, 3] });
  });
});

describe('detectWordVectorFormat', () => {
  const enc = new TextEncoder();
  it('tells the formats apart from their first bytes', () => {
    expect(detectWordVectorFormat(enc.encode(GLOVE))).toBe('glove');
    expect(detectWordVectorFormat(enc.encode(VEC))).toBe('word2vec-text');
    expect(detectWordVectorFormat(BIN)).toBe('word2vec-bin');
    const ft = new Uint8Array(64);
    new DataView(ft.buffer).setInt32(0, 793712314, true);
    expect(detectWordVectorFormat(ft)).toBe('fasttext-bin');
    // a head cut inside a multi-byte character is still text
    const head = enc.encode(VEC);
    expect(detectWordVectorFormat(head.subarray(0, head.indexOf(0xe4) + 1))).toBe('word2vec-text');
  });
  it('answers undefined for what is none of them', () => {
    expect(detectWordVectorFormat(new Uint8Array(0))).toBeUndefined();
    expect(detectWordVectorFormat(new Uint8Array([0, 1, 2, 3, 0xff, 0xfe, 10]))).toBeUndefined();
    expect(detectWordVectorFormat(enc.encode('just-one-token\n'))).toBeUndefined();
  });
});

describe('EmbeddingTable.parse', () => {
  const json = { format: 'sign-embedding-table', version: 1, classNames: ['a', 'b'], dimension: 2, vectors: [[1, 2], [3, 4]] };
  it('reads text or UTF-8 bytes, skipping a byte-order mark', () => {
    const t = EmbeddingTable.parse(JSON.stringify(json), 'classes.json');
    expect(t.source).toBe('classes.json');
    expect(Array.from(t.vector('b'))).toEqual([3, 4]);
    const u = EmbeddingTable.parse(new TextEncoder().encode('\uFEFF' + JSON.stringify(json)));
    expect(u.classNames).toEqual(['a', 'b']);
    expect(EmbeddingTable.parse(new TextEncoder().encode(JSON.stringify(json)).buffer).size).toBe(2);
  });
  it('refuses bad JSON and inputs over the size bound, naming the source', () => {
    expect(() => EmbeddingTable.parse('{"format":', 'x.json')).toThrow(/EmbeddingTable\.parse: x\.json is not valid JSON/);
    expect(() => EmbeddingTable.parse(42 as never, 'x.json')).toThrow("EmbeddingTable.parse: x.json: expected the table's JSON text or bytes, got number");
    // a view that claims more bytes than the bound, without allocating them
    const huge = { byteLength: MAX_EMBEDDING_TABLE_BYTES + 1 } as Uint8Array;
    Object.setPrototypeOf(huge, Uint8Array.prototype);
    expect(() => EmbeddingTable.parse(huge, 'big.json')).toThrow(
      `EmbeddingTable.parse: big.json has ${MAX_EMBEDDING_TABLE_BYTES + 1} bytes, more than the ${MAX_EMBEDDING_TABLE_BYTES} an embedding table may have`,
    );
  });
});
