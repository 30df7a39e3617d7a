/**
 * `sign add-class NAME --checkpoint IN --out OUT`: adds a class by name to a trained model
 * (@sign/trainer's `addClass`: the class's embedding row, features from the trained generator,
 * the classifier retrained on generated features of all classes) and writes a checkpoint that
 * `sign eval` and `sign predict` read. The embedding comes from the data the model was trained
 * on (its dataset's own table or its `embeddingsFile`), from another fashion-scenes source, or
 * from a file: an embeddings table (JSON) or word vectors (GloVe/word2vec text, word2vec binary,
 * fastText `.vec`, or a fastText `.bin` model, which embeds unknown words through their subwords).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { initBackend, warnIfSlowBackend } from '@sign/core';
import { createDataModule, parseEmbeddings } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { EmbeddingTable, controlEmbeddings, detectWordVectorFormat, type WordVectorFormat } from '@sign/embeddings';
import { buildClassEmbeddings } from '@sign/embeddings/node';
import { addClass, type TrainedModel } from '@sign/trainer';
import { loadModel, saveModel } from '@sign/trainer/node';
import { BACKENDS, EMBEDDINGS, choice, integer, parseCommand, required, string } from './args.js';
import { EXIT, UsageError } from './errors.js';
import type { TextSink } from './progress.js';

export const ADD_CLASS_OPTIONS = {
  checkpoint: { type: 'string' },
  out: { type: 'string' },
  'embedding-source': { type: 'string' },
  'allow-missing': { type: 'boolean' },
  control: { type: 'string' },
  'control-seed': { type: 'string' },
  steps: { type: 'string' },
  train: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const ADD_CLASS_HELP = `sign add-class <name> --checkpoint <file> --out <file.safetensors> [--embedding-source <source>]

Adds a class by name to a trained model: its embedding joins the class embeddings, the trained
generator makes its features (z from the latent prior), and the classifier is retrained on
generated features of all classes (seconds). The new checkpoint has the class as unseen (last
id), records the addition, and works with 'sign eval' and 'sign predict'. A class the model was
trained without ('sign demo --exclude-classes bag') is evaluated as unseen afterwards.

Flags:
  --embedding-source <s>   where the class's embedding comes from (default: dataset):
                             dataset                   the table the model was trained with
                             glove|attributes|both     that fashion-scenes table (the model's width)
                             <file.json>               an embeddings table ({"name": [numbers]} or 'sign embed' output)
                             <file>                    word vectors: GloVe/word2vec text, word2vec .bin,
                                                       fastText .vec, or a fastText .bin model (subwords)
  --allow-missing          word vectors: leave out words of the name the file lacks (error by default)
  --control random         a random unit vector instead (the control of the measurement)
  --control-seed <n>       its draw (default: the model's seed + 1000)
  --steps <n>              classifier steps on generated features (default 200)
  --train head|new-class|classifier   what is retrained: C's output layer (default), only the
                           new class's column of it, or D/C's shared layer too
  --seed <n>               seed of the retraining (default: the model's)
  --backend <b>            (default auto)
  --json                   print the summary as one JSON line
`;

/** The format of a word-vector file: fastText for .bin/.vec (as the 'fastText subwords for a .bin'), else from its first bytes. */
function wordVectorFormat(path: string): WordVectorFormat {
  const lower = path.toLowerCase();
  if (lower.endsWith('.bin')) return 'fasttext-bin';
  if (lower.endsWith('.vec')) return 'fasttext-vec';
  const head = new Uint8Array(4096);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const format = detectWordVectorFormat(head.subarray(0, n));
  if (!format) throw new UsageError(`--embedding-source: ${path} is neither an embeddings table (.json) nor a word-vector file`);
  return format;
}

/** The class's embedding from `source` (see the help), with a description for the checkpoint. */
async function embeddingOf(model: TrainedModel, name: string, source: string, allowMissing: boolean): Promise<{ vector: Float32Array; source: string }> {
  if (source === 'dataset' || (EMBEDDINGS as readonly string[]).includes(source)) {
    const data: Record<string, unknown> = { ...(model.config.data as Record<string, unknown>), control: 'none' };
    delete data.exclude;
    if (source !== 'dataset') {
      if (data.type !== 'fashion-scenes') throw new UsageError(`--embedding-source ${source}: only for fashion-scenes models (this one: ${String(data.type)}); give a file`);
      data.embeddings = source;
    }
    const dm = await createDataModule(data, { io: nodeIo, seed: model.config.seed });
    try {
      const table = dm.embeddings;
      if (!table.classNames.includes(name))
        throw new UsageError(`--embedding-source ${source}: the dataset's embeddings have no class '${name}' (classes: ${table.classNames.join(', ')}); give a file`);
      const what = source === 'dataset' ? String((table.provenance as { name?: unknown }).name ?? 'the dataset') : source;
      return { vector: Float32Array.from(table.vector(name)), source: `${what} (${data.type} dataset)` };
    } finally {
      dm.dispose();
    }
  }
  if (!existsSync(source)) throw new UsageError(`--embedding-source: no such file ${source} (or use dataset, glove, attributes, both)`);
  if (!statSync(source).isFile()) throw new UsageError(`--embedding-source: ${source} is not a file`);
  if (source.toLowerCase().endsWith('.json')) {
    let table: EmbeddingTable;
    try {
      table = parseEmbeddings(readFileSync(source, 'utf8'), source, [name]);
    } catch (err) {
      throw new UsageError(`--embedding-source: ${(err as Error).message}`);
    }
    return { vector: Float32Array.from(table.vector(name)), source };
  }
  const format = wordVectorFormat(source);
  try {
    const table = await buildClassEmbeddings([name], [{ path: source, format }], { allowMissing, onWarning: () => {} });
    return { vector: Float32Array.from(table.vector(name)), source: `${source} (${format})` };
  } catch (err) {
    const msg = (err as Error).message.replace(/^buildClassEmbeddings: /, '');
    throw new UsageError(`--embedding-source: ${msg}${/no source has the word/.test(msg) ? ' (--allow-missing leaves such words out)' : ''}`);
  }
}

/**
 * Runs `sign add-class` (argv after the command name); returns the exit code. Usage errors
 * (no name, a class the model has, an embedding of the wrong width, unknown words) throw
 * {@link UsageError} (exit 2) before anything is written.
 *
 * @example
 * await addClassCommand(['bag', '--checkpoint', 'runs/bagless/checkpoints/last.safetensors', '--out', 'runs/with-bag.safetensors'], { stdout, stderr });
 */
export async function addClassCommand(argv: string[], io: { stdout: TextSink; stderr: TextSink }, checkpointArg: (flags: Record<string, unknown>, command: string) => string): Promise<number> {
  const { flags, positionals } = parseCommand('add-class', argv, ADD_CLASS_OPTIONS, true);
  if (flags.help) {
    io.stdout.write(ADD_CLASS_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`sign add-class: give exactly one class name (got ${positionals.length}); quote names with spaces: sign add-class 'tote bag' …`);
  const name = positionals[0]!.trim();
  if (name === '') throw new UsageError('sign add-class: the class name is empty');
  const ckpt = checkpointArg(flags, 'add-class');
  const out = required(flags, 'out', 'add-class');
  const source = string(flags, 'embedding-source') ?? 'dataset';
  const control = choice(flags, 'control', ['none', 'random'] as const) ?? 'none';
  const controlSeed = integer(flags, 'control-seed', { min: 0 });
  if (controlSeed !== undefined && control === 'none') throw new UsageError('--control-seed: only meaningful with --control random');
  const steps = integer(flags, 'steps', { min: 1 });
  const train = choice(flags, 'train', ['head', 'new-class', 'classifier'] as const);
  const seed = integer(flags, 'seed', { min: 0 });
  const backend = choice(flags, 'backend', BACKENDS) ?? 'auto';
  await initBackend(backend);
  warnIfSlowBackend({ what: 'sign add-class', warn: (m) => io.stderr.write(`${m}\n`) });
  const model = await loadModel(ckpt);
  try {
    if (model.classNames.includes(name)) throw new UsageError(`sign add-class: the model already has a class '${name}' (classes: ${model.classNames.join(', ')})`);
    let { vector, source: described } = await embeddingOf(model, name, source, flags['allow-missing'] === true);
    const E = model.net.classes.embeddingDim;
    if (vector.length !== E)
      throw new UsageError(`--embedding-source: the embedding of '${name}' from ${described} has ${vector.length} values; the model's class embeddings have ${E} (use the source it was trained with)`);
    if (control === 'random') {
      const drawSeed = controlSeed ?? model.config.seed + 1000;
      const one = controlEmbeddings(new EmbeddingTable({ classNames: [name], vectors: [vector] }), [name], 'random', drawSeed);
      vector = Float32Array.from(one.vector(name));
      described = `random unit vector (control, seed ${drawSeed})`;
    }
    const bigger = await addClass(model, name, vector, { source: described, ...(steps !== undefined ? { steps } : {}), ...(train ? { train } : {}), ...(seed !== undefined ? { seed } : {}) });
    try {
      await saveModel(out, bigger, { addedFrom: ckpt });
      const added = bigger.added[bigger.added.length - 1]!;
      const summary = { out, class: name, id: added.id, classes: bigger.classNames.length, source: described, steps: added.steps, seconds: added.seconds };
      if (flags.json) io.stdout.write(`${JSON.stringify({ event: 'add-class', ...summary })}\n`);
      else io.stdout.write(`added '${name}' (id ${added.id}, unseen) from ${described}: classifier retrained for ${added.steps} steps in ${added.seconds.toFixed(1)} s; wrote ${out}\n`);
    } finally {
      bigger.dispose();
    }
  } finally {
    model.dispose();
  }
  return EXIT.ok;
}
