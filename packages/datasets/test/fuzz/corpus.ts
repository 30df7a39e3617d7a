/**
 * Corpus generators for the image fuzz suites (PNG and JPEG through the folder dataset's node io):
 * valid PNGs of every colour type and depth (fast-png), the JPEGs of fixtures/jpeg.json (written by
 * OpenCV), and hostile files that know the formats: PNG IHDRs and JPEG SOF markers that claim
 * huge images (valid checksums, a few bytes of data; the 69-byte PNG of issue 10 is one).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { encode } from 'fast-png';

/** Valid PNGs: 1–24 px a side, grey/grey+alpha/RGB/RGBA at 8 or 16 bits, or a palette. */
export function pngFiles(): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      width: fc.integer({ min: 1, max: 24 }),
      height: fc.integer({ min: 1, max: 24 }),
      channels: fc.constantFrom(1, 2, 3, 4),
      depth: fc.constantFrom(8, 16),
      palette: fc.boolean(),
      seed: fc.integer(),
    })
    .map(({ width, height, channels, depth, palette, seed }) => {
      let s = seed >>> 0;
      const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
      if (palette) {
        const data = Uint8Array.from({ length: width * height }, () => next() & 3);
        return encode({ width, height, data, channels: 1, depth: 8, palette: [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]] });
      }
      const n = width * height * channels;
      const data = depth === 8 ? Uint8Array.from({ length: n }, next) : Uint16Array.from({ length: n }, () => next() * 257);
      return encode({ width, height, data, channels, depth: depth as 8 | 16 });
    });
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG whose IHDR (valid CRC) claims width × height, with `idat` as its image data. */
export function lyingPng(width: number, height: number, colourType = 0, idat = deflateSync(new Uint8Array(2))): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(idat)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** PNG headers that claim huge (or zero) sizes: 1×100,000,000 (issue 10's 69 bytes), 50,000², 2³¹−1², … */
export function lyingPngs(): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.constantFrom<[number, number]>([1, 100_000_000], [50_000, 50_000], [2 ** 31 - 1, 2 ** 31 - 1], [0, 5], [5, 0], [2 ** 32 - 1, 1], [10_000, 9_000], [3_000, 3_000]),
      fc.constantFrom(0, 2, 3, 4, 6, 7),
    )
    .map(([[w, h], type]) => lyingPng(w, h, type));
}

const jpegFixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'jpeg.json'), 'utf8')) as { cases: Array<{ jpeg: string }> };
const JPEGS = jpegFixture.cases.map((c) => new Uint8Array(Buffer.from(c.jpeg, 'base64')));

/** Valid JPEGs (grey and colour, baseline and progressive as OpenCV wrote them). */
export function jpegFiles(): fc.Arbitrary<Uint8Array> {
  return fc.constantFrom(...JPEGS);
}

/** A JPEG whose first SOF marker claims height × width (the entropy-coded data unchanged). */
export function lyingJpeg(bytes: Uint8Array, height: number, width: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1];
    const len = (out[i + 2] << 8) | out[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out[i + 5] = height >> 8;
      out[i + 6] = height & 0xff;
      out[i + 7] = width >> 8;
      out[i + 8] = width & 0xff;
      return out;
    }
    i += 2 + len;
  }
  return out;
}

/** JPEG headers that claim 65,535², 10,000², 1×65,535, 0×n. */
export function lyingJpegs(): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(jpegFiles(), fc.constantFrom<[number, number]>([65_535, 65_535], [10_000, 10_000], [1, 65_535], [0, 16], [16, 0], [3_000, 3_000]))
    .map(([b, [h, w]]) => lyingJpeg(b, h, w));
}
