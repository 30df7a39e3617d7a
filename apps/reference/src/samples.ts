/**
 * Prediction images for the report: a few generated test scenes, each as input image, ground
 * truth and prediction (colour-coded, upscaled), plus a legend, written as PNGs into the run's
 * output directory.
 */
import { join } from 'node:path';
import type { DataModule, Sample } from '@sign/datasets';
import type { ExperimentConfig, TrainedModel } from '@sign/trainer';
import { openData } from './data.js';
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

export async function writeSamples(
  model: TrainedModel,
  config: ExperimentConfig,
  outDir: string,
  opts: { count?: number; calibrate?: number; data?: DataModule } = {},
): Promise<{ samples: ReportSample[]; legend: ReportImage }> {
  const count = opts.count ?? 4;
  const data = opts.data ?? (await openData(config));
  const scenes: Sample[] = [];
  try {
    for await (const s of data.testSamples()) {
      if (scenes.length >= count) break;
      scenes.push(s);
    }
  } finally {
    if (!opts.data) data.dispose();
  }
  const samples: ReportSample[] = [];
  let width = 0;
  let k = 1;
  for (const [i, scene] of scenes.entries()) {
    const { height: h, width: w } = scene;
    const pred = await model.predict({ images: Float32Array.from(scene.image), n: 1, height: h, width: w, channels: scene.channels }, { calibrate: opts.calibrate ?? config.eval.calibrate });
    k = displayScale(Math.max(w, h));
    width = Math.max(width, w * k);
    const files = {
      image: `sample-${i}-image.png`,
      truth: `sample-${i}-truth.png`,
      prediction: `sample-${i}-prediction.png`,
    };
    writeFileAtomic(join(outDir, files.image), encodePng(upscale(grayImage(scene.image, w, h), k)));
    writeFileAtomic(join(outDir, files.truth), encodePng(upscale(labelImage(scene.label, w, h), k)));
    writeFileAtomic(join(outDir, files.prediction), encodePng(upscale(labelImage(pred.labels, w, h), k)));
    samples.push({
      image: { file: files.image, alt: `test scene ${i}` },
      truth: { file: files.truth, alt: `ground truth ${i}` },
      prediction: { file: files.prediction, alt: `prediction ${i}` },
    });
  }
  const legendFile = 'legend.png';
  writeFileAtomic(join(outDir, legendFile), encodePng(legendImage(legendEntries(model.classNames, config.data.unseen), 3 * width + 8)));
  return { samples, legend: { file: legendFile, alt: 'legend: class colours' } };
}
