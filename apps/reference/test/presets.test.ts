/**
 * The presets (configs/presets/*.json): each validates and resolves to METHOD §4's settings and
 * §7's unseen sets (listed here by hand from METHOD, not read from the files), `--preset`
 * resolution (unknown names: exit 2 with a suggestion), `sign --help` lists them, and
 * `--data-root` picks the dataset type of the layout it holds (writePaperTree's tiny trees).
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { writePaperTree, type PaperLayout } from '@sign/datasets/testing';
import { main } from '../src/cli';
import { presetData, presetFile, presetNames, recipeNames, trainConfig } from '../src/configs';
import { UsageError } from '../src/errors';
import { sink, tempDir } from './helpers';

// METHOD §7
const VOC_CAGNET = ['potted_plant', 'sheep', 'sofa', 'train', 'tv'];
const VOC_ZS3NET = ['cow', 'motorbike', 'aeroplane', 'sofa', 'cat', 'tv', 'train', 'bottle', 'chair', 'potted_plant'];
const CONTEXT_CAGNET = ['cow', 'motorbike', 'sofa', 'cat'];
const COCO_CAGNET = ['cow', 'giraffe', 'suitcase', 'frisbee', 'skateboard', 'carrot', 'scissors', 'cardboard', 'clouds', 'grass', 'playingfield', 'river', 'road', 'tree', 'wall-concrete'];

/** preset → [benchmark, unseen names, self-training, background counted] */
const EXPECTED: Record<string, [string, string[], boolean, boolean]> = {
  'voc12-sign': ['voc12', VOC_CAGNET, false, false],
  'voc12-sign-st': ['voc12', VOC_CAGNET, true, false],
  'context-sign': ['context', CONTEXT_CAGNET, false, false],
  'context-sign-st': ['context', CONTEXT_CAGNET, true, false],
  'cocostuff-sign': ['cocostuff', COCO_CAGNET, false, false],
  'cocostuff-sign-st': ['cocostuff', COCO_CAGNET, true, false],
  ...Object.fromEntries([2, 4, 6, 8, 10].map((k) => [`voc12-zs3net-${k}`, ['voc12', VOC_ZS3NET.slice(0, k), false, true]])),
};

describe('presets', () => {
  it('are exactly the eleven of issue 9', () => {
    expect(presetNames()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, [benchmark, unseen, st, countBackground]] of Object.entries(EXPECTED)) {
    it(`${name} validates and has METHOD §4's settings and §7's unseen set`, () => {
      const c = trainConfig({ preset: name, 'data-root': '/data/nowhere' });
      expect(c.name).toBe(name);
      const data = c.data as Record<string, unknown>;
      expect(data.type).toBe('sign-release');
      expect(data.benchmark).toBe(benchmark);
      expect(data.root).toBe('/data/nowhere');
      expect(data.embeddingsFile).toBe(`class-embeddings/${benchmark}.json`);
      expect([...c.data.unseen].sort()).toEqual([...unseen].sort());
      // the release's preprocessing: normalise (BGR, Caffe means: the dataset's), 513, scale 0.5–1.5 + crop 368, flip
      expect(c.data.train?.pipeline).toEqual([
        { type: 'normalize' },
        { type: 'resize', height: 513, width: 513 },
        { type: 'randomScaleCrop', min: 0.5, max: 1.5, height: 368, width: 368 },
        { type: 'flip' },
      ]);
      const m = c.model as Record<string, any>;
      expect(m.type).toBe('sign');
      expect(m.backbone).toEqual({ name: 'deeplabv2-resnet101', channels: 600 });
      expect(m.sim).toEqual({ variant: 'paper', positional: 'relative', hidden: 256, dilations: [1, 2, 5] });
      expect(m.discriminator).toEqual({ hidden: 1024, dropout: 0.5 });
      expect(m.losses.clsReal).toEqual({ backbone: 0.5, classifier: 1 });
      expect(m.losses.kl).toEqual({ backbone: 100 });
      expect(m.losses.mmd).toEqual({ generator: 50, sigmas: [2, 5, 10, 20, 40, 60] });
      expect(m.losses.advG).toEqual({ generator: 1 });
      expect(m.transferPrior).toEqual({ type: 'cagnet', unseenRate: 9 });
      expect(c.schedule).toMatchObject({ batchSize: 8, step1Iters: 40000, transferIters: 20000, alternateEvery: 100, selfTrainingIters: st ? 10000 : 0 });
      // self-training as CaGNet's st configs: batch 4, crop 328 for VOC (368, the train pipeline, for Context and COCO-Stuff)
      expect(c.schedule.selfTrainingBatchSize).toBe(st ? 4 : undefined);
      const stCrop = (c.data.selfTraining ?? c.data.train)?.pipeline[2];
      expect(stCrop).toEqual({ type: 'randomScaleCrop', min: 0.5, max: 1.5, height: st && benchmark === 'voc12' ? 328 : 368, width: st && benchmark === 'voc12' ? 328 : 368 });
      expect(c.optimizers.backbone).toMatchObject({
        type: 'sgd', lr: 2.5e-4, momentum: 0.9, weightDecay: 5e-4, lrSchedule: { type: 'poly', power: 0.9 },
        lrMult: { backbone: 1, sim: 5, aspp: 10, asppBias: 20 }, decayMult: { asppBias: 0 },
      });
      expect(c.optimizers.classifier).toMatchObject({ type: 'adam', lr: 2.5e-4, weightDecay: 5e-4 });
      expect(c.optimizers.generator).toMatchObject({ type: 'adam', lr: 2e-4, weightDecay: 0 });
      expect(c.selfTraining).toEqual(st ? { type: 'ast', temperature: 0 } : { type: 'none' });
      expect(c.eval.countBackground).toBe(countBackground);
    });
  }

  it('the preset model file is not a recipe of --recipe', () => {
    expect(recipeNames()).toEqual(['sign', 'cagnet', 'zs3net']);
  });

  it('an unknown preset is a usage error with the closest name (exit 2, nothing written)', async () => {
    expect(() => presetFile('voc12-sing')).toThrow(UsageError);
    expect(() => presetFile('voc12-sing')).toThrow(/unknown preset 'voc12-sing' \(did you mean 'voc12-sign'\?\); known: cocostuff-sign, /);
    const out = sink();
    const err = sink();
    const dir = tempDir();
    const code = await main(['train', '--preset', 'voc-sign', '--data-root', dir, '--out', `${dir}/run`], { stdout: out, stderr: err, handleSignals: false });
    expect(code).toBe(2);
    expect(err.text).toMatch(/--preset: unknown preset 'voc-sign' \(did you mean 'voc12-sign'\?\)/);
  });

  it('--preset with --dataset is a usage error; --config is merged on top of the preset', () => {
    expect(() => trainConfig({ preset: 'voc12-sign', dataset: 'folder' })).toThrow(/give one of them/);
    const dir = tempDir();
    const file = `${dir}/small.json`;
    writeFileSync(file, JSON.stringify({ schedule: { batchSize: 2 }, model: { backbone: { blocks: [1, 1, 1, 1] } } }));
    const c = trainConfig({ preset: 'voc12-sign-st', config: file, 'data-root': dir });
    expect(c.schedule).toMatchObject({ batchSize: 2, step1Iters: 40000, selfTrainingIters: 10000 });
    expect(c.model.backbone).toEqual({ name: 'deeplabv2-resnet101', channels: 600, blocks: [1, 1, 1, 1] });
  });

  it('sign --help and sign train --help list the presets', async () => {
    for (const argv of [['--help'], ['train', '--help']]) {
      const out = sink();
      expect(await main(argv, { stdout: out, stderr: sink() })).toBe(0);
      for (const name of Object.keys(EXPECTED)) expect(out.text).toContain(name);
    }
  });
});

describe('--data-root picks the layout', () => {
  const cases: [PaperLayout, string, Record<string, unknown>][] = [
    ['sign-release-voc12', 'voc12-sign', { type: 'sign-release', benchmark: 'voc12' }],
    ['pascal-voc12', 'voc12-sign', { type: 'pascal-voc12' }],
    ['pascal-voc12', 'voc12-zs3net-6', { type: 'pascal-voc12', unseenSplit: 'zs3net-6' }],
    ['sign-release-context', 'context-sign', { type: 'sign-release', benchmark: 'context' }],
    ['pascal-context', 'context-sign-st', { type: 'pascal-context', classes: 33 }],
    ['sign-release-cocostuff', 'cocostuff-sign', { type: 'sign-release', benchmark: 'cocostuff' }],
    ['coco-stuff164k', 'cocostuff-sign', { type: 'coco-stuff164k' }],
  ];
  for (const [layout, preset, want] of cases) {
    it(`${layout} with ${preset}`, async () => {
      const dir = tempDir();
      await writePaperTree(dir, layout, { trainCount: 1, testCount: 1 });
      const c = trainConfig({ preset, 'data-root': dir });
      expect(c.data).toMatchObject({ ...want, root: dir });
      if (want.type !== 'sign-release') expect(c.data).not.toHaveProperty('benchmark');
      expect(c.data.train?.pipeline?.[2]).toEqual({ type: 'randomScaleCrop', min: 0.5, max: 1.5, height: 368, width: 368 });
    });
  }

  it("PASCAL Context: CaGNet's 33 classes unless --config sets classes: 59 (ZS3Net's protocol, its unseen set)", async () => {
    const dir = tempDir();
    await writePaperTree(dir, 'pascal-context', { trainCount: 1, testCount: 1 });
    const file = `${dir}/zs3net-59.json`;
    writeFileSync(file, JSON.stringify({ data: { classes: 59, unseenSplit: 'zs3net-4' }, eval: { countBackground: true } }));
    const c = trainConfig({ preset: 'context-sign', config: file, 'data-root': dir });
    expect(c.data).toMatchObject({ type: 'pascal-context', classes: 59, unseenSplit: 'zs3net-4', root: dir });
    expect([...c.data.unseen].sort()).toEqual(['cat', 'cow', 'motorbike', 'sofa']);
    expect(c.eval.countBackground).toBe(true);
    expect(trainConfig({ preset: 'context-sign', 'data-root': dir }).data).toMatchObject({ type: 'pascal-context', classes: 33 });
  });

  it("a layout of another benchmark is a usage error naming both", async () => {
    const dir = tempDir();
    await writePaperTree(dir, 'coco-stuff164k', { trainCount: 1, testCount: 1 });
    expect(() => presetData({ type: 'sign-release', benchmark: 'voc12' }, dir)).toThrow(`--data-root: ${dir} holds the coco-stuff164k layout, but this preset is for the 'voc12' benchmark`);
  });

  it('--embeddings-file replaces the preset embeddings file', () => {
    const c = trainConfig({ preset: 'voc12-sign', 'data-root': '/d', 'embeddings-file': 'tables/voc.json' });
    expect(c.data.embeddingsFile).toBe('tables/voc.json');
  });
});
