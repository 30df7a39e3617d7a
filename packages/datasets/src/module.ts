/**
 * `createDataModule`: from a `data` config to what the trainer consumes (class split,
 * embeddings, augmented training batches, full-size test samples). The trainer never names a
 * dataset.
 */
import { Rng, closestName, type Registry } from '@sign/core';
import { controlEmbeddings, type EmbeddingTable } from '@sign/embeddings';
import { validateDataConfig } from './config';
import { DatasetError } from './errors';
import { parseEmbeddings } from './embeddings';
import type { DatasetIo } from './io';
import { datasets } from './registry';
import { buildPipeline } from './transforms/pipeline';
import type { Transform } from './transforms/transforms';
export { DatasetError } from './errors';
import type { Batch, DataConfig, Dataset, DatasetDefinition, DataModule, DatasetMeta, DatasetSplit, Sample } from './types';

/** Options of {@link createDataModule}. */
export interface DataModuleOptions {
  /** File access and decoding: `nodeIo` from `@sign/datasets/node` in Node. */
  io: DatasetIo;
  /** The experiment seed: generated datasets, the control draw (`controlSeed` default seed + 1000), test-pipeline randomness. */
  seed: number;
  /** Datasets to look `type` up in. Default: the shared `datasets` registry. */
  registry?: Registry<DatasetDefinition>;
  /**
   * Decoded training samples kept in memory, in bytes (least recently used dropped first).
   * Memory does not grow with the dataset beyond this. Default 64 MiB.
   */
  cacheBytes?: number;
  /**
   * Class embeddings to use instead of `data.embeddingsFile` / the dataset's own (rows by class
   * name; e.g. those a checkpoint carries: evaluating a checkpoint needs no embeddings file).
   */
  embeddings?: EmbeddingTable;
}

/**
 * Resolves unseen class names to ids (ascending), with errors naming the class: unknown (with
 * "did you mean" and the valid names), background, or listed twice.
 *
 * @example
 * unseenIds(meta, ['dog']) // [2]
 */
export function unseenIds(meta: DatasetMeta, names: readonly string[], key = 'data.unseen'): number[] {
  const valid = meta.classNames.filter((_, i) => i !== meta.background);
  const problems: string[] = [];
  const ids = new Set<number>();
  for (const name of names) {
    const id = meta.classNames.indexOf(name);
    if (id < 0) {
      const near = closestName(name, valid);
      problems.push(`${key}: unknown class '${name}'${near ? ` (did you mean '${near}'?)` : ''}; valid: ${valid.join(', ')}`);
    } else if (id === meta.background) problems.push(`${key}: '${name}' is the background class, which cannot be unseen`);
    else if (ids.has(id)) problems.push(`${key}: class '${name}' is listed twice`);
    else ids.add(id);
  }
  if (problems.length > 0) throw new DatasetError(problems);
  if (ids.size > 0 && ids.size === valid.length) throw new DatasetError([`${key}: every object class is unseen (${names.join(', ')}); keep at least one seen`]);
  return [...ids].sort((a, b) => a - b);
}

/**
 * The dataset without some classes (`data.exclude`): their names leave `classNames` (the ids
 * after them move down), their pixels become the ignore index in training and in testing, and
 * `lut[old id]` is the new id (the ignore index for an excluded class; values that are not class
 * ids stay as they are, so the label checks still catch them). Errors name the class: unknown
 * (with "did you mean"), the background, or listed twice.
 *
 * @example
 * const { meta: m, lut } = excludeClasses(meta, ['bag']); // classNames without 'bag'; lut[9] = 255, lut[10] = 9
 */
export function excludeClasses(meta: DatasetMeta, names: readonly string[], key = 'data.exclude'): { meta: DatasetMeta; lut: Uint8Array } {
  const problems: string[] = [];
  const out = new Set<number>();
  for (const name of names) {
    const id = meta.classNames.indexOf(name);
    if (id < 0) {
      const near = closestName(name, meta.classNames);
      problems.push(`${key}: unknown class '${name}'${near ? ` (did you mean '${near}'?)` : ''}; valid: ${meta.classNames.join(', ')}`);
    } else if (id === meta.background) problems.push(`${key}: '${name}' is the background class, which cannot be excluded`);
    else if (out.has(id)) problems.push(`${key}: class '${name}' is listed twice`);
    else out.add(id);
  }
  if (problems.length > 0) throw new DatasetError(problems);
  const lut = new Uint8Array(256).map((_, v) => v);
  const classNames: string[] = [];
  meta.classNames.forEach((name, id) => {
    if (out.has(id)) lut[id] = meta.ignoreIndex;
    else {
      lut[id] = classNames.length;
      classNames.push(name);
    }
  });
  const kept = new Set(classNames);
  const unseenSplits = meta.unseenSplits
    ? Object.fromEntries(Object.entries(meta.unseenSplits).map(([k, v]) => [k, v.filter((n) => kept.has(n))]))
    : undefined;
  return {
    meta: {
      ...meta,
      classNames,
      background: meta.background === null ? null : lut[meta.background]!,
      ...(unseenSplits ? { unseenSplits } : {}),
    },
    lut,
  };
}

function defaultTestSplit(meta: DatasetMeta): string {
  if (meta.splits.includes('test')) return 'test';
  if (meta.splits.includes('val')) return 'val';
  throw new DatasetError([`data.testSplit: the dataset has no 'test' or 'val' split (splits: ${meta.splits.join(', ')}); name one`]);
}

function split(dataset: Dataset, name: string, key: string): DatasetSplit {
  try {
    return dataset.split(name);
  } catch (err) {
    throw new DatasetError([`${key}: ${(err as Error).message}`]);
  }
}

/** A least-recently-used cache of decoded samples, bounded in bytes. */
class SampleCache {
  private readonly entries = new Map<number, Sample>();
  private bytes = 0;
  constructor(private readonly limit: number) {}
  get(i: number): Sample | undefined {
    const s = this.entries.get(i);
    if (s) {
      this.entries.delete(i);
      this.entries.set(i, s);
    }
    return s;
  }
  set(i: number, s: Sample): void {
    const size = s.image.byteLength + s.label.byteLength;
    if (size > this.limit) return;
    this.entries.set(i, s);
    this.bytes += size;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(k);
      this.bytes -= v.image.byteLength + v.label.byteLength;
    }
  }
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/**
 * Builds the {@link DataModule} a `data` config describes: validates the config
 * (`validateDataConfig`), opens the dataset from the registry (which checks its files), checks the
 * unseen classes against the dataset's classes, loads the embeddings (`embeddingsFile`, else the
 * dataset's own) with the control applied, and builds the train/test pipelines. Every problem
 * is a {@link DatasetError} thrown before any training.
 *
 * `trainBatch(n, rng)` picks samples exactly as the trainer always has,
 * `rng.shuffle([0 … N−1]).slice(0, n)`, augments sample b with `rng.fork('augment/b')`, sets
 * unseen pixels to the ignore index (unless `supervised`) and stacks the samples, padding to the
 * largest (image 0, label ignore) when the pipeline leaves sizes unequal.
 *
 * @example
 * import { createDataModule } from '@sign/datasets';
 * import { nodeIo } from '@sign/datasets/node';
 * const dm = await createDataModule({ type: 'folder', root: 'data/shapes', unseen: ['red square', 'blue circle'] }, { io: nodeIo, seed: 0 });
 * const batch = await dm.trainBatch(8, new Rng(0).fork('step-0').fork('batch')); // images [8, H, W, 3]
 * for await (const s of dm.testSamples()) console.log(s.id, s.height, s.width);
 * dm.dispose();
 */
export async function createDataModule(input: DataConfig | Record<string, unknown>, opts: DataModuleOptions): Promise<DataModule> {
  if (!opts || !opts.io) throw new Error("createDataModule: options { io, seed } are required (io: nodeIo from '@sign/datasets/node')");
  if (typeof opts.seed !== 'number' || !Number.isFinite(opts.seed)) throw new Error(`createDataModule: seed must be a finite number, got ${String(opts.seed)}`);
  const registry = opts.registry ?? datasets;
  const { config, errors } = validateDataConfig(input, { registry });
  if (!config) throw new DatasetError(errors, 'invalid data config');
  const def = registry.get(config.type);
  const dataset = await def.open(config, { io: opts.io, seed: opts.seed });
  const excluded = config.exclude && config.exclude.length > 0 ? excludeClasses(dataset.meta, config.exclude) : null;
  const meta = excluded?.meta ?? dataset.meta;
  const unseen = unseenIds(meta, config.unseen);
  const seen = meta.classNames.map((_, i) => i).filter((i) => !unseen.includes(i));
  const train = split(dataset, config.trainSplit ?? 'train', 'data.trainSplit');
  const test = split(dataset, config.testSplit ?? defaultTestSplit(meta), 'data.testSplit');
  if (train.size === 0) throw new DatasetError([`data.trainSplit: split '${train.name}' has no samples`]);

  let table: EmbeddingTable | null;
  if (opts.embeddings) {
    try {
      table = opts.embeddings.subset(meta.classNames);
    } catch (err) {
      throw new DatasetError([`embeddings: ${(err as Error).message}`]);
    }
  } else if (config.embeddingsFile) {
    let text: string;
    try {
      text = await opts.io.readText(config.embeddingsFile);
    } catch (err) {
      throw new DatasetError([`data.embeddingsFile: ${(err as Error).message}`]);
    }
    try {
      table = parseEmbeddings(text, config.embeddingsFile, meta.classNames);
    } catch (err) {
      throw new DatasetError([(err as Error).message]);
    }
  } else {
    table = await dataset.embeddings();
    if (!table) throw new DatasetError([`data.embeddingsFile: the ${meta.type} dataset brings no class embeddings; give a file (e.g. one written by 'sign embed --classes …')`]);
    table = table.subset(meta.classNames);
  }
  const control = config.control ?? 'none';
  if (control !== 'none') {
    if (unseen.length === 0) throw new DatasetError([`data.control: '${control}' replaces the unseen rows, but data.unseen is empty`]);
    if (control === 'permuted' && unseen.length < 2) throw new DatasetError(["data.control: 'permuted' needs at least 2 unseen classes"]);
    table = controlEmbeddings(table, unseen.map((i) => meta.classNames[i]!), control, config.controlSeed ?? opts.seed + 1000);
  }

  const ctx = { normalization: meta.normalization, ignoreIndex: meta.ignoreIndex };
  let trainT: Transform;
  let testT: Transform;
  let selfTrainingT: Transform;
  try {
    trainT = buildPipeline(config.train?.pipeline ?? [], ctx);
    testT = buildPipeline(config.test?.pipeline ?? [], ctx);
    selfTrainingT = config.selfTraining ? buildPipeline(config.selfTraining.pipeline, ctx) : trainT;
  } catch (err) {
    throw new DatasetError([`data: ${(err as Error).message}`]);
  }
  return new SplitDataModule({
    meta,
    seen,
    unseen,
    embeddings: table,
    train,
    test,
    trainT,
    testT,
    selfTrainingT,
    supervised: config.supervised === true,
    labelLut: excluded?.lut ?? null,
    seed: opts.seed,
    cacheBytes: opts.cacheBytes ?? 64 * 1024 * 1024,
  });
}

interface ModuleParts {
  meta: DatasetMeta;
  seen: number[];
  unseen: number[];
  embeddings: EmbeddingTable;
  train: DatasetSplit;
  test: DatasetSplit;
  trainT: Transform;
  testT: Transform;
  selfTrainingT: Transform;
  supervised: boolean;
  /** Old class id → new id when classes are excluded (null: ids as the dataset has them). */
  labelLut: Uint8Array | null;
  seed: number;
  cacheBytes: number;
}

class SplitDataModule implements DataModule {
  readonly meta: DatasetMeta;
  readonly seen: number[];
  readonly unseen: number[];
  readonly embeddings: EmbeddingTable;
  readonly trainSize: number;
  readonly testSize: number;
  private readonly p: ModuleParts;
  private readonly cache: SampleCache;
  private readonly unseenLut: Uint8Array;
  private disposed = false;

  constructor(p: ModuleParts) {
    this.p = p;
    this.meta = p.meta;
    this.seen = p.seen;
    this.unseen = p.unseen;
    this.embeddings = p.embeddings;
    this.trainSize = p.train.size;
    this.testSize = p.test.size;
    this.cache = new SampleCache(p.cacheBytes);
    // excluded classes first (their pixels to ignore, ids renumbered), then unseen pixels to ignore
    const renumber = p.labelLut ?? new Uint8Array(256).map((_, v) => v);
    this.unseenLut = renumber.map((v) => (!p.supervised && p.unseen.includes(v) ? p.meta.ignoreIndex : v));
  }

  private check(): void {
    if (this.disposed) throw new Error('DataModule: used after dispose()');
  }

  private async trainSample(i: number): Promise<Sample> {
    const hit = this.cache.get(i);
    if (hit) return hit;
    const s = await this.p.train.get(i);
    this.cache.set(i, s);
    return s;
  }

  async trainBatch(batchSize: number, rng: Rng, opts: { stage?: 'train' | 'self-training' } = {}): Promise<Batch> {
    this.check();
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`trainBatch: batchSize must be a positive integer, got ${batchSize}`);
    const N = this.trainSize;
    const n = Math.min(batchSize, N);
    const order = rng.shuffle(Array.from({ length: N }, (_, i) => i)).slice(0, n);
    const raw = await Promise.all(order.map((i) => this.trainSample(i)));
    const transform = opts.stage === 'self-training' ? this.p.selfTrainingT : this.p.trainT;
    const samples = raw.map((s, b) => {
      const t = transform(s, rng.fork(`augment/${b}`));
      if (!(t.image instanceof Float32Array)) throw new Error(`trainBatch: the pipeline left sample '${s.id}' unnormalised`);
      return t;
    });
    const c = this.meta.channels;
    for (const s of samples) if (s.channels !== c) throw new Error(`trainBatch: sample '${s.id}' has ${s.channels} channel(s), the dataset says ${c}`);
    const H = Math.max(...samples.map((s) => s.height));
    const W = Math.max(...samples.map((s) => s.width));
    const images = new Float32Array(n * H * W * c);
    const labels = new Uint8Array(n * H * W).fill(this.meta.ignoreIndex);
    const lut = this.unseenLut;
    samples.forEach((s, b) => {
      for (let y = 0; y < s.height; y++) {
        images.set(s.image.subarray(y * s.width * c, (y + 1) * s.width * c), ((b * H + y) * W) * c);
        const dst = (b * H + y) * W;
        const src = y * s.width;
        for (let x = 0; x < s.width; x++) labels[dst + x] = lut[s.label[src + x]!]!;
      }
    });
    return { images, labels, n, height: H, width: W, channels: c, ids: samples.map((s) => s.id) };
  }

  async *testSamples(): AsyncIterable<Sample> {
    this.check();
    const rng = new Rng(this.p.seed).fork('test-pipeline');
    for (let i = 0; i < this.testSize; i++) {
      this.check();
      const s = await this.p.test.get(i);
      const lut = this.p.labelLut;
      yield this.p.testT(lut ? { ...s, label: s.label.map((v) => lut[v]!) } : s, rng.fork(String(i)));
    }
  }

  dispose(): void {
    this.disposed = true;
    this.cache.clear();
  }
}
