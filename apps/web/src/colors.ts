/**
 * Colours of the segmentation, by class NAME (a class keeps its colour when a checkpoint leaves
 * classes out or a class is added): the fashion classes take @sign/data's FASHION_PALETTE; any
 * other name a colour from its hash (hue), so that it is stable across reloads.
 */
import { FASHION_CLASSES, FASHION_PALETTE, type Rgb } from '@sign/data';

/**
 * The colour of a class name.
 *
 * @example
 * colorOf('bag') // [210, 245, 60] (lime, as in the sample sheets)
 */
export function colorOf(name: string): Rgb {
  const i = (FASHION_CLASSES as readonly string[]).indexOf(name);
  if (i >= 0 && FASHION_PALETTE[i]) return FASHION_PALETTE[i]!;
  let h = 2166136261;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const hue = (h % 360) / 60;
  const x = Math.round(255 * (1 - Math.abs((hue % 2) - 1)));
  const table: Rgb[] = [[255, x, 0], [x, 255, 0], [0, 255, x], [0, x, 255], [x, 0, 255], [255, 0, x]];
  return table[Math.floor(hue) % 6]!;
}

/**
 * RGBA pixels [H·W·4] of a label map whose values index `classes`.
 *
 * @example
 * ctx.putImageData(new ImageData(colorize(seg.labels, seg.classes), seg.width, seg.height), 0, 0);
 */
export function colorize(labels: ArrayLike<number>, classes: readonly string[]): Uint8ClampedArray<ArrayBuffer> {
  const colors = classes.map(colorOf);
  const out = new Uint8ClampedArray(new ArrayBuffer(labels.length * 4));
  for (let i = 0; i < labels.length; i++) {
    const c = colors[labels[i]!] ?? ([128, 128, 128] as const);
    out[4 * i] = c[0];
    out[4 * i + 1] = c[1];
    out[4 * i + 2] = c[2];
    out[4 * i + 3] = 255;
  }
  return out;
}
