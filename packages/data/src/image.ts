import { encode } from 'fast-png';
import { GLYPH_H, GLYPH_W, glyph, textWidth } from './font';
import { FASHION_CLASSES, IGNORE_INDEX } from './classes';

export type Rgb = readonly [number, number, number];

/**
 * Colour of each class id (index 0 = background … 10 = ankle boot), chosen to be far apart;
 * used by the sample sheet and by the app's predictions.
 */
export const FASHION_PALETTE: readonly Rgb[] = [
  [0, 0, 0], // background
  [230, 25, 75], // t-shirt/top: red
  [0, 130, 200], // trouser: blue
  [255, 225, 25], // pullover: yellow
  [240, 50, 230], // dress: magenta
  [60, 180, 75], // coat: green
  [245, 130, 48], // sandal: orange
  [70, 240, 240], // shirt: cyan
  [145, 30, 180], // sneaker: purple
  [210, 245, 60], // bag: lime
  [170, 110, 40], // ankle boot: brown
];

/** Colour of ignored pixels (label 255). */
export const IGNORE_COLOR: Rgb = [255, 255, 255];
/** Colour of any other label value not in the palette. */
export const UNKNOWN_COLOR: Rgb = [128, 128, 128];

/** An 8-bit RGBA raster, row-major, for composing and writing PNG images. */
export class RgbaImage {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    fill: Rgb = [0, 0, 0],
  ) {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new Error(`RgbaImage: width and height must be positive integers, got ${width}×${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, fill);
  }

  /** Sets one pixel (ignored outside the image). */
  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
    this.data[o + 3] = 255;
  }

  /** Fills a rectangle (clipped to the image). */
  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    for (let j = Math.max(0, y); j < Math.min(this.height, y + h); j++) {
      for (let i = Math.max(0, x); i < Math.min(this.width, x + w); i++) this.set(i, j, c);
    }
  }

  /** Copies `src` with its top-left at (x, y), each source pixel as a `scale`×`scale` block. */
  blit(src: RgbaImage, x: number, y: number, scale = 1): void {
    for (let j = 0; j < src.height * scale; j++) {
      for (let i = 0; i < src.width * scale; i++) {
        const o = (Math.floor(j / scale) * src.width + Math.floor(i / scale)) * 4;
        this.set(x + i, y + j, [src.data[o]!, src.data[o + 1]!, src.data[o + 2]!]);
      }
    }
  }

  /** Draws text in the built-in 5×7 font (upper-case), top-left at (x, y). Returns the width drawn. */
  text(s: string, x: number, y: number, c: Rgb, scale = 1): number {
    [...s].forEach((ch, k) => {
      const g = glyph(ch);
      for (let r = 0; r < GLYPH_H; r++) {
        for (let q = 0; q < GLYPH_W; q++) {
          if (g[r]![q]) this.fillRect(x + (k * (GLYPH_W + 1) + q) * scale, y + r * scale, scale, scale, c);
        }
      }
    });
    return textWidth(s, scale);
  }
}

/**
 * Colours a label map: class id c → `palette[c]`, 255 → `ignoreColor`, anything else grey.
 *
 * @param labels [height, width] class ids (e.g. one scene of `SceneBatch.labels`, or an argmax)
 * @example
 * const mask = colorizeLabels(batch.labels.subarray(0, 64 * 64), 64, 64);
 * writePng('mask.png', mask);
 */
export function colorizeLabels(
  labels: ArrayLike<number>,
  height: number,
  width: number,
  palette: readonly Rgb[] = FASHION_PALETTE,
  ignoreColor: Rgb = IGNORE_COLOR,
): RgbaImage {
  if (labels.length !== height * width) {
    throw new Error(`colorizeLabels: ${labels.length} labels do not fill ${height}×${width}`);
  }
  const img = new RgbaImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = labels[y * width + x]!;
      img.set(x, y, l === IGNORE_INDEX ? ignoreColor : (palette[l] ?? UNKNOWN_COLOR));
    }
  }
  return img;
}

/**
 * A greyscale image (values 0..1, clamped) as RGBA.
 *
 * @param values [height, width] (e.g. one scene of `SceneBatch.images`)
 */
export function greyToImage(values: ArrayLike<number>, height: number, width: number): RgbaImage {
  if (values.length !== height * width) {
    throw new Error(`greyToImage: ${values.length} values do not fill ${height}×${width}`);
  }
  const img = new RgbaImage(width, height);
  for (let i = 0; i < height * width; i++) {
    const v = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
    img.set(i % width, Math.floor(i / width), [v, v, v]);
  }
  return img;
}

/**
 * A legend: one colour swatch and name per class, in rows of `columns`.
 *
 * @example
 * const legend = drawLegend(); // every fashion-scenes class plus 'ignore (255)'
 */
export function drawLegend(
  opts: { names?: readonly string[]; palette?: readonly Rgb[]; columns?: number; scale?: number; showIgnore?: boolean; background?: Rgb; ink?: Rgb } = {},
): RgbaImage {
  const names = opts.names ?? FASHION_CLASSES;
  const palette = opts.palette ?? FASHION_PALETTE;
  const scale = opts.scale ?? 2;
  const columns = opts.columns ?? 4;
  const ink = opts.ink ?? [235, 235, 235];
  const entries: Array<[string, Rgb]> = names.map((n, i) => [`${i} ${n}`, palette[i] ?? UNKNOWN_COLOR]);
  if (opts.showIgnore ?? true) entries.push(['255 ignore (unseen)', IGNORE_COLOR]);
  const sw = GLYPH_H * scale;
  const cellW = sw + 4 * scale + Math.max(...entries.map(([t]) => textWidth(t, scale))) + 8 * scale;
  const cellH = sw + 4 * scale;
  const rows = Math.ceil(entries.length / columns);
  const img = new RgbaImage(columns * cellW, rows * cellH, opts.background ?? [32, 32, 32]);
  entries.forEach(([t, c], k) => {
    const x = (k % columns) * cellW + 2 * scale;
    const y = Math.floor(k / columns) * cellH + 2 * scale;
    img.fillRect(x, y, sw, sw, [96, 96, 96]);
    img.fillRect(x + 1, y + 1, sw - 2, sw - 2, c);
    img.text(t, x + sw + 3 * scale, y, ink, scale);
  });
  return img;
}

/**
 * Encodes an image as 8-bit RGBA PNG bytes (through fast-png: pure JavaScript, also in browsers).
 * Takes any `{ width, height, data }` with RGBA bytes (an `RgbaImage` or a plain raster such as the
 * reference app's). `writePng` of `@sign/data/node` writes the file.
 *
 * @example
 * const bytes = encodePng(greyToImage(new Float32Array(64 * 64), 64, 64)); // starts with 0x89 'PNG'
 */
export function encodePng(img: { readonly width: number; readonly height: number; readonly data: Uint8Array }): Uint8Array {
  if (img.data.length !== img.width * img.height * 4) {
    throw new Error(`encodePng: ${img.width}×${img.height} RGBA needs ${img.width * img.height * 4} bytes, got ${img.data.length}`);
  }
  return encode({ width: img.width, height: img.height, data: img.data, channels: 4, depth: 8 });
}
