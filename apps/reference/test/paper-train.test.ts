/**
 * `sign train --preset … --data-root … --max-steps 20` on the tiny tree of every dataset layout
 * (writePaperTree: the release's preprocessed layout for the three benchmarks, VOC 2012 + SBD,
 * PASCAL Context (CaGNet's 33 classes and ZS3Net's 59), COCO-Stuff 164k): a falling loss and a flat
 * resident memory, the run's report.
 *
 * The preset itself (ResNet-101, crop 368, batch 8) takes minutes per step on two cores (see the
 * root README, "Reproduce the paper"), so the runs add one documented override with --config
 * (SMALL below: the same network with one bottleneck per layer and narrow widths, base size 65
 * instead of 513 and crop 48 instead of 368, batch 2); everything else — data type, layout,
 * unseen set, the pipeline's steps, optimizers with the release's group multipliers and
 * schedule, loss weights — is the preset's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PASCAL_CONTEXT33_CLASSES, PASCAL_CONTEXT59_CLASSES, SIGN_RELEASE_BENCHMARKS } from '@sign/datasets';
import { writePaperTree, type PaperLayout } from '@sign/datasets/testing';
import { main } from '../src/cli';
import { SMALL_PRESET_PIPELINE, sink, tempDir, writeClassTable } from './helpers';

/** The documented override of these tests (a preset at test scale). */
const SMALL = {
  data: {
    train: {
      pipeline: SMALL_PRESET_PIPELINE,
    },
  },
  model: {
    backbone: { blocks: [1, 1, 1, 1], width: 4, channels: 32 },
    sim: { hidden: 8 },
    generator: { hidden: [32] },
    discriminator: { hidden: 32 },
  },
  schedule: { batchSize: 2 },
  runtime: { checkpointEvery: 10 },
};

/** ZS3Net's 59-class PASCAL Context protocol on the Context preset (data.classes 59 with ZS3Net's unseen set, background counted). */
const ZS3NET_CONTEXT59 = { data: { classes: 59, unseenSplit: 'zs3net-4' }, eval: { countBackground: true } };

/** [layout, preset, the classes' names, a further override merged into SMALL] */
const CASES: [PaperLayout, string, readonly string[], Record<string, any>?][] = [
  ['sign-release-voc12', 'voc12-sign', SIGN_RELEASE_BENCHMARKS.voc12.classNames],
  ['pascal-voc12', 'voc12-zs3net-4', SIGN_RELEASE_BENCHMARKS.voc12.classNames],
  ['sign-release-context', 'context-sign', SIGN_RELEASE_BENCHMARKS.context.classNames],
  ['pascal-context', 'context-sign', PASCAL_CONTEXT33_CLASSES],
  ['pascal-context', 'context-sign', PASCAL_CONTEXT59_CLASSES, ZS3NET_CONTEXT59],
  ['sign-release-cocostuff', 'cocostuff-sign', SIGN_RELEASE_BENCHMARKS.cocostuff.classNames],
  ['coco-stuff164k', 'cocostuff-sign', SIGN_RELEASE_BENCHMARKS.cocostuff.classNames],
];

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('sign train --preset … --max-steps 20 on each layout (small override)', () => {
  for (const [layout, preset, classes, extra] of CASES) {
    const title = `${layout}${extra ? ` (${classes.length - 1} classes)` : ''} with ${preset}`;
    it(`${title}: loss falls, memory stays flat, the report is written`, async () => {
      const dir = tempDir();
      const root = join(dir, 'data');
      await writePaperTree(root, layout, { trainCount: 4, testCount: 2 });
      const small = join(dir, 'small.json');
      writeFileSync(small, JSON.stringify(extra ? { ...SMALL, data: { ...SMALL.data, ...extra.data }, eval: extra.eval } : SMALL));
      const out = join(dir, 'run');
      const stdout = sink();
      const stderr = sink();
      const argv = ['train', '--preset', preset, '--data-root', root, '--config', small, '--embeddings-file', writeClassTable(dir, classes), '--max-steps', '20', '--out', out, '--backend', 'wasm', '--json'];
      const code = await main(argv, { stdout, stderr, handleSignals: false });
      expect(code, stderr.text).toBe(0);
      const events = stdout.text.trim().split('\n').map((l) => JSON.parse(l));
      const steps = events.filter((e) => e.event === 'step');
      expect(steps.map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(steps.every((e) => e.until === 20 && e.total === 60000 && e.phase === 'step1')).toBe(true);
      // the classification loss of real features falls: the mean of the last five steps below that of the first five
      const cls = steps.map((e) => e.losses.clsReal as number);
      expect(cls.every(Number.isFinite)).toBe(true);
      expect(mean(cls.slice(-5))).toBeLessThan(mean(cls.slice(0, 5)));
      // flat memory: the resident set of steps 11–20 peaks less than 40 MB above that of steps 1–10 (it
      // is a sawtooth of garbage collections: 181–257 MB over 100 steps of this run, no trend)
      const rss = steps.map((e) => e.rss as number);
      expect(Math.max(...rss.slice(10)) - Math.max(...rss.slice(0, 10))).toBeLessThan(40 * 2 ** 20);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.config.name).toBe(preset);
      expect(report.config.data.root).toBe(root);
      if (layout === 'pascal-context') expect(report.config.data.classes).toBe(classes.length - 1);
      if (extra) expect(report.config.eval.countBackground).toBe(true);
      const ckpt = events.filter((e) => e.event === 'checkpoint').map((e) => e.path ?? e.checkpoint);
      expect(ckpt.length).toBeGreaterThanOrEqual(2); // step 10 and the stop at 20
    }, 900_000); // about 10 s on an idle 2-core machine; minutes when it is shared
  }
});
