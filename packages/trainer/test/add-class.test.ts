import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { fashionEmbeddings } from '@sign/data';
import { addClass, relabelByName, segment, type TrainedModel } from '../src/index';
import { evaluateCheckpoint, loadModel, runExperiment, saveModel } from '../src/node';
import { tinyConfig } from './tiny';

const dir = mkdtempSync(join(tmpdir(), 'sign-add-class-'));
const BAG = fashionEmbeddings('both', { includeBackground: true }).vector('bag');

/** Every parameter's values, by name. */
async function weights(m: TrainedModel): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(m.net.stateDict())) out[k] = Array.from(await v.data());
  return out;
}

/** The first K − 1 columns of a row-major [rows, K] matrix (or the first K − 1 entries of a [K] vector). */
function oldColumns(values: number[], K: number): number[] {
  return values.filter((_, i) => i % K !== K - 1);
}

/** A grey 8-bit test image: a bright block on black (an item on the scenes' background). */
function greyImage(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = x > 6 && x < 20 && y > 4 && y < 24 ? 200 + ((x * y) % 50) : (x + y) % 3;
  return data;
}

describe('relabelByName', () => {
  it("maps the data's class ids to the model's by name, refuses a class the model lacks, and passes equal lists through", async () => {
    const sample = { id: 's', height: 1, width: 5, channels: 1 as const, image: new Uint8Array(5), label: Uint8Array.from([0, 1, 2, 255, 1]) };
    const out: number[][] = [];
    for await (const s of relabelByName([sample], ['background', 'bag', 'boot'], ['background', 'boot', 'bag'])) out.push(Array.from(s.label));
    expect(out).toEqual([[0, 2, 1, 255, 2]]);
    expect(Array.from(sample.label)).toEqual([0, 1, 2, 255, 1]); // the sample itself is untouched
    for await (const s of relabelByName([sample], ['a', 'b', 'c'], ['a', 'b', 'c'])) expect(s).toBe(sample);
    await expect(async () => {
      for await (const _ of relabelByName([sample], ['background', 'bag'], ['background'])) void _;
    }).rejects.toThrow("evaluate: the data has class 'bag', which the model does not know (its classes: background)");
  });
});

describe('addClass and segment (wasm, a tiny model trained without bag)', () => {
  let ckpt: string;
  let model: TrainedModel;

  beforeAll(async () => {
    await initBackend('wasm');
    const config = tinyConfig({ data: { exclude: ['bag'] } });
    const r = await runExperiment(config, { outDir: join(dir, 'bagless'), skipBackendInit: true });
    ckpt = r.checkpoint;
    model = await loadModel(ckpt);
  }, 600_000);

  afterAll(() => {
    model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trains without the excluded class: it is not in the model', () => {
    expect(model.classNames).toEqual(['background', 't-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'ankle boot']);
    expect(model.unseen).toEqual([3, 4, 6]);
    expect(model.net.numClasses).toBe(10);
    expect(model.added).toEqual([]);
  });

  it('returns a new model with the class appended as unseen; the input is untouched and nothing leaks', async () => {
    const before = await weights(model);
    const tensors = tf.memory().numTensors;
    const losses: number[] = [];
    const order: string[] = [];
    // an async onStep (a page letting the browser paint) is awaited before the next step
    const onStep = async (step: number, l: number) => {
      losses.push(l);
      order.push(`start ${step}`);
      await new Promise((r) => setTimeout(r, 2));
      order.push(`end ${step}`);
    };
    const bigger = await addClass(model, 'bag', BAG, { steps: 6, pixels: 64, source: 'fashion both', onStep });
    // the new model's tensors are its parameters and M; nothing else survives
    expect(tf.memory().numTensors - tensors).toBe(bigger.net.namedParameters().size + 1);
    try {
      expect(losses).toHaveLength(6);
      expect(order).toEqual([1, 2, 3, 4, 5, 6].flatMap((i) => [`start ${i}`, `end ${i}`]));
      expect(losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      expect(bigger.classNames).toEqual([...model.classNames, 'bag']);
      expect(bigger.unseen).toEqual([3, 4, 6, 10]);
      expect(bigger.seen).toEqual(model.seen);
      // M: the old rows and the given embedding as row 10
      const M = await bigger.net.embeddingMatrix.array();
      expect(M).toHaveLength(11);
      expect(M[10]!.map((v) => Math.fround(v))).toEqual(Array.from(BAG));
      expect(M.slice(0, 10)).toEqual(await model.net.embeddingMatrix.array());
      // every weight copied but C's output layer ('head', the default), which grew by one column and was retrained
      const now = await weights(bigger);
      for (const [k, v] of Object.entries(before)) {
        if (k.startsWith('disc.classifier.')) continue;
        expect(now[k], k).toEqual(v);
      }
      expect(bigger.net.stateDict()['disc.classifier.kernel']!.shape).toEqual([8, 11]);
      expect(bigger.net.stateDict()['disc.classifier.bias']!.shape).toEqual([11]);
      expect(oldColumns(now['disc.classifier.bias']!, 11)).not.toEqual(before['disc.classifier.bias']);
      // the input model is untouched
      expect(await weights(model)).toEqual(before);
      expect(model.classNames).toHaveLength(10);
      // config: bag moves from data.exclude to data.unseen; the addition is recorded
      const data = bigger.config.data as { exclude?: string[]; unseen: string[] };
      expect(data.exclude).toBeUndefined();
      expect(data.unseen).toEqual(['pullover', 'dress', 'sandal', 'bag']);
      expect((model.config.data as { exclude?: string[] }).exclude).toEqual(['bag']);
      expect(bigger.added).toEqual([{ name: 'bag', id: 10, source: 'fashion both', train: 'head', steps: 6, pixels: 64, seed: 0, seconds: expect.any(Number) }]);
      // same seed, same model
      const again = await addClass(model, 'bag', BAG, { steps: 6, pixels: 64 });
      expect(await weights(again)).toEqual(now);
      again.dispose();
      // 'new-class': only the new column moves, the other classes' scores stay as trained
      const only = await addClass(model, 'bag', BAG, { steps: 6, pixels: 64, train: 'new-class' });
      const o = await weights(only);
      expect(oldColumns(o['disc.classifier.kernel']!, 11)).toEqual(before['disc.classifier.kernel']);
      expect(oldColumns(o['disc.classifier.bias']!, 11)).toEqual(before['disc.classifier.bias']);
      const fresh = await addClass(model, 'bag', BAG, { steps: 1, pixels: 64, train: 'new-class', lr: 1e-12 });
      expect((await weights(fresh))['disc.classifier.bias']![10]).not.toEqual(o['disc.classifier.bias']![10]); // trained, not left at init
      fresh.dispose();
      // 'classifier': D's shared layer too
      const cls = await addClass(model, 'bag', BAG, { steps: 2, pixels: 64, train: 'classifier' });
      expect((await weights(cls))['disc.shared.kernel']).not.toEqual(before['disc.shared.kernel']);
      cls.dispose();
      only.dispose();
    } finally {
      bigger.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('saves a checkpoint that loadModel and evaluateCheckpoint read, scoring the added class on the data that has it', async () => {
    const bigger = await addClass(model, 'bag', BAG, { steps: 4, pixels: 64 });
    const path = join(dir, 'with-bag.safetensors');
    try {
      await saveModel(path, bigger);
      const back = await loadModel(path);
      try {
        expect(back.classNames).toEqual(bigger.classNames);
        expect(back.added).toEqual(bigger.added);
        expect(await weights(back)).toEqual(await weights(bigger));
      } finally {
        back.dispose();
      }
      const m = await evaluateCheckpoint(path);
      expect(Object.keys(m.perClassIoU)).toContain('bag');
      expect(Object.keys(m.zsl.perClassIoU)).toEqual(['pullover', 'dress', 'sandal', 'bag']);
      for (const v of Object.values(m.perClassIoU)) expect(Number.isNaN(v) || (v >= 0 && v <= 100), String(v)).toBe(true);
    } finally {
      bigger.dispose();
    }
  });

  it('refuses a bad class or embedding, naming it', async () => {
    await expect(addClass(model, 'coat', BAG)).rejects.toThrow("addClass: the model already has a class 'coat' (id 5)");
    await expect(addClass(model, 'bag', [1, 2, 3])).rejects.toThrow("addClass: the embedding of 'bag' has 3 values; the model's class embeddings have 119");
    const nan = Float32Array.from(BAG);
    nan[7] = NaN;
    await expect(addClass(model, 'bag', nan)).rejects.toThrow("addClass: the embedding of 'bag' has a non-finite value at index 7");
    await expect(addClass(model, ' ', BAG)).rejects.toThrow('addClass: the class name must be a non-empty string');
    await expect(addClass(model, 'bag', BAG, { steps: 0 })).rejects.toThrow('addClass: steps must be an integer >= 1, got 0');
  });

  it('segment: labels and scores equal predict on the same image (grey, RGBA); classes restricts the argmax', async () => {
    const W = 32;
    const H = 32;
    const grey = greyImage(W, H);
    const ref = await model.predict({ images: Float32Array.from(grey, (v) => v / 255), n: 1, height: H, width: W });
    const K = model.classNames.length;
    const tensors = tf.memory().numTensors;
    const s = await segment(model, { data: grey, width: W, height: H, channels: 1 });
    expect(tf.memory().numTensors).toBe(tensors);
    expect([s.width, s.height]).toEqual([W, H]);
    expect(s.classes).toEqual(model.classNames);
    expect(Array.from(s.labels)).toEqual(Array.from(ref.labels));
    const mean = Array.from({ length: K }, (_, c) => {
      let t = 0;
      for (let p = 0; p < W * H; p++) t += ref.probs[p * K + c]!;
      return t / (W * H);
    });
    Array.from(s.scores).forEach((v, c) => expect(v).toBeCloseTo(mean[c]!, 5));
    expect(s.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    // RGBA (grey replicated, any alpha): the same pixels after Rec. 601 → the same labels
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let p = 0; p < W * H; p++) rgba.set([grey[p]!, grey[p]!, grey[p]!, (p * 37) % 256], 4 * p);
    const s4 = await segment(model, { data: rgba, width: W, height: H, channels: 4 });
    expect(Array.from(s4.labels)).toEqual(Array.from(ref.labels));

    // two classes: the argmax of their probabilities, scores renormalised over the two
    const pair = ['background', 'trouser'];
    const [a, b] = pair.map((n) => model.classNames.indexOf(n)) as [number, number];
    const two = await segment(model, { data: grey, width: W, height: H, channels: 1 }, { classes: pair });
    expect(two.classes).toEqual(pair);
    let share = 0;
    for (let p = 0; p < W * H; p++) {
      const pa = ref.probs[p * K + a]!;
      const pb = ref.probs[p * K + b]!;
      if (Math.abs(pa - pb) > 1e-5) expect(two.labels[p], `pixel ${p}`).toBe(pa > pb ? 0 : 1);
      share += pa / (pa + pb);
    }
    expect(two.scores[0]).toBeCloseTo(share / (W * H), 4);
    expect(two.scores[0]! + two.scores[1]!).toBeCloseTo(1, 5);

    // any size: a 20×28 RGB image gives a 20×28 label map
    const rgb = new Uint8Array(20 * 28 * 3).map((_, i) => (i * 7) % 256);
    const odd = await segment(model, { data: rgb, width: 20, height: 28, channels: 3 });
    expect(odd.labels).toHaveLength(20 * 28);
    expect(Math.max(...odd.labels)).toBeLessThan(K);
  });

  it('segment refuses bad images and unknown classes, naming them', async () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 as const };
    await expect(segment(model, { ...img, channels: 2 as never })).rejects.toThrow('segment: channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got 2');
    await expect(segment(model, { ...img, width: 3 })).rejects.toThrow('segment: data has 12 values, expected 3×2×3 = 18');
    await expect(segment(model, img, { classes: ['trousers'] })).rejects.toThrow("segment: unknown class 'trousers' (did you mean 'trouser'?)");
    await expect(segment(model, img, { classes: ['bag'] })).rejects.toThrow("segment: unknown class 'bag'");
    await expect(segment(model, img, { classes: ['coat', 'coat'] })).rejects.toThrow("segment: class 'coat' is listed twice");
  });
});
