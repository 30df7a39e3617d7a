/**
 * Command-line parsing with node:util `parseArgs` (strict: unknown flags are errors), one option
 * table per command. Values are checked here against their allowed sets so that a typo fails
 * before anything is loaded, with a message that names the flag and lists the valid values.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError, listValues } from './errors.js';

export const LAYOUTS = ['outfit', 'random'] as const;
export const SELF_TRAINING = ['none', 'ast', 'top-p'] as const;
export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export const CONTROLS = ['none', 'random', 'permuted'] as const;
export const EMBEDDINGS = ['glove', 'attributes', 'both'] as const;
export const INVERT = ['auto', 'always', 'never'] as const;

type Options = NonNullable<ParseArgsConfig['options']>;

const common: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const DEMO_OPTIONS: Options = {
  ...common,
  unseen: { type: 'string' },
  seed: { type: 'string' },
  layout: { type: 'string' },
  generator: { type: 'string' },
  recipe: { type: 'string' },
  positional: { type: 'string' },
  'self-training': { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
  quick: { type: 'boolean' },
  control: { type: 'string' },
  'control-seed': { type: 'string' },
  embeddings: { type: 'string' },
  calibrate: { type: 'string' },
  temperature: { type: 'string' },
  'temperature-end': { type: 'string' },
  'top-p': { type: 'string' },
  supervised: { type: 'boolean' },
  resume: { type: 'boolean' },
  'exclude-classes': { type: 'string' },
  keep: { type: 'string' },
};

export const TRAIN_OPTIONS: Options = {
  ...common,
  preset: { type: 'string' },
  config: { type: 'string' },
  'embeddings-file': { type: 'string' },
  pretrained: { type: 'string' },
  'max-steps': { type: 'string' },
  dataset: { type: 'string' },
  'data-root': { type: 'string' },
  unseen: { type: 'string' },
  seed: { type: 'string' },
  quick: { type: 'boolean' },
  control: { type: 'string' },
  'control-seed': { type: 'string' },
  out: { type: 'string' },
  backend: { type: 'string' },
  resume: { type: 'boolean' },
  keep: { type: 'string' },
};

export const EVAL_OPTIONS: Options = {
  ...common,
  checkpoint: { type: 'string' },
  preset: { type: 'string' },
  config: { type: 'string' },
  'data-root': { type: 'string' },
  calibrate: { type: 'string' },
  backend: { type: 'string' },
  out: { type: 'string' },
};

export const PREDICT_OPTIONS: Options = {
  ...common,
  checkpoint: { type: 'string' },
  preset: { type: 'string' },
  config: { type: 'string' },
  'save-labels': { type: 'boolean' },
  out: { type: 'string' },
  'from-test': { type: 'string' },
  calibrate: { type: 'string' },
  backend: { type: 'string' },
  invert: { type: 'string' },
  scale: { type: 'string' },
};

export const DOCTOR_OPTIONS: Options = { ...common };

export const IMPORT_OPTIONS: Options = {
  ...common,
  out: { type: 'string' },
  key: { type: 'string' },
};

export type Flags = Record<string, string | boolean | undefined>;

/** Parses `argv` (after the command name) with `options`; unknown flags → UsageError. */
export function parseCommand(
  command: string,
  argv: string[],
  options: Options,
  allowPositionals = false,
): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals });
    return { flags: values as Flags, positionals };
  } catch (err) {
    const e = err as Error & { code?: string };
    const known = Object.keys(options)
      .map((k) => `--${k}`)
      .join(', ');
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`sign ${command}: ${e.message.split('. ')[0]} (valid flags: ${known})`);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`sign ${command}: unexpected argument ${e.message.match(/'[^']*'/)?.[0] ?? ''} (valid flags: ${known})`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`sign ${command}: ${e.message}`);
    }
    throw err;
  }
}

/** A flag whose value must be one of `values`. */
export function choice<T extends string>(flags: Flags, name: string, values: readonly T[]): T | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw new UsageError(`--${name}: unknown value '${String(v)}' (valid: ${listValues(values)})`);
  }
  return v as T;
}

/** A flag whose value must be a (non-negative) integer. */
export function integer(flags: Flags, name: string, opts: { min?: number } = {}): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const n = Number(s);
  if (s === '' || !Number.isInteger(n) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(`--${name}: expected an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}, got '${String(v)}'`);
  }
  return n;
}

/** A flag whose value must be a finite number. */
export function number(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const n = Number(s);
  if (s === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: expected a number, got '${String(v)}'`);
  return n;
}

export function string(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name}: expected a value`);
  return v;
}

export function required(flags: Flags, name: string, command: string): string {
  const v = string(flags, name);
  if (v === undefined) throw new UsageError(`sign ${command}: --${name} is required`);
  return v;
}

/** Quotes an argument for a shell command line when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
