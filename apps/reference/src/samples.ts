/**
 * Prediction images for the report: a few generated test scenes, each as input image, ground
 * truth and prediction (colour-coded, upscaled), plus a legend, written as PNGs into the run's
 * output directory.
 */
import { join } from 'node:path';
import { makeFashionScenes } from '@sign/data/node';
import type { ExperimentConfig, TrainedModel } from '@sign/trainer';
import { writeFileAtomic } from '@sign/core/node';
import { encodePng, grayImage, labelImage, legendImage, upscale, type LegendEntry } from './image.js';
import type { ReportImage, ReportSample } from './report.js';

/** Legend entries for all classes, unseen ones marked. */
export function legendEntries(classNames: string[], unseen: string[]): LegendEntry[] {
  return classNames.map((name, label) => ({ label, name: unseen.includes(name) ? `${name} (unseen)` : name }));
}

/** Display scale so that a `size`-pixel scene is drawn about 192 pixels wide. */
export function displayScale(size: number): number {
  return Math.max(1, Math.round(192 / size));
}

export function writeSamples(
  model: TrainedModel,
  config: ExperimentConfig,
  outDir: string,
  opts: { count?: number; calibrate?: number } = {},
): { samples: ReportSample[]; legend: ReportImage } {
  const count = opts.count ?? 4;
  const size = config.data.size;
  const scenes = makeFashionScenes({
    split: 'test',
    count,
    seed: config.seed,
    layout: config.data.layout,
    size,
    unseen: config.data.unseen,
    ...(config.data.fashionMnistDir ? { fashionMnistDir: config.data.fashionMnistDir } : {}),
  });
  const { height: h, width: w } = scenes;
  const pred = model.predict(scenes, { calibrate: opts.calibrate ?? config.eval.calibrate });
  const k = displayScale(size);
  const samples: ReportSample[] = [];
  for (let i = 0; i < scenes.n; i++) {
    const px = h * w;
    const files = {
      image: `sample-${i}-image.png`,
      truth: `sample-${i}-truth.png`,
      prediction: `sample-${i}-prediction.png`,
    };
    writeFileAtomic(join(outDir, files.image), encodePng(upscale(grayImage(scenes.images.subarray(i * px, (i + 1) * px), w, h), k)));
    writeFileAtomic(join(outDir, files.truth), encodePng(upscale(labelImage(scenes.labels.subarray(i * px, (i + 1) * px), w, h), k)));
    writeFileAtomic(join(outDir, files.prediction), encodePng(upscale(labelImage(pred.labels.subarray(i * px, (i + 1) * px), w, h), k)));
    samples.push({
      image: { file: files.image, alt: `test scene ${i}` },
      truth: { file: files.truth, alt: `ground truth ${i}` },
      prediction: { file: files.prediction, alt: `prediction ${i}` },
    });
  }
  const legendFile = 'legend.png';
  writeFileAtomic(join(outDir, legendFile), encodePng(legendImage(legendEntries(model.classNames, config.data.unseen), 3 * w * k + 8)));
  return { samples, legend: { file: legendFile, alt: 'legend: class colours' } };
}
