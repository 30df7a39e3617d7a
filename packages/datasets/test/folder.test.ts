import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@sign/core';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, IMAGENET_NORMALIZATION, createDataModule, datasets, folderDataset, type DatasetIo } from '../src/index';
import { createNodeIo, nodeIo } from '../src/node';
import { SHAPES_CLASSES, SHAPES_COLOURS, SHAPES_UNSEEN, shapesEmbedding, writeShapesFolder } from '../src/testing';

let tmp: string;
let clean: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sign-folder-'));
  clean = join(tmp, 'clean');
  await writeShapesFolder(clean, { seed: 3, trainCount: 6, valCount: 3, greyCount: 1 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let copies = 0;
/** A fresh copy of the clean folder, to break. */
function copy(): string {
  const dir = join(tmp, `copy-${copies++}`);
  cpSync(clean, dir, { recursive: true });
  return dir;
}

/** An io that counts decodes. */
function counting(): { io: DatasetIo; decodes: { n: number } } {
  const decodes = { n: 0 };
  const io: DatasetIo = {
    ...nodeIo,
    decodeImage: (p) => (decodes.n++, nodeIo.decodeImage(p)),
    decodeLabel: (p) => (decodes.n++, nodeIo.decodeLabel(p)),
  };
  return { io, decodes };
}

async function openError(root: string, data: Record<string, unknown> = {}, io: DatasetIo = nodeIo): Promise<DatasetError> {
  const err = await createDataModule({ type: 'folder', root, unseen: SHAPES_UNSEEN, ...data }, { io, seed: 0 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the data module to refuse the folder').toBeInstanceOf(DatasetError);
  return err as DatasetError;
}

describe('folder dataset', () => {
  it('is a built-in of the registry', () => {
    expect(datasets.get('folder')).toBe(folderDataset);
  });

  it('opens the layout: classes.json, splits, embeddings.json, samples at their own size', async () => {
    const dm = await createDataModule({ type: 'folder', root: clean, unseen: SHAPES_UNSEEN }, { io: nodeIo, seed: 0 });
    expect(dm.meta).toEqual({ type: 'folder', classNames: SHAPES_CLASSES, background: 0, ignoreIndex: 255, channels: 3, normalization: IMAGENET_NORMALIZATION, splits: ['train', 'val'] });
    expect([dm.trainSize, dm.testSize]).toEqual([6, 3]);
    expect(dm.unseen).toEqual([4, 5]);
    expect(dm.seen).toEqual([0, 1, 2, 3]);
    for (const [i, c] of SHAPES_CLASSES.entries()) expect(Array.from(dm.embeddings.vector(i))).toEqual(Array.from(Float32Array.from(shapesEmbedding(c))));
    const samples = [];
    for await (const s of dm.testSamples()) samples.push(s);
    expect(samples.map((s) => s.id)).toEqual(['0000', '0001', '0002']);
    // full size, normalised with ImageNet statistics, labels intact
    const first = samples[0]!;
    const raw = await sharp(join(clean, 'images/val/0000.png')).raw().toBuffer({ resolveWithObject: true });
    expect([first.height, first.width, first.channels]).toEqual([raw.info.height, raw.info.width, 3]);
    expect(first.image[4]).toBeCloseTo((raw.data[4]! / 255 - 0.456) / 0.224, 5);
    const labelPng = await nodeIo.decodeLabel(join(clean, 'labels/val/0000.png'));
    expect(Array.from(first.label)).toEqual(Array.from(labelPng.data));
    expect(new Set(samples.map((s) => `${s.height}x${s.width}`)).size).toBeGreaterThan(1); // mixed sizes
    dm.dispose();
  });

  it('replicates grey images to 3 channels; channels: 1 converts colour as OpenCV (RGB2GRAY fixed point)', async () => {
    const ds = await folderDataset.open({ type: 'folder', root: clean, unseen: [], channels: 3, validate: 'headers' }, { io: nodeIo, seed: 0 });
    const grey = await ds.split('train').get(0); // greyCount: 1 → train/0000 is a grey PNG
    expect((await nodeIo.decodeImage(join(clean, 'images/train/0000.png'))).channels).toBe(1);
    expect(grey.channels).toBe(3);
    for (let i = 0; i < grey.height * grey.width; i += 37) expect([grey.image[3 * i + 1], grey.image[3 * i + 2]]).toEqual([grey.image[3 * i], grey.image[3 * i]]);
    const one = await folderDataset.open({ type: 'folder', root: clean, unseen: [], channels: 1, validate: 'headers' }, { io: nodeIo, seed: 0 });
    expect(one.meta.normalization.order).toBe('grey');
    const s = await one.split('train').get(1);
    const rgb = await nodeIo.decodeImage(join(clean, 'images/train/0001.png'));
    expect(rgb.channels).toBe(3);
    for (const i of [0, 100, 777]) {
      const [r, g, b] = [rgb.data[3 * i]!, rgb.data[3 * i + 1]!, rgb.data[3 * i + 2]!];
      expect(s.image[i]).toBe((4899 * r + 9617 * g + 1868 * b + 8192) >> 14);
    }
  });

  it('trains through the data module: crops of mixed-size images, unseen pixels ignored', async () => {
    const dm = await createDataModule(
      { type: 'folder', root: clean, unseen: SHAPES_UNSEEN, train: { pipeline: [{ type: 'randomScale', min: 0.75, max: 1.25 }, { type: 'randomCrop', height: 48, width: 48 }, { type: 'flip' }] } },
      { io: nodeIo, seed: 0 },
    );
    const b = await dm.trainBatch(6, new Rng(1));
    expect([b.n, b.height, b.width, b.channels]).toEqual([6, 48, 48, 3]);
    expect(b.labels.includes(5) || b.labels.includes(6)).toBe(false);
    expect([...new Set(b.labels)].every((v) => v <= 4 || v === 255)).toBe(true);
    expect(b.images.every(Number.isFinite)).toBe(true);
  });

  it("opening reads headers only with validate: 'headers', and samples are read when asked for", async () => {
    const { io, decodes } = counting();
    const dm = await createDataModule({ type: 'folder', root: clean, unseen: SHAPES_UNSEEN, validate: 'headers' }, { io, seed: 0, cacheBytes: 1 });
    expect(decodes.n).toBe(0);
    await dm.trainBatch(2, new Rng(0));
    expect(decodes.n).toBe(4); // 2 images + 2 labels
    await dm.trainBatch(2, new Rng(0));
    expect(decodes.n).toBe(8); // nothing kept with a 1-byte cache
    const auto = counting();
    await createDataModule({ type: 'folder', root: clean, unseen: SHAPES_UNSEEN }, { io: auto.io, seed: 0 });
    expect(auto.decodes.n).toBe(2 * 9); // 'auto' on 9 samples: every image and label decoded once
  });

  it('the generator: each class is drawn in its colour; each unseen embedding is nearest a different seen one', async () => {
    const e = (c: string) => shapesEmbedding(c);
    // the hue on the unit circle: red 0°, yellow 60°, cyan 180°, blue 240°, magenta 300°
    const s3 = Math.sqrt(3) / 2;
    const want: Record<string, number[]> = { red: [1, 0, 0], yellow: [0.5, s3, 0], cyan: [-1, 0, 0], blue: [-0.5, -s3, 0], magenta: [0.5, -s3, 0], background: [0, 0, 1] };
    for (const [c, v] of Object.entries(want)) e(c).forEach((x, i) => expect(x, `${c}[${i}]`).toBeCloseTo(v[i]!, 11));
    expect(SHAPES_CLASSES.filter((c) => c !== 'background' && !SHAPES_UNSEEN.includes(c))).toEqual(['red', 'blue', 'magenta']);
    const dist = (a: string, b: string) => Math.hypot(...e(a).map((v, i) => v - e(b)[i]!));
    const near = [dist('yellow', 'red'), dist('yellow', 'magenta'), dist('yellow', 'blue'), dist('cyan', 'blue'), dist('cyan', 'magenta'), dist('cyan', 'red')];
    near.forEach((d, i) => expect(d).toBeCloseTo([1, Math.sqrt(3), 2][i % 3]!, 11));
    // each unseen embedding is an affine combination of the seen ones (weights summing to 1)
    const mix = (w: [number, number, number]) => e('red').map((v, i) => w[0] * v + w[1] * e('blue')[i]! + w[2] * e('magenta')[i]!);
    mix([2, 1, -2]).forEach((x, i) => expect(x).toBeCloseTo(e('yellow')[i]!, 11));
    mix([1, 2, -2]).forEach((x, i) => expect(x).toBeCloseTo(e('cyan')[i]!, 11));
    expect(() => shapesEmbedding('purple')).toThrow("shapesEmbedding: 'purple' is not a class (valid: background, red, blue, magenta, yellow, cyan)");
    // the mean colour of each class's pixels in the RGB PNGs (grey, JPEG skipped) is its colour (shading and jitter average out)
    const sums = SHAPES_CLASSES.map(() => [0, 0, 0, 0]);
    for (const f of ['images/train/0001.png', 'images/train/0003.png', 'images/train/0004.png', 'images/val/0000.png', 'images/val/0001.png']) {
      const { data } = await sharp(join(clean, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const label = await nodeIo.decodeLabel(join(clean, f.replace('images', 'labels')));
      for (let i = 0; i < label.data.length; i++) {
        const s = sums[label.data[i]!]!;
        for (let k = 0; k < 3; k++) s[k]! += data[i * 3 + k]!;
        s[3]!++;
      }
    }
    let checked = 0;
    SHAPES_CLASSES.forEach((c, id) => {
      const [r, g, b, n] = sums[id]!;
      if (id === 0 || n! < 50) return;
      checked++;
      const mean = [r! / n!, g! / n!, b! / n!];
      mean.forEach((m, k) => expect(Math.abs(m - SHAPES_COLOURS[c]![k]!), `${c} channel ${k}`).toBeLessThan(30));
    });
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it('the generator is deterministic in its seed', async () => {
    const again = join(tmp, 'again');
    await writeShapesFolder(again, { seed: 3, trainCount: 6, valCount: 3, greyCount: 1 });
    for (const f of ['images/train/0002.jpg', 'images/val/0001.png', 'labels/train/0003.png', 'embeddings.json', 'classes.json'])
      expect(readFileSync(join(again, f)).equals(readFileSync(join(clean, f))), f).toBe(true);
  });
});

describe('folder dataset errors (before any training, naming the file or class)', () => {
  it('an image without a label, and a label without an image', async () => {
    const root = copy();
    unlinkSync(join(root, 'labels/train/0001.png'));
    unlinkSync(join(root, 'images/val/0002.jpg'));
    const err = await openError(root);
    expect(err.problems).toEqual([
      `${root}/images/train/0001.png: image without a label (expected ${root}/labels/train/0001.png)`,
      `${root}/labels/val/0002.png: label without an image (expected ${root}/images/val/0002.png, .jpg or .jpeg)`,
    ]);
    expect(err.message).toContain(`${root}: 2 problems in the folder dataset`);
  });

  it('an image/label size mismatch, from the headers', async () => {
    const root = copy();
    writeFileSync(join(root, 'labels/train/0003.png'), encodePng({ width: 5, height: 4, data: new Uint8Array(20), channels: 1, depth: 8 }));
    const { io, decodes } = counting();
    const err = await openError(root, {}, io);
    expect(err.problems).toEqual([expect.stringMatching(new RegExp(`^${root}/images/train/0003\\.png is \\d+×\\d+ but its label ${root}/labels/train/0003\\.png is 5×4$`))]);
    expect(decodes.n).toBe(0); // found without decoding
  });

  it('a label value that is neither a class id nor the ignore index', async () => {
    const root = copy();
    const lab = await nodeIo.decodeLabel(join(root, 'labels/val/0001.png'));
    const data = Uint8Array.from(lab.data);
    data[0] = 9;
    data[1] = 9;
    data[2] = 255; // ignore: fine
    data[3] = 7;
    writeFileSync(join(root, 'labels/val/0001.png'), encodePng({ width: lab.width, height: lab.height, data, channels: 1, depth: 8 }));
    const msg = `${root}/labels/val/0001.png: label values 7 (1 pixel), 9 (2 pixels) are not a class id of classes.json (0..5) nor the ignore index 255`;
    expect((await openError(root)).problems).toEqual([msg]);
    // with header validation only, the sample fails when it is read, and validate() finds it
    const ds = await folderDataset.open({ type: 'folder', root, unseen: [], channels: 3, validate: 'headers' }, { io: nodeIo, seed: 0 });
    await expect(ds.split('val').get(1)).rejects.toThrow(msg);
    await expect(ds.validate!()).rejects.toThrow(msg);
  });

  it('unreadable or non-image files, and files that do not belong', async () => {
    const root = copy();
    writeFileSync(join(root, 'images/train/0004.png'), 'not a png');
    writeFileSync(join(root, 'images/train/notes.txt'), 'hello');
    writeFileSync(join(root, 'images/train/.DS_Store'), 'ignored');
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toFile(join(root, 'labels/val/0000.png'));
    const err = await openError(root);
    expect(err.problems).toEqual([
      `${root}/images/train/notes.txt: not an image file (images/train/ holds .png, .jpg or .jpeg files)`,
      expect.stringMatching(new RegExp(`^${root}/images/train/0004\\.png: not a readable PNG or JPEG image`)),
      `${root}/labels/val/0000.png: a label map must be an 8-bit grey or a palette PNG whose value (or index) is the class id, got 3 channels (colour-coded labels must be converted to class ids first)`,
      expect.stringMatching(new RegExp(`^${root}/images/val/0000\\.png is \\d+×\\d+ but its label ${root}/labels/val/0000\\.png is 4×4$`)),
    ]);
  });

  it('images over the pixel limit (from the header)', async () => {
    const err = await openError(clean, {}, createNodeIo({ maxPixels: 3000 }));
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.problems[0]).toMatch(new RegExp(`^${clean}/images/train/\\d{4}\\.(png|jpg): \\d+×\\d+ = \\d+ pixels is over the decoding limit of 3000$`));
  });

  it('an unknown class in unseen names it and lists the valid ones', async () => {
    const err = await openError(clean, { unseen: ['yelow', 'purple star'] });
    expect(err.problems).toEqual([
      "data.unseen: unknown class 'yelow' (did you mean 'yellow'?); valid: red, blue, magenta, yellow, cyan",
      "data.unseen: unknown class 'purple star'; valid: red, blue, magenta, yellow, cyan",
    ]);
  });

  it('classes.json: missing, not JSON, duplicates, background, ignore index', async () => {
    const root = copy();
    const file = join(root, 'classes.json');
    const write = (o: unknown) => writeFileSync(file, typeof o === 'string' ? o : JSON.stringify(o));
    write('{"classes": [');
    expect((await openError(root)).problems[0]).toMatch(new RegExp(`^${file}: not valid JSON`));
    write({ classes: ['background', 'cat', 'cat'], background: 0 });
    expect((await openError(root)).problems).toEqual([`${file}: class 'cat' is listed twice (ids 1 and 2)`]);
    write({ classes: ['background', 'cat'] });
    expect((await openError(root)).problems).toEqual([`${file}: background: missing (the id of the background class, or null when every class is an object class)`]);
    write({ classes: ['background', 'cat'], background: 2, ignoreIndex: 1 });
    expect((await openError(root)).problems).toEqual([`${file}: background is 2, but the class ids are 0..1`, `${file}: ignoreIndex 1 is a class id ('cat'); use a value ≥ 2 (255)`]);
    write({ classes: ['background', 'cat'], background: 0, colours: [] });
    expect((await openError(root)).problems[0]).toMatch(new RegExp(`^${file}: \\(root\\): Unrecognized key: "colours"`));
    unlinkSync(file);
    expect((await openError(root)).problems[0]).toBe(`${file}: no such file (a folder dataset needs classes.json: {"classes": ["background", "cat", …], "background": 0, "ignoreIndex": 255})`);
  });

  it('background: null makes every class an object class (any may be unseen)', async () => {
    const root = copy();
    writeFileSync(join(root, 'classes.json'), JSON.stringify({ classes: SHAPES_CLASSES, background: null }));
    const dm = await createDataModule({ type: 'folder', root, unseen: ['background', 'yellow'] }, { io: nodeIo, seed: 0 });
    expect(dm.meta.background).toBeNull();
    expect(dm.unseen).toEqual([0, 4]);
  });

  it('embeddings.json without a class; no embeddings at all', async () => {
    const root = copy();
    const emb = JSON.parse(readFileSync(join(root, 'embeddings.json'), 'utf8'));
    delete emb['cyan'];
    writeFileSync(join(root, 'embeddings.json'), JSON.stringify(emb));
    expect((await openError(root)).problems).toEqual([expect.stringMatching(new RegExp(`^${root}/embeddings\\.json: no vector for class 'cyan'`))]);
    unlinkSync(join(root, 'embeddings.json'));
    expect((await openError(root)).problems).toEqual([expect.stringMatching(/^data\.embeddingsFile: the folder dataset brings no class embeddings; give a file/)]);
  });

  it('missing split folders', async () => {
    const root = copy();
    rmSync(join(root, 'labels/val'), { recursive: true });
    expect((await openError(root)).problems).toEqual([`${root}/labels/val: no such folder (every images/val/ needs a labels/val/)`]);
    rmSync(join(root, 'images/train'), { recursive: true });
    expect((await openError(root)).problems).toEqual([`${root}/images/train: no such folder (the training split; found: images/val)`]);
  });
});
