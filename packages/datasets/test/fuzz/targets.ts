/**
 * What the fuzz child runs for images (see tooling/fuzz/child.ts): variant 0 decodes with the
 * default node io (the ~89 M pixel limit), 1 with `createNodeIo({ maxPixels: 10_000 })`, 2 reads
 * the file as a label map, 3 reads only the header (`imageInfo`).
 */
import { createNodeIo, nodeIo } from '../../src/node';

const small = createNodeIo({ maxPixels: 10_000 });

export async function image(path: string, variant: number) {
  if (variant === 3) {
    const info = await nodeIo.imageInfo(path);
    return { width: info.width, height: info.height, format: info.format };
  }
  if (variant === 2) {
    const l = await nodeIo.decodeLabel(path);
    return { width: l.width, height: l.height, bytes: l.data.length };
  }
  const d = await (variant === 1 ? small : nodeIo).decodeImage(path);
  return { width: d.width, height: d.height, channels: d.channels, bytes: d.data.length };
}
