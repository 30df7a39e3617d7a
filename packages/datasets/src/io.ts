/**
 * File access and image decoding for datasets, injected (`createDataModule(config, { io })`,
 * `definition.open(config, { io, … })`) so that the dataset code itself stays free of Node:
 * `@sign/datasets/node` exports {@link DatasetIo} for the file system (`nodeIo`); a browser or a
 * test can bring its own.
 *
 * Paths are strings joined with '/' ({@link joinPath}), which Node accepts on every platform.
 */

/**
 * Default decoding limit in pixels (width × height), checked from the file's header before any
 * pixel is decoded: 89,478,485, Pillow's `MAX_IMAGE_PIXELS` (a 1 GB RGBA image / 4 / 3), which
 * guards against decompression bombs.
 */
export const DEFAULT_MAX_PIXELS = 89_478_485;

/** What an image file's header says (no pixel decoded). */
export interface ImageInfo {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
  /** Channels as stored: 1 grey, 2 grey + alpha, 3 colour (palette PNGs count 3), 4 colour + alpha. */
  channels: number;
  /** A palette (indexed) PNG. */
  palette: boolean;
  /** Bits per sample (per palette index for palette PNGs). */
  bitDepth: number;
}

/** A decoded image: 8 bits per sample, alpha dropped, HWC row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 for grey files, 3 for colour (and palette) files. */
  channels: 1 | 3;
  /** [height, width, channels] uint8. */
  data: Uint8Array;
}

/** A decoded label map: one value per pixel (the grey value, or the palette index). */
export interface DecodedLabel {
  width: number;
  height: number;
  /** [height, width] uint8 class ids. */
  data: Uint8Array;
}

/**
 * What a dataset needs from the outside world. Every method rejects with an error that names the
 * path. `decodeImage` / `decodeLabel` read the header first and refuse images of more than
 * {@link DatasetIo.maxPixels} pixels before decoding anything.
 */
export interface DatasetIo {
  /** The decoding limit (width × height) this io enforces. */
  readonly maxPixels: number;
  /** Names of the files (not folders) in `dir`, sorted by code point; rejects when `dir` is not a folder. */
  list(dir: string): Promise<string[]>;
  /** Whether `path` exists (file or folder). */
  exists(path: string): Promise<boolean>;
  readFile(path: string): Promise<Uint8Array>;
  /** UTF-8 text. */
  readText(path: string): Promise<string>;
  /** The image's header: format and size, without decoding pixels. PNG and JPEG only. */
  imageInfo(path: string): Promise<ImageInfo>;
  /** A PNG or JPEG image as 8-bit grey (1 channel) or colour (3 channels), alpha dropped. */
  decodeImage(path: string): Promise<DecodedImage>;
  /**
   * A label PNG: 8-bit (or less) grey, whose value is the class id, or a palette PNG, whose
   * palette index is the class id (the colours do not matter). Anything else is an error.
   */
  decodeLabel(path: string): Promise<DecodedLabel>;
}

/**
 * Joins path parts with '/' (dropping empty parts and doubled separators, keeping a leading '/').
 *
 * @example
 * joinPath('data/shapes', 'images', 'train') // 'data/shapes/images/train'
 */
export function joinPath(...parts: string[]): string {
  const kept = parts.filter((p) => p.length > 0);
  if (kept.length === 0) return '';
  const joined = kept.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') || '/' : p.replace(/^\/+|\/+$/g, ''))).filter((p) => p.length > 0).join('/');
  return joined.replace(/\/{2,}/g, '/');
}

/**
 * Throws, naming the file, when `width × height` is over `maxPixels` (see {@link DEFAULT_MAX_PIXELS}).
 *
 * @example
 * checkPixelLimit('big.png', 20000, 20000, DEFAULT_MAX_PIXELS); // throws: 400000000 pixels …
 */
export function checkPixelLimit(path: string, width: number, height: number, maxPixels: number): void {
  const n = width * height;
  if (!(n <= maxPixels))
    throw new Error(
      `${path}: ${width}×${height} = ${n} pixels is over the decoding limit of ${maxPixels} (a guard against decompression bombs; raise it with createNodeIo({ maxPixels }))`,
    );
}
