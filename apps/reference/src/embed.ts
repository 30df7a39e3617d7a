/**
 * `sign embed`: class embeddings (the mapping M) for your own class names, the paper's way
 * (METHOD §2, through @sign/embeddings' `buildClassEmbeddings`): each source embeds a class as
 * the mean of its words' vectors, each source's rows are L2-normalised, concatenated and
 * normalised again; multi-word names ("traffic light") average their words; fastText `.bin`
 * models embed words they never saw through their subwords. A word that no source knows is an
 * error naming it (exit 2, nothing written) unless `--allow-missing`, which leaves it out and
 * records it in the output (`provenance.skippedWords`).
 */
import { existsSync, statSync } from 'node:fs';
import type { WordVectorFormat } from '@sign/embeddings';
import { buildClassEmbeddings, saveEmbeddingTable, type WordVectorSource } from '@sign/embeddings/node';
import { parseCommand, required } from './args.js';
import { presetClasses } from './configs.js';
import { EXIT, UsageError } from './errors.js';
import type { TextSink } from './progress.js';

export const EMBED_OPTIONS = {
  classes: { type: 'string' },
  preset: { type: 'string' },
  word2vec: { type: 'string' },
  fasttext: { type: 'string' },
  glove: { type: 'string' },
  out: { type: 'string' },
  'allow-missing': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const EMBED_HELP = `sign embed --classes <a,b,…> (--word2vec <file> | --fasttext <file.bin> | --glove <file>)… --out <embeddings.json>
sign embed --preset <name> --word2vec <file> --fasttext <file.bin> [--out <file>]

Builds class embeddings the way SIGN does: per source the mean of the words of each class name
(multi-word names averaged; fastText .bin models embed unknown words through subwords), each
source L2-normalised, the sources concatenated, the result L2-normalised. The output is a table
(sign-embedding-table JSON) that a folder dataset reads as its embeddings.json or through
data.embeddingsFile.

Flags:
  --classes <a,b,…>     class names, comma-separated, in class-id order ("background,cat,traffic light")
  --preset <name>       the classes of a preset's benchmark (sign --help lists the presets); --out
                        defaults to the file the preset reads (class-embeddings/<benchmark>.json)
  --word2vec <file>     word2vec vectors: binary (.bin) or text
  --fasttext <file>     fastText model (.bin, embeds any word) or vectors (.vec)
  --glove <file>        GloVe text vectors
  --out <file>          where to write the table (atomically)
  --allow-missing       leave out words no source knows (recorded in the output) instead of failing
  --json                print the summary as one JSON line
`;

/** The source formats of the flags, in the order they are combined. */
export function embedSources(flags: Record<string, unknown>): WordVectorSource[] {
  const sources: WordVectorSource[] = [];
  const add = (flag: string, format: (path: string) => WordVectorFormat) => {
    const v = flags[flag];
    if (v === undefined) return;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${flag}: expected a file`);
    if (!existsSync(v)) throw new UsageError(`--${flag}: no such file ${v}`);
    if (!statSync(v).isFile()) throw new UsageError(`--${flag}: ${v} is not a file`);
    sources.push({ path: v, format: format(v) });
  };
  add('word2vec', (p) => (p.toLowerCase().endsWith('.bin') ? 'word2vec-bin' : 'word2vec-text'));
  add('fasttext', (p) => (p.toLowerCase().endsWith('.bin') ? 'fasttext-bin' : 'fasttext-vec'));
  add('glove', () => 'glove');
  if (sources.length === 0) throw new UsageError('sign embed: give at least one source: --word2vec FILE, --fasttext FILE.bin or --glove FILE');
  return sources;
}

/** Class names from `--classes`: comma-separated, trimmed; empty or repeated names are errors. */
export function parseClassList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  const empty = names.findIndex((n) => n === '');
  if (empty >= 0) throw new UsageError(`--classes: item ${empty + 1} is empty (give names separated by commas: "cat,dog,traffic light")`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`--classes: '${twice}' is listed twice`);
  return names;
}

/**
 * Runs `sign embed` (argv after the command name); returns the exit code. Usage errors and
 * unknown words throw {@link UsageError} (exit 2) before anything is written.
 *
 * @example
 * await embedCommand(['--classes', 'background,cat,traffic light', '--glove', 'glove.6B.300d.txt', '--out', 'data/embeddings.json'], { stdout, stderr });
 */
export async function embedCommand(argv: string[], io: { stdout: TextSink; stderr: TextSink }): Promise<number> {
  const { flags } = parseCommand('embed', argv, EMBED_OPTIONS);
  if (flags.help) {
    io.stdout.write(EMBED_HELP);
    return EXIT.ok;
  }
  const preset = flags.preset === undefined ? undefined : presetClasses(required(flags, 'preset', 'embed'));
  if (preset && flags.classes !== undefined) throw new UsageError('sign embed: give --classes or --preset, not both');
  const classes = preset ? preset.classes : parseClassList(required(flags, 'classes', 'embed'));
  const out = preset && flags.out === undefined ? preset.out : required(flags, 'out', 'embed');
  const sources = embedSources(flags);
  const allowMissing = flags['allow-missing'] === true;
  let table;
  try {
    // skipped words are reported below, per class
    table = await buildClassEmbeddings(classes, sources, { allowMissing, onWarning: () => {} });
  } catch (err) {
    const msg = (err as Error).message.replace(/^buildClassEmbeddings: /, '');
    throw new UsageError(`sign embed: ${msg}${/no source has the word/.test(msg) ? ' (--allow-missing leaves such words out)' : ''}`);
  }
  saveEmbeddingTable(table, out);
  const skipped = (table.provenance.skippedWords ?? {}) as Record<string, string[]>;
  const perSource = ((table.provenance.sources ?? []) as { file: string; missingWords?: Record<string, string[]> }[]).map((s) => ({ file: s.file, missingWords: s.missingWords ?? {} }));
  const summary = { out, classes: table.size, dimension: table.dimension, sources: sources.map((s) => `${s.path} (${s.format})`), skippedWords: skipped, missingPerSource: perSource.filter((s) => Object.keys(s.missingWords).length > 0) };
  if (flags.json) io.stdout.write(`${JSON.stringify({ event: 'embeddings', ...summary })}\n`);
  else {
    io.stdout.write(`wrote ${out}: ${table.size} classes × ${table.dimension} (${summary.sources.join(' + ')})\n`);
    for (const [cls, words] of Object.entries(skipped)) io.stdout.write(`  skipped (no source knows it): ${words.map((w) => `'${w}'`).join(', ')} in '${cls}'\n`);
    for (const s of summary.missingPerSource)
      for (const [cls, words] of Object.entries(s.missingWords)) io.stdout.write(`  ${s.file} lacks ${words.map((w) => `'${w}'`).join(', ')} of '${cls}' (averaged over the words it has)\n`);
  }
  return EXIT.ok;
}
