/**
 * Corpus generators for the fuzz suite: fast-check arbitraries of valid word-vector files in
 * every format this package reads, and of hostile ones that know the format (headers that lie,
 * unterminated dictionary entries, enormous dimensions). The fuzz harness mutates the valid ones.
 */
import fc from 'fast-check';
import { EMBEDDING_TABLE_FORMAT, EMBEDDING_TABLE_VERSION } from '../../src/index';

const enc = new TextEncoder();

/** Characters of generated words: ASCII, accented, CJK, an emoji, punctuation; no white space or NUL. */
const WORD_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,\'', 'é', 'ü', 'ß', '中', '文', '🐄', 'ø'];

export const wordArb = fc.string({ unit: fc.constantFrom(...WORD_CHARS), minLength: 1, maxLength: 10 });

/** A vocabulary: distinct words with vectors of one dimension. */
export interface Vocab {
  dimension: number;
  entries: [string, number[]][];
}

export const vocabArb = (maxWords = 12, maxDimension = 8): fc.Arbitrary<Vocab> =>
  fc.integer({ min: 1, max: maxDimension }).chain((dimension) =>
    fc
      .uniqueArray(
        fc.tuple(wordArb, fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: dimension, maxLength: dimension })),
        { selector: (e) => e[0], minLength: 0, maxLength: maxWords },
      )
      .map((entries) => ({ dimension, entries })),
  );

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function float32le(values: number[]): Uint8Array {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return new Uint8Array(b);
}

/** word2vec binary bytes; `header` overrides the declared `[count, dimension]`. */
export function word2vecBinary(v: Vocab, opts: { header?: [string, string]; newline?: boolean } = {}): Uint8Array {
  const [count, dim] = opts.header ?? [String(v.entries.length), String(v.dimension)];
  const parts: Uint8Array[] = [enc.encode(`${count} ${dim}\n`)];
  for (const [w, vec] of v.entries) {
    parts.push(enc.encode(`${w} `), float32le(vec));
    if (opts.newline !== false) parts.push(enc.encode('\n'));
  }
  return concat(parts);
}

export const word2vecBinaryFiles = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(vocabArb(), fc.boolean()).map(([v, newline]) => word2vecBinary(v, { newline }));

const formatNumber = (x: number, style: number): string =>
  style === 0 ? String(x) : style === 1 ? x.toExponential(4) : x.toFixed(6);

/** Text vectors: `word v1 … vD` per line, with an optional `<count> <dim>` header line. */
export function textVectors(
  v: Vocab,
  opts: { header?: [string, string] | false; sep?: string; eol?: string; style?: number; finalEol?: boolean; bom?: boolean } = {},
): Uint8Array {
  const { sep = ' ', eol = '\n', style = 0, finalEol = true, bom = false } = opts;
  const lines: string[] = [];
  if (opts.header !== false) {
    const [count, dim] = opts.header ?? [String(v.entries.length), String(v.dimension)];
    lines.push(`${count} ${dim}`);
  }
  for (const [w, vec] of v.entries) lines.push([w, ...vec.map((x) => formatNumber(x, style))].join(sep));
  const text = (bom ? '\uFEFF' : '') + lines.join(eol) + (finalEol ? eol : '');
  return enc.encode(text);
}

const textStyle = fc.record({
  sep: fc.constantFrom(' ', '\t', '  '),
  eol: fc.constantFrom('\n', '\r\n'),
  style: fc.integer({ min: 0, max: 2 }),
  finalEol: fc.boolean(),
  bom: fc.boolean(),
});

/** word2vec text and fastText .vec files (header line). */
export const headerTextFiles = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(vocabArb(), textStyle).map(([v, s]) => textVectors(v, s));

/** GloVe files (no header; at least one word, or the file has no vectors). */
export const gloveFiles = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(vocabArb().filter((v) => v.entries.length > 0), textStyle).map(([v, s]) => textVectors(v, { ...s, header: false }));

/** Header numbers that lie: huge, the old word2vec abort range (2^29..2^30), zero. */
export const hugeCount = fc.oneof(
  fc.constantFrom('0', '536870913', '1073741823', '1073741825', '4294967297', '100001', '99999999999999999999999'),
  fc.bigInt({ min: 2n, max: 2n ** 70n }).map(String),
);

export const lyingWord2vecBinary = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(vocabArb(), hugeCount, fc.boolean())
    .map(([v, n, dimLies]) =>
      word2vecBinary(v, { header: dimLies ? [String(v.entries.length), n] : [n, String(v.dimension)] }),
    );

export const lyingHeaderText = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(vocabArb(), hugeCount, fc.boolean())
    .map(([v, n, dimLies]) => textVectors(v, { header: dimLies ? [String(v.entries.length), n] : [n, String(v.dimension)] }));

/**
 * The finding of issue 10: a header dimension between 2^29 and 2^30 (or above), followed by more
 * data than the reader's first buffer holds, so that it tries to read gigabytes in one call
 * (which aborted Node: `Assertion failed: args[3]->IsInt32()`).
 */
export const lyingWord2vecBinaryLarge = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.constantFrom('536870913', '805306368', '1073741823', '1073741825', '2147483649'), fc.integer({ min: 1, max: 3 }))
    .map(([dim, count]) => concat([enc.encode(`${count} ${dim}\ncow `), new Uint8Array(5 * 1024 * 1024)]));

/** A line with no end: binary junk or a huge token, read as text. */
export const endlessLine = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(fc.integer({ min: 70_000, max: 300_000 }), fc.constantFrom('a', '1 ', 'x\t')).map(([n, unit]) => enc.encode(unit.repeat(n)));

/** A GloVe line with more values than the dimension cap. */
export const wideGlove = (): fc.Arbitrary<Uint8Array> =>
  fc.integer({ min: 100_001, max: 110_000 }).map((n) => enc.encode(`w${' 0'.repeat(n)}\n`));

// ---- fastText .bin --------------------------------------------------------------------------

/** A fastText model as this generator writes it (dense, not quantized). */
export interface FastTextModel {
  dimension: number;
  bucket: number;
  minn: number;
  maxn: number;
  model: number;
  words: string[];
  /** input: (words + bucket) × dimension, output: words × dimension */
  input: number[];
  output: number[];
}

export const fastTextModelArb = (): fc.Arbitrary<FastTextModel> =>
  fc
    .record({
      dimension: fc.integer({ min: 1, max: 6 }),
      bucket: fc.integer({ min: 1, max: 12 }),
      ngrams: fc.constantFrom([0, 0], [2, 3], [3, 6], [1, 1]),
      model: fc.constantFrom(1, 2),
      words: fc.uniqueArray(wordArb, { minLength: 0, maxLength: 8 }),
      seed: fc.integer(),
    })
    .map(({ dimension, bucket, ngrams, model, words, seed }) => {
      const all = ['</s>', ...words.filter((w) => w !== '</s>')];
      let s = seed >>> 0;
      const next = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 2 ** 32 - 0.5;
      };
      return {
        dimension,
        bucket,
        minn: ngrams[0],
        maxn: ngrams[1],
        model,
        words: all,
        input: Array.from({ length: (all.length + bucket) * dimension }, next),
        output: Array.from({ length: all.length * dimension }, next),
      };
    });

/**
 * The bytes of a fastText model file (version 12, the layout fastText 0.9 writes): magic,
 * version, the arguments, the dictionary, the input and output matrices. `lie` overrides fields
 * to make hostile files.
 */
export function fastTextBinary(
  m: FastTextModel,
  lie: { dictSize?: number; nwords?: number; pruneidx?: bigint; rows?: bigint; cols?: bigint; unterminated?: boolean; version?: number } = {},
): Uint8Array {
  const parts: Buffer[] = [];
  const i32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v | 0);
    parts.push(b);
  };
  const i64 = (v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt.asIntN(64, v));
    parts.push(b);
  };
  i32(793712314);
  i32(lie.version ?? 12);
  // dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate, then t
  for (const v of [m.dimension, 5, 1, 1, 5, 1, 2, m.model, m.bucket, m.minn, m.maxn, 100]) i32(v);
  const t = Buffer.alloc(8);
  t.writeDoubleLE(1e-4);
  parts.push(t);
  i32(lie.dictSize ?? m.words.length);
  i32(lie.nwords ?? m.words.length);
  i32(0);
  i64(BigInt(m.words.length * 100));
  i64(lie.pruneidx ?? -1n);
  m.words.forEach((w, i) => {
    parts.push(Buffer.from(w, 'utf8'));
    if (!(lie.unterminated && i === m.words.length - 1)) {
      parts.push(Buffer.from([0]));
      i64(100n);
      parts.push(Buffer.from([0]));
    }
  });
  if (lie.unterminated) return new Uint8Array(Buffer.concat(parts));
  parts.push(Buffer.from([0])); // not quantized
  i64(lie.rows ?? BigInt(m.words.length + m.bucket));
  i64(lie.cols ?? BigInt(m.dimension));
  parts.push(Buffer.from(float32le(m.input)));
  parts.push(Buffer.from([0])); // qout
  i64(BigInt(m.words.length));
  i64(BigInt(m.dimension));
  parts.push(Buffer.from(float32le(m.output)));
  return new Uint8Array(Buffer.concat(parts));
}

export const fastTextFiles = (): fc.Arbitrary<Uint8Array> => fastTextModelArb().map((m) => fastTextBinary(m));

const hugeInt32 = fc.constantFrom(0x7fffffff, 0x40000001, 1_000_000, -1, -2147483648);
const hugeInt64 = fc.constantFrom(2n ** 62n, 2n ** 40n, 2n ** 31n, -5n, 2n ** 63n - 1n);

export const lyingFastText = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(
      fastTextModelArb(),
      fc.oneof(
        hugeInt32.map((v) => ({ dictSize: v })),
        hugeInt32.map((v) => ({ nwords: v })),
        hugeInt64.map((v) => ({ pruneidx: v })),
        hugeInt64.map((v) => ({ rows: v })),
        hugeInt64.map((v) => ({ cols: v })),
        fc.constant({ unterminated: true }),
        fc.constantFrom(10, 13, 0x7fffffff).map((v) => ({ version: v })),
      ),
    )
    .map(([m, lie]) => fastTextBinary(m, lie));

// ---- EmbeddingTable JSON ----------------------------------------------------------------------

export const tableFiles = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(vocabArb(8, 6), fc.boolean(), fc.boolean())
    .map(([v, pretty, bom]) => {
      const obj = {
        format: EMBEDDING_TABLE_FORMAT,
        version: EMBEDDING_TABLE_VERSION,
        classNames: v.entries.map((e) => e[0]),
        dimension: v.dimension,
        provenance: { sources: ['fuzz'] },
        vectors: v.entries.map((e) => e[1]),
      };
      return enc.encode((bom ? '\uFEFF' : '') + JSON.stringify(obj, null, pretty ? 2 : undefined) + '\n');
    });

export const lyingTables = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(hugeCount, fc.constantFrom('[]', '[[1e999]]', '[[1,2]]', 'null', '[[null]]')).map(([dim, vectors]) =>
    enc.encode(
      `{"format":"${EMBEDDING_TABLE_FORMAT}","version":1,"classNames":${vectors === '[]' ? '[]' : '["a"]'},"dimension":${dim},"vectors":${vectors}}`,
    ),
  );
