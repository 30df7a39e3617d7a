/**
 * Corpus generators for the idx fuzz suite: valid idx files (raw or gzip'd) and hostile ones
 * that know the format (a header that lies about the shape, inside a valid gzip stream; gzip
 * bombs whose data inflates far past what the header declares; multi-member and padded streams).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

/** Raw idx bytes: header (`dims` as declared) then `data` as given (which may not match). */
export function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const out = Buffer.alloc(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => out.writeUInt32BE(d >>> 0, 4 + 4 * i));
  out.set(data, 4 + 4 * dims.length);
  return new Uint8Array(out);
}

const dimsArb = fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 4 });

/** A valid idx array of up to 7^4 bytes, raw or gzip'd (at a random level). */
export const idxFiles = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(dimsArb, fc.integer(), fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }))
    .map(([dims, seed, level]) => {
      const size = dims.reduce((a, b) => a * b, 1);
      const data = new Uint8Array(size);
      let s = seed >>> 0;
      for (let i = 0; i < size; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        data[i] = s >>> 24;
      }
      const raw = idxBytes(dims, data);
      return level === undefined ? raw : new Uint8Array(gzipSync(raw, { level }));
    });

const hugeDim = fc.constantFrom(0xffffffff, 0x7fffffff, 60000, 1 << 24, 1 << 30);

/** A valid gzip stream of an idx file whose header declares a shape its data does not have. */
export const lyingGzip = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.array(hugeDim, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2000 }))
    .map(([dims, n]) => new Uint8Array(gzipSync(idxBytes(dims, new Uint8Array(n)))));

/**
 * A gzip bomb: a small header (e.g. [10, 28, 28]) and then megabytes of zeros, which compress
 * about 1000:1. The reader must stop inflating at the declared size.
 */
export const gzipBomb = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 8 }))
    .map(([dims, mib]) => new Uint8Array(gzipSync(idxBytes(dims, new Uint8Array(mib * 1024 * 1024)), { level: 9 })));

/** A raw idx header declaring up to 2^32-1 per dimension, with a little data. */
export const lyingRaw = (): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.array(hugeDim, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 64 }))
    .map(([dims, data]) => idxBytes(dims, data));

/** Two gzip members, or a gzip stream with trailing bytes. */
export const oddGzip = (): fc.Arbitrary<Uint8Array> =>
  fc.tuple(idxFiles(), fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.boolean()).map(([f, tail, twice]) => {
    const gz = f[0] === 0x1f ? f : new Uint8Array(gzipSync(f));
    return new Uint8Array(Buffer.concat([gz, twice ? gzipSync(tail) : tail]));
  });
