import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import { caseArbitrary } from './mutations';

export { applyMutation, caseArbitrary, describeMutation, mutationArb } from './mutations';
export type { FuzzCase, Mutation } from './mutations';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The seed of every fuzz run: `FUZZ_SEED` (a number), or a fixed default so CI is reproducible. */
export const FUZZ_SEED = Number.parseInt(process.env.FUZZ_SEED ?? '', 10) || 20_251_201;
/** Multiplies every reader's case count (`FUZZ_SCALE`, default 1; e.g. 10 for a long local run). */
export const FUZZ_SCALE = Number(process.env.FUZZ_SCALE ?? '') > 0 ? Number(process.env.FUZZ_SCALE) : 1;

/** How one case ended. Only `valid` and `error` are acceptable. */
export type Outcome = 'valid' | 'error' | 'abort' | 'hang' | 'raw' | 'leak';
const OUTCOMES: Outcome[] = ['valid', 'error', 'abort', 'hang', 'raw', 'leak'];

/** Error types that mean the reader did not check its input (they never name the file). */
const RAW_NAMES = new Set(['TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);

/** A function in a targets module, run by the child: `export async function name(path, variant)`. */
export interface FuzzTarget {
  /** Absolute path of the targets module (a .ts file). */
  module: string;
  /** The export to call. */
  name: string;
}

/** What came back from one case. */
export interface CaseResult {
  outcome: Outcome;
  /** The error message (errors), the summary as JSON (valid results), or what happened (abort, hang). */
  message: string;
  /** The error's name, for errors. */
  errorName?: string;
  /** Tensors left alive by the case. */
  leaked?: number;
  ms: number;
}

interface Reply {
  id: number;
  ok: boolean;
  summary?: unknown;
  name?: string;
  message?: string;
  code?: string;
  system?: boolean;
  stack?: string;
  leaked?: number;
}

/**
 * Decides the outcome of a reply for a case on `path`: a leak if tensors were left alive; a valid
 * result; a clear error (an Error whose message names the file, not a raw system or built-in
 * error); anything else is a raw error.
 */
export function classify(r: Reply, path: string): Outcome {
  if (r.leaked !== undefined && r.leaked !== 0) return 'leak';
  if (r.ok) return 'valid';
  const raw =
    RAW_NAMES.has(r.name ?? '') ||
    r.system === true ||
    (r.code !== undefined && /^(ERR_|E[A-Z]+$)/.test(r.code)) ||
    !(r.message ?? '').includes(path);
  return raw ? 'raw' : 'error';
}

/**
 * A child process (node + tsx) that runs targets of one module, one case at a time, so that a
 * case that aborts the process or hangs is seen and counted instead of taking the test run down.
 * The child is restarted after an abort or a hang.
 */
export class FuzzChild {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private pending: { id: number; resolve: (r: Reply | { died: string }) => void } | undefined;
  private stderr = '';

  constructor(private readonly module: string) {}

  private start(): Promise<void> {
    this.stderr = '';
    const child = fork(join(HERE, 'child.ts'), [this.module], {
      cwd: HERE,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, TSX_TSCONFIG_PATH: join(HERE, 'tsconfig.json') },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
      // its own process group, so that a hang or an abort also ends what it started (a native
      // fastText executable that reads for ever outlives a killed parent)
      detached: true,
    });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-2000);
    });
    const ready = new Promise<void>((res, rej) => {
      const onReady = (m: { ready?: boolean }) => {
        if (m && m.ready) {
          child.off('exit', onEarlyExit);
          res();
        }
      };
      const onEarlyExit = (code: number | null, signal: string | null) =>
        rej(new Error(`fuzz child for ${this.module} exited while starting (${signal ?? code}): ${this.stderr.trim()}`));
      child.once('exit', onEarlyExit);
      child.on('message', onReady);
    });
    child.on('message', (m: Reply) => {
      if (this.pending && m && m.id === this.pending.id) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve(m);
      }
    });
    child.on('exit', (code, signal) => {
      killGroup(child); // whatever the case started dies with it
      if (this.child === child) {
        this.child = undefined;
        this.ready = undefined;
      }
      if (this.pending) {
        const p = this.pending;
        this.pending = undefined;
        const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
        p.resolve({ died: `the process died (${signal ?? `exit code ${code}`})${tail ? `: ${tail}` : ''}` });
      }
    });
    return ready;
  }

  /** Runs `target` on `path`; `hangMs` later without an answer, the child is killed and the case is a hang. */
  async run(target: string, path: string, variant = 0, hangMs = 15_000): Promise<CaseResult> {
    if (!this.ready) this.ready = this.start();
    await this.ready;
    const child = this.child!;
    const id = this.nextId++;
    const t0 = performance.now();
    const answer = await new Promise<Reply | { died: string } | { hung: true }>((res) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        res({ hung: true });
        killGroup(child);
      }, hangMs);
      this.pending = {
        id,
        resolve: (r) => {
          clearTimeout(timer);
          res(r);
        },
      };
      child.send({ id, target, path, variant });
    });
    const ms = performance.now() - t0;
    if ('hung' in answer) return { outcome: 'hang', message: `no answer within ${hangMs} ms (killed)`, ms };
    if ('died' in answer) return { outcome: 'abort', message: answer.died, ms };
    if (!answer.ok && answer.name === 'HarnessError') throw new Error(answer.message);
    const outcome = classify(answer, path);
    const message = answer.ok ? JSON.stringify(answer.summary) ?? 'undefined' : `${answer.name}: ${answer.message}`;
    return { outcome, message, errorName: answer.name, leaked: answer.leaked, ms };
  }

  /** Ends the child and everything it started. */
  close(): void {
    if (this.child) killGroup(this.child);
    this.child = undefined;
    this.ready = undefined;
  }
}

/** Kills a detached child's whole process group (on Windows, the child alone). */
function killGroup(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Files that are not regular files, or paths that cannot be read: every reader gets each of them. */
export const SPECIAL_FILES = [
  'directory',
  'missing',
  'fifo',
  'dev-zero',
  'dangling-symlink',
  'symlink-loop',
  'inside-a-file',
  'unreadable',
  'empty',
] as const;
export type SpecialFile = (typeof SPECIAL_FILES)[number];

/**
 * Makes the special file `kind` in `dir` (with `valid` bytes where it needs content) and returns
 * its path, or undefined where this platform cannot make it (a FIFO without mkfifo).
 */
export function makeSpecialFile(dir: string, kind: SpecialFile, valid: Uint8Array, ext = ''): string | undefined {
  const p = join(dir, `special-${kind}${ext}`);
  rmSync(p, { recursive: true, force: true });
  switch (kind) {
    case 'directory':
      mkdirSync(p);
      return p;
    case 'missing':
      return p;
    case 'fifo':
      return spawnSync('mkfifo', [p]).status === 0 ? p : undefined;
    case 'dev-zero':
      if (!existsSync('/dev/zero')) return undefined;
      symlinkSync('/dev/zero', p);
      return p;
    case 'dangling-symlink':
      symlinkSync(join(dir, 'nowhere'), p);
      return p;
    case 'symlink-loop': {
      const q = `${p}.other`;
      rmSync(q, { force: true });
      symlinkSync(q, p);
      symlinkSync(p, q);
      return p;
    }
    case 'inside-a-file':
      writeFileSync(p, valid);
      return join(p, `x${ext}`);
    case 'unreadable':
      writeFileSync(p, valid);
      chmodSync(p, 0); // still readable by root: then a valid result is right
      return p;
    case 'empty':
      writeFileSync(p, new Uint8Array(0));
      return p;
  }
}

/** Options of {@link fuzzReader}. */
export interface FuzzReaderOptions {
  /** Number of random cases (times FUZZ_SCALE); the special files come on top. */
  cases: number;
  /**
   * Hostile files that know the format (a header that lies about counts, a gzip bomb, ...),
   * each mixed in with the mutated files, by label.
   */
  hostile?: Record<string, fc.Arbitrary<Uint8Array>>;
  /** The file name extension of the case files (default none). */
  extension?: string;
  /** Number of variants the target takes (e.g. with and without a word list); default 1. */
  variants?: number;
  /** A case without an answer after this long is a hang (default 15 s). */
  hangMs?: number;
  /** Stop drawing new cases after this long (default 90 s); the count run is printed. */
  budgetMs?: number;
}

/** Per-reader counts of outcomes, as printed and as {@link fuzzReader} checks them. */
export type Tally = Record<Outcome, number> & { cases: number; seconds: number };

/**
 * Declares a vitest test that fuzzes one reader: `opts.cases` files drawn (seeded with
 * {@link FUZZ_SEED}) from valid files of the format, the same with 1–3 byte-level mutations,
 * and the format's hostile files, plus every {@link SPECIAL_FILES} kind; each is read by
 * `target` in a {@link FuzzChild}. The test fails if any case aborts the process, hangs, throws
 * a raw error (a TypeError/RangeError/system error, or a message without the file's path) or
 * leaks a tensor; the failing files are kept in a folder named in the message. It prints the seed
 * and the count of each outcome.
 *
 * @example
 * fuzzReader('word2vec-bin', word2vecBinaryFiles(), { module: TARGETS, name: 'word2vecBin' }, { cases: 400, variants: 2 });
 */
export function fuzzReader(name: string, valid: fc.Arbitrary<Uint8Array>, target: FuzzTarget, opts: FuzzReaderOptions): void {
  const budgetMs = opts.budgetMs ?? 90_000;
  const hangMs = opts.hangMs ?? 15_000;
  const count = Math.round(opts.cases * FUZZ_SCALE);
  it(
    `fuzz ${name}: ${count} mutated and hostile files + ${SPECIAL_FILES.length} special paths → a valid result or a clear error`,
    async () => {
      const tally = await runFuzz(name, valid, target, { ...opts, cases: count, budgetMs, hangMs });
      expect(tally.abort + tally.hang + tally.raw + tally.leak).toBe(0);
    },
    budgetMs + SPECIAL_FILES.length * hangMs + 120_000,
  );
}

/** Where the latest tallies go when `FUZZ_REPORT` names a file (one JSON line per reader). */
function report(name: string, tally: Tally): void {
  const line =
    `fuzz ${name}: seed ${FUZZ_SEED}, ${tally.cases} cases in ${tally.seconds.toFixed(1)} s: ` +
    OUTCOMES.map((o) => `${tally[o]} ${o}`).join(', ');
  console.log(line);
  if (process.env.FUZZ_REPORT) {
    writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ name, seed: FUZZ_SEED, ...tally }) + '\n', { flag: 'a' });
  }
}

const children = new Map<string, FuzzChild>();
afterAll(() => {
  for (const c of children.values()) c.close();
  children.clear();
});

/** The shared child for a targets module (one per test file). */
export function fuzzChild(module: string): FuzzChild {
  let c = children.get(module);
  if (!c) {
    c = new FuzzChild(module);
    children.set(module, c);
  }
  return c;
}

async function runFuzz(
  name: string,
  valid: fc.Arbitrary<Uint8Array>,
  target: FuzzTarget,
  opts: FuzzReaderOptions & { budgetMs: number; hangMs: number },
): Promise<Tally> {
  const ext = opts.extension ?? '';
  const dir = mkdtempSync(join(tmpdir(), `sign fuzz ü ${name}-`));
  const failures: { index: number | string; how: string; result: CaseResult; kept?: string }[] = [];
  const tally: Tally = { valid: 0, error: 0, abort: 0, hang: 0, raw: 0, leak: 0, cases: 0, seconds: 0 };
  const child = fuzzChild(target.module);
  const t0 = performance.now();
  const keep = (path: string, label: string): string | undefined => {
    const out = resolve(process.env.FUZZ_FAILURES ?? join(tmpdir(), 'sign-fuzz-failures'));
    mkdirSync(out, { recursive: true });
    const kept = join(out, `${name}-seed${FUZZ_SEED}-${label}${ext}`);
    try {
      copyFileSync(path, kept);
      return kept;
    } catch {
      return undefined;
    }
  };
  const record = (index: number | string, how: string, result: CaseResult, path: string) => {
    tally[result.outcome]++;
    tally.cases++;
    if (result.outcome !== 'valid' && result.outcome !== 'error') {
      failures.push({ index, how, result, kept: typeof index === 'number' ? keep(path, String(index)) : undefined });
    }
  };
  try {
    const cases = fc.sample(caseArbitrary(valid, opts), { seed: FUZZ_SEED, numRuns: opts.cases });
    const validSample = fc.sample(valid, { seed: FUZZ_SEED, numRuns: 1 })[0];
    for (const kind of SPECIAL_FILES) {
      const path = makeSpecialFile(dir, kind, validSample, ext);
      if (path === undefined) continue;
      record(kind, `special:${kind}`, await child.run(target.name, path, 0, opts.hangMs), path);
    }
    for (let i = 0; i < cases.length; i++) {
      if (performance.now() - t0 > opts.budgetMs) {
        console.log(`fuzz ${name}: time budget of ${opts.budgetMs / 1000} s reached after ${i} of ${cases.length} cases`);
        break;
      }
      const c = cases[i];
      const path = join(dir, `case-${i}${ext}`);
      writeFileSync(path, c.bytes);
      record(i, `${c.how} (variant ${c.variant})`, await child.run(target.name, path, c.variant, opts.hangMs), path);
      unlinkSync(path);
    }
  } finally {
    tally.seconds = (performance.now() - t0) / 1000;
    rmSync(dir, { recursive: true, force: true });
  }
  report(name, tally);
  if (failures.length > 0) {
    const lines = failures
      .slice(0, 12)
      .map((f) => `  case ${f.index} [${f.how}] → ${f.result.outcome}: ${f.result.message.slice(0, 300)}${f.kept ? ` (file kept: ${f.kept})` : ''}`);
    throw new Error(
      `fuzz ${name} (seed ${FUZZ_SEED}): ${failures.length} case(s) aborted, hung, threw a raw error or leaked:\n${lines.join('\n')}`,
    );
  }
  return tally;
}

/**
 * Runs `target` once on a file with `bytes` (or on a special path) in a child process, for
 * regression tests of findings that used to abort or hang the process.
 *
 * @example
 * const r = await readInChild({ module: TARGETS, name: 'word2vecBin' }, bytes, '.bin');
 * expect(r.outcome).toBe('error');
 */
export async function readInChild(
  target: FuzzTarget,
  file: Uint8Array | SpecialFile,
  ext = '',
  opts: { variant?: number; hangMs?: number } = {},
): Promise<CaseResult & { path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sign fuzz ü regression-'));
  try {
    const path =
      typeof file === 'string' ? makeSpecialFile(dir, file, new Uint8Array(0), ext) : join(dir, `file${ext}`);
    if (path === undefined) throw new Error(`cannot make a ${String(file)} here`);
    if (typeof file !== 'string') writeFileSync(path, file);
    const r = await fuzzChild(target.module).run(target.name, path, opts.variant ?? 0, opts.hangMs ?? 15_000);
    return { ...r, path };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
