import fc from 'fast-check';

/**
 * Byte-level mutations of a valid file, as fast-check arbitraries. Each mutation is plain data
 * (so that a failing case prints what was done to the file) and is applied by {@link applyMutation}.
 * Positions are drawn as naturals and taken modulo the file length, so one mutation fits every
 * file. Together they cover what the readers must survive: truncation, flipped bytes, huge or
 * zero counts in binary headers (little- and big-endian integers near the start), huge, zero,
 * negative, NaN and infinite numbers in text (every ASCII number can be replaced), NaN and
 * infinite float32/float64 values, byte-order marks, wrong magic numbers, inserted, deleted and
 * repeated ranges, trailing garbage and empty files.
 */
export type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number[]; xor: number[] }
  | { op: 'int'; at: number; nearStart: boolean; width: 1 | 2 | 4 | 8; value: bigint; bigEndian: boolean }
  | { op: 'number'; which: number; text: string }
  | { op: 'float'; at: number; width: 4 | 8; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'repeat'; at: number; length: number; times: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'fill'; at: number; length: number; byte: number }
  | { op: 'bom'; utf16: boolean }
  | { op: 'magic'; bytes: Uint8Array }
  | { op: 'empty' };

/** Integer values that break headers: zero, one, all ones, sign bits, the int32/uint32/2^53 edges. */
const EDGE_INTS: bigint[] = [
  0n,
  1n,
  -1n,
  255n,
  65535n,
  2n ** 29n + 3n,
  2n ** 30n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
];

/** Replacements for a number in a text file. */
const NUMBER_TEXTS = [
  '0',
  '-1',
  '1e999',
  '-1e999',
  'NaN',
  'nan',
  'inf',
  'Infinity',
  '4294967296',
  '536870913',
  '99999999999999999999999',
  '1.5',
  '0x10',
  '',
  '1e5',
  '100001',
];

/** Float values that break vectors and weights. */
const EDGE_FLOATS = [NaN, Infinity, -Infinity, 3.4e38, -0, 1e-45];

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
/**
 * A position, taken modulo the file length. Unbiased: fast-check's bias towards small numbers
 * would mostly hit the first bytes (the `int` mutation has its own `nearStart` for headers).
 */
const position = fc.noBias(fc.nat());

/** One mutation. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(position, fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 })
      .map((pairs) => ({ op: 'flip' as const, at: pairs.map((p) => p[0]), xor: pairs.map((p) => p[1]) })),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('int' as const),
      at: position,
      nearStart: fc.boolean(),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
      value: fc.oneof(fc.constantFrom(...EDGE_INTS), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })),
      bigEndian: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('number' as const),
      which: fc.nat(64),
      text: fc.oneof(fc.constantFrom(...NUMBER_TEXTS), fc.integer().map(String)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('float' as const),
      at: position,
      width: fc.constantFrom(4 as const, 8 as const),
      value: fc.constantFrom(...EDGE_FLOATS),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: bytes(32) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('repeat' as const),
      at: position,
      length: fc.integer({ min: 1, max: 64 }),
      times: fc.integer({ min: 2, max: 50 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('append' as const), bytes: bytes(64) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('fill' as const),
      at: position,
      length: fc.integer({ min: 1, max: 16 }),
      byte: fc.constantFrom(0x00, 0xff, 0x20, 0x0a, 0x7f),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bom' as const), utf16: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('magic' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'empty' as const }) },
);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Applies one mutation to a copy of `b`. */
export function applyMutation(b: Uint8Array, m: Mutation): Uint8Array {
  const n = b.length;
  const pos = (at: number, span = n) => (span <= 0 ? 0 : at % span);
  switch (m.op) {
    case 'truncate':
      return b.slice(0, pos(m.at, n + 1));
    case 'flip': {
      const out = b.slice();
      if (n > 0) m.at.forEach((a, i) => (out[pos(a)] ^= m.xor[i]));
      return out;
    }
    case 'int': {
      if (n < m.width) return b.slice();
      const out = b.slice();
      const at = pos(m.at, Math.min(m.nearStart ? 64 : n, n) - m.width + 1);
      const v = BigInt.asUintN(8 * m.width, m.value);
      for (let i = 0; i < m.width; i++) {
        const byte = Number((v >> BigInt(8 * i)) & 0xffn);
        out[m.bigEndian ? at + m.width - 1 - i : at + i] = byte;
      }
      return out;
    }
    case 'number': {
      const text = Buffer.from(b).toString('latin1');
      const runs = [...text.matchAll(/\d+/g)];
      if (runs.length === 0) return b.slice();
      const r = runs[m.which % runs.length];
      return concat(b.subarray(0, r.index), Buffer.from(m.text, 'latin1'), b.subarray(r.index + r[0].length));
    }
    case 'float': {
      if (n < m.width) return b.slice();
      const out = b.slice();
      const at = pos(m.at, Math.floor(n / m.width)) * m.width;
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      if (m.width === 4) view.setFloat32(at, m.value, true);
      else view.setFloat64(at, m.value, true);
      return out;
    }
    case 'insert': {
      const at = pos(m.at, n + 1);
      return concat(b.subarray(0, at), m.bytes, b.subarray(at));
    }
    case 'delete': {
      const at = pos(m.at, n + 1);
      return concat(b.subarray(0, at), b.subarray(at + m.length));
    }
    case 'repeat': {
      const at = pos(m.at, n + 1);
      const chunk = b.subarray(at, at + m.length);
      return concat(b.subarray(0, at), ...Array.from({ length: m.times }, () => chunk), b.subarray(at + chunk.length));
    }
    case 'append':
      return concat(b, m.bytes);
    case 'fill': {
      const out = b.slice();
      const at = pos(m.at);
      out.fill(m.byte, at, at + m.length);
      return out;
    }
    case 'bom':
      return concat(m.utf16 ? Uint8Array.of(0xff, 0xfe) : Uint8Array.of(0xef, 0xbb, 0xbf), b);
    case 'magic': {
      const out = b.slice();
      out.set(m.bytes.subarray(0, n), 0);
      return out;
    }
    case 'empty':
      return new Uint8Array(0);
  }
}

/** A short description of a mutation, for failure messages. */
export function describeMutation(m: Mutation): string {
  switch (m.op) {
    case 'flip':
      return `flip@${m.at.join(',')}`;
    case 'int':
      return `int${8 * m.width}${m.bigEndian ? 'be' : 'le'}=${m.value}@${m.at}${m.nearStart ? '(start)' : ''}`;
    case 'number':
      return `number#${m.which}='${m.text}'`;
    case 'float':
      return `float${8 * m.width}=${m.value}@${m.at}`;
    case 'insert':
    case 'append':
    case 'magic':
      return `${m.op}(${m.bytes.length} bytes)${'at' in m ? `@${m.at}` : ''}`;
    case 'bom':
      return m.utf16 ? 'bom(utf16)' : 'bom(utf8)';
    case 'truncate':
      return `truncate@${m.at}`;
    case 'delete':
    case 'repeat':
    case 'fill':
      return `${m.op}@${m.at}+${m.length}`;
    case 'empty':
      return 'empty';
  }
}

export interface FuzzCase {
  bytes: Uint8Array;
  how: string;
  variant: number;
}

/** The case arbitrary: valid files, valid files with 1–3 mutations, and the hostile files. */
export function caseArbitrary(
  valid: fc.Arbitrary<Uint8Array>,
  opts: { variants?: number; hostile?: Record<string, fc.Arbitrary<Uint8Array>> },
): fc.Arbitrary<FuzzCase> {
  const variant = fc.nat({ max: Math.max(1, opts.variants ?? 1) - 1 });
  const files: fc.WeightedArbitrary<{ bytes: Uint8Array; how: string }>[] = [
    { weight: 2, arbitrary: valid.map((bytes) => ({ bytes, how: 'valid' })) },
    {
      weight: 10,
      arbitrary: fc
        .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
        .map(([b, ms]) => ({ bytes: ms.reduce(applyMutation, b), how: ms.map(describeMutation).join(' + ') })),
    },
  ];
  for (const [label, arb] of Object.entries(opts.hostile ?? {})) {
    files.push({ weight: 1, arbitrary: arb.map((bytes) => ({ bytes, how: `hostile:${label}` })) });
  }
  return fc.tuple(fc.oneof(...files), variant).map(([f, v]) => ({ ...f, variant: v }));
}
