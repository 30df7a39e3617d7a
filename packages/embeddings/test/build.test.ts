import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildClassEmbeddings, buildSourceTable, writeWord2vecBinary } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), 'sign-emb-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// GloVe-style text source (3-d) and a word2vec binary source (2-d), with simple numbers.
const glove = join(dir, 'glove.txt');
writeFileSync(
  glove,
  [
    'cow 3 0 4',
    'potted 1 1 0',
    'plant 3 1 2',
    'wall 0 2 0',
    'concrete 0 0 2',
    'tshirt 1 0 0',
    'top 0 1 0',
    'tv 0 3 0',
    'monitor 0 1 0',
  ].join('\n') + '\n',
);
const w2v = join(dir, 'w2v.bin');
writeWord2vecBinary(
  w2v,
  new Map<string, number[]>([
    ['cow', [1, 0]],
    ['potted', [0, 2]],
    ['plant', [2, 0]],
    ['wall', [0, 1]],
    ['t-shirt', [0, 5]],
    ['top', [5, 0]],
    ['tv', [1, 1]],
  ]),
);

describe('buildSourceTable', () => {
  it('averages the words of each name (plain mean) and records them', async () => {
    const t = await buildSourceTable(['cow', 'potted_plant', 'wall-concrete', 'tvmonitor'], { path: glove, format: 'glove' });
    expect(t.dimension).toBe(3);
    expect(Array.from(t.vector('cow'))).toEqual([3, 0, 4]);
    expect(Array.from(t.vector('potted_plant'))).toEqual([2, 1, 1]); // ([1,1,0] + [3,1,2]) / 2
    expect(Array.from(t.vector('wall-concrete'))).toEqual([0, 1, 1]);
    expect(Array.from(t.vector('tvmonitor'))).toEqual([0, 2, 0]); // alias → tv, monitor
    expect(t.provenance.words).toEqual({
      cow: ['cow'],
      potted_plant: ['potted', 'plant'],
      'wall-concrete': ['wall', 'concrete'],
      tvmonitor: ['tv', 'monitor'],
    });
    expect(t.provenance.file).toBe(glove);
  });

  it('averages L2-normalised words with normalizeWords', async () => {
    const t = await buildSourceTable(['potted plant'], { path: glove, format: 'glove' }, { normalizeWords: true });
    const a = [1 / Math.SQRT2, 1 / Math.SQRT2, 0];
    const n = Math.sqrt(14);
    const b = [3 / n, 1 / n, 2 / n];
    const v = t.vector(0);
    for (let j = 0; j < 3; j++) expect(v[j]).toBeCloseTo((a[j] + b[j]) / 2, 6);
  });

  it('looks a missing hyphenated word up joined, then with _, then by its parts', async () => {
    const g = await buildSourceTable(['T-shirt/top'], { path: glove, format: 'glove' });
    expect(g.provenance.words).toEqual({ 'T-shirt/top': ['tshirt', 'top'] });
    expect(Array.from(g.vector(0))).toEqual([0.5, 0.5, 0]);
    const w = await buildSourceTable(['T-shirt/top'], { path: w2v, format: 'word2vec-bin' });
    expect(w.provenance.words).toEqual({ 'T-shirt/top': ['t-shirt', 'top'] });
    expect(Array.from(w.vector(0))).toEqual([2.5, 2.5]);
  });

  it('skips words a source lacks, or refuses with missingWords: error', async () => {
    const t = await buildSourceTable(['wall-concrete'], { path: w2v, format: 'word2vec-bin' });
    expect(Array.from(t.vector(0))).toEqual([0, 1]);
    expect(t.provenance.missingWords).toEqual({ 'wall-concrete': ['concrete'] });
    await expect(
      buildSourceTable(['wall-concrete'], { path: w2v, format: 'word2vec-bin' }, { missingWords: 'error' }),
    ).rejects.toThrow(/w2v\.bin \(word2vec-bin\): 'wall-concrete' lacks concrete/);
  });

  it('refuses a class none of whose words the file has, naming the class and the file', async () => {
    await expect(
      buildSourceTable(['cow', 'giraffe', 'tvmonitor'], { path: glove, format: 'glove' }, { aliases: {} }),
    ).rejects.toThrow(/glove\.txt \(glove\) has no vector for any word of classes 'giraffe' \(words: giraffe\), 'tvmonitor' \(words: tvmonitor\); add an alias/);
  });
});

describe('buildClassEmbeddings', () => {
  it('combines the sources: per-source L2, concatenation, final L2 (hand-computed)', async () => {
    const t = await buildClassEmbeddings(['cow', 'potted_plant'], [
      { path: glove, format: 'glove' },
      { path: w2v, format: 'word2vec-bin' },
    ]);
    expect(t.dimension).toBe(5);
    const s = Math.SQRT1_2;
    // cow: glove [3,0,4]/5, w2v [1,0] → concat / √2
    [0.6 * s, 0, 0.8 * s, s, 0].forEach((x, j) => expect(t.vector('cow')[j]).toBeCloseTo(x, 6));
    // potted_plant: glove [2,1,1]/√6, w2v mean([0,2],[2,0]) = [1,1] → /√2
    const r6 = Math.sqrt(6);
    [2 / r6 * s, 1 / r6 * s, 1 / r6 * s, 0.5, 0.5].forEach((x, j) => expect(t.vector('potted_plant')[j]).toBeCloseTo(x, 6));
    const sources = t.provenance.sources as { file: string; words: Record<string, string[]> }[];
    expect(sources.map((x) => x.file)).toEqual([glove, w2v]);
    expect(sources[1].words.potted_plant).toEqual(['potted', 'plant']);
  });

  it('a word no source has: skipped and recorded, or refused with unknownWords: error', async () => {
    const sources = [
      { path: glove, format: 'glove' as const },
      { path: w2v, format: 'word2vec-bin' as const },
    ];
    // 'concrete' is in the GloVe file only: kept there, left out of the word2vec mean (as before)
    const t = await buildClassEmbeddings(['cow', 'wall concrete', 'giraffe cow'], sources);
    expect(t.provenance.skippedWords).toEqual({ 'giraffe cow': ['giraffe'] });
    expect(Array.from(t.vector('giraffe cow'))).toEqual(Array.from(t.vector('cow')));
    const s = Math.SQRT1_2;
    // wall concrete: glove mean([0,2,0],[0,0,2]) = [0,1,1]/√2; w2v: wall alone [0,1]
    [0, 0.5, 0.5, 0, s].forEach((x, j) => expect(t.vector('wall concrete')[j]).toBeCloseTo(x, 6));
    await expect(buildClassEmbeddings(['cow', 'giraffe cow', 'okapi wall'], sources, { unknownWords: 'error' })).rejects.toThrow(
      `buildClassEmbeddings: no source has the words 'giraffe' (class 'giraffe cow'), 'okapi' (class 'okapi wall') (sources: ${glove} (glove), ${w2v} (word2vec-bin))`,
    );
    expect((await buildClassEmbeddings(['cow', 'wall concrete'], sources, { unknownWords: 'error' })).provenance.skippedWords).toBeUndefined();
    await expect(buildClassEmbeddings(['cow', 'giraffe'], sources)).rejects.toThrow(/no source has any word of class 'giraffe'/);
  });

  it('refuses empty inputs and unknown formats', async () => {
    await expect(buildClassEmbeddings([], [{ path: glove, format: 'glove' }])).rejects.toThrow(/non-empty list of class names/);
    await expect(buildClassEmbeddings(['cow'], [])).rejects.toThrow(/at least one source/);
    await expect(
      buildClassEmbeddings(['cow'], [{ path: glove, format: 'npy' as unknown as 'glove' }]),
    ).rejects.toThrow(/unknown word-vector format 'npy'/);
  });
});
