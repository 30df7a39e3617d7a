import { Registry, Rng } from '@sign/core';
import { controlEmbeddings } from '@sign/embeddings';
import { describe, expect, it } from 'vitest';
import { DatasetError, createDataModule, type DataModule, type DatasetDefinition, type DatasetIo } from '../src/index';
import { TOY_CLASSES, toyDataset, toyReads, toySample } from './toy';

function registry(): Registry<DatasetDefinition> {
  return new Registry<DatasetDefinition>('dataset').register('toy', toyDataset as unknown as DatasetDefinition);
}

/** An io with only text files, for embeddingsFile. */
function textIo(files: Record<string, string>): DatasetIo {
  const no = (p: string) => Promise.reject(new Error(`${p}: no such file`));
  return {
    maxPixels: 1e6,
    list: async () => [],
    exists: async (p) => p in files,
    readFile: async (p) => (p in files ? new TextEncoder().encode(files[p]) : no(p)),
    readText: async (p) => (p in files ? files[p]! : no(p)),
    imageInfo: no,
    decodeImage: no,
    decodeLabel: no,
  };
}

const io = textIo({});

async function toyModule(data: Record<string, unknown>, extra: { io?: DatasetIo; seed?: number; cacheBytes?: number } = {}): Promise<DataModule> {
  return createDataModule({ type: 'toy', unseen: ['dog'], ...data }, { io: extra.io ?? io, seed: extra.seed ?? 0, registry: registry(), ...(extra.cacheBytes ? { cacheBytes: extra.cacheBytes } : {}) });
}

describe('createDataModule', () => {
  it('splits classes into seen (background included) and unseen, and orders the embeddings by class id', async () => {
    const dm = await toyModule({ unseen: ['cow', 'dog'] });
    expect(dm.meta.classNames).toEqual(TOY_CLASSES);
    expect(dm.seen).toEqual([0, 1]);
    expect(dm.unseen).toEqual([2, 3]);
    expect(dm.embeddings.classNames).toEqual(TOY_CLASSES);
    expect(Array.from(dm.embeddings.vector(0))).toEqual([0, 0, 1]);
    expect(Array.from(dm.embeddings.vector(3))).toEqual([1, 1, 1]);
    expect([dm.trainSize, dm.testSize]).toEqual([10, 3]);
    dm.dispose();
  });

  it('exclude: the class leaves the class list (later ids move down), its pixels are ignored in training and testing', async () => {
    const dm = await toyModule({ exclude: ['cat'], unseen: ['dog'] });
    expect(dm.meta.classNames).toEqual(['background', 'dog', 'cow']);
    expect(dm.meta.background).toBe(0);
    expect(dm.unseen).toEqual([1]);
    expect(dm.seen).toEqual([0, 2]);
    expect(dm.embeddings.classNames).toEqual(['background', 'dog', 'cow']);
    expect(Array.from(dm.embeddings.vector(1))).toEqual([1, 0, 0]); // dog's row
    // training: cat (1) → 255, dog (2 → 1, unseen) → 255, cow 3 → 2
    const b = await dm.trainBatch(1, new Rng(3));
    const s = toySample('train', Number(b.ids[0]!.slice('train-'.length)));
    expect(Array.from(b.labels.subarray(0, s.label.length))).toEqual(Array.from(s.label, (v) => [0, 255, 255, 2][v]));
    // testing: cat → 255, dog → 1, cow → 2 (labels intact otherwise); the dataset's own sample is untouched
    const first = (await dm.testSamples()[Symbol.asyncIterator]().next()).value!;
    const raw = toySample('val', 0);
    expect(Array.from(first.label)).toEqual(Array.from(raw.label, (v) => [0, 255, 1, 2][v]));
    dm.dispose();
    await expect(toyModule({ exclude: ['kat'] })).rejects.toThrow("data.exclude: unknown class 'kat' (did you mean 'cat'?)");
    await expect(toyModule({ exclude: ['background'] })).rejects.toThrow("data.exclude: 'background' is the background class, which cannot be excluded");
    await expect(toyModule({ exclude: ['dog'], unseen: ['dog'] })).rejects.toThrow("data.unseen: unknown class 'dog'");
  });

  it('trainBatch picks rng.shuffle([0..N)).slice(0, n), as the trainer always has, and sets unseen pixels to 255', async () => {
    const dm = await toyModule({ train: { pipeline: [{ type: 'randomCrop', height: 4, width: 5 }] } });
    const rng = new Rng(42).fork('step-3').fork('batch');
    const expected = new Rng(42).fork('step-3').fork('batch').shuffle(Array.from({ length: 10 }, (_, i) => i)).slice(0, 4);
    const b = await dm.trainBatch(4, rng);
    expect(b.ids).toEqual(expected.map((i) => `train-${i}`));
    expect([b.n, b.height, b.width, b.channels]).toEqual([4, 4, 5, 3]);
    expect(b.images.length).toBe(4 * 4 * 5 * 3);
    expect(b.labels.length).toBe(4 * 4 * 5);
    // every label is a seen class or 255; unseen 'dog' (2) never appears
    expect(new Set(b.labels)).toEqual(new Set([0, 1, 3, 255]));
    // the same rng gives the same batch (resume is bit-identical)
    const again = await dm.trainBatch(4, new Rng(42).fork('step-3').fork('batch'));
    expect(Array.from(again.images)).toEqual(Array.from(b.images));
    expect(Array.from(again.labels)).toEqual(Array.from(b.labels));
    // more than N asks gives N
    expect((await dm.trainBatch(50, new Rng(1))).n).toBe(10);
    dm.dispose();
  });

  it("trainBatch with stage 'self-training' uses the selfTraining pipeline (the same samples), else the train pipeline", async () => {
    const dm = await toyModule({ train: { pipeline: [{ type: 'randomCrop', height: 4, width: 5 }] }, selfTraining: { pipeline: [{ type: 'randomCrop', height: 3, width: 2 }] } });
    const rng = () => new Rng(42).fork('step-3').fork('batch');
    const train = await dm.trainBatch(4, rng());
    const st = await dm.trainBatch(4, rng(), { stage: 'self-training' });
    expect([train.height, train.width, st.height, st.width]).toEqual([4, 5, 3, 2]);
    expect(st.ids).toEqual(train.ids);
    dm.dispose();
    const plain = await toyModule({ train: { pipeline: [{ type: 'randomCrop', height: 4, width: 5 }] } });
    const a = await plain.trainBatch(4, rng(), { stage: 'self-training' });
    expect([a.height, a.width]).toEqual([4, 5]);
    expect(Array.from(a.images)).toEqual(Array.from(train.images));
    plain.dispose();
  });

  it('stacks unequal sizes by padding to the largest (image 0, label 255); the crop window matches randomCrop', async () => {
    const dm = await toyModule({ supervised: true });
    const rng = new Rng(7);
    const order = new Rng(7).shuffle(Array.from({ length: 10 }, (_, i) => i)).slice(0, 3);
    const b = await dm.trainBatch(3, rng);
    const samples = order.map((i) => toySample('train', i));
    const H = Math.max(...samples.map((s) => s.height));
    const W = Math.max(...samples.map((s) => s.width));
    expect([b.height, b.width]).toEqual([H, W]);
    samples.forEach((s, k) => {
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const inside = y < s.height && x < s.width;
          // supervised: labels intact
          expect(b.labels[(k * H + y) * W + x]).toBe(inside ? s.label[y * s.width + x] : 255);
          expect(b.images[((k * H + y) * W + x) * 3 + 1]).toBe(inside ? s.image[(y * s.width + x) * 3 + 1] : 0);
        }
    });
    dm.dispose();
  });

  it('testSamples: one at a time, full size, normalised, labels intact', async () => {
    const dm = await toyModule({});
    const got = [];
    for await (const s of dm.testSamples()) got.push(s);
    expect(got.map((s) => s.id)).toEqual(['val-0', 'val-1', 'val-2']);
    for (const [i, s] of got.entries()) {
      const raw = toySample('val', i);
      expect([s.height, s.width]).toEqual([raw.height, raw.width]);
      expect(s.image).toBeInstanceOf(Float32Array);
      expect(Array.from(s.image)).toEqual(Array.from(raw.image));
      expect(Array.from(s.label)).toEqual(Array.from(raw.label)); // 'dog' (2) still labelled
    }
    expect(got.some((s) => s.label.includes(2))).toBe(true);
    dm.dispose();
  });

  it('caches decoded training samples within a byte budget', async () => {
    const small = await toyModule({}, { cacheBytes: 200 }); // one toy sample is 4·5·4 = 80..6·6·4 = 144 bytes
    toyReads.count = 0;
    for (let k = 0; k < 5; k++) await small.trainBatch(10, new Rng(k));
    expect(toyReads.count).toBeGreaterThan(40);
    const big = await toyModule({}, { cacheBytes: 1 << 20 });
    toyReads.count = 0;
    for (let k = 0; k < 5; k++) await big.trainBatch(10, new Rng(k));
    expect(toyReads.count).toBe(10);
    big.dispose();
    await expect(big.trainBatch(1, new Rng(0))).rejects.toThrow(/after dispose/);
    small.dispose();
  });

  it('applies the control to the unseen rows (seed default: seed + 1000)', async () => {
    const real = await toyModule({ unseen: ['dog', 'cow'] }, { seed: 3 });
    const dm = await toyModule({ unseen: ['dog', 'cow'], control: 'permuted' }, { seed: 3 });
    const want = controlEmbeddings(real.embeddings, ['dog', 'cow'], 'permuted', 1003);
    expect(dm.embeddings.toFlatArray()).toEqual(want.toFlatArray());
    expect(Array.from(dm.embeddings.vector('dog'))).toEqual(Array.from(real.embeddings.vector('cow')));
    expect(Array.from(dm.embeddings.vector('cat'))).toEqual(Array.from(real.embeddings.vector('cat')));
    const rnd = await toyModule({ unseen: ['dog'], control: 'random', controlSeed: 5 }, { seed: 3 });
    expect(rnd.embeddings.toFlatArray()).toEqual(controlEmbeddings(real.embeddings, ['dog'], 'random', 5).toFlatArray());
  });

  it('reads embeddingsFile (plain {class: vector} JSON) in class-id order', async () => {
    const file = JSON.stringify({ cow: [3, 3], dog: [2, 2], cat: [1, 1], background: [0, 1], horse: [9, 9] });
    const dm = await toyModule({ embeddingsFile: 'e.json' }, { io: textIo({ 'e.json': file }) });
    expect(Array.from(dm.embeddings.toFlatArray())).toEqual([0, 1, 1, 1, 2, 2, 3, 3]);
  });

  it('rejects bad input before training, naming the key, class or file', async () => {
    const fails = async (data: Record<string, unknown>, re: RegExp, extra = {}) => {
      const err = await toyModule(data, extra).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as Error).message).toMatch(re);
    };
    await fails({ unseen: ['dgo'] }, /data\.unseen: unknown class 'dgo' \(did you mean 'dog'\?\); valid: cat, dog, cow/);
    await fails({ unseen: ['background'] }, /'background' is the background class/);
    await fails({ unseen: ['dog', 'dog'] }, /class 'dog' is listed twice/);
    await fails({ unseen: ['cat', 'dog', 'cow'] }, /every object class is unseen/);
    await fails({ trainCount: 0 }, /split 'train' has no samples/);
    await fails({ testSplit: 'test' }, /data\.testSplit: toy has no split 'test'; known: train, val/);
    await fails({ withEmbeddings: false }, /brings no class embeddings/);
    await fails({ embeddingsFile: 'missing.json' }, /data\.embeddingsFile: missing\.json: no such file/);
    await fails({ embeddingsFile: 'e.json' }, /e\.json: no vector for class 'cow'/, { io: textIo({ 'e.json': '{"background":[1],"cat":[1],"dog":[2]}' }) });
    await fails({ embeddingsFile: 'e.json' }, /e\.json: class 'dog' has 1 values, class 'background' has 2/, { io: textIo({ 'e.json': '{"background":[1,0],"dog":[2]}' }) });
    await fails({ control: 'permuted', unseen: ['dog'] }, /'permuted' needs at least 2 unseen/);
    await fails({ unseen: 'dog' }, /invalid data config:\n {2}data\.unseen/);
  });
});
