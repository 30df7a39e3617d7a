/**
 * Small raster helpers for the report and `sign predict`: pictures from pixels, grey resizing, colour-coded label maps, overlays, panels and a legend with text. PNG encoding,
 * the class colours and the 5×7 font are @sign/data's.
 * Images are plain RGBA byte arrays, row-major, 4 bytes per pixel.
 */
import { FASHION_PALETTE, GLYPH_H, GLYPH_W, IGNORE_COLOR, UNKNOWN_COLOR, encodePng, glyph, textWidth } from '@sign/data';

export type Rgb = readonly [number, number, number];
export { IGNORE_COLOR, encodePng };

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Class colours: @sign/data's FASHION_PALETTE (the same colours as the data package's sample
 * sheets); ignored pixels (255) and unknown ids get the data package's colours too.
 */
export const CLASS_COLORS: readonly Rgb[] = FASHION_PALETTE;

export function colorOf(label: number): Rgb {
  if (label === 255) return IGNORE_COLOR;
  return CLASS_COLORS[label] ?? UNKNOWN_COLOR;
}

export function blank(width: number, height: number, fill: Rgb = [255, 255, 255]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[4 * i] = fill[0];
    data[4 * i + 1] = fill[1];
    data[4 * i + 2] = fill[2];
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

/** Mean grey level of the one-pixel border (used to detect dark-on-light images). */
export function borderMean(gray: Float32Array, width: number, height: number): number {
  let sum = 0;
  let count = 0;
  for (let x = 0; x < width; x++) {
    sum += gray[x] + gray[(height - 1) * width + x];
    count += 2;
  }
  for (let y = 1; y < height - 1; y++) {
    sum += gray[y * width] + gray[y * width + width - 1];
    count += 2;
  }
  return count > 0 ? sum / count : 0;
}

/**
 * Bilinear resize of a one-channel image (pixel centres aligned, like
 * tf.image.resizeBilinear with halfPixelCenters). Area-averages first when shrinking by 2× or
 * more so that thin strokes are not lost.
 */
export function resizeGray(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  if (w === W && h === H) return new Float32Array(src);
  let cur = src;
  let cw = w;
  let ch = h;
  while (cw >= 2 * W && ch >= 2 * H) {
    const nw = Math.floor(cw / 2);
    const nh = Math.floor(ch / 2);
    const next = new Float32Array(nw * nh);
    for (let y = 0; y < nh; y++) {
      for (let x = 0; x < nw; x++) {
        const i = 2 * y * cw + 2 * x;
        next[y * nw + x] = (cur[i] + cur[i + 1] + cur[i + cw] + cur[i + cw + 1]) / 4;
      }
    }
    cur = next;
    cw = nw;
    ch = nh;
  }
  const out = new Float32Array(W * H);
  const sx = cw / W;
  const sy = ch / H;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), ch - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, ch - 1);
    const ty = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), cw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, cw - 1);
      const tx = fx - x0;
      const top = cur[y0 * cw + x0] * (1 - tx) + cur[y0 * cw + x1] * tx;
      const bottom = cur[y1 * cw + x0] * (1 - tx) + cur[y1 * cw + x1] * tx;
      out[y * W + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

/** Nearest-neighbour resize of a label map (pixel centres aligned). */
export function resizeLabels(src: ArrayLike<number>, w: number, h: number, W: number, H: number): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const sy = Math.min(h - 1, Math.floor(((y + 0.5) * h) / H));
    for (let x = 0; x < W; x++) {
      const sx = Math.min(w - 1, Math.floor(((x + 0.5) * w) / W));
      out[y * W + x] = src[sy * w + sx];
    }
  }
  return out;
}

export function grayImage(gray: ArrayLike<number>, width: number, height: number): RgbaImage {
  const img = blank(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = Math.max(0, Math.min(255, Math.round(gray[i] * 255)));
    img.data[4 * i] = v;
    img.data[4 * i + 1] = v;
    img.data[4 * i + 2] = v;
  }
  return img;
}

/** Colour-coded label map. */
export function labelImage(labels: ArrayLike<number>, width: number, height: number): RgbaImage {
  const img = blank(width, height);
  for (let i = 0; i < width * height; i++) {
    const c = colorOf(labels[i]);
    img.data[4 * i] = c[0];
    img.data[4 * i + 1] = c[1];
    img.data[4 * i + 2] = c[2];
  }
  return img;
}

/** 8-bit pixels [H, W, channels] (grey or RGB) as an RGBA picture. */
export function pixelImage(data: ArrayLike<number>, channels: 1 | 3, width: number, height: number): RgbaImage {
  const img = blank(width, height);
  for (let i = 0; i < width * height; i++)
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = data[channels === 3 ? 3 * i + k : i];
  return img;
}

/**
 * The picture with each pixel tinted by its class colour (`alpha` = weight of the colour), except
 * the background class and ignored pixels; dark pixels are lifted so the colour shows on black.
 */
export function overlayImage(base: RgbaImage, labels: ArrayLike<number>, background: number | null = 0, alpha = 0.55): RgbaImage {
  const img = { width: base.width, height: base.height, data: Uint8Array.from(base.data) };
  for (let i = 0; i < base.width * base.height; i++) {
    const l = labels[i];
    if (l === background || l === 255) continue;
    const c = colorOf(l);
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = Math.round((1 - alpha) * (0.35 * 255 + 0.65 * img.data[4 * i + k]) + alpha * c[k]);
  }
  return img;
}

export function upscale(img: RgbaImage, factor: number): RgbaImage {
  if (factor === 1) return img;
  const W = img.width * factor;
  const H = img.height * factor;
  const out = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / factor);
    for (let x = 0; x < W; x++) {
      const s = 4 * (sy * img.width + Math.floor(x / factor));
      const d = 4 * (y * W + x);
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
      out[d + 3] = img.data[s + 3];
    }
  }
  return { width: W, height: H, data: out };
}

/** Copies `src` into `dst` with its top-left corner at (x, y), clipping at the edges. */
export function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number): void {
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    for (let sx = 0; sx < src.width; sx++) {
      const dx = x + sx;
      if (dx < 0 || dx >= dst.width) continue;
      const s = 4 * (sy * src.width + sx);
      const d = 4 * (dy * dst.width + dx);
      dst.data[d] = src.data[s];
      dst.data[d + 1] = src.data[s + 1];
      dst.data[d + 2] = src.data[s + 2];
      dst.data[d + 3] = src.data[s + 3];
    }
  }
}

export function fillRect(img: RgbaImage, x: number, y: number, w: number, h: number, c: Rgb): void {
  for (let yy = Math.max(0, y); yy < Math.min(img.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(img.width, x + w); xx++) {
      const d = 4 * (yy * img.width + xx);
      img.data[d] = c[0];
      img.data[d + 1] = c[1];
      img.data[d + 2] = c[2];
      img.data[d + 3] = 255;
    }
  }
}

/** Draws text in @sign/data's 5×7 font (upper case), top-left at (x, y). */
export function drawText(img: RgbaImage, text: string, x: number, y: number, color: Rgb, scale = 1): void {
  let cx = x;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let r = 0; r < GLYPH_H; r++) {
      for (let c = 0; c < GLYPH_W; c++) {
        if (rows[r]![c]) fillRect(img, cx + c * scale, y + r * scale, scale, scale, color);
      }
    }
    cx += (GLYPH_W + 1) * scale;
  }
}

/** Images side by side (top-aligned) on white, `gap` pixels apart. */
export function hstack(images: RgbaImage[], gap = 4): RgbaImage {
  const width = images.reduce((s, im) => s + im.width, 0) + gap * Math.max(0, images.length - 1);
  const height = Math.max(...images.map((im) => im.height));
  const out = blank(width, height);
  let x = 0;
  for (const im of images) {
    blit(out, im, x, 0);
    x += im.width + gap;
  }
  return out;
}

/** Images stacked vertically (left-aligned) on white, `gap` pixels apart. */
export function vstack(images: RgbaImage[], gap = 4): RgbaImage {
  const width = Math.max(...images.map((im) => im.width));
  const height = images.reduce((s, im) => s + im.height, 0) + gap * Math.max(0, images.length - 1);
  const out = blank(width, height);
  let y = 0;
  for (const im of images) {
    blit(out, im, 0, y);
    y += im.height + gap;
  }
  return out;
}

/** A caption strip: dark text on white, `width` wide (at least the text's width). */
export function caption(text: string, width: number, scale = 2): RgbaImage {
  const pad = 3 * scale;
  const img = blank(Math.max(width, textWidth(text, scale) + 2 * pad), GLYPH_H * scale + 2 * pad);
  drawText(img, text, pad, pad, [0, 0, 0], scale);
  return img;
}

export interface LegendEntry {
  label: number;
  name: string;
}

/**
 * A legend: one row per entry with its colour swatch and name, laid out in as many columns as
 * fit into `maxWidth`.
 */
export function legendImage(entries: LegendEntry[], maxWidth: number, scale = 2): RgbaImage {
  const pad = 3 * scale;
  const sw = GLYPH_H * scale;
  const rowH = sw + pad;
  const colW = Math.max(...entries.map((e) => textWidth(e.name, scale))) + sw + 3 * pad;
  const cols = Math.max(1, Math.min(entries.length, Math.floor((maxWidth - pad) / colW)));
  const rows = Math.ceil(entries.length / cols);
  const img = blank(Math.max(maxWidth, cols * colW + pad), rows * rowH + pad);
  entries.forEach((e, i) => {
    const x = pad + (i % cols) * colW;
    const y = pad + Math.floor(i / cols) * rowH;
    fillRect(img, x, y, sw, sw, [0, 0, 0]);
    fillRect(img, x + 1, y + 1, sw - 2, sw - 2, colorOf(e.label));
    drawText(img, e.name, x + sw + pad, y, [0, 0, 0], scale);
  });
  return img;
}
