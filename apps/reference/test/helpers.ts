import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '@sign/core';
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

/** The training pipeline of the tests that run a paper preset at test scale (65² resize, 48² crops). */
export const SMALL_PRESET_PIPELINE = [
  { type: 'normalize' },
  { type: 'resize', height: 65, width: 65 },
  { type: 'randomScaleCrop', min: 0.5, max: 1.5, height: 48, width: 48 },
  { type: 'flip' },
];

/** A class table for `classes` (8-dim, deterministic), in the `{ name: vector }` form, written to DIR/embeddings.json. */
export function writeClassTable(dir: string, classes: readonly string[]): string {
  const rng = new Rng(11);
  const file = join(dir, 'embeddings.json');
  writeFileSync(file, JSON.stringify(Object.fromEntries(classes.map((c) => [c, Array.from(rng.normalArray(8))]))));
  return file;
}
