/**
 * `sign predict`: segment PNG images (or generated test scenes) with a trained checkpoint and
 * write, per image, a colour-coded mask and an overlay at the image's own size, a panel for
 * people (input | overlay | mask, upscaled, with a legend), a shared legend.png and
 * predictions.json (which classes were found, and the output files).
 */
import { basename, extname, join } from 'node:path';
import type { TrainedModel } from '@sign/trainer';
import { openData } from './data.js';
import { writeFileAtomic } from '@sign/core/node';
import {
  borderMean,
  caption,
  encodePng,
  grayImage,
  hstack,
  labelImage,
  legendImage,
  overlayImage,
  readPng,
  resizeGray,
  resizeLabels,
  toGray,
  upscale,
  vstack,
  type RgbaImage,
} from './image.js';
import { displayScale, legendEntries } from './samples.js';

export type InvertMode = 'auto' | 'always' | 'never';

/** One input, already grey (0..1) at its own size. */
export interface PredictInput {
  name: string;
  source: string;
  gray: Float32Array;
  width: number;
  height: number;
  /** Ground truth at the input's size (generated test scenes only). */
  truth?: Uint8Array;
}

export interface PredictOutput {
  source: string;
  width: number;
  height: number;
  inverted: boolean;
  mask: string;
  overlay: string;
  panel: string;
  /** class name → fraction of pixels (0..1), classes present only, largest first. */
  classes: Record<string, number>;
  /** Fraction of pixels whose prediction equals the ground truth (test scenes only). */
  pixelAccuracy?: number;
}

/**
 * Reads PNG files as grey images. The model was trained on light items on a black background;
 * `invert: 'auto'` inverts an image whose border is mostly light (a dark item on white).
 */
export function readInputs(paths: string[]): PredictInput[] {
  const used = new Map<string, number>();
  return paths.map((p) => {
    const img = readPng(p);
    let name = basename(p, extname(p));
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    if (n > 0) name = `${name}-${n}`;
    return { name, source: p, gray: toGray(img), width: img.width, height: img.height };
  });
}

/** The first `count` test samples of the checkpoint's data (with their ground truth). */
export async function testInputs(model: TrainedModel, count: number): Promise<PredictInput[]> {
  const data = await openData(model.config);
  const out: PredictInput[] = [];
  try {
    for await (const s of data.testSamples()) {
      if (out.length >= count) break;
      const i = out.length;
      out.push({
        name: `test-${String(i).padStart(3, '0')}`,
        source: `${model.dataset.type} test sample ${s.id}`,
        gray: Float32Array.from(s.image),
        width: s.width,
        height: s.height,
        truth: Uint8Array.from(s.label),
      });
    }
  } finally {
    data.dispose();
  }
  return out;
}

export async function predictAndWrite(
  model: TrainedModel,
  inputs: PredictInput[],
  outDir: string,
  opts: { calibrate?: number; invert?: InvertMode; scale?: number } = {},
): Promise<PredictOutput[]> {
  const size = (model.config.data as { size?: number }).size ?? 64;
  const invert = opts.invert ?? 'auto';
  const batch = new Float32Array(inputs.length * size * size);
  const inverted: boolean[] = [];
  inputs.forEach((inp, i) => {
    const inv = invert === 'always' || (invert === 'auto' && !inp.truth && borderMean(inp.gray, inp.width, inp.height) > 0.5);
    inverted.push(inv);
    const g = inv ? inp.gray.map((v) => 1 - v) : inp.gray;
    batch.set(resizeGray(g, inp.width, inp.height, size, size), i * size * size);
  });
  const pred = await model.predict(
    { images: batch, n: inputs.length, height: size, width: size },
    { calibrate: opts.calibrate ?? model.config.eval.calibrate },
  );
  const unseen = model.config.data.unseen;
  const names = model.classNames;
  const tag = (l: number) => (unseen.includes(names[l]) ? `${names[l]} (unseen)` : names[l]);
  writeFileAtomic(join(outDir, 'legend.png'), encodePng(legendImage(legendEntries(names, unseen), 480)));

  return inputs.map((inp, i) => {
    const small = pred.labels.subarray(i * size * size, (i + 1) * size * size);
    const labels = resizeLabels(small, size, size, inp.width, inp.height);
    const shown = inverted[i] ? inp.gray.map((v) => 1 - v) : inp.gray;
    const mask = labelImage(labels, inp.width, inp.height);
    const overlay = overlayImage(shown, labels, inp.width, inp.height);

    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const present = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const classes: Record<string, number> = {};
    for (const [l, c] of present) classes[names[l] ?? String(l)] = Math.round((c / labels.length) * 1e4) / 1e4;

    const k = opts.scale ?? displayScale(Math.max(inp.width, inp.height));
    const panels: RgbaImage[] = [upscale(grayImage(inp.gray, inp.width, inp.height), k)];
    const heads = ['input'];
    let pixelAccuracy: number | undefined;
    if (inp.truth) {
      panels.push(upscale(labelImage(inp.truth, inp.width, inp.height), k));
      heads.push('ground truth');
      let hit = 0;
      let total = 0;
      for (let p = 0; p < labels.length; p++) {
        if (inp.truth[p] === 255) continue;
        total++;
        if (inp.truth[p] === labels[p]) hit++;
      }
      pixelAccuracy = total > 0 ? Math.round((hit / total) * 1e4) / 1e4 : undefined;
    }
    panels.push(upscale(overlay, k), upscale(mask, k));
    heads.push('overlay', 'prediction');
    const columns = panels.map((p, j) => vstack([caption(heads[j], p.width), p], 0));
    const row = hstack(columns, 6);
    const legendLabels = new Set(present.map(([l]) => l));
    if (inp.truth) for (const l of inp.truth) if (l !== 255) legendLabels.add(l);
    const entries = [...legendLabels].sort((a, b) => a - b).map((l) => ({ label: l, name: tag(l) }));
    const panel = vstack([row, legendImage(entries, row.width)], 4);

    const files = {
      mask: join(outDir, `${inp.name}.mask.png`),
      overlay: join(outDir, `${inp.name}.overlay.png`),
      panel: join(outDir, `${inp.name}.panel.png`),
    };
    writeFileAtomic(files.mask, encodePng(mask));
    writeFileAtomic(files.overlay, encodePng(overlay));
    writeFileAtomic(files.panel, encodePng(panel));
    return {
      source: inp.source,
      width: inp.width,
      height: inp.height,
      inverted: inverted[i],
      ...files,
      classes,
      ...(pixelAccuracy !== undefined ? { pixelAccuracy } : {}),
    };
  });
}
