/**
 * `sign eval --preset … --data-root DIR --checkpoint FILE --out OUT` on a tiny tree of every
 * dataset layout (the release's preprocessed data of the three benchmarks; PASCAL VOC 2012 + SBD
 * with CaGNet's and ZS3Net's unseen sets; PASCAL Context under CaGNet's 33-class and ZS3Net's
 * 59-class protocols, its PNGs in mmsegmentation's or FCN's label order; COCO-Stuff 164k), with
 * the mIoU of both protocols worked out by hand.
 *
 * The checkpoint: the release's structure (release-type1.pth of fixtures/release, written by
 * PyTorch; DeepLabv2 with reduced widths, D = 16, D/C hidden 32) with the weights after the
 * backbone replaced by hand, so that its prediction is known without running it:
 * - the four ASPP convs (weights and biases) are zero: h = 0 whatever the image;
 * - positional module: its first branch's 3×3 kernel has one non-zero entry, 1 at the centre tap
 *   from input channel D + 6 (the positional encoding's channel 6, sin(x·f), f = 10000^(−6/8) =
 *   0.001, x = linspace(0, 511, gw) along the grid's width) to branch channel 0; the other two
 *   branches and the gate conv are zero (each gate is sigmoid(relu(0)) = 0.5); the 1×1 pool conv
 *   maps branch channel 0 to channel 0 with weight 1. So h' = h + relu(0.5·relu(sin(x·f))) has
 *   channel 0 = 0.5·sin(x·f) (sin ≥ 0 here: x·f ≤ 0.511) and every other channel 0;
 * - contextual module all zero: z = mu = 0, F = sigmoid(h' + h'·sigmoid(0)) = sigmoid(1.5·h'),
 *   channel 0 u(x) = sigmoid(0.75·sin(x·f)), increasing in x, the same on every row;
 * - D/C: dis.fc passes F's channel 0 to hidden unit 0 (weight 1, bias 0, ReLU: u > 0 stays u);
 *   classifier row of class A (unseen): GAIN·(u − T), row of class B (seen): 0, every other row
 *   −1e5. T is halfway between u at grid columns 31 and 32 of the 65-column grid (x = 31·511/64
 *   and 32·511/64), so the argmax is B on grid columns 0–31 and A on columns 32–64, on every row
 *   (margins ±7 at the two middle columns, hundreds elsewhere).
 * The image does not matter (h = 0); the label maps do. Each test image has a left half of one
 * value and a right half of another (even widths ≤ 32, any height):
 *   image 1, 20×32: left B, right A;  image 2, 18×24: left C (seen), right A;
 *   image 3, 26×20: left the background (COCO-Stuff: 255, it has none), right U2 (unseen).
 * (Which classes play A, B, C, U2 differs per layout and protocol, and the values are written as
 * each layout stores them: e.g. PASCAL Context's 59-class ids, read as CaGNet's 33 classes.)
 *
 * Release protocol (image warped to 513², 65×65 grid, labels nearest to 513² and then to 65²):
 * grid column j reads 513-column r = ⌊j·513/65⌋, which reads label column ⌊r·W/513⌋; that is in
 * the left half (< W/2) iff r ≤ 256 iff j ≤ 32. So per image, on all 65 rows: label-left columns
 * 0–32 (33), label-right 33–64 (32); predicted B on 0–31, A on 32–64. In units of 65 pixels:
 *   (left → B) 32, (left → A) 1, (right → A) 32 for each image.
 *   CaGNet/SIGN (background not a class): B: TP 32, row 33, column 32 + 32 (image 2's C) → IoU 32/65;
 *   A: TP 64, row 64, column 1 + 32 + 1 + 32 + 32 = 98 → 64/98; C, U2: TP 0 → 0.
 *   mIoU(S) = (32/65 + 0)/2, mIoU(U) = (64/98 + 0)/2, mIoU = (32/65 + 64/98)/4, pixel accuracy
 *   96/162 (the background's 33 columns left out).
 *   ZS3Net (background counted as seen): its row 33 (32 → B, 1 → A) joins: B 32/(33 + 96 − 32) =
 *   32/97, A 64/(64 + 99 − 64) = 64/99, background 0; mIoU(S) = (32/97)/3 (B, C, background),
 *   mIoU(U) = (64/99)/2, mIoU = (32/97 + 64/99)/5, pixel accuracy 96/195.
 * Standard protocol (the 65 logit columns upsampled bilinearly, corners aligned, to W): label column
 * x samples grid position s = x·64/(W − 1); for even W ≤ 32, x = W/2 − 1 gives s < 31 (between two
 * B columns) and x = W/2 gives s > 32 (between A columns), so B is predicted exactly on the left
 * half and A on the right half. Pixels: image 1 320 | 320, image 2 216 | 216, image 3 260 | 260.
 *   CaGNet/SIGN: B 320/(320 + 536 − 320) = 320/536; A 536/(536 + 796 − 536) = 536/796;
 *   mIoU(S) = (320/536)/2, mIoU(U) = (536/796)/2, mIoU = (320/536 + 536/796)/4, pixel accuracy
 *   856/1332.
 *   ZS3Net: background 260 → B: B 320/796, A 536/796, mIoU(S) = (320/796)/3, mIoU(U) = (536/796)/2,
 *   mIoU = (320/796 + 536/796)/5, pixel accuracy 856/1592.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@sign/core';
import { saveCheckpoint } from '@sign/core/node';
import { COCO_STUFF_CLASSES, PASCAL_CONTEXT33_CLASSES, PASCAL_CONTEXT59_CLASSES, PASCAL_VOC12_CLASSES } from '@sign/datasets';
import { writePaperTree, type PaperLayout } from '@sign/datasets/testing';
import { readCheckpointFile } from '@sign/trainer/node';
import { main } from '../src/cli';
import { REPORT_KEYS } from '../src/report';
import { sink, tempDir } from './helpers';

const FIX = resolve(__dirname, 'fixtures/release/release-type1.pth');
const dir = tempDir('sign-paper-eval-');

// ------------------------------------------------------------------ the hand-set checkpoint
const D = 16; // release-type1.pth: ASPP / SIM width
const F6 = Math.exp((-6 * Math.log(10000)) / 8); // the frequency of the encoding's channel 6 (D = 16)
const u = (j: number) => 1 / (1 + Math.exp(-0.75 * Math.sin(((j * 511) / 64) * F6))); // F's channel 0 at grid column j of 65
const T = (u(31) + u(32)) / 2;
const GAIN = 1e4;

/** A tensor of `shape`, zero but for the given entries ([index…], value). */
function sparse(shape: number[], entries: Array<[number[], number]>, fill = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(size).fill(fill);
  for (const [idx, value] of entries) v[idx.reduce((a, k, i) => a * shape[i]! + k, 0)] = value;
  return tf.tensor(v, shape);
}

/**
 * Writes the release-structured checkpoint described above for a class table: the release's
 * classifier rows are the seen ids ascending, then the unseen ids ascending, then one extra row
 * (CaGNet's seen_cls.npy / novel_cls.npy order; the extra row belongs to the background, or to no
 * class). `a` (unseen) and `b` (seen) are class ids.
 */
async function handSetCheckpoint(file: string, classNames: readonly string[], background: number | null, unseen: readonly string[], a: number, b: number): Promise<void> {
  const unseenIds = unseen.map((n) => classNames.indexOf(n)).sort((x, y) => x - y);
  const seenIds = classNames.map((_, i) => i).filter((i) => i !== background && !unseenIds.includes(i));
  const rows = [...seenIds, ...unseenIds];
  const k = rows.length;
  expect(unseenIds).toContain(a);
  expect(seenIds).toContain(b);
  const { tensors } = await readCheckpointFile(FIX);
  const shapes = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, t.shape]));
  expect(shapes['back.scale.positional1.conv.weight']).toEqual([16, 2 * D, 3, 3]);
  expect(shapes['back.scale.positionalpool.conv.weight']).toEqual([D, 48, 1, 1]);
  expect(shapes['dis.fc.conv.weight']).toEqual([32, D, 1, 1]);
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    // ASPP, both SIM modules and their latents: zero, then the few entries set below
    out[name] = /^back\.scale\.(aspp\.|positional|contextual|fc_1\.|fc_2\.)/.test(name) ? tf.zerosLike(t) : tf.clone(t);
  }
  const set = (name: string, t: tf.Tensor) => {
    out[name]?.dispose();
    out[name] = t;
  };
  set('back.scale.positional1.conv.weight', sparse([16, 2 * D, 3, 3], [[[0, D + 6, 1, 1], 1]]));
  set('back.scale.positionalpool.conv.weight', sparse([D, 48, 1, 1], [[[0, 0, 0, 0], 1]]));
  set('dis.fc.conv.weight', sparse([32, D, 1, 1], [[[0, 0, 0, 0], 1]]));
  set('dis.fc.conv.bias', tf.zeros([32]));
  const rowA = rows.indexOf(a);
  const rowB = rows.indexOf(b);
  set('dis.cls.weight', sparse([k + 1, 32, 1, 1], [[[rowA, 0, 0, 0], GAIN]]));
  set('dis.cls.bias', sparse([k + 1], [[[rowA], -GAIN * T], [[rowB], 0]], -1e5));
  // one embedding per class of the split (the model's M; not used by the classifier)
  set('Em_all.weight', tf.tensor2d(Float32Array.from({ length: k * D }, (_, i) => Math.sin(0.37 * i + 0.11 * Math.floor(i / D))), [k, D]));
  try {
    await saveCheckpoint(file, out, { what: 'release-type1.pth with the weights after the backbone set by hand (test/paper-eval.test.ts)' });
  } finally {
    tf.dispose([...Object.values(tensors), ...Object.values(out)]);
  }
}

// ------------------------------------------------------------------ the label maps and the expected scores
function halves(height: number, width: number, left: number, right: number) {
  const label = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) label[y * width + x] = x < width / 2 ? left : right;
  return { height, width, label };
}

interface Expected {
  mIoUSeen: number;
  mIoUUnseen: number;
  mIoU: number;
  pixelAccuracy: number;
  /** IoU (percent) of B, A, C, U2 and (ZS3Net) the background */
  iou: Record<'B' | 'A' | 'C' | 'U2' | 'bg', number | undefined>;
}

const pct = (v: number) => 100 * v;
/** The hand computation of the header comment. */
const EXPECTED: Record<'cagnet' | 'zs3net', Record<'release' | 'standard', Expected>> = {
  cagnet: {
    release: { mIoUSeen: pct(32 / 65 / 2), mIoUUnseen: pct(64 / 98 / 2), mIoU: pct((32 / 65 + 64 / 98) / 4), pixelAccuracy: pct(96 / 162), iou: { B: pct(32 / 65), A: pct(64 / 98), C: 0, U2: 0, bg: undefined } },
    standard: { mIoUSeen: pct(320 / 536 / 2), mIoUUnseen: pct(536 / 796 / 2), mIoU: pct((320 / 536 + 536 / 796) / 4), pixelAccuracy: pct(856 / 1332), iou: { B: pct(320 / 536), A: pct(536 / 796), C: 0, U2: 0, bg: undefined } },
  },
  zs3net: {
    release: { mIoUSeen: pct(32 / 97 / 3), mIoUUnseen: pct(64 / 99 / 2), mIoU: pct((32 / 97 + 64 / 99) / 5), pixelAccuracy: pct(96 / 195), iou: { B: pct(32 / 97), A: pct(64 / 99), C: 0, U2: 0, bg: 0 } },
    standard: { mIoUSeen: pct(320 / 796 / 3), mIoUUnseen: pct(536 / 796 / 2), mIoU: pct((320 / 796 + 536 / 796) / 5), pixelAccuracy: pct(856 / 1592), iou: { B: pct(320 / 796), A: pct(536 / 796), C: 0, U2: 0, bg: 0 } },
  },
};

interface Case {
  layout: PaperLayout;
  preset: string;
  /** a documented override, given with --config */
  config?: Record<string, unknown>;
  protocol: 'cagnet' | 'zs3net';
  classNames: readonly string[];
  background: number | null;
  unseen: readonly string[];
  /** class names of the roles */
  names: Record<'B' | 'A' | 'C' | 'U2', string>;
  /** values as stored in the label PNGs: the roles and the left half of image 3 */
  raw: Record<'B' | 'A' | 'C' | 'U2' | 'left3', number>;
}

const VOC_UNSEEN = ['potted_plant', 'sheep', 'sofa', 'train', 'tv']; // METHOD §7
const CONTEXT_UNSEEN = ['cow', 'motorbike', 'sofa', 'cat'];
const COCO_UNSEEN = ['cow', 'giraffe', 'suitcase', 'frisbee', 'skateboard', 'carrot', 'scissors', 'cardboard', 'clouds', 'grass', 'playingfield', 'river', 'road', 'tree', 'wall-concrete'];

const voc = { classNames: PASCAL_VOC12_CLASSES, background: 0, unseen: VOC_UNSEEN, names: { B: 'person', A: 'sheep', C: 'cat', U2: 'tv' }, raw: { B: 15, A: 17, C: 8, U2: 20, left3: 0 } };
const context33 = { classNames: PASCAL_CONTEXT33_CLASSES, background: 0, unseen: CONTEXT_UNSEEN, names: { B: 'sky', A: 'cow', C: 'grass', U2: 'cat' } };
const coco = { classNames: COCO_STUFF_CLASSES, background: null, unseen: COCO_UNSEEN, names: { B: 'person', A: 'cow', C: 'sky-other', U2: 'grass' }, raw: { B: 0, A: 20, C: 156, U2: 123, left3: 255 } };

/** ZS3Net's 59-class protocol on the Context preset (a documented override: classes, ZS3Net's unseen set, background counted). */
const ZS3NET_CONTEXT59 = { data: { classes: 59, unseenSplit: 'zs3net-4' }, eval: { countBackground: true } };
const context59 = { classNames: PASCAL_CONTEXT59_CLASSES, background: 0, unseen: ['cow', 'motorbike', 'sofa', 'cat'] /* ZS3Net's first 4 */, names: { B: 'sky', A: 'cow', C: 'grass', U2: 'cat' } };

const CASES: Record<string, Case> = {
  'sign-release voc12 (voc12-sign)': { layout: 'sign-release-voc12', preset: 'voc12-sign', protocol: 'cagnet', ...voc },
  'pascal-voc12 (voc12-sign)': { layout: 'pascal-voc12', preset: 'voc12-sign', protocol: 'cagnet', ...voc },
  // the release's Context labels are the 33 class ids (0 'unlabel')
  'sign-release context (context-sign)': { layout: 'sign-release-context', preset: 'context-sign', protocol: 'cagnet', ...context33, raw: { B: 21, A: 10, C: 22, U2: 8, left3: 0 } },
  // PASCAL Context's PNGs hold the 59-class ids (mmsegmentation's order): sky 47 → 21, cow 20 → 10, grass 29 → 22, cat 15 → 8, background 0 → unlabel
  'pascal-context, CaGNet 33 classes (context-sign)': { layout: 'pascal-context', preset: 'context-sign', protocol: 'cagnet', ...context33, raw: { B: 47, A: 20, C: 29, U2: 15, left3: 0 } },
  'pascal-context, ZS3Net 59 classes (context-sign + override)': { layout: 'pascal-context', preset: 'context-sign', config: ZS3NET_CONTEXT59, protocol: 'zs3net', ...context59, raw: { B: 47, A: 20, C: 29, U2: 15, left3: 0 } },
  // the same with PNGs in FCN's / ZS3Net's classes-59.txt order (labelOrder 'fcn'): sky 50, cow 10, grass 36, cat 8
  'pascal-context, ZS3Net 59 classes, FCN label order (context-sign + override)': {
    layout: 'pascal-context',
    preset: 'context-sign',
    config: { ...ZS3NET_CONTEXT59, data: { ...ZS3NET_CONTEXT59.data, labelOrder: 'fcn' } },
    protocol: 'zs3net',
    ...context59,
    raw: { B: 50, A: 10, C: 36, U2: 8, left3: 0 },
  },
  // ZS3Net's VOC protocol: its unseen set, the background counted as a seen class
  'pascal-voc12, ZS3Net 4 unseen (voc12-zs3net-4)': {
    layout: 'pascal-voc12',
    preset: 'voc12-zs3net-4',
    protocol: 'zs3net',
    classNames: PASCAL_VOC12_CLASSES,
    background: 0,
    unseen: ['cow', 'motorbike', 'aeroplane', 'sofa'],
    names: { B: 'person', A: 'cow', C: 'cat', U2: 'aeroplane' },
    raw: { B: 15, A: 10, C: 8, U2: 1, left3: 0 },
  },
  'sign-release cocostuff (cocostuff-sign)': { layout: 'sign-release-cocostuff', preset: 'cocostuff-sign', protocol: 'cagnet', ...coco },
  'coco-stuff164k (cocostuff-sign)': { layout: 'coco-stuff164k', preset: 'cocostuff-sign', protocol: 'cagnet', ...coco },
};

async function sign(argv: string[]) {
  const o = sink();
  const e = sink();
  const c = await main(argv, { stdout: o, stderr: e, handleSignals: false, invocation: 'sign' });
  return { code: c, stdout: o.text, stderr: e.text };
}

beforeAll(async () => {
  await initBackend('cpu');
});

// generous limits for a shared, loaded 2-core machine: 3–10 s per case, 60 s for the nine, measured at load average 12
describe('sign eval on every layout, mIoU worked out by hand (both protocols)', { timeout: 600_000 }, () => {
  let n = 0;
  for (const [title, c] of Object.entries(CASES)) {
    it(title, async () => {
      const at = join(dir, `case-${n++}`);
      const { B, A, C, U2, left3 } = c.raw;
      const tree = await writePaperTree(join(at, 'data'), c.layout, {
        trainCount: 1,
        labels: { test: [halves(20, 32, B, A), halves(18, 24, C, A), halves(26, 20, left3, U2)] },
      });
      const ids = Object.fromEntries(Object.entries(c.names).map(([role, name]) => [role, c.classNames.indexOf(name)]));
      const ckpt = join(at, 'hand-set.safetensors');
      await handSetCheckpoint(ckpt, c.classNames, c.background, c.unseen, ids.A!, ids.B!);
      const flags = ['--preset', c.preset];
      if (c.config) {
        writeFileSync(join(at, 'override.json'), JSON.stringify(c.config));
        flags.push('--config', join(at, 'override.json'));
      }
      const out = join(at, 'eval');
      const before = tf.memory().numTensors;
      const r = await sign(['eval', ...flags, '--data-root', tree.root, '--checkpoint', ckpt, '--out', out, '--backend', 'cpu']);
      expect(r.code, r.stderr).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(Object.keys(report).sort()).toEqual([...REPORT_KEYS].sort());
      // which protocol: the release's is primary (the 11 keys), the standard one beside it
      const p = report.config.protocol;
      expect(p.primary).toBe('release');
      expect(report.config.eval.protocol).toBe('release');
      expect(report.config.eval.countBackground).toBe(c.protocol === 'zs3net');
      expect(report.config.data.root).toBe(tree.root);
      expect(report.mIoU).toBeCloseTo(p.release.mIoU, 3);
      for (const protocol of ['release', 'standard'] as const) {
        const got = p[protocol];
        const want = EXPECTED[c.protocol][protocol];
        const where = `${title}, ${protocol} protocol`;
        expect(got.mIoUSeen, where).toBeCloseTo(want.mIoUSeen, 3);
        expect(got.mIoUUnseen, where).toBeCloseTo(want.mIoUUnseen, 3);
        expect(got.hIoU, where).toBeCloseTo((2 * want.mIoUSeen * want.mIoUUnseen) / (want.mIoUSeen + want.mIoUUnseen), 3);
        expect(got.mIoU, where).toBeCloseTo(want.mIoU, 3);
        expect(got.pixelAccuracy, where).toBeCloseTo(want.pixelAccuracy, 3);
        for (const role of ['B', 'A', 'C', 'U2'] as const) expect(got.perClassIoU[c.names[role]], `${where}: ${role} ${c.names[role]}`).toBeCloseTo(want.iou[role]!, 3);
        if (c.background !== null) {
          const bg = c.classNames[c.background]!;
          if (want.iou.bg === undefined) expect(got.perClassIoU, where).not.toHaveProperty(bg);
          else expect(got.perClassIoU[bg], where).toBeCloseTo(want.iou.bg, 3);
        }
      }
      console.log(`${title}: release mIoU ${p.release.mIoU}, standard ${p.standard.mIoU}`);
    });
  }
});
