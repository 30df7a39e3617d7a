import { Rng } from '@sign/core';
import { FASHION_CLASSES, fashionEmbeddings, type SceneBatch } from '@sign/data';
import { makeFashionScenes } from '@sign/data/node';
import { controlEmbeddings } from '@sign/embeddings';
import type { ExperimentConfig } from './config';
import type { ClassInfo } from './model';

/**
 * The class table the model uses: ids = FASHION_CLASSES indices (0 = background), seen = item
 * classes not in `data.unseen`, embeddings = `fashionEmbeddings(source, { includeBackground })`,
 * so background is a seen class with its own fixed row of M (the GloVe vector of 'background'
 * and a dedicated 'background' attribute) and the classifier can predict it.
 *
 * Controls (`data.control`): `controlEmbeddings` of @sign/embeddings replaces the unseen rows by
 * random unit vectors ('random') or permutes them among the unseen classes ('permuted'), with
 * seed `data.controlSeed` (default `seed + 1000`).
 */
export function buildClassInfo(config: ExperimentConfig): ClassInfo {
  const classNames = [...FASHION_CLASSES];
  const unseen = config.data.unseen.map((name) => {
    const id = classNames.indexOf(name);
    if (id <= 0) throw new Error(`data.unseen: unknown class '${name}' (valid: ${classNames.slice(1).join(', ')})`);
    return id;
  });
  unseen.sort((a, b) => a - b);
  const seen = classNames.map((_, i) => i).filter((i) => i > 0 && !unseen.includes(i));
  let table = fashionEmbeddings(config.data.embeddings, { includeBackground: true });
  if (config.data.control !== 'none') {
    table = controlEmbeddings(table, config.data.unseen, config.data.control, config.data.controlSeed ?? config.seed + 1000);
  }
  const E = table.dimension;
  const embeddings = new Float32Array(classNames.length * E);
  classNames.forEach((name, i) => embeddings.set(table.vector(name), i * E));
  return { classNames, seen, unseen, embeddings, embeddingDim: E };
}

/** Train and test scenes of the config (deterministic in `seed`); test scenes keep every label. */
export function buildScenes(config: ExperimentConfig): { train: SceneBatch; test: SceneBatch } {
  const d = config.data;
  const common = {
    layout: d.layout,
    size: d.size,
    unseen: d.unseen,
    ...(d.fashionMnistDir ? { fashionMnistDir: d.fashionMnistDir } : {}),
  };
  const seed = new Rng(config.seed);
  // the supervised upper bound labels the unseen classes in training too (nothing becomes 255)
  const train = makeFashionScenes({
    split: 'train',
    count: d.trainCount,
    seed: seed.fork('train-scenes').nextUint32(),
    ...common,
    ...(d.supervised ? { unseen: [] } : {}),
  });
  const test = makeFashionScenes({ split: 'test', count: d.testCount, seed: seed.fork('test-scenes').nextUint32(), ...common });
  return { train, test };
}
