import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEmbeddingTable, trainFastTextVectors, writeWord2vecBinary } from '@sign/embeddings/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGN_RELEASE_BENCHMARKS } from '@sign/datasets';
import { normalizeClassName } from '@sign/embeddings';
import { main } from '../src/cli';
import { presetClasses } from '../src/configs';
import { sink, tempDir } from './helpers';

const dir = tempDir('sign-embed-');
const glove = join(dir, 'glove.txt');
const w2v = join(dir, 'w2v.bin');

beforeAll(() => {
  // GloVe 3-d and word2vec 2-d vectors with simple numbers
  writeFileSync(glove, ['cat 3 0 4', 'dog 0 1 0', 'traffic 1 1 0', 'light 3 1 2', 'background 0 0 1'].join('\n') + '\n');
  writeWord2vecBinary(w2v, new Map<string, number[]>([['cat', [1, 0]], ['dog', [0, 2]], ['traffic', [2, 0]], ['light', [0, 2]], ['background', [1, 1]]]));
});

async function run(args: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await main(['embed', ...args], { stdout, stderr, handleSignals: false });
  return { code, out: stdout.text, err: stderr.text };
}

describe('sign embed', () => {
  it('writes the paper’s embedding: per-source mean of words, per-source L2, concatenation, L2', async () => {
    const out = join(dir, 'emb.json');
    const r = await run(['--classes', 'background, cat,traffic light', '--glove', glove, '--word2vec', w2v, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`wrote ${out}: 3 classes × 5 (${w2v} (word2vec-bin) + ${glove} (glove))\n`);
    const t = loadEmbeddingTable(out);
    expect(t.classNames).toEqual(['background', 'cat', 'traffic light']);
    const s = Math.SQRT1_2;
    // word2vec first (flag order: word2vec, fasttext, glove). traffic light: w2v mean([2,0],[0,2]) = [1,1] → /√2;
    // glove mean([1,1,0],[3,1,2]) = [2,1,1] → /√6; concatenated, then / √2
    const r6 = Math.sqrt(6);
    [0.5, 0.5, (2 / r6) * s, (1 / r6) * s, (1 / r6) * s].forEach((x, j) => expect(t.vector('traffic light')[j]).toBeCloseTo(x, 6));
    [s, 0, 0.6 * s, 0, 0.8 * s].forEach((x, j) => expect(t.vector('cat')[j]).toBeCloseTo(x, 6));
    expect(t.provenance.skippedWords).toBeUndefined();
  });

  it("--preset takes the classes of the preset's benchmark and writes where the preset reads (data.embeddingsFile)", async () => {
    expect(presetClasses('voc12-zs3net-2')).toEqual({ classes: [...SIGN_RELEASE_BENCHMARKS.voc12.classNames], out: 'class-embeddings/voc12.json' });
    expect(presetClasses('context-sign-st').classes[0]).toBe('unlabel');
    expect(presetClasses('cocostuff-sign').classes).toHaveLength(182);
    const words = [...new Set(SIGN_RELEASE_BENCHMARKS.voc12.classNames.flatMap((c) => normalizeClassName(c)))];
    const vocab = join(dir, 'voc-glove.txt');
    writeFileSync(vocab, words.map((w, i) => `${w} ${i + 1} ${(i * 7) % 5} 1`).join('\n') + '\n');
    const out = join(dir, 'voc12.json');
    const r = await run(['--preset', 'voc12-sign', '--glove', vocab, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const t = loadEmbeddingTable(out);
    expect(t.classNames).toEqual([...SIGN_RELEASE_BENCHMARKS.voc12.classNames]);
    // potted_plant: the mean of 'potted' and 'plant', L2-normalised
    const i = words.indexOf('potted');
    const mean = [(i + 1 + i + 2) / 2, (((i * 7) % 5) + (((i + 1) * 7) % 5)) / 2, 1];
    const n = Math.hypot(...mean);
    mean.forEach((x, j) => expect(t.vector('potted_plant')[j]).toBeCloseTo(x / n, 6));
    expect((await run(['--preset', 'voc12-sign', '--classes', 'a,b', '--glove', vocab])).err).toContain('give --classes or --preset, not both');
    expect((await run(['--preset', 'voc12-sing', '--glove', vocab])).err).toContain("unknown preset 'voc12-sing' (did you mean 'voc12-sign'?)");
  });

  it('a word no source knows is an error naming it: exit 2, nothing written', async () => {
    const out = join(dir, 'never.json');
    const r = await run(['--classes', 'cat,zebra cat,okapi cat', '--glove', glove, '--word2vec', w2v, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("sign: sign embed: no source has the words 'zebra' (class 'zebra cat'), 'okapi' (class 'okapi cat')");
    expect(r.err).toContain('--allow-missing');
    expect(existsSync(out)).toBe(false);
    // a class none of whose words any source has: --allow-missing would not help, so no hint
    const none = await run(['--classes', 'cat,zebra crossing', '--glove', glove, '--word2vec', w2v, '--out', out]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("sign: sign embed: no source has any word of class 'zebra crossing' (words: zebra, crossing)");
    expect(none.err).not.toContain('--allow-missing');
    expect(existsSync(out)).toBe(false);
  });

  it('--allow-missing leaves such words out and records them in the output', async () => {
    const out = join(dir, 'partial.json');
    const r = await run(['--classes', 'cat,zebra dog', '--glove', glove, '--out', out, '--allow-missing']);
    expect(r.code).toBe(0);
    expect(r.out).toContain("skipped (no source knows it): 'zebra' in 'zebra dog'");
    const t = loadEmbeddingTable(out);
    expect(t.provenance.skippedWords).toEqual({ 'zebra dog': ['zebra'] });
    expect(Array.from(t.vector('zebra dog'))).toEqual([0, 1, 0]); // 'dog' alone
    // a class with no known word at all still fails
    const none = await run(['--classes', 'cat,zebra', '--glove', glove, '--out', join(dir, 'none.json'), '--allow-missing']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no source has any word of class 'zebra'/);
    expect(existsSync(join(dir, 'none.json'))).toBe(false);
  });

  it('usage errors: exit 2 with a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--glove', glove, '--out', 'x.json'], /--classes is required/],
      [['--classes', 'cat', '--out', 'x.json'], /give at least one source/],
      [['--classes', 'cat', '--glove', join(dir, 'nope.txt'), '--out', 'x.json'], /--glove: no such file .*nope\.txt/],
      [['--classes', 'cat,,dog', '--glove', glove, '--out', 'x.json'], /--classes: item 2 is empty/],
      [['--classes', 'cat,cat', '--glove', glove, '--out', 'x.json'], /'cat' is listed twice/],
      [['--classes', 'cat', '--glove', glove], /--out is required/],
      [['--classes', 'cat', '--glvoe', glove, '--out', 'x.json'], /Unknown option '--glvoe'/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
    }
    expect(existsSync('x.json')).toBe(false);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('sign embed --classes');
  });

  it('a fastText .bin model embeds words it never saw (subwords), so they are not missing', async () => {
    const corpus = join(dir, 'corpus.txt');
    const lines = Array.from({ length: 400 }, (_, i) => (i % 2 ? 'the cat sat on the mat near the dog' : 'traffic lights turn red and green'));
    writeFileSync(corpus, lines.join('\n') + '\n');
    const { bin } = await trainFastTextVectors(corpus, join(dir, 'ft'), { dim: 8, epoch: 1, minn: 2, maxn: 4, bucket: 2000, thread: 1 });
    const out = join(dir, 'ft.json');
    // 'lighting' is in neither the corpus nor the GloVe file: with GloVe alone it is an unknown word …
    const alone = await run(['--classes', 'cat,traffic lighting', '--glove', glove, '--out', out]);
    expect(alone.code).toBe(2);
    expect(alone.err).toContain("no source has the word 'lighting' (class 'traffic lighting')");
    // … the fastText model builds it from its n-grams, so it is known; GloVe averages 'traffic' alone
    const r = await run(['--classes', 'cat,traffic lighting', '--fasttext', bin, '--glove', glove, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${glove} lacks 'lighting' of 'traffic lighting' (averaged over the words it has)`);
    const t = loadEmbeddingTable(out);
    expect(t.dimension).toBe(8 + 3);
    expect(t.provenance.skippedWords).toBeUndefined();
    const sources = t.provenance.sources as { format: string; missingWords?: Record<string, string[]> }[];
    expect(sources.map((s) => s.format)).toEqual(['fasttext-bin', 'glove']);
    expect(sources[1]!.missingWords).toEqual({ 'traffic lighting': ['lighting'] });
  }, 60_000);
});
