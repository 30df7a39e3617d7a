/**
 * `@sign/datasets/node`: the {@link DatasetIo} for Node's file system. Images decode with sharp
 * (libvips: PNG and JPEG, fast, maintained, prebuilt binaries from the npm registry); label PNGs
 * decode with fast-png, because they must come out as palette indices, not as the palette's
 * colours (sharp, like most image libraries, expands palettes to RGB).
 */
import { readdir, stat } from 'node:fs/promises';
import { openRegularFile } from '@sign/core/node';
import { decode as decodePng } from 'fast-png';
import sharp from 'sharp';
import { DEFAULT_MAX_PIXELS, checkPixelLimit, type DatasetIo, type DecodedImage, type DecodedLabel, type ImageInfo } from './io';

export { DEFAULT_MAX_PIXELS } from './io';

/** Options of {@link createNodeIo}. */
export interface NodeIoOptions {
  /** Decoding limit in pixels (width × height), checked from the header. Default {@link DEFAULT_MAX_PIXELS}. */
  maxPixels?: number;
}

function fail(path: string, what: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  return new Error(`${path}: ${what} (${msg})`);
}

async function bytes(path: string): Promise<Buffer> {
  let file: Awaited<ReturnType<typeof openRegularFile>>;
  try {
    // a regular file only, checked before opening: a FIFO blocks for ever, /dev/zero never ends
    file = await openRegularFile(path);
  } catch (err) {
    const m = (err as Error).message;
    if (m.startsWith('ENOENT')) throw new Error(`${path}: no such file`);
    if (m.includes('is a directory')) throw new Error(`${path}: is a folder, not a file`);
    throw new Error(`${path}: cannot read the file (${m})`);
  }
  try {
    return await file.handle.readFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: no such file`);
    if (code === 'EISDIR') throw new Error(`${path}: is a folder, not a file`);
    throw fail(path, 'cannot read the file', err);
  } finally {
    await file.handle.close().catch(() => {});
  }
}

async function header(path: string, buf: Buffer): Promise<ImageInfo> {
  let m: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    m = await sharp(buf, { limitInputPixels: false }).metadata(); // the header only: the limit is ours, checked after
  } catch (err) {
    throw fail(path, 'not a readable PNG or JPEG image', err);
  }
  if (m.format !== 'png' && m.format !== 'jpeg') throw new Error(`${path}: a ${m.format ?? 'unknown'} image; only PNG and JPEG are read`);
  if (!m.width || !m.height) throw new Error(`${path}: the image header has no size`);
  return {
    format: m.format,
    width: m.width,
    height: m.height,
    channels: m.channels ?? 0,
    palette: m.isPalette === true,
    bitDepth: m.bitsPerSample ?? (m.depth === 'ushort' ? 16 : 8),
  };
}

/** Unpacks rows of `depth`-bit samples (1, 2 or 4; rows padded to whole bytes) into one byte each. */
function unpackBits(data: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = data[y * rowBytes + Math.floor(x / perByte)]!;
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width + x] = (byte >> shift) & mask;
    }
  }
  return out;
}

/**
 * A {@link DatasetIo} over Node's file system, with its own decoding limit.
 *
 * @example
 * import { createNodeIo } from '@sign/datasets/node';
 * const io = createNodeIo({ maxPixels: 200_000_000 }); // for very large aerial images
 * const { width, height } = await io.imageInfo('data/shapes/images/train/0001.jpg');
 */
export function createNodeIo(opts: NodeIoOptions = {}): DatasetIo {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels > 0)) throw new Error(`createNodeIo: maxPixels must be a positive number, got ${maxPixels}`);
  return {
    maxPixels,
    async list(dir) {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new Error(`${dir}: no such folder`);
        if (code === 'ENOTDIR') throw new Error(`${dir}: is a file, not a folder`);
        throw fail(dir, 'cannot list the folder', err);
      }
      return entries
        .filter((e) => e.isFile() || e.isSymbolicLink())
        .map((e) => e.name)
        .sort();
    },
    async exists(path) {
      try {
        await stat(path);
        return true;
      } catch {
        return false;
      }
    },
    async readFile(path) {
      const b = await bytes(path);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    async readText(path) {
      return (await bytes(path)).toString('utf8');
    },
    async imageInfo(path) {
      return header(path, await bytes(path));
    },
    async decodeImage(path): Promise<DecodedImage> {
      const buf = await bytes(path);
      const info = await header(path, buf);
      checkPixelLimit(path, info.width, info.height, maxPixels);
      const grey = !info.palette && info.channels <= 2;
      try {
        const { data, info: out } = await sharp(buf, { limitInputPixels: Number.isFinite(maxPixels) ? Math.floor(maxPixels) : false })
          .removeAlpha()
          .toColourspace(grey ? 'b-w' : 'srgb')
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true });
        if (out.channels !== 1 && out.channels !== 3) throw new Error(`decoded to ${out.channels} channels`);
        if (out.width !== info.width || out.height !== info.height) throw new Error(`decoded to ${out.width}×${out.height}, the header says ${info.width}×${info.height}`);
        return { width: out.width, height: out.height, channels: out.channels, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
      } catch (err) {
        throw fail(path, 'cannot decode the image', err);
      }
    },
    async decodeLabel(path): Promise<DecodedLabel> {
      const buf = await bytes(path);
      const info = await header(path, buf);
      if (info.format !== 'png') throw new Error(`${path}: label maps must be PNG (8-bit grey or palette), got a ${info.format} image`);
      checkPixelLimit(path, info.width, info.height, maxPixels);
      let png: ReturnType<typeof decodePng>;
      try {
        png = decodePng(buf);
      } catch (err) {
        throw fail(path, 'cannot decode the label PNG', err);
      }
      const kind = png.palette ? 'palette' : ({ 1: 'grey', 2: 'grey+alpha', 3: 'RGB', 4: 'RGBA' } as Record<number, string>)[png.channels] ?? `${png.channels}-channel`;
      if (png.channels !== 1 || png.depth > 8)
        throw new Error(
          `${path}: a label map must be an 8-bit grey or a palette PNG whose value (or index) is the class id, got a ${png.depth}-bit ${kind} PNG` +
            (png.channels >= 3 ? ' (colour-coded labels must be converted to class ids first)' : ''),
        );
      const data = png.depth === 8 ? new Uint8Array(png.data.buffer, png.data.byteOffset, png.width * png.height) : unpackBits(png.data as Uint8Array, png.width, png.height, png.depth);
      return { width: png.width, height: png.height, data };
    },
  };
}

/**
 * The default Node {@link DatasetIo} (decoding limit {@link DEFAULT_MAX_PIXELS}).
 *
 * @example
 * import { createDataModule } from '@sign/datasets';
 * import { nodeIo } from '@sign/datasets/node';
 * const dm = await createDataModule({ type: 'folder', root: 'data/shapes', unseen: ['red square'] }, { io: nodeIo, seed: 0 });
 */
export const nodeIo: DatasetIo = createNodeIo();
