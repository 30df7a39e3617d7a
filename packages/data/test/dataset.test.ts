import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, Rng } from '@sign/core';
import { createDataModule, datasets, validateDataConfig, type DatasetDefinition } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { controlEmbeddings } from '@sign/embeddings';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNSEEN, FASHION_CLASSES, createFashionScenesDataset, fashionEmbeddings } from '../src/index';
import { fashionScenesDataset, makeFashionScenes, subsetDir } from '../src/node';

datasets.provide('fashion-scenes', fashionScenesDataset);

const data = { type: 'fashion-scenes', unseen: [...DEFAULT_UNSEEN], trainCount: 24, testCount: 6, size: 64, layout: 'outfit' as const };

/** The scenes the trainer made before the data module existed (its buildScenes), for seed `seed`. */
function oldScenes(seed: number, unseen: string[], supervised = false) {
  const root = new Rng(seed);
  const common = { layout: 'outfit' as const, size: 64, unseen };
  return {
    train: makeFashionScenes({ split: 'train', count: 24, seed: root.fork('train-scenes').nextUint32(), ...common, ...(supervised ? { unseen: [] } : {}) }),
    test: makeFashionScenes({ split: 'test', count: 6, seed: root.fork('test-scenes').nextUint32(), ...common }),
  };
}

describe('fashionScenesDataset', () => {
  it('validates its keys through the data-config schema (defaults: the demo’s)', () => {
    const { config, errors } = validateDataConfig({ type: 'fashion-scenes', unseen: ['dress'] });
    expect(errors).toEqual([]);
    expect(config).toEqual({ type: 'fashion-scenes', unseen: ['dress'], layout: 'outfit', size: 64, trainCount: 1000, testCount: 200, embeddings: 'both' });
    expect(validateDataConfig({ type: 'fashion-scenes', unseen: [], sise: 64 }).errors).toEqual([expect.stringMatching(/^data\.sise: unknown key \(did you mean 'size'\?\)/)]);
    expect(validateDataConfig({ type: 'fashion-scenes', unseen: [], size: 200 }).errors).toEqual([expect.stringMatching(/^data\.size: .*<=128/)]);
  });

  it('gives the same batches as the trainer’s old path (same scenes, same sampling)', async () => {
    for (const seed of [0, 3]) {
      const dm = await createDataModule(data, { io: nodeIo, seed });
      const old = oldScenes(seed, DEFAULT_UNSEEN);
      expect(dm.meta).toMatchObject({ classNames: FASHION_CLASSES, background: 0, ignoreIndex: 255, channels: 1 });
      expect(dm.unseen).toEqual([3, 4, 6]);
      expect(dm.seen).toEqual([0, 1, 2, 5, 7, 8, 9, 10]);
      for (const step of [0, 1, 17]) {
        const rng = new Rng(seed).fork('train').fork(`step-${step}`).fork('batch');
        const b = await dm.trainBatch(8, rng);
        // the trainer's sampleBatch: indices from the same rng, scenes copied as they are
        const order = new Rng(seed).fork('train').fork(`step-${step}`).fork('batch').shuffle(Array.from({ length: 24 }, (_, i) => i)).slice(0, 8);
        const px = 64 * 64;
        const images = new Float32Array(8 * px);
        const labels = new Uint8Array(8 * px);
        order.forEach((idx, k) => {
          images.set(old.train.images.subarray(idx * px, (idx + 1) * px), k * px);
          labels.set(old.train.labels.subarray(idx * px, (idx + 1) * px), k * px);
        });
        expect([b.n, b.height, b.width, b.channels]).toEqual([8, 64, 64, 1]);
        expect(Buffer.from(b.images.buffer).equals(Buffer.from(images.buffer))).toBe(true);
        expect(Buffer.from(b.labels.buffer).equals(Buffer.from(labels.buffer))).toBe(true);
        expect(b.labels.includes(255)).toBe(true);
      }
      let i = 0;
      for await (const s of dm.testSamples()) {
        expect(s.image).toEqual(old.test.images.subarray(i * 64 * 64, (i + 1) * 64 * 64));
        expect(s.label).toEqual(old.test.labels.subarray(i * 64 * 64, (i + 1) * 64 * 64));
        i++;
      }
      expect(i).toBe(6);
      dm.dispose();
    }
  });

  it('supervised: training labels keep the unseen classes, as the old path did', async () => {
    const dm = await createDataModule({ ...data, supervised: true }, { io: nodeIo, seed: 1 });
    const old = oldScenes(1, DEFAULT_UNSEEN, true);
    const b = await dm.trainBatch(24, new Rng(9));
    const order = new Rng(9).shuffle(Array.from({ length: 24 }, (_, i) => i));
    order.forEach((idx, k) => expect(b.labels.subarray(k * 4096, (k + 1) * 4096)).toEqual(old.train.labels.subarray(idx * 4096, (idx + 1) * 4096)));
    expect(b.labels.includes(255)).toBe(false);
  });

  it('embeddings: fashionEmbeddings with the background row, the control applied with seed + 1000', async () => {
    const dm = await createDataModule({ ...data, embeddings: 'glove', control: 'random' }, { io: nodeIo, seed: 2 });
    const want = controlEmbeddings(fashionEmbeddings('glove', { includeBackground: true }), ['pullover', 'dress', 'sandal'], 'random', 1002);
    expect(dm.embeddings.classNames).toEqual(FASHION_CLASSES);
    expect(dm.embeddings.toFlatArray()).toEqual(want.toFlatArray());
  });

  it('errors name the class or the folder', async () => {
    await expect(createDataModule({ ...data, unseen: ['dres'] }, { io: nodeIo, seed: 0 })).rejects.toThrow(/data\.unseen: unknown class 'dres' \(did you mean 'dress'\?\); valid: t-shirt\/top, trouser/);
    await expect(createDataModule({ ...data, fashionMnistDir: '/nonexistent/fm' }, { io: nodeIo, seed: 0 })).rejects.toThrow(/Fashion-MNIST file not found: \/nonexistent\/fm\//);
  });

  it('the main entry reads Fashion-MNIST through any io (a browser-like one serving bytes from memory): the same scenes', async () => {
    const files = new Map<string, Uint8Array>();
    for (const name of readdirSync(subsetDir())) files.set(`/fm/${name}`, new Uint8Array(readFileSync(join(subsetDir(), name))));
    const reads: string[] = [];
    const memoryIo = {
      ...nodeIo,
      async exists(path: string) {
        return files.has(path);
      },
      async readFile(path: string) {
        reads.push(path);
        const b = files.get(path);
        if (!b) throw new Error(`${path}: not served`);
        return b;
      },
    };
    const fromMemory = createFashionScenesDataset({ subsetDir: '/fm' });
    const a = await fromMemory.open({ ...data, embeddings: 'both' } as never, { io: memoryIo, seed: 3 });
    const b = await fashionScenesDataset.open({ ...data, embeddings: 'both' } as never, { io: nodeIo, seed: 3 });
    expect(reads.sort()).toEqual(['/fm/t10k-images-idx3-ubyte.gz', '/fm/t10k-labels-idx1-ubyte.gz', '/fm/train-images-idx3-ubyte.gz', '/fm/train-labels-idx1-ubyte.gz']);
    for (const split of ['train', 'test']) {
      for (const i of [0, 5]) {
        const x = await a.split(split).get(i);
        const y = await b.split(split).get(i);
        expect(Array.from(x.image)).toEqual(Array.from(y.image));
        expect(Array.from(x.label)).toEqual(Array.from(y.label));
      }
    }
    // a second open reads nothing again (cached per io)
    await fromMemory.open({ ...data, embeddings: 'both' } as never, { io: memoryIo, seed: 4 });
    expect(reads.length).toBe(4);
    await expect(fromMemory.open({ ...data, embeddings: 'both' } as never, { io: { ...memoryIo, exists: async () => false }, seed: 0 })).rejects.toThrow(
      'data: Fashion-MNIST file not found: /fm/train-images-idx3-ubyte.gz (nor /fm/train-images-idx3-ubyte uncompressed)',
    );
  });

  it('is a plug-in: not a built-in of @sign/datasets', () => {
    const fresh = new Registry<DatasetDefinition>('dataset');
    expect(fresh.has('fashion-scenes')).toBe(false);
    expect(datasets.get('fashion-scenes')).toBe(fashionScenesDataset);
  });
});
