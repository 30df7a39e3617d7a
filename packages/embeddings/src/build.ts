import { combineSources } from './combine';
import { DEFAULT_CLASS_ALIASES, normalizeClassName } from './names';
import { hasSubwords, readWordVectors } from './readers/index';
import type { WordVectorFormat, WordVectors } from './readers/types';
import { EmbeddingTable, l2Normalize } from './table';

/** One word-vector file to embed class names with. */
export interface WordVectorSource {
  path: string;
  format: WordVectorFormat;
}

/** Options of {@link buildClassEmbeddings} and {@link buildSourceTable}. */
export interface BuildClassEmbeddingsOptions {
  /** Class name → words, see {@link normalizeClassName}. Default {@link DEFAULT_CLASS_ALIASES}. */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** L2-normalise every word vector before averaging the words of a name. Default false (plain mean). */
  normalizeWords?: boolean;
  /**
   * What to do when some (not all) words of a class are absent from a source: `'skip'` averages
   * the words that are there and records the absent ones in the provenance; `'error'` refuses.
   * A class none of whose words is known is always an error. Default `'skip'`.
   */
  missingWords?: 'skip' | 'error';
  /**
   * ({@link buildClassEmbeddings}) What to do with a word of a class name that **no** source has
   * (a fastText `.bin` source has every word with a known n-gram): `'skip'` leaves it out of
   * every source, recording it in the provenance (`skippedWords`); `'error'` refuses, naming each
   * such word and its class. A class left with no word is always an error. Default `'skip'`.
   */
  unknownWords?: 'skip' | 'error';
}

/** The spellings tried, in order, for a word: itself, then (hyphenated words) joined forms, then parts. */
function spellings(word: string): string[][] {
  if (!word.includes('-')) return [[word]];
  const parts = word.split('-').filter((p) => p.length > 1);
  const out: string[][] = [[word], [word.replace(/-/g, '')], [word.replace(/-/g, '_')]];
  if (parts.length > 0) out.push(parts);
  return out;
}

/**
 * Embeds class names with one word-vector file: each name becomes words by
 * {@link normalizeClassName}, and its vector is the mean of its words' vectors (not normalised;
 * {@link buildClassEmbeddings} normalises). A hyphenated word the file lacks (`t-shirt`) is looked
 * up as `tshirt`, then `t_shirt`, then as its parts longer than one letter. The provenance records,
 * per class, the words used and the words missing.
 *
 * @example
 * const glove = await buildSourceTable(['cat', 'potted_plant'], { path: 'glove.txt', format: 'glove' });
 */
export async function buildSourceTable(
  classNames: readonly string[],
  source: WordVectorSource,
  opts: BuildClassEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  return sourceTable(classNames, await lookupSource(classNames, source, opts), opts);
}

/** One source's vectors for the words of each class name, before averaging. */
interface SourceLookup {
  source: WordVectorSource;
  wv: WordVectors;
  /** Per class: its words (normalizeClassName), and per word the spellings found in the file (empty: absent). */
  found: { word: string; spellings: string[] }[][];
}

async function lookupSource(classNames: readonly string[], source: WordVectorSource, opts: BuildClassEmbeddingsOptions): Promise<SourceLookup> {
  const aliases = opts.aliases ?? DEFAULT_CLASS_ALIASES;
  const wordsOf = classNames.map((c) => normalizeClassName(c, { aliases }));
  const wanted = new Set<string>();
  for (const ws of wordsOf) for (const w of ws) for (const sp of spellings(w)) for (const s of sp) wanted.add(s);
  const wv: WordVectors = await readWordVectors(source.path, source.format, { words: wanted });
  const found = wordsOf.map((ws) =>
    ws.map((word) => {
      for (const alt of spellings(word)) {
        const have = alt.filter((s) => wv.vectors.has(s));
        if (have.length > 0) return { word, spellings: have };
      }
      return { word, spellings: [] as string[] };
    }),
  );
  return { source, wv, found };
}

/** Averages the found words of each class (leaving out `skip[class]`), with the errors and provenance of {@link buildSourceTable}. */
function sourceTable(classNames: readonly string[], l: SourceLookup, opts: BuildClassEmbeddingsOptions, skip: Record<string, string[]> = {}): EmbeddingTable {
  const { source, wv } = l;
  const used: Record<string, string[]> = {};
  const absent: Record<string, string[]> = {};
  const noWords: string[] = [];
  const partly: string[] = [];
  const vectors = classNames.map((cls, ci) => {
    const acc = new Float64Array(wv.dimension);
    const usedHere: string[] = [];
    const absentHere: string[] = [];
    const words = l.found[ci].filter((f) => !(skip[cls] ?? []).includes(f.word));
    for (const f of words) {
      if (f.spellings.length === 0) {
        absentHere.push(f.word);
        continue;
      }
      for (const s of f.spellings) {
        const v = opts.normalizeWords ? l2Normalize(wv.vectors.get(s)!) : wv.vectors.get(s)!;
        for (let j = 0; j < v.length; j++) acc[j] += v[j];
        usedHere.push(s);
      }
    }
    used[cls] = usedHere;
    if (absentHere.length > 0) absent[cls] = absentHere;
    if (usedHere.length === 0) {
      noWords.push(`'${cls}' (words: ${words.map((f) => f.word).join(', ')})`);
      return new Float32Array(wv.dimension);
    }
    if (absentHere.length > 0) partly.push(`'${cls}' lacks ${absentHere.join(', ')}`);
    const out = new Float32Array(wv.dimension);
    for (let j = 0; j < out.length; j++) out[j] = acc[j] / usedHere.length;
    return out;
  });
  if (noWords.length > 0) {
    const hint = hasSubwords(source.format)
      ? ''
      : '; add an alias ({ aliases: { name: [words] } }) or use a fastText .bin model, which embeds unknown words';
    throw new Error(
      `buildClassEmbeddings: ${source.path} (${source.format}) has no vector for any word of class${noWords.length > 1 ? 'es' : ''} ${noWords.join(', ')}${hint}`,
    );
  }
  if (partly.length > 0 && opts.missingWords === 'error') {
    throw new Error(`buildClassEmbeddings: ${source.path} (${source.format}): ${partly.join('; ')}`);
  }
  return new EmbeddingTable({
    classNames,
    vectors,
    dimension: wv.dimension,
    provenance: {
      file: source.path,
      format: source.format,
      dimension: wv.dimension,
      averaging: opts.normalizeWords ? 'mean of L2-normalised word vectors' : 'mean of word vectors',
      words: used,
      ...(Object.keys(absent).length > 0 ? { missingWords: absent } : {}),
    },
  });
}

/**
 * Builds a class-embedding table from word-vector files the way SIGN does (METHOD §2, M): every
 * class name is embedded with each source ({@link buildSourceTable}: words of the name averaged),
 * and the sources are combined by {@link combineSources} (each L2-normalised, concatenated,
 * L2-normalised again). With one source the rows are just L2-normalised. Files are read one
 * after the other, streaming, keeping only the words needed.
 *
 * Errors name the class and the file: a class none of whose words a source has (not possible
 * with `fasttext-bin`, which embeds any word through its subwords unless it has no n-gram at all),
 * a malformed file, an unknown format.
 *
 * @example
 * const table = await buildClassEmbeddings(['cow', 'potted_plant', 'tvmonitor'], [
 *   { path: 'GoogleNews-vectors-negative300.bin', format: 'word2vec-bin' },
 *   { path: 'cc.en.300.bin', format: 'fasttext-bin' },
 * ]); // 600-d rows of norm 1
 */
export async function buildClassEmbeddings(
  classNames: readonly string[],
  sources: readonly WordVectorSource[],
  opts: BuildClassEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  if (!Array.isArray(classNames) || classNames.length === 0) {
    throw new Error('buildClassEmbeddings: expected a non-empty list of class names');
  }
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new Error('buildClassEmbeddings: expected at least one source { path, format }');
  }
  const lookups: SourceLookup[] = [];
  for (const s of sources) lookups.push(await lookupSource(classNames, s, opts));
  // words that no source has: refused, or left out of every source (and recorded)
  const skipped: Record<string, string[]> = {};
  const unknown: string[] = [];
  classNames.forEach((cls, ci) => {
    lookups[0].found[ci].forEach((f, wi) => {
      if (lookups.every((l) => l.found[ci][wi].spellings.length === 0)) {
        (skipped[cls] ??= []).push(f.word);
        unknown.push(`'${f.word}' (class '${cls}')`);
      }
    });
  });
  if (unknown.length > 0 && opts.unknownWords === 'error') {
    throw new Error(
      `buildClassEmbeddings: no source has the word${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (sources: ${sources.map((s) => `${s.path} (${s.format})`).join(', ')})`,
    );
  }
  const empty = classNames.filter((cls, ci) => (skipped[cls]?.length ?? 0) === lookups[0].found[ci].length);
  if (empty.length > 0) {
    throw new Error(`buildClassEmbeddings: no source has any word of class${empty.length > 1 ? 'es' : ''} ${empty.map((c) => `'${c}'`).join(', ')}; add an alias or a fastText .bin model`);
  }
  const tables = lookups.map((l) => sourceTable(classNames, l, opts, skipped));
  const combined = combineSources(tables);
  return new EmbeddingTable({
    classNames: combined.classNames,
    vectors: combined.classNames.map((_, i) => combined.vector(i)),
    dimension: combined.dimension,
    provenance: {
      ...combined.provenance,
      classNameRule: 'normalizeClassName (lower-case; "/" alternatives; split on space, "_", "-")',
      aliases: opts.aliases ?? DEFAULT_CLASS_ALIASES,
      ...(Object.keys(skipped).length > 0 ? { skippedWords: skipped } : {}),
    },
  }).validate({ classNames, dimension: combined.dimension });
}
