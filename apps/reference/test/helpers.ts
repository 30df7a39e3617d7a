import { mkdtempSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { RgbaImage } from '../src/image';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A text sink that records what is written. */
export function sink(isTTY = false) {
  const chunks: string[] = [];
  return {
    isTTY,
    columns: 120,
    write(s: string) {
      chunks.push(s);
      return true;
    },
    get text() {
      return chunks.join('');
    },
  };
}

export function tempDir(prefix = 'sign-ref-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Decodes any PNG (grey, RGB, palette, with or without alpha, 8/16 bit) to 8-bit RGBA. */
export function decodePng(buf: Uint8Array, source = 'PNG data'): RgbaImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  } catch (err) {
    throw new Error(`${source}: not a readable PNG (${(err as Error).message})`);
  }
  return { width: png.width, height: png.height, data: new Uint8Array(png.data) };
}

/** Reads a PNG the app wrote, for checks. */
export function readPng(path: string): RgbaImage {
  return decodePng(readFileSync(path), path);
}
