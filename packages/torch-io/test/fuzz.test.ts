import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { unzipSync, zipSync } from 'fflate';
import { readdirSync } from 'node:fs';
import { initBackend } from '@sign/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PthError, namedTensors, parsePth, toTfTensors } from '../src';
import { FIXTURES, fixture } from './helpers';

/**
 * Mutated fixtures (the corpus: every .pth in test/fixtures, zip and legacy, written by PyTorch)
 * must give a clear error naming the file or a valid result: never a raw TypeError/RangeError,
 * a hang or a leaked tensor. Valid results also go through namedTensors and toTfTensors.
 * Seeded and bounded in time; the counts are printed.
 */
const SEED = 20211010;
const TIME_LIMIT_MS = 8_000; // per property; two properties
const corpus = readdirSync(FIXTURES)
  .filter((n) => n.endsWith('.pth'))
  .sort()
  .map((name) => ({ name, bytes: fixture(name) }));

beforeAll(async () => {
  await initBackend('cpu');
});

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64max'; at: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; data: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number };

// Unbiased positions: fast-check's bias towards 0 would mostly mutate the first bytes.
const position = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((x) => x / 2 ** 30);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('u32' as const),
    at: position,
    value: fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 2 ** 29), fc.integer({ min: 0, max: 0xffffffff })),
  }),
  fc.record({ kind: fc.constant('u64max' as const), at: position }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, data: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 256 }) }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = new Uint8Array(input);
  for (const m of mutations) {
    const at = Math.floor(m.at * b.length);
    switch (m.kind) {
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'flip':
        if (at < b.length) b[at] ^= 1 << m.bit;
        break;
      case 'byte':
        if (at < b.length) b[at] = m.value;
        break;
      case 'u32':
        if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, m.value, true);
        break;
      case 'u64max':
        b.fill(0xff, at, Math.min(b.length, at + 8));
        break;
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.length)]);
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.data, ...b.subarray(at)]);
        break;
      case 'duplicate':
        b = Uint8Array.from([...b.subarray(0, at + m.length), ...b.subarray(at)]);
        break;
    }
  }
  return b;
}

interface Tally {
  cases: number;
  valid: number;
  refused: Map<string, number>;
}

/** Reads `data` as `source`; returns 'valid' or the refusal's kind. Fails on anything that is not a clear refusal. */
function outcome(data: Uint8Array, source: string): string {
  const before = tf.memory().numTensors;
  try {
    const pth = parsePth(data, { source });
    const { tensors } = namedTensors(pth.value, { source, maxVisits: 1_000_000 });
    try {
      tf.dispose(Object.values(toTfTensors(tensors, source)));
    } catch (e) {
      // int64 values beyond int32 (dtypes.pth has some on purpose) are refused naming tensor and file
      if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError || !e.message.includes(source)) throw e;
    }
    return 'valid';
  } catch (e) {
    if (!(e instanceof PthError) || !e.message.startsWith(`${source}: `)) {
      throw new Error(`${source}: not a clear refusal: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    }
    const message = e.message.slice(source.length + 2);
    return message.split(/[:,('"[]/)[0].split(' ').slice(0, 4).join(' ').trim() || message.slice(0, 24);
  } finally {
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) throw new Error(`${source}: ${leaked} tensor(s) leaked`);
  }
}

function report(what: string, t: Tally): void {
  const kinds = [...t.refused].sort((a, b) => b[1] - a[1]);
  console.log(
    `fuzz ${what}: seed ${SEED}, ${t.cases} cases: ${t.valid} valid, ${t.cases - t.valid} refused naming the file, 0 raw errors, 0 leaks\n` +
      kinds.map(([k, n]) => `  ${n} × ${k}`).join('\n'),
  );
}

describe('fuzz: mutated .pth files', () => {
  it('whole files: a clear refusal naming the file, or a valid result', () => {
    const tally: Tally = { cases: 0, valid: 0, refused: new Map() };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        const source = `fuzz/${corpus[i].name}`;
        const o = outcome(mutate(corpus[i].bytes, ms), source);
        tally.cases++;
        if (o === 'valid') tally.valid++;
        else tally.refused.set(o, (tally.refused.get(o) ?? 0) + 1);
      }),
      { seed: SEED, numRuns: 6000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    report('whole files', tally);
    expect(tally.cases).toBeGreaterThan(500);
  });

  it('data.pkl alone (re-zipped with the original storages): the unpickler and the tensor checks', () => {
    const zips = corpus
      .filter((c) => c.bytes[0] === 0x50)
      .map((c) => ({ name: c.name, entries: unzipSync(c.bytes) }))
      .filter((c) => Object.keys(c.entries).some((n) => n.endsWith('/data.pkl')));
    const tally: Tally = { cases: 0, valid: 0, refused: new Map() };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: zips.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        const entries: Record<string, Uint8Array> = { ...zips[i].entries };
        const pkl = Object.keys(entries).find((n) => n.endsWith('/data.pkl'))!;
        entries[pkl] = mutate(entries[pkl], ms);
        const source = `fuzz-pkl/${zips[i].name}`;
        const o = outcome(zipSync(entries, { level: 0 }), source);
        tally.cases++;
        if (o === 'valid') tally.valid++;
        else tally.refused.set(o, (tally.refused.get(o) ?? 0) + 1);
      }),
      { seed: SEED + 1, numRuns: 6000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
    );
    report('data.pkl', tally);
    expect(tally.cases).toBeGreaterThan(500);
  });
});
