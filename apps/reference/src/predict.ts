/**
 * `sign predict`: segment images (PNG or JPEG, RGB or grey, any size; or the checkpoint's test
 * samples) with a trained checkpoint and write, per image, a colour-coded mask and an overlay at
 * the image's own size, a panel for people (input | overlay | mask, upscaled, with a legend), a
 * shared legend.png and predictions.json (which classes were found, and the output files).
 *
 * An image becomes model input the way the checkpoint's test samples did: converted to the
 * dataset's channels, through its test pipeline (`data.test.pipeline`, normalisation last). The
 * fashion-scenes demo model is the exception it always was: it saw 64×64 grey scenes of light
 * items on black, so an image is made grey, inverted when its border is light (`--invert`) and
 * resized to the scene size.
 */
import { basename, extname, join } from 'node:path';
import { encode as encodeFastPng } from 'fast-png';
import { writeFileAtomic } from '@sign/core/node';
import type { DatasetMeta, Sample } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { toChannels, type TrainedModel } from '@sign/trainer';
import { openData } from './data.js';
import {
  borderMean,
  caption,
  encodePng,
  hstack,
  labelImage,
  legendImage,
  overlayImage,
  pixelImage,
  resizeGray,
  resizeLabels,
  upscale,
  vstack,
  type RgbaImage,
} from './image.js';
import { displayScale, legendEntries } from './samples.js';

export type InvertMode = 'auto' | 'always' | 'never';

/** One input at its own size: 8-bit pixels as decoded, or a test sample as the data module gave it. */
export interface PredictInput {
  name: string;
  source: string;
  width: number;
  height: number;
  /** Decoded pixels [H, W, channels] (files). */
  pixels?: { data: Uint8Array; channels: 1 | 3 };
  /** A test sample, normalised, with its ground truth (--from-test). */
  sample?: Sample;
}

export interface PredictOutput {
  source: string;
  /** With --save-labels: 8-bit grey PNGs of class ids at the image's size and on the feature grid. */
  labels?: string;
  featureLabels?: string;
  /** The feature grid's size [height, width] (with --save-labels). */
  grid?: [number, number];
  width: number;
  height: number;
  inverted: boolean;
  mask: string;
  overlay: string;
  panel: string;
  /** class name → fraction of pixels (0..1), classes present only, largest first. */
  classes: Record<string, number>;
  /** Fraction of pixels whose prediction equals the ground truth (test samples only). */
  pixelAccuracy?: number;
}

/** Decodes image files (PNG or JPEG); an unreadable or non-image file is an error naming it. */
export async function readInputs(paths: string[]): Promise<PredictInput[]> {
  const used = new Map<string, number>();
  const out: PredictInput[] = [];
  for (const p of paths) {
    const img = await nodeIo.decodeImage(p).catch((err: Error) => {
      throw new Error(err.message.includes(p) ? err.message : `${p}: ${err.message}`);
    });
    let name = basename(p, extname(p));
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    if (n > 0) name = `${name}-${n}`;
    out.push({ name, source: p, width: img.width, height: img.height, pixels: { data: img.data, channels: img.channels } });
  }
  return out;
}

/** The first `count` test samples of the checkpoint's data (with their ground truth). */
export async function testInputs(model: TrainedModel, count: number): Promise<PredictInput[]> {
  const data = await openData(model.config);
  const out: PredictInput[] = [];
  try {
    for await (const s of data.testSamples()) {
      if (out.length >= count) break;
      out.push({
        name: `test-${String(out.length).padStart(3, '0')}`,
        source: `${model.dataset.type} test sample ${s.id}`,
        width: s.width,
        height: s.height,
        sample: { ...s, image: Float32Array.from(s.image), label: Uint8Array.from(s.label) },
      });
    }
  } finally {
    data.dispose();
  }
  return out;
}

/** What the panels show: the input as an RGBA picture (test samples: their normalisation undone). */
function shownImage(inp: PredictInput, meta: DatasetMeta): RgbaImage {
  if (inp.pixels) return pixelImage(inp.pixels.data, inp.pixels.channels, inp.width, inp.height);
  const s = inp.sample!;
  const { scale, mean, std, order } = meta.normalization;
  const raw = new Float32Array(s.image.length);
  for (let i = 0; i < raw.length; i++) {
    const k = i % s.channels;
    raw[i] = (s.image[i] * std[k] + mean[k]) / scale;
  }
  // generated samples are 0..1 floats (normalisation identity); files are 0..255
  const max = raw.reduce((a, b) => Math.max(a, b), 0);
  const factor = max <= 1.0001 ? 255 : 1;
  const bytes = Uint8Array.from(raw, (v) => Math.max(0, Math.min(255, Math.round(v * factor))));
  if (order === 'bgr') for (let i = 0; i < bytes.length; i += 3) [bytes[i], bytes[i + 2]] = [bytes[i + 2], bytes[i]];
  return pixelImage(bytes, s.channels as 1 | 3, s.width, s.height);
}

/**
 * The labels of one input at its own size, and whether it was inverted. Files go through the
 * model's `predictImage` (the dataset's channels and test pipeline), except for the fashion-scenes
 * demo model (see the module comment); test samples are already model input.
 */
async function segment(
  model: TrainedModel,
  inp: PredictInput,
  invert: InvertMode,
  calibrate: number,
): Promise<{ labels: Uint8Array; inverted: boolean; grid?: { labels: Uint8Array; width: number; height: number } }> {
  if (inp.pixels && model.dataset.type !== 'fashion-scenes') {
    const { data, channels } = inp.pixels;
    const r = await model.predictImage({ width: inp.width, height: inp.height, channels, data }, { calibrate });
    return { labels: r.labels, inverted: false, grid: r.grid };
  }
  let x = { image: inp.sample?.image as Float32Array, height: inp.height, width: inp.width, inverted: false };
  if (inp.pixels) {
    const size = (model.config.data as { size?: number }).size ?? 64;
    const grey = Float32Array.from(toChannels(inp.pixels.data, inp.pixels.channels, 1), (v) => v / 255);
    const inv = invert === 'always' || (invert === 'auto' && borderMean(grey, inp.width, inp.height) > 0.5);
    const g = inv ? grey.map((v) => 1 - v) : grey;
    x = { image: resizeGray(g, inp.width, inp.height, size, size), height: size, width: size, inverted: inv };
  }
  const pred = await model.predict({ images: x.image, n: 1, height: x.height, width: x.width, channels: model.dataset.channels }, { calibrate });
  return { labels: resizeLabels(pred.labels, x.width, x.height, inp.width, inp.height), inverted: x.inverted };
}

export async function predictAndWrite(
  model: TrainedModel,
  inputs: PredictInput[],
  outDir: string,
  opts: { calibrate?: number; invert?: InvertMode; scale?: number; saveLabels?: boolean } = {},
): Promise<PredictOutput[]> {
  const names = model.classNames;
  const unseen = model.unseen.map((c) => names[c]);
  const tag = (l: number) => (unseen.includes(names[l]) ? `${names[l]} (unseen)` : (names[l] ?? String(l)));
  writeFileAtomic(join(outDir, 'legend.png'), encodePng(legendImage(legendEntries(names, unseen), 480)));
  const background = model.background;
  const outputs: PredictOutput[] = [];
  for (const inp of inputs) {
    const x = await segment(model, inp, opts.invert ?? 'auto', opts.calibrate ?? model.config.eval.calibrate);
    const labels = x.labels;
    let shown = shownImage(inp, model.dataset);
    if (x.inverted) shown = { ...shown, data: shown.data.map((v, i) => (i % 4 === 3 ? v : 255 - v)) };
    const mask = labelImage(labels, inp.width, inp.height);
    const overlay = overlayImage(shown, labels, background);

    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const present = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const classes: Record<string, number> = {};
    for (const [l, c] of present) classes[names[l] ?? String(l)] = Math.round((c / labels.length) * 1e4) / 1e4;

    const k = opts.scale ?? displayScale(Math.max(inp.width, inp.height));
    const panels: RgbaImage[] = [upscale(shownImage(inp, model.dataset), k)];
    const heads = ['input'];
    let pixelAccuracy: number | undefined;
    const truth = inp.sample?.label;
    if (truth) {
      panels.push(upscale(labelImage(truth, inp.width, inp.height), k));
      heads.push('ground truth');
      let hit = 0;
      let total = 0;
      for (let p = 0; p < labels.length; p++) {
        if (truth[p] === 255) continue;
        total++;
        if (truth[p] === labels[p]) hit++;
      }
      pixelAccuracy = total > 0 ? Math.round((hit / total) * 1e4) / 1e4 : undefined;
    }
    panels.push(upscale(overlay, k), upscale(mask, k));
    heads.push('overlay', 'prediction');
    const columns = panels.map((p, j) => vstack([caption(heads[j], p.width), p], 0));
    const row = hstack(columns, 6);
    const legendLabels = new Set(present.map(([l]) => l));
    if (truth) for (const l of truth) if (l !== 255) legendLabels.add(l);
    const entries = [...legendLabels].sort((a, b) => a - b).map((l) => ({ label: l, name: tag(l) }));
    const panel = vstack([row, legendImage(entries, row.width)], 4);

    const files = {
      mask: join(outDir, `${inp.name}.mask.png`),
      overlay: join(outDir, `${inp.name}.overlay.png`),
      panel: join(outDir, `${inp.name}.panel.png`),
    };
    let labelFiles: Pick<PredictOutput, 'labels' | 'featureLabels' | 'grid'> = {};
    if (opts.saveLabels) {
      labelFiles = { labels: join(outDir, `${inp.name}.labels.png`) };
      writeFileAtomic(labelFiles.labels!, encodeLabelPng(labels, inp.width, inp.height));
      if (x.grid) {
        labelFiles = { ...labelFiles, featureLabels: join(outDir, `${inp.name}.feature-labels.png`), grid: [x.grid.height, x.grid.width] };
        writeFileAtomic(labelFiles.featureLabels!, encodeLabelPng(x.grid.labels, x.grid.width, x.grid.height));
      }
    }
    writeFileAtomic(files.mask, encodePng(mask));
    writeFileAtomic(files.overlay, encodePng(overlay));
    writeFileAtomic(files.panel, encodePng(panel));
    outputs.push({
      source: inp.source,
      width: inp.width,
      height: inp.height,
      inverted: x.inverted,
      ...files,
      ...labelFiles,
      classes,
      ...(pixelAccuracy !== undefined ? { pixelAccuracy } : {}),
    });
  }
  return outputs;
}

/**
 * Class ids as an 8-bit grey PNG (one byte per pixel = the class id; 255 = ignore), through
 * fast-png. Ids above 255 cannot be written.
 *
 * @example
 * encodeLabelPng(Uint8Array.from([0, 1, 2, 20]), 2, 2); // PNG bytes, grey 2×2
 */
export function encodeLabelPng(labels: ArrayLike<number>, width: number, height: number): Uint8Array {
  if (labels.length !== width * height) throw new Error(`encodeLabelPng: ${width}×${height} needs ${width * height} ids, got ${labels.length}`);
  const data = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!(v >= 0 && v <= 255)) throw new Error(`encodeLabelPng: class id ${v} at pixel ${i} does not fit 8 bits`);
    data[i] = v;
  }
  return encodeFastPng({ width, height, data, channels: 1, depth: 8 });
}
