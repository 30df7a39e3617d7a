import { combineSources } from './combine';
import { DEFAULT_CLASS_ALIASES, normalizeClassName } from './names';
import { hasSubwords, parseWordVectors } from './readers/index';
import type { WordVectorInput } from './readers/source';
import type { WordVectorFormat, WordVectors } from './readers/types';
import { EmbeddingTable, l2Normalize } from './table';

/**
 * One word-vector file given as data (bytes, a Blob or `File`, a stream, its text): what the main
 * entry's {@link buildClassEmbeddings} takes. `name` names it in errors and in the provenance
 * (default `'<source i>'`). Files by path: `buildClassEmbeddings` from `@sign/embeddings/node`.
 */
export interface WordVectorData {
  data: WordVectorInput;
  format: WordVectorFormat;
  name?: string;
}

/** Options of {@link buildClassEmbeddings} and {@link buildSourceTable}. */
export interface BuildClassEmbeddingsOptions {
  /** Class name → words, see {@link normalizeClassName}. Default {@link DEFAULT_CLASS_ALIASES}. */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** L2-normalise every word vector before averaging the words of a name. Default false (plain mean). */
  normalizeWords?: boolean;
  /**
   * A word of a class name that no source has (`flying` in `flying cat`, with word vectors that
   * lack it) is an error naming the word, its class and the sources, unless `allowMissing` is
   * true: then the class is embedded by its other words, the word is recorded in the table's
   * provenance (`skippedWords`), and a warning goes to {@link BuildClassEmbeddingsOptions.onWarning}.
   * A class none of whose words any source has is always an error. A fastText `.bin` model has
   * every word with a known character n-gram. Default false.
   */
  allowMissing?: boolean;
  /**
   * A word that *some* sources have and others lack is averaged out of the sources that lack it
   * and recorded in each one's provenance (`missingWords`): `'skip'` (the default) allows it,
   * `'error'` refuses, naming the class, the word and the source.
   */
  missingWords?: 'skip' | 'error';
  /** Where warnings go (default `console.warn`). */
  onWarning?: (message: string) => void;
}

/** A source whose vectors can be looked up: a name for messages, a format, and a reader. */
export interface ResolvedSource {
  name: string;
  format: WordVectorFormat;
  /** Reads the vectors of `words` (and reports the missing ones). */
  read(words: Set<string>): Promise<WordVectors>;
}

/** The spellings tried, in order, for a word: itself, then (hyphenated words) joined forms, then parts. */
function spellings(word: string): string[][] {
  if (!word.includes('-')) return [[word]];
  const parts = word.split('-').filter((p) => p.length > 1);
  const out: string[][] = [[word], [word.replace(/-/g, '')], [word.replace(/-/g, '_')]];
  if (parts.length > 0) out.push(parts);
  return out;
}

/** One source's vectors for the words of each class name, before averaging. */
interface SourceLookup {
  source: ResolvedSource;
  wv: WordVectors;
  /** Per class: its words (normalizeClassName), and per word the spellings found in the source (empty: absent). */
  found: { word: string; spellings: string[] }[][];
}

async function lookupSource(classNames: readonly string[], source: ResolvedSource, opts: BuildClassEmbeddingsOptions): Promise<SourceLookup> {
  const aliases = opts.aliases ?? DEFAULT_CLASS_ALIASES;
  const wordsOf = classNames.map((c) => normalizeClassName(c, { aliases }));
  const wanted = new Set<string>();
  for (const ws of wordsOf) for (const w of ws) for (const sp of spellings(w)) for (const s of sp) wanted.add(s);
  const wv = await source.read(wanted);
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

/** Averages the found words of each class (leaving out `skip[class]`), with the provenance of {@link buildSourceTable}. */
function sourceTable(classNames: readonly string[], l: SourceLookup, opts: BuildClassEmbeddingsOptions, skip: Record<string, string[]>): EmbeddingTable {
  const { source, wv } = l;
  const used: Record<string, string[]> = {};
  const absent: Record<string, string[]> = {};
  const partly: string[] = [];
  const vectors = classNames.map((cls, ci) => {
    const acc = new Float64Array(wv.dimension);
    const usedHere: string[] = [];
    const absentHere: string[] = [];
    for (const f of l.found[ci]) {
      if ((skip[cls] ?? []).includes(f.word)) continue;
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
    if (absentHere.length > 0) {
      absent[cls] = absentHere;
      partly.push(`'${cls}' lacks ${absentHere.join(', ')}`);
    }
    const out = new Float32Array(wv.dimension);
    // usedHere is never empty: a class left with no word is refused before
    for (let j = 0; j < out.length; j++) out[j] = acc[j] / usedHere.length;
    return out;
  });
  if (partly.length > 0 && opts.missingWords === 'error') {
    throw new Error(`buildClassEmbeddings: ${source.name} (${source.format}): ${partly.join('; ')}`);
  }
  return new EmbeddingTable({
    classNames,
    vectors,
    dimension: wv.dimension,
    provenance: {
      file: source.name,
      format: source.format,
      dimension: wv.dimension,
      averaging: opts.normalizeWords ? 'mean of L2-normalised word vectors' : 'mean of word vectors',
      words: used,
      ...(Object.keys(absent).length > 0 ? { missingWords: absent } : {}),
    },
  });
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/**
 * Looks every class name up in every source and decides, before any averaging, what no source
 * has: refused (the default), or left out and recorded (`allowMissing`). Returns one table per
 * source and the skipped words.
 */
async function sourceTables(
  classNames: readonly string[],
  sources: readonly ResolvedSource[],
  opts: BuildClassEmbeddingsOptions,
): Promise<{ tables: EmbeddingTable[]; skipped: Record<string, string[]> }> {
  if (!Array.isArray(classNames) || classNames.length === 0) {
    throw new Error('buildClassEmbeddings: expected a non-empty list of class names');
  }
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new Error('buildClassEmbeddings: expected at least one source');
  }
  const lookups: SourceLookup[] = [];
  for (const s of sources) lookups.push(await lookupSource(classNames, s, opts));
  const skipped: Record<string, string[]> = {};
  const unknown: string[] = [];
  const empty: string[] = [];
  classNames.forEach((cls, ci) => {
    const words = lookups[0].found[ci];
    words.forEach((f, wi) => {
      if (lookups.every((l) => l.found[ci][wi].spellings.length === 0)) {
        (skipped[cls] ??= []).push(f.word);
        unknown.push(`'${f.word}' (class '${cls}')`);
      }
    });
    if ((skipped[cls]?.length ?? 0) === words.length) empty.push(`'${cls}' (words: ${words.map((f) => f.word).join(', ')})`);
  });
  const names = sources.map((s) => `${s.name} (${s.format})`).join(', ');
  const subwordHint = sources.some((s) => hasSubwords(s.format))
    ? ''
    : '; add an alias ({ aliases: { name: [words] } }) or use a fastText .bin model, which embeds unknown words';
  if (empty.length > 0) {
    throw new Error(
      `buildClassEmbeddings: no source has any word of class${plural(empty.length, '', 'es')} ${empty.join(', ')} (sources: ${names})${subwordHint}`,
    );
  }
  if (unknown.length > 0) {
    if (!opts.allowMissing) {
      throw new Error(
        `buildClassEmbeddings: no source has the word${plural(unknown.length, '', 's')} ${unknown.join(', ')} (sources: ${names}); pass allowMissing: true to embed ${plural(unknown.length, 'that class', 'those classes')} by ${plural(unknown.length, 'its', 'their')} other words${subwordHint}`,
      );
    }
    (opts.onWarning ?? console.warn)(
      `buildClassEmbeddings: no source has the word${plural(unknown.length, '', 's')} ${unknown.join(', ')}: left out (allowMissing; recorded in provenance.skippedWords)`,
    );
  }
  return { tables: lookups.map((l) => sourceTable(classNames, l, opts, skipped)), skipped };
}

/** A source given as data (parsed in memory or streamed). */
export function dataSource(s: WordVectorData, i: number): ResolvedSource {
  if (s === null || typeof s !== 'object' || !('data' in s)) {
    throw new Error(
      `buildClassEmbeddings: source ${i} must be { data, format, name? } (read files by path with buildClassEmbeddings from '@sign/embeddings/node')`,
    );
  }
  const name = s.name ?? `<source ${i}>`;
  return { name, format: s.format, read: (words) => parseWordVectors(s.data, s.format, { words, source: name }) };
}

/**
 * Embeds class names with one word-vector source: each name becomes words by
 * {@link normalizeClassName}, and its vector is the mean of its words' vectors (not normalised;
 * {@link buildClassEmbeddings} normalises). A hyphenated word the source lacks (`t-shirt`) is looked
 * up as `tshirt`, then `t_shirt`, then as its parts longer than one letter. A word the source lacks
 * is an error unless `allowMissing`. The provenance records, per class, the words used.
 *
 * @example
 * const glove = await buildSourceTable(['cat', 'potted_plant'], { data: gloveText, format: 'glove', name: 'glove.txt' });
 */
export async function buildSourceTable(
  classNames: readonly string[],
  source: WordVectorData,
  opts: BuildClassEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  return buildSourceTableFrom(classNames, dataSource(source, 0), opts);
}

/** {@link buildSourceTable} over a resolved source (the Node entry's files use it too). */
export async function buildSourceTableFrom(classNames: readonly string[], source: ResolvedSource, opts: BuildClassEmbeddingsOptions): Promise<EmbeddingTable> {
  const { tables, skipped } = await sourceTables(classNames, [source], opts);
  const t = tables[0];
  if (Object.keys(skipped).length === 0) return t;
  return new EmbeddingTable({
    classNames: t.classNames,
    vectors: t.classNames.map((_, i) => t.vector(i)),
    dimension: t.dimension,
    provenance: { ...t.provenance, skippedWords: skipped },
  });
}

/**
 * Builds a class-embedding table from word vectors the way SIGN does (METHOD §2, M): every class
 * name is embedded with each source ({@link buildSourceTable}: words of the name averaged), and
 * the sources are combined by {@link combineSources} (each L2-normalised, concatenated,
 * L2-normalised again). With one source the rows are just L2-normalised. Sources are read one
 * after the other, streaming, keeping only the words needed.
 *
 * Strict by default: a word that no source has is an error naming it, its class and the sources
 * (`flying cat` never silently becomes `cat`); with `allowMissing` the class is embedded by its
 * other words, the word recorded (`provenance.skippedWords`) and a warning given. A class none of
 * whose words any source has, a malformed file and an unknown format are always errors.
 *
 * This entry takes data (bytes, Blobs, streams, text), and runs in browsers; for files by path,
 * and fastText `.bin` models (through the native executable), import it from
 * `@sign/embeddings/node`.
 *
 * @example
 * const glove = 'cow 0.9 0.1 0\nsheep 0.8 0.3 0\ntv 0 1 0.1\n';
 * const table = await buildClassEmbeddings(['cow', 'sheep', 'tv'], [{ data: glove, format: 'glove', name: 'glove.txt' }]);
 * table.dimension; // 3, rows of norm 1
 */
export async function buildClassEmbeddings(
  classNames: readonly string[],
  sources: readonly WordVectorData[],
  opts: BuildClassEmbeddingsOptions = {},
): Promise<EmbeddingTable> {
  if (!Array.isArray(sources)) throw new Error('buildClassEmbeddings: expected at least one source');
  return buildClassEmbeddingsFrom(classNames, sources.map(dataSource), opts);
}

/** {@link buildClassEmbeddings} over resolved sources (the Node entry's files use it too). */
export async function buildClassEmbeddingsFrom(
  classNames: readonly string[],
  sources: readonly ResolvedSource[],
  opts: BuildClassEmbeddingsOptions,
): Promise<EmbeddingTable> {
  const { tables, skipped } = await sourceTables(classNames, sources, opts);
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
