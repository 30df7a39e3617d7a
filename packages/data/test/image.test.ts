import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { FASHION_PALETTE, IGNORE_COLOR, RgbaImage, colorizeLabels, drawLegend, encodePng, greyToImage } from '../src/index';
import { writePng } from '../src/node';
import { glyph } from '../src/font';
import { tempDir } from './helpers';

const px = (img: RgbaImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

describe('PNG helpers', () => {
  it('colorizeLabels maps class ids to the palette, 255 to white, others to grey', () => {
    const img = colorizeLabels(Uint8Array.of(0, 1, 10, 255, 42, 6), 2, 3);
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(px(img, 0, 0)).toEqual([...FASHION_PALETTE[0]!, 255]);
    expect(px(img, 1, 0)).toEqual([230, 25, 75, 255]);
    expect(px(img, 2, 0)).toEqual([...FASHION_PALETTE[10]!, 255]);
    expect(px(img, 0, 1)).toEqual([...IGNORE_COLOR, 255]);
    expect(px(img, 1, 1)).toEqual([128, 128, 128, 255]);
    expect(px(img, 2, 1)).toEqual([...FASHION_PALETTE[6]!, 255]);
    expect(() => colorizeLabels(new Uint8Array(5), 2, 3)).toThrow(/5 labels do not fill 2×3/);
    expect(new Set(FASHION_PALETTE.map((c) => c.join(','))).size).toBe(11);
  });

  it('greyToImage scales 0..1 to 0..255 and clamps', () => {
    const img = greyToImage(Float32Array.of(0, 0.5, 1, 2), 2, 2);
    expect([px(img, 0, 0), px(img, 1, 0), px(img, 0, 1), px(img, 1, 1)]).toEqual([
      [0, 0, 0, 255],
      [128, 128, 128, 255],
      [255, 255, 255, 255],
      [255, 255, 255, 255],
    ]);
  });

  it('writePng writes a PNG that decodes to the same pixels, atomically', () => {
    const img = colorizeLabels(Uint8Array.from({ length: 12 * 7 }, (_, i) => i % 12), 7, 12);
    const dir = tempDir();
    writePng(join(dir, 'm.png'), img);
    expect(readdirSync(dir)).toEqual(['m.png']);
    const back = decode(readFileSync(join(dir, 'm.png')));
    expect([back.width, back.height, back.channels, back.depth]).toEqual([12, 7, 4, 8]);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
    expect(Array.from(encodePng(img).subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]); // 'PNG'
  });

  it('text draws the glyph pixels; blit scales', () => {
    const img = new RgbaImage(12, 7);
    img.text('A', 0, 0, [255, 0, 0]);
    const g = glyph('A');
    for (let r = 0; r < 7; r++) for (let q = 0; q < 5; q++) expect(px(img, q, r)[0]).toBe(g[r]![q] ? 255 : 0);
    const big = new RgbaImage(24, 14);
    big.blit(img, 0, 0, 2);
    expect(px(big, 2 * 2 + 1, 1)).toEqual(px(img, 2, 0)); // top of 'A' is ink at column 2
    expect(px(big, 0, 0)).toEqual([0, 0, 0, 255]);
  });

  it("the font has '_' (class names such as ankle_boot) and shows '?' for unknown characters", () => {
    const under = glyph('_').map((row) => row.map((b) => (b ? '#' : '.')).join(''));
    expect(under).toEqual(['.....', '.....', '.....', '.....', '.....', '.....', '#####']);
    expect(glyph('~')).toEqual(glyph('?'));
    expect(glyph('a')).toEqual(glyph('A'));
  });

  it('drawLegend shows every class colour and the ignore colour', () => {
    const legend = drawLegend();
    const colours = new Set<string>();
    for (let i = 0; i < legend.width * legend.height; i++) colours.add(Array.from(legend.data.subarray(i * 4, i * 4 + 3)).join(','));
    for (const c of [...FASHION_PALETTE, IGNORE_COLOR]) expect(colours.has(c.join(','))).toBe(true);
  });
});
