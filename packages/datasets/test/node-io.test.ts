import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS, joinPath } from '../src/index';
import { createNodeIo, nodeIo } from '../src/node';

let dir: string;
const rgb = Uint8Array.from({ length: 3 * 4 * 3 }, (_, i) => (i * 23) % 256); // 3×4 RGB

/** A PNG whose IHDR claims width×height but whose data is a few bytes: a decompression-bomb header. */
function bombPng(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grey
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sign-datasets-io-'));
  await sharp(Buffer.from(rgb), { raw: { width: 4, height: 3, channels: 3 } }).png().toFile(join(dir, 'rgb.png'));
  await sharp(Buffer.from(rgb), { raw: { width: 4, height: 3, channels: 3 } }).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toFile(join(dir, 'rgb.jpg'));
  const rgba = new Uint8Array(4 * 3 * 4).map((_, i) => (i % 4 === 3 ? 128 : rgb[Math.floor(i / 4) * 3 + (i % 4)]!));
  await sharp(Buffer.from(rgba), { raw: { width: 4, height: 3, channels: 4 } }).png().toFile(join(dir, 'rgba.png'));
  writeFileSync(join(dir, 'grey.png'), encodePng({ width: 3, height: 2, data: Uint8Array.from([0, 1, 2, 3, 255, 7]), channels: 1, depth: 8 }));
  writeFileSync(join(dir, 'grey16.png'), encodePng({ width: 2, height: 1, data: Uint16Array.from([0, 65535]), channels: 1, depth: 16 }));
  writeFileSync(join(dir, 'greyalpha.png'), encodePng({ width: 1, height: 1, data: Uint8Array.from([5, 255]), channels: 2, depth: 8 }));
  writeFileSync(join(dir, 'palette.png'), encodePng({ width: 3, height: 2, data: Uint8Array.from([0, 1, 2, 3, 2, 1]), channels: 1, depth: 8, palette: [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]] }));
  // 4-bit palette: indices packed two per byte, rows padded to whole bytes (5 wide → 3 bytes)
  writeFileSync(join(dir, 'palette4.png'), encodePng({ width: 5, height: 2, data: Uint8Array.from([0x01, 0x23, 0x10, 0x32, 0x10, 0x20]), channels: 1, depth: 4, palette: Array.from({ length: 4 }, () => [1, 2, 3]) as [number, number, number][] }));
  writeFileSync(join(dir, 'bomb.png'), bombPng(20000, 20000));
  writeFileSync(join(dir, 'notes.png'), 'this is text, not an image');
  writeFileSync(join(dir, 'empty.png'), '');
  mkdirSync(join(dir, 'sub'));
  await sharp({ create: { width: 2, height: 2, channels: 3, background: '#ff0000' } }).webp().toFile(join(dir, 'image.webp'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nodeIo', () => {
  it('lists files (not folders), sorted; errors name the folder', async () => {
    const names = await nodeIo.list(dir);
    expect(names).toContain('rgb.png');
    expect(names).not.toContain('sub');
    expect(names).toEqual([...names].sort());
    await expect(nodeIo.list(join(dir, 'nope'))).rejects.toThrow(`${join(dir, 'nope')}: no such folder`);
    await expect(nodeIo.list(join(dir, 'rgb.png'))).rejects.toThrow(/is a file, not a folder/);
    expect(await nodeIo.exists(join(dir, 'sub'))).toBe(true);
    expect(await nodeIo.exists(join(dir, 'nope'))).toBe(false);
    await expect(nodeIo.readText(join(dir, 'nope.json'))).rejects.toThrow(/nope\.json: no such file/);
  });

  it('reads headers without decoding', async () => {
    expect(await nodeIo.imageInfo(join(dir, 'rgb.jpg'))).toEqual({ format: 'jpeg', width: 4, height: 3, channels: 3, palette: false, bitDepth: 8 });
    expect(await nodeIo.imageInfo(join(dir, 'palette4.png'))).toMatchObject({ format: 'png', width: 5, height: 2, palette: true, bitDepth: 4 });
    expect(await nodeIo.imageInfo(join(dir, 'bomb.png'))).toMatchObject({ width: 20000, height: 20000 });
  });

  it('decodes PNG and JPEG images to 8-bit grey or RGB, alpha dropped', async () => {
    const png = await nodeIo.decodeImage(join(dir, 'rgb.png'));
    expect([png.width, png.height, png.channels]).toEqual([4, 3, 3]);
    expect(Array.from(png.data)).toEqual(Array.from(rgb));
    const rgbaOut = await nodeIo.decodeImage(join(dir, 'rgba.png'));
    expect(rgbaOut.channels).toBe(3);
    expect(Array.from(rgbaOut.data)).toEqual(Array.from(rgb));
    const jpg = await nodeIo.decodeImage(join(dir, 'rgb.jpg'));
    expect([jpg.width, jpg.height, jpg.channels]).toEqual([4, 3, 3]);
    let maxErr = 0;
    for (let i = 0; i < rgb.length; i++) maxErr = Math.max(maxErr, Math.abs(jpg.data[i]! - rgb[i]!));
    expect(maxErr).toBeLessThan(12); // lossy, but the same picture
    expect(maxErr).toBeGreaterThan(0); // really decoded from the JPEG
    const grey = await nodeIo.decodeImage(join(dir, 'grey.png'));
    expect([grey.channels, ...grey.data]).toEqual([1, 0, 1, 2, 3, 255, 7]);
    const g16 = await nodeIo.decodeImage(join(dir, 'grey16.png'));
    expect([g16.channels, ...g16.data]).toEqual([1, 0, 255]);
    const pal = await nodeIo.decodeImage(join(dir, 'palette.png'));
    expect([pal.channels, ...pal.data.subarray(0, 6)]).toEqual([3, 0, 0, 0, 255, 0, 0]);
  });

  it('decodes label PNGs to values / palette indices, not colours', async () => {
    expect(Array.from((await nodeIo.decodeLabel(join(dir, 'grey.png'))).data)).toEqual([0, 1, 2, 3, 255, 7]);
    expect(Array.from((await nodeIo.decodeLabel(join(dir, 'palette.png'))).data)).toEqual([0, 1, 2, 3, 2, 1]);
    const p4 = await nodeIo.decodeLabel(join(dir, 'palette4.png'));
    expect([p4.width, p4.height, ...p4.data]).toEqual([5, 2, 0, 1, 2, 3, 1, 3, 2, 1, 0, 2]);
  });

  it('refuses label files that are not 8-bit grey or palette PNGs, naming the file', async () => {
    await expect(nodeIo.decodeLabel(join(dir, 'rgb.png'))).rejects.toThrow(`${join(dir, 'rgb.png')}: a label map must be an 8-bit grey or a palette PNG whose value (or index) is the class id, got a 8-bit RGB PNG (colour-coded labels must be converted to class ids first)`);
    await expect(nodeIo.decodeLabel(join(dir, 'grey16.png'))).rejects.toThrow(/grey16\.png: .*got a 16-bit grey PNG/);
    await expect(nodeIo.decodeLabel(join(dir, 'greyalpha.png'))).rejects.toThrow(/greyalpha\.png: .*grey\+alpha/);
    await expect(nodeIo.decodeLabel(join(dir, 'rgb.jpg'))).rejects.toThrow(/rgb\.jpg: label maps must be PNG/);
  });

  it('refuses non-images and other formats, naming the file', async () => {
    await expect(nodeIo.imageInfo(join(dir, 'notes.png'))).rejects.toThrow(new RegExp(`^${join(dir, 'notes.png').replace(/[.]/g, '\\.')}: not a readable PNG or JPEG image`));
    await expect(nodeIo.decodeImage(join(dir, 'empty.png'))).rejects.toThrow(/empty\.png: not a readable PNG or JPEG image/);
    await expect(nodeIo.decodeImage(join(dir, 'image.webp'))).rejects.toThrow(/image\.webp: a webp image; only PNG and JPEG are read/);
    await expect(nodeIo.decodeImage(join(dir, 'sub'))).rejects.toThrow(/sub: is a folder, not a file/);
  });

  it('checks the pixel limit from the header before decoding (default: Pillow’s 89,478,485)', async () => {
    expect(nodeIo.maxPixels).toBe(DEFAULT_MAX_PIXELS);
    expect(DEFAULT_MAX_PIXELS).toBe(89_478_485);
    // the bomb's data would fail to decode; the limit error comes first
    await expect(nodeIo.decodeImage(join(dir, 'bomb.png'))).rejects.toThrow(/bomb\.png: 20000×20000 = 400000000 pixels is over the decoding limit of 89478485/);
    await expect(nodeIo.decodeLabel(join(dir, 'bomb.png'))).rejects.toThrow(/bomb\.png: 20000×20000 = 400000000 pixels is over the decoding limit/);
    const tiny = createNodeIo({ maxPixels: 11 });
    await expect(tiny.decodeImage(join(dir, 'rgb.png'))).rejects.toThrow(/rgb\.png: 4×3 = 12 pixels is over the decoding limit of 11/);
    expect((await createNodeIo({ maxPixels: 12 }).decodeImage(join(dir, 'rgb.png'))).width).toBe(4);
    expect(() => createNodeIo({ maxPixels: 0 })).toThrow(/maxPixels must be a positive number/);
  });
});

describe('joinPath', () => {
  it("joins with '/'", () => {
    expect(joinPath('/data/', 'images', 'train/', 'a.png')).toBe('/data/images/train/a.png');
    expect(joinPath('rel', '', 'x')).toBe('rel/x');
    expect(joinPath('/', 'x')).toBe('/x');
  });
});
