/**
 * Writes a PNG sheet of sample fashion-scenes: each scene's image next to its coloured label mask,
 * for both layouts, test scenes (every label) and training scenes (unseen classes in white = 255),
 * with a legend of the class colours.
 *
 *   npx tsx packages/data/scripts/sample-sheet.ts [out.png] [--seed N] [--size 64] [--per-row 4] [--scale 3]
 *
 * Default output: docs/fashion-scenes.png in the repository.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_UNSEEN,
  RgbaImage,
  colorizeLabels,
  drawLegend,
  greyToImage,
  type SceneLayout,
} from '../src/index';
import { makeFashionScenes, writePng } from '../src/node';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const num = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args.splice(i, 2)[1]);
  if (!Number.isFinite(v)) throw new Error(`${name} needs a number`);
  return v;
};
const seed = num('--seed', 7);
const size = num('--size', 64);
const perRow = num('--per-row', 4);
const scale = num('--scale', 3);
const out = resolve(args[0] ?? resolve(here, '..', '..', '..', 'docs', 'fashion-scenes.png'));

const gap = 6;
const cellW = 2 * size * scale + gap * 3;
const cellH = size * scale + gap;
const titleH = 8 * 2 + 10;
const legend = drawLegend({ columns: 4, scale: 2 });
const layouts: SceneLayout[] = ['outfit', 'random'];
const rowsPerLayout = 2; // test row, train row
const width = Math.max(perRow * cellW + gap, legend.width + 2 * gap);
const height = titleH + legend.height + gap + layouts.length * rowsPerLayout * (titleH + cellH) + gap;
const sheet = new RgbaImage(width, height, [32, 32, 32]);

let y = gap;
sheet.text(`fashion-scenes  seed ${seed}  ${size}x${size}  unseen: ${DEFAULT_UNSEEN.join(', ')}`, gap, y, [255, 255, 255], 2);
y += titleH;
sheet.blit(legend, gap, y);
y += legend.height + gap;

for (const layout of layouts) {
  for (const split of ['test', 'train'] as const) {
    const note = split === 'test' ? 'test scenes, every label' : 'training scenes, unseen = white (255)';
    sheet.text(`${layout} layout - ${note}`, gap, y, [255, 255, 255], 2);
    y += titleH;
    const batch = makeFashionScenes({ split, count: perRow, seed, layout, size });
    const px = size * size;
    for (let s = 0; s < batch.n; s++) {
      const x = gap + s * cellW;
      sheet.blit(greyToImage(batch.images.subarray(s * px, (s + 1) * px), size, size), x, y, scale);
      sheet.blit(colorizeLabels(batch.labels.subarray(s * px, (s + 1) * px), size, size), x + size * scale + gap, y, scale);
    }
    y += cellH;
  }
}
writePng(out, sheet);
console.log(`wrote ${out} (${width}×${height})`);
