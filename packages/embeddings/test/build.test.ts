import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildClassEmbeddings,
  buildSourceTable,
  writeWord2vecBinary,
} from '../src/node';

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

/** The same words as the in-memory sources of the main-entry test, as files. */
function sources2() {
  const g = join(dir, 'glove2.txt');
  writeFileSync(g, 'cow 3 0 4\npotted 1 1 0\nplant 3 1 2\n');
  const w = join(dir, 'w2v2.bin');
  writeWord2vecBinary(w, new Map([['cow', [1, 0]], ['potted', [0, 2]], ['plant', [2, 0]]]));
  return [
    { path: g, format: 'glove' as const },
    { path: w, format: 'word2vec-bin' as const },
  ];
}

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

  it('a word the source lacks is an error naming it, unless allowMissing (then recorded and warned)', async () => {
    await expect(buildSourceTable(['wall-concrete'], { path: w2v, format: 'word2vec-bin' })).rejects.toThrow(
      `buildClassEmbeddings: no source has the word 'concrete' (class 'wall-concrete') (sources: ${w2v} (word2vec-bin)); pass allowMissing: true to embed that class by its other words`,
    );
    const warnings: string[] = [];
    const t = await buildSourceTable(['wall-concrete'], { path: w2v, format: 'word2vec-bin' }, { allowMissing: true, onWarning: (m) => warnings.push(m) });
    expect(Array.from(t.vector(0))).toEqual([0, 1]);
    expect(t.provenance.skippedWords).toEqual({ 'wall-concrete': ['concrete'] });
    expect(warnings).toEqual([
      "buildClassEmbeddings: no source has the word 'concrete' (class 'wall-concrete'): left out (allowMissing; recorded in provenance.skippedWords)",
    ]);
  });

  it('refuses a class none of whose words the file has, naming the class and the file, even with allowMissing', async () => {
    for (const allowMissing of [false, true]) {
      await expect(
        buildSourceTable(['cow', 'giraffe', 'tvmonitor'], { path: glove, format: 'glove' }, { aliases: {}, allowMissing }),
      ).rejects.toThrow(
        `buildClassEmbeddings: no source has any word of classes 'giraffe' (words: giraffe), 'tvmonitor' (words: tvmonitor) (sources: ${glove} (glove)); add an alias`,
      );
    }
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

  it("'flying cat' never silently becomes 'cat': an unknown word is an error, unless allowMissing", async () => {
    const sources = [
      { path: glove, format: 'glove' as const },
      { path: w2v, format: 'word2vec-bin' as const },
    ];
    await expect(buildClassEmbeddings(['cow', 'flying cow', 'okapi wall'], sources)).rejects.toThrow(
      `buildClassEmbeddings: no source has the words 'flying' (class 'flying cow'), 'okapi' (class 'okapi wall') (sources: ${glove} (glove), ${w2v} (word2vec-bin)); pass allowMissing: true to embed those classes by their other words`,
    );
    const warned: string[] = [];
    const t = await buildClassEmbeddings(['cow', 'flying cow'], sources, { allowMissing: true, onWarning: (m) => warned.push(m) });
    expect(t.provenance.skippedWords).toEqual({ 'flying cow': ['flying'] });
    expect(Array.from(t.vector('flying cow'))).toEqual(Array.from(t.vector('cow')));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("no source has the word 'flying' (class 'flying cow'): left out");
  });

  it('a word only some sources have is averaged out of the others and recorded per source (missingWords: error refuses)', async () => {
    const sources = [
      { path: glove, format: 'glove' as const },
      { path: w2v, format: 'word2vec-bin' as const },
    ];
    // 'concrete' is in the GloVe file only
    const t = await buildClassEmbeddings(['cow', 'wall concrete'], sources);
    expect(t.provenance.skippedWords).toBeUndefined();
    const perSource = t.provenance.sources as { missingWords?: Record<string, string[]> }[];
    expect(perSource[0].missingWords).toBeUndefined();
    expect(perSource[1].missingWords).toEqual({ 'wall concrete': ['concrete'] });
    const s = Math.SQRT1_2;
    // glove: mean([0,2,0],[0,0,2]) = [0,1,1] → /√2; w2v: wall alone [0,1]
    [0, 0.5, 0.5, 0, s].forEach((x, j) => expect(t.vector('wall concrete')[j]).toBeCloseTo(x, 6));
    await expect(buildClassEmbeddings(['cow', 'wall concrete'], sources, { missingWords: 'error' })).rejects.toThrow(
      `buildClassEmbeddings: ${w2v} (word2vec-bin): 'wall concrete' lacks concrete`,
    );
  });

  it('the main entry takes data (text, bytes, Blobs, streams) and names it in errors', async () => {
    const { buildClassEmbeddings: fromData, encodeWord2vecBinary } = await import('../src/index');
    const text = 'cow 3 0 4\npotted 1 1 0\nplant 3 1 2\n';
    const bin = encodeWord2vecBinary(new Map([['cow', [1, 0]], ['potted', [0, 2]], ['plant', [2, 0]]]));
    const stream = new Blob([bin]).stream();
    const t = await fromData(['cow', 'potted_plant'], [
      { data: text, format: 'glove', name: 'glove.txt' },
      { data: stream, format: 'word2vec-bin', name: 'w2v.bin' },
    ]);
    const u = await buildClassEmbeddings(['cow', 'potted_plant'], sources2());
    expect(Array.from(t.toFlatArray())).toEqual(Array.from(u.toFlatArray()));
    expect((t.provenance.sources as { file: string }[]).map((x) => x.file)).toEqual(['glove.txt', 'w2v.bin']);
    await expect(fromData(['giraffe'], [{ data: new Blob([text]), format: 'glove' }])).rejects.toThrow(
      "no source has any word of class 'giraffe' (words: giraffe) (sources: <source 0> (glove))",
    );
    await expect(fromData(['cow'], [{ path: glove, format: 'glove' } as never])).rejects.toThrow(
      "source 0 must be { data, format, name? } (read files by path with buildClassEmbeddings from '@sign/embeddings/node')",
    );
    await expect(fromData(['cow'], [{ data: bin, format: 'fasttext-bin' }])).rejects.toThrow(/readFastTextBin from '@sign\/embeddings\/node'/);
  });

  it('refuses empty inputs and unknown formats', async () => {
    await expect(buildClassEmbeddings([], [{ path: glove, format: 'glove' }])).rejects.toThrow(/non-empty list of class names/);
    await expect(buildClassEmbeddings(['cow'], [])).rejects.toThrow(/at least one source/);
    await expect(
      buildClassEmbeddings(['cow'], [{ path: glove, format: 'npy' as unknown as 'glove' }]),
    ).rejects.toThrow(/unknown word-vector format 'npy'/);
  });
});
