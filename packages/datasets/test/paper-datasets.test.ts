/**
 * The paper's datasets on tiny trees written in their exact on-disk layouts (writePaperTree):
 * PASCAL VOC 2012 + SBD, PASCAL Context (59 / 33 classes), COCO-Stuff 164k and the SIGN release's
 * preprocessed data; their class tables and unseen sets against ../shared/data/class-embeddings.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng } from '@sign/core';
import { encode as encodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  CAFFE_BGR_NORMALIZATION,
  COCO_STUFF_CLASSES,
  COCO_STUFF_UNSEEN_SPLITS,
  DatasetError,
  PASCAL_CONTEXT33_CLASSES,
  PASCAL_CONTEXT33_UNSEEN_SPLITS,
  PASCAL_CONTEXT59_CLASSES,
  PASCAL_CONTEXT59_FCN_ORDER,
  PASCAL_CONTEXT59_UNSEEN_SPLITS,
  PASCAL_VOC12_CLASSES,
  PASCAL_VOC12_UNSEEN_SPLITS,
  cocoStuff164kDataset,
  context33To59Name,
  createDataModule,
  dataConfigSchema,
  datasets,
  pascalContextDataset,
  pascalVoc12Dataset,
  releaseTrainPipeline,
  signReleaseDataset,
  validateDataConfig,
  type DataConfig,
  type Dataset,
  type DatasetIo,
} from '../src/index';
import { nodeIo } from '../src/node';
import { encodeNpy, writePaperTree, type PaperLayout, type PaperTree } from '../src/testing';

const sharedTables = resolve(__dirname, '../../../../shared/data/class-embeddings');
const haveTables = existsSync(join(sharedTables, 'voc12.json'));
if (!haveTables) console.warn(`skipping the class-table checks: ${sharedTables} is absent (the shared test data is not on this machine)`);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sign-paper-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let trees = 0;
async function tree(layout: PaperLayout, opts: Parameters<typeof writePaperTree>[2] = {}): Promise<PaperTree> {
  return writePaperTree(join(tmp, `${layout}-${trees++}`), layout, opts);
}

/** An embeddings file for the classes (any vectors: the data module only needs one per class). */
function embeddingsFile(classNames: readonly string[]): string {
  const path = join(tmp, `emb-${trees++}.json`);
  const rng = new Rng(3);
  writeFileSync(path, JSON.stringify(Object.fromEntries(classNames.map((c) => [c, [rng.uniform(), rng.uniform(), rng.uniform()]]))));
  return path;
}

/** Opens a dataset through config validation, as createDataModule does. */
async function open(input: Record<string, unknown>, io: DatasetIo = nodeIo): Promise<Dataset> {
  const { config, errors } = validateDataConfig(input);
  if (!config) throw new DatasetError(errors);
  return datasets.get(config.type).open(config as DataConfig, { io, seed: 0 });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a refusal').toBeInstanceOf(Error);
  return (err as Error).message;
}

/** An io that counts decodes. */
function counting(): { io: DatasetIo; decodes: { n: number } } {
  const decodes = { n: 0 };
  return { io: { ...nodeIo, decodeImage: (p) => (decodes.n++, nodeIo.decodeImage(p)), decodeLabel: (p) => (decodes.n++, nodeIo.decodeLabel(p)) }, decodes };
}

/** Every sample of a split: the image as nodeIo decodes its file, the labels mapped by `map`. */
async function expectSamples(ds: Dataset, split: string, t: PaperTree, treeSplit: string, imagePath: (id: string) => string, map: (v: number) => number = (v) => v): Promise<void> {
  const s = ds.split(split);
  expect(s.size).toBe(t.samples[treeSplit]!.length);
  for (let i = 0; i < s.size; i++) {
    const want = t.samples[treeSplit]![i]!;
    const got = await s.get(i);
    expect([got.id, got.height, got.width, got.channels]).toEqual([want.id, want.height, want.width, 3]);
    expect(Array.from(got.label)).toEqual(Array.from(want.label, map));
    const decoded = await nodeIo.decodeImage(imagePath(want.id));
    expect(Buffer.from(got.image as Uint8Array).equals(Buffer.from(decoded.data))).toBe(true);
  }
}

describe('the paper datasets', () => {
  it('are built-ins of the registry', () => {
    expect(datasets.get('pascal-voc12')).toBe(pascalVoc12Dataset);
    expect(datasets.get('pascal-context')).toBe(pascalContextDataset);
    expect(datasets.get('coco-stuff164k')).toBe(cocoStuff164kDataset);
    expect(datasets.get('sign-release')).toBe(signReleaseDataset);
  });

  it('name their unseen sets (METHOD §7), every name a class', () => {
    expect(PASCAL_VOC12_UNSEEN_SPLITS).toEqual({
      cagnet: ['potted_plant', 'sheep', 'sofa', 'train', 'tv'],
      'zs3net-2': ['cow', 'motorbike'],
      'zs3net-4': ['cow', 'motorbike', 'aeroplane', 'sofa'],
      'zs3net-6': ['cow', 'motorbike', 'aeroplane', 'sofa', 'cat', 'tv'],
      'zs3net-8': ['cow', 'motorbike', 'aeroplane', 'sofa', 'cat', 'tv', 'train', 'bottle'],
      'zs3net-10': ['cow', 'motorbike', 'aeroplane', 'sofa', 'cat', 'tv', 'train', 'bottle', 'chair', 'potted_plant'],
    });
    expect(PASCAL_CONTEXT33_UNSEEN_SPLITS).toEqual({ cagnet: ['cow', 'motorbike', 'sofa', 'cat'] });
    expect(PASCAL_CONTEXT59_UNSEEN_SPLITS['zs3net-10']).toEqual(['cow', 'motorbike', 'sofa', 'cat', 'boat', 'fence', 'bird', 'tvmonitor', 'keyboard', 'aeroplane']);
    expect(COCO_STUFF_UNSEEN_SPLITS.cagnet).toHaveLength(15);
    for (const [sets, classes] of [
      [PASCAL_VOC12_UNSEEN_SPLITS, PASCAL_VOC12_CLASSES],
      [PASCAL_CONTEXT33_UNSEEN_SPLITS, PASCAL_CONTEXT33_CLASSES],
      [PASCAL_CONTEXT59_UNSEEN_SPLITS, PASCAL_CONTEXT59_CLASSES],
      [COCO_STUFF_UNSEEN_SPLITS, COCO_STUFF_CLASSES],
    ] as const)
      for (const names of Object.values(sets)) for (const n of names) expect(classes, n).toContain(n);
    expect([PASCAL_VOC12_CLASSES.length, PASCAL_CONTEXT33_CLASSES.length, PASCAL_CONTEXT59_CLASSES.length, COCO_STUFF_CLASSES.length]).toEqual([21, 34, 60, 182]);
    expect([...PASCAL_CONTEXT59_FCN_ORDER].sort()).toEqual([...PASCAL_CONTEXT59_CLASSES].sort());
    // every one of CaGNet's 33 classes is a 59-class label
    for (const n of PASCAL_CONTEXT33_CLASSES.slice(1)) expect(PASCAL_CONTEXT59_CLASSES, n).toContain(context33To59Name(n));
  });

  it.skipIf(!haveTables)('match the public class tables: names in id order, seen and unseen ids (../shared/data/class-embeddings)', () => {
    const table = (name: string) => JSON.parse(readFileSync(join(sharedTables, name), 'utf8')) as { classes: string[]; seen: number[]; unseen: number[]; unseenSplits?: Record<string, Record<string, string[]>> };
    for (const [file, classes, sets, background] of [
      ['voc12.json', PASCAL_VOC12_CLASSES, PASCAL_VOC12_UNSEEN_SPLITS, 0],
      ['context.json', PASCAL_CONTEXT33_CLASSES, PASCAL_CONTEXT33_UNSEEN_SPLITS, 0],
      ['cocostuff.json', COCO_STUFF_CLASSES, COCO_STUFF_UNSEEN_SPLITS, null],
    ] as const) {
      const t = table(file);
      expect(t.classes, file).toEqual(classes);
      expect(t.unseen.map((i) => classes[i]), file).toEqual(sets.cagnet); // the same order
      const everyObject = classes.map((_, i) => i).filter((i) => i !== background);
      expect([...t.seen, ...t.unseen].sort((a, b) => a - b), file).toEqual(everyObject);
    }
    // ZS3Net's sets as its files write them ('airplane', 'potted plant' are our 'aeroplane', 'potted_plant')
    const zs3 = table('zs3net-voc12.json').unseenSplits!;
    const alias: Record<string, string> = { airplane: 'aeroplane', 'potted plant': 'potted_plant' };
    for (const k of [2, 4, 6, 8, 10]) {
      expect(zs3.pascal_voc![`${k} unseen`]!.map((n) => alias[n] ?? n)).toEqual(PASCAL_VOC12_UNSEEN_SPLITS[`zs3net-${k}`]);
      expect(zs3.pascal_context![`${k} unseen`]).toEqual(PASCAL_CONTEXT59_UNSEEN_SPLITS[`zs3net-${k}`]);
    }
  });
});

describe('pascal-voc12', () => {
  let t: PaperTree;
  beforeAll(async () => {
    t = await tree('pascal-voc12', { seed: 1 });
  });

  it('opens JPEGImages/, SegmentationClassAug/, train_aug.txt (ids) and val.txt (DeepLab path pairs); samples as decoded, labels as stored', async () => {
    const ds = await open({ type: 'pascal-voc12', root: t.root, unseenSplit: 'cagnet' });
    expect(ds.meta).toEqual({
      type: 'pascal-voc12',
      classNames: [...PASCAL_VOC12_CLASSES],
      background: 0,
      ignoreIndex: 255,
      channels: 3,
      normalization: CAFFE_BGR_NORMALIZATION,
      splits: ['train', 'val'],
      unseenSplits: PASCAL_VOC12_UNSEEN_SPLITS,
    });
    await expectSamples(ds, 'train', t, 'train', (id) => join(t.root, 'JPEGImages', `${id}.jpg`));
    await expectSamples(ds, 'val', t, 'test', (id) => join(t.root, 'JPEGImages', `${id}.jpg`));
    expect(t.samples.train!.some((s) => s.height % 2 === 1 || s.width % 2 === 1)).toBe(true);
  });

  it('makes a data module: the named unseen set, training batches with the release pipeline (unseen pixels ignored)', async () => {
    const dm = await createDataModule(
      { type: 'pascal-voc12', root: t.root, unseenSplit: 'cagnet', embeddingsFile: embeddingsFile(PASCAL_VOC12_CLASSES), train: { pipeline: releaseTrainPipeline({ base: 41, crop: 29 }) } },
      { io: nodeIo, seed: 0 },
    );
    expect(dm.unseen).toEqual([16, 17, 18, 19, 20]);
    expect(dm.seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect([dm.trainSize, dm.testSize]).toEqual([4, 3]);
    const b = await dm.trainBatch(3, new Rng(0).fork('batch'));
    expect([b.n, b.height, b.width, b.channels]).toEqual([3, 29, 29, 3]);
    const values = new Set(b.labels);
    for (const u of [17, 20]) expect(values.has(u)).toBe(false); // sheep, tv: unseen
    expect([...values].every((v) => [0, 1, 8, 15, 255].includes(v))).toBe(true);
    dm.dispose();
    // ZS3Net's sets by name
    const z = await createDataModule({ type: 'pascal-voc12', root: t.root, unseenSplit: 'zs3net-4', embeddingsFile: embeddingsFile(PASCAL_VOC12_CLASSES) }, { io: nodeIo, seed: 0 });
    expect(z.unseen).toEqual([1, 10, 14, 18]); // aeroplane, cow, motorbike, sofa
    z.dispose();
  });

  it('checks the lists: a missing list names every place looked at; a listed file that is missing names the list and line; a bad line', async () => {
    const root = (await tree('pascal-voc12', { seed: 2 })).root;
    unlinkSync(join(root, 'val.txt'));
    const msg = await refusal(open({ type: 'pascal-voc12', root, unseen: ['sheep'] }));
    expect(msg).toContain(`no list of the 'val' split (looked for ${join(root, 'val.txt')}, ${join(root, 'ImageSets/SegmentationAug/val.txt')}, ${join(root, 'ImageSets/Segmentation/val.txt')})`);

    const t2 = await tree('pascal-voc12', { seed: 3 });
    const first = t2.samples.train![0]!.id;
    unlinkSync(join(t2.root, 'JPEGImages', `${first}.jpg`));
    writeFileSync(join(t2.root, 'val.txt'), `${readFileSync(join(t2.root, 'val.txt'), 'utf8')}a b c\nsub/dir\n`);
    const msg2 = await refusal(open({ type: 'pascal-voc12', root: t2.root, unseen: ['sheep'] }));
    expect(msg2).toContain(`${join(t2.root, 'val.txt')}, line 4: 3 fields`);
    expect(msg2).toContain(`${join(t2.root, 'val.txt')}, line 5: 'sub/dir' is a path`);

    writeFileSync(join(t2.root, 'val.txt'), readFileSync(join(t2.root, 'val.txt'), 'utf8').split('\n').slice(0, 3).join('\n'));
    const msg3 = await refusal(open({ type: 'pascal-voc12', root: t2.root, unseen: ['sheep'], validate: 'exists' }));
    expect(msg3).toContain(`${join(t2.root, 'JPEGImages', `${first}.jpg`)}: no such file (listed in ${join(t2.root, 'train_aug.txt')}, line 1)`);
  });

  it("names a label value that is not a VOC class (when decoded: at open with validate 'full' or 'auto' on small sets, else on reading)", async () => {
    const t3 = await tree('pascal-voc12', { seed: 4 });
    const s = t3.samples.test![1]!;
    const bad = new Uint8Array(s.label);
    bad[0] = 21;
    bad[1] = 21;
    bad[2] = 60;
    writeFileSync(join(t3.root, 'SegmentationClassAug', `${s.id}.png`), encodePng({ width: s.width, height: s.height, data: bad, channels: 1, depth: 8 }));
    const msg = await refusal(open({ type: 'pascal-voc12', root: t3.root, unseen: ['sheep'] }));
    expect(msg).toContain(`${join(t3.root, 'SegmentationClassAug', `${s.id}.png`)}: label values 21 (2 pixels), 60 (1 pixel) are not a VOC class id (0..20) nor the ignore index 255`);
    const { io, decodes } = counting();
    const ds = await open({ type: 'pascal-voc12', root: t3.root, unseen: ['sheep'], validate: 'exists' }, io);
    expect(decodes.n).toBe(0); // existence only: nothing opened
    await expect(ds.split('val').get(1)).rejects.toThrow(/label values 21 \(2 pixels\), 60 \(1 pixel\)/);
    await expect(ds.validate!()).rejects.toThrow(/1 bad file in the PASCAL VOC 2012 dataset/);
    await expect(ds.split('val').get(3)).rejects.toThrow(/index 3 is out of range \[0, 3\)/);
    expect(() => ds.split('test')).toThrow(/has no split 'test'; known: train, val/);
  });
});

describe('pascal-context', () => {
  let t: PaperTree;
  beforeAll(async () => {
    t = await tree('pascal-context', { seed: 5 });
  });

  it("59 classes (ZS3Net's protocol): labels as stored, background 0, ZS3Net's sets", async () => {
    const ds = await open({ type: 'pascal-context', root: t.root, unseenSplit: 'zs3net-4' });
    expect(ds.meta.classNames).toEqual(PASCAL_CONTEXT59_CLASSES);
    expect([ds.meta.background, ds.meta.splits, Object.keys(ds.meta.unseenSplits!)]).toEqual([0, ['train', 'val'], ['zs3net-2', 'zs3net-4', 'zs3net-6', 'zs3net-8', 'zs3net-10']]);
    expect(ds.meta.normalization).toEqual(CAFFE_BGR_NORMALIZATION);
    await expectSamples(ds, 'train', t, 'train', (id) => join(t.root, 'JPEGImages', `${id}.jpg`));
    await expectSamples(ds, 'val', t, 'test', (id) => join(t.root, 'JPEGImages', `${id}.jpg`));
  });

  it("33 classes (CaGNet's and SIGN's protocol): each of the 33 by name, every other class and the background to 0 'unlabel'", async () => {
    const ds = await open({ type: 'pascal-context', root: t.root, classes: 33, unseenSplit: 'cagnet' });
    expect(ds.meta.classNames).toEqual(PASCAL_CONTEXT33_CLASSES);
    expect(ds.meta.unseenSplits).toEqual({ cagnet: ['cow', 'motorbike', 'sofa', 'cat'] });
    // the tree's 59-class values: 0 background, 2 bag, 15 cat, 20 cow, 29 grass, 47 sky, 55 tvmonitor
    const to33: Record<number, number> = { 0: 0, 2: 0, 15: 8, 20: 10, 29: 22, 47: 21, 55: 20, 255: 255 };
    expect([PASCAL_CONTEXT33_CLASSES[8], PASCAL_CONTEXT33_CLASSES[10], PASCAL_CONTEXT33_CLASSES[22], PASCAL_CONTEXT33_CLASSES[21], PASCAL_CONTEXT33_CLASSES[20]]).toEqual(['cat', 'cow', 'grass', 'sky', 'tv']);
    await expectSamples(ds, 'val', t, 'test', (id) => join(t.root, 'JPEGImages', `${id}.jpg`), (v) => to33[v]!);
    const dm = await createDataModule({ type: 'pascal-context', root: t.root, classes: 33, unseenSplit: 'cagnet', embeddingsFile: embeddingsFile(PASCAL_CONTEXT33_CLASSES) }, { io: nodeIo, seed: 0 });
    expect(dm.unseen).toEqual([8, 10, 14, 18]);
    dm.dispose();
  });

  it("reads PNGs in FCN's / ZS3Net's classes-59 order with labelOrder 'fcn' (the same class ids out)", async () => {
    const fcn = await tree('pascal-context', { seed: 5, fcnOrder: true });
    expect(fcn.samples.train![0]!.label).not.toEqual(t.samples.train![0]!.label);
    const a = await open({ type: 'pascal-context', root: t.root, unseen: ['cow'] });
    const b = await open({ type: 'pascal-context', root: fcn.root, unseen: ['cow'], labelOrder: 'fcn' });
    for (let i = 0; i < 4; i++) expect((await b.split('train').get(i)).label).toEqual((await a.split('train').get(i)).label);
  });

  it('refuses a label value over 59 and an unknown set, naming them', async () => {
    const t2 = await tree('pascal-context', { seed: 6 });
    const s = t2.samples.train![2]!;
    const bad = new Uint8Array(s.label);
    bad[5] = 60;
    writeFileSync(join(t2.root, 'SegmentationClassContext', `${s.id}.png`), encodePng({ width: s.width, height: s.height, data: bad, channels: 1, depth: 8 }));
    expect(await refusal(open({ type: 'pascal-context', root: t2.root, unseen: ['cow'] }))).toContain('label value 60 (1 pixel) is not a PASCAL Context 59-class label (0 background, 1..59) nor the ignore index 255');
    expect(validateDataConfig({ type: 'pascal-context', root: t2.root, unseenSplit: 'cagnet' }).errors).toEqual(["data.unseenSplit: unknown set 'cagnet'; known: zs3net-2, zs3net-4, zs3net-6, zs3net-8, zs3net-10"]);
  });
});

describe('coco-stuff164k', () => {
  let t: PaperTree;
  beforeAll(async () => {
    t = await tree('coco-stuff164k', { seed: 7 });
  });

  it('opens images/{train2017,val2017}/ and stuffthingmaps/: 182 classes, no background, ids 0..181', async () => {
    const ds = await open({ type: 'coco-stuff164k', root: t.root, unseenSplit: 'cagnet' });
    expect([ds.meta.classNames.length, ds.meta.background, ds.meta.splits]).toEqual([182, null, ['train', 'val']]);
    expect(ds.meta.classNames).toEqual(COCO_STUFF_CLASSES);
    await expectSamples(ds, 'train', t, 'train', (id) => join(t.root, 'images', 'train2017', `${id}.jpg`));
    await expectSamples(ds, 'val', t, 'test', (id) => join(t.root, 'images', 'val2017', `${id}.jpg`));
    const dm = await createDataModule({ type: 'coco-stuff164k', root: t.root, unseenSplit: 'cagnet', embeddingsFile: embeddingsFile(COCO_STUFF_CLASSES) }, { io: nodeIo, seed: 0 });
    expect(dm.unseen).toEqual([20, 24, 32, 33, 40, 56, 86, 99, 105, 123, 144, 147, 148, 168, 171]);
    expect(dm.seen).toHaveLength(167);
    dm.dispose();
  });

  it('writePaperTree with given label maps: the test split is exactly those maps, at their sizes', async () => {
    const maps = [
      { height: 3, width: 4, label: Uint8Array.from([0, 0, 20, 20, 0, 0, 20, 20, 255, 255, 20, 20]) },
      { height: 2, width: 2, label: Uint8Array.from([156, 123, 123, 156]) },
    ];
    const t2 = await tree('coco-stuff164k', { trainCount: 1, testCount: 5, labels: { test: maps } });
    const ds = await open({ type: 'coco-stuff164k', root: t2.root, unseenSplit: 'cagnet' });
    expect(ds.split('val').size).toBe(2);
    for (const [i, m] of maps.entries()) {
      const got = await ds.split('val').get(i);
      expect([got.height, got.width, Array.from(got.label)]).toEqual([m.height, m.width, Array.from(m.label)]);
    }
    await expectSamples(ds, 'val', t2, 'test', (id) => join(t2.root, 'images', 'val2017', `${id}.jpg`));
    await expect(tree('coco-stuff164k', { labels: { test: [{ height: 2, width: 3, label: new Uint8Array(5) }] } })).rejects.toThrow('writePaperTree: labels.test[0] must be a Uint8Array of height×width values, got 5 for 2×3');
  });

  it("pairs by listing: unpaired files named; label 182 named; CaGNet's 'annotations' folder with labelsDir", async () => {
    const t2 = await tree('coco-stuff164k', { seed: 8 });
    const s = t2.samples.test![0]!;
    unlinkSync(join(t2.root, 'images', 'val2017', `${t2.samples.test![1]!.id}.jpg`));
    const bad = new Uint8Array(s.label);
    bad[3] = 182;
    writeFileSync(join(t2.root, 'stuffthingmaps', 'val2017', `${s.id}.png`), encodePng({ width: s.width, height: s.height, data: bad, channels: 1, depth: 8 }));
    const msg = await refusal(open({ type: 'coco-stuff164k', root: t2.root, unseen: ['cow'] }));
    expect(msg).toContain(`${join(t2.root, 'stuffthingmaps', 'val2017', `${t2.samples.test![1]!.id}.png`)}: label without an image (expected ${join(t2.root, 'images', 'val2017', t2.samples.test![1]!.id)}.png, .jpg or .jpeg)`);
    unlinkSync(join(t2.root, 'stuffthingmaps', 'val2017', `${t2.samples.test![1]!.id}.png`));
    expect(await refusal(open({ type: 'coco-stuff164k', root: t2.root, unseen: ['cow'] }))).toContain(`${s.id}.png: label value 182 (1 pixel) is not a COCO-Stuff class id (0..181) nor the ignore index 255`);
    expect(await refusal(open({ type: 'coco-stuff164k', root: t2.root, unseen: ['cow'], labelsDir: 'annotations' }))).toContain(`${join(t2.root, 'annotations', 'train2017')}`);
  });
});

describe('sign-release', () => {
  for (const [benchmark, classes] of [
    ['voc12', PASCAL_VOC12_CLASSES],
    ['context', PASCAL_CONTEXT33_CLASSES],
    ['cocostuff', COCO_STUFF_CLASSES],
  ] as const) {
    it(`opens the release's '${benchmark}' data: images/, annotations/, split/{train,test}_list.npy, the class tables checked`, async () => {
      const t = await tree(`sign-release-${benchmark}`, { seed: 9 });
      const ds = await open({ type: 'sign-release', root: t.root, benchmark, unseenSplit: 'cagnet' });
      expect(ds.meta.classNames).toEqual(classes);
      expect([ds.meta.type, ds.meta.background, ds.meta.splits]).toEqual(['sign-release', benchmark === 'cocostuff' ? null : 0, ['train', 'test']]);
      expect(ds.meta.normalization).toEqual(CAFFE_BGR_NORMALIZATION);
      const folder = benchmark === 'cocostuff' ? 'val2017' : 'val';
      await expectSamples(ds, 'test', t, 'test', (id) => join(t.root, 'images', folder, `${id}.jpg`));
      const dm = await createDataModule({ type: 'sign-release', root: t.root, benchmark, unseenSplit: 'cagnet', embeddingsFile: embeddingsFile(classes) }, { io: nodeIo, seed: 0 });
      expect(dm.unseen.map((i) => classes[i]).sort()).toEqual([...(benchmark === 'voc12' ? PASCAL_VOC12_UNSEEN_SPLITS : benchmark === 'context' ? PASCAL_CONTEXT33_UNSEEN_SPLITS : COCO_STUFF_UNSEEN_SPLITS).cagnet!].sort());
      expect(dm.testSize).toBe(3);
      dm.dispose();
    });
  }

  it('names a wrong benchmark (labels_refined.txt, novel_cls.npy), a list that is not .npy, and a missing listed file', async () => {
    const t = await tree('sign-release-voc12', { seed: 10 });
    const msg = await refusal(open({ type: 'sign-release', root: t.root, benchmark: 'context', unseen: ['cow'] }));
    expect(msg).toContain(`${join(t.root, 'labels_refined.txt')}, line 1: class 0 is 'background', the 'context' benchmark has 'unlabel' (is benchmark right?)`);
    expect(msg).toContain(`${join(t.root, 'split', 'novel_cls.npy')}: unseen ids 16, 17, 18, 19, 20, the 'context' benchmark's 'cagnet' set is 8, 10, 14, 18 (is benchmark right?)`);

    writeFileSync(join(t.root, 'split', 'test_list.npy'), 'annotations/val/2008_000002.png\n');
    expect(await refusal(open({ type: 'sign-release', root: t.root, benchmark: 'voc12', unseen: ['cow'] }))).toContain(`${join(t.root, 'split', 'test_list.npy')}: not a readable .npy array (no \\x93NUMPY magic) (the list of the 'test' split)`);

    writeFileSync(join(t.root, 'split', 'test_list.npy'), encodeNpy(['/x/annotations/val/2099_000001.png', 'nofolder']));
    const msg2 = await refusal(open({ type: 'sign-release', root: t.root, benchmark: 'voc12', unseen: ['cow'] }));
    expect(msg2).toContain(`${join(t.root, 'split', 'test_list.npy')}, item 1: 'nofolder' does not end in <split folder>/<id>`);
    writeFileSync(join(t.root, 'split', 'test_list.npy'), encodeNpy(['/x/annotations/val/2099_000001.png']));
    expect(await refusal(open({ type: 'sign-release', root: t.root, benchmark: 'voc12', unseen: ['cow'], validate: 'exists' }))).toContain(
      `${join(t.root, 'images', 'val', '2099_000001.jpg')}: no such file (listed in ${join(t.root, 'split', 'test_list.npy')}, item 0)`,
    );
  });
});

describe('data.unseenSplit', () => {
  it('fills data.unseen; neither key, an unknown set, or both disagreeing are errors naming the key', () => {
    expect(validateDataConfig({ type: 'pascal-voc12', root: 'x', unseenSplit: 'zs3net-2' }).config!.unseen).toEqual(['cow', 'motorbike']);
    expect(validateDataConfig({ type: 'pascal-voc12', root: 'x', unseenSplit: 'zs3net-2', unseen: ['motorbike', 'cow'] }).errors).toEqual([]); // the same set: validating a validated config again is fine
    expect(validateDataConfig({ type: 'pascal-voc12', root: 'x', unseenSplit: 'cagent' }).errors).toEqual([
      "data.unseenSplit: unknown set 'cagent' (did you mean 'cagnet'?); known: cagnet, zs3net-2, zs3net-4, zs3net-6, zs3net-8, zs3net-10",
    ]);
    expect(validateDataConfig({ type: 'pascal-voc12', root: 'x', unseenSplit: 'zs3net-2', unseen: ['cow'] }).errors).toEqual([
      "data.unseen: cow differs from the set unseenSplit 'zs3net-2' names (cow, motorbike); give one of them",
    ]);
    expect(validateDataConfig({ type: 'pascal-voc12', root: 'x' }).errors).toEqual(['data.unseen: missing (the unseen class names, or unseenSplit naming a set the dataset knows)']);
    expect(validateDataConfig({ type: 'folder', root: 'x', unseenSplit: 'cagnet' }).errors).toEqual(["data.unseenSplit: the 'folder' dataset names no unseen sets; list the classes in unseen"]);
    // the schema itself fills unseen, so a config that embeds it (an experiment config) gets the names
    const parsed = z.object({ data: dataConfigSchema() }).parse({ data: { type: 'coco-stuff164k', root: 'x', unseenSplit: 'cagnet' } });
    expect((parsed.data as { unseen: string[] }).unseen).toEqual(COCO_STUFF_UNSEEN_SPLITS.cagnet);
    expect(validateDataConfig({ type: 'sign-release', root: 'x', benchmark: 'cocostuff', unseenSplit: 'cagnet' }).config!.unseen).toHaveLength(15);
  });
});
