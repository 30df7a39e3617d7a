/**
 * From flags or a JSON file to a validated ExperimentConfig. `sign demo` is DEMO_CONFIG (or
 * QUICK_CONFIG with --quick) plus the flags; `sign train --config f.json` reads a full config or
 * `{ "base": "demo" | "quick", ...overrides }`. Everything is checked before any work starts.
 */
import { readFileSync } from 'node:fs';
import { FASHION_CLASSES } from '@sign/data';
import { registry as generatorRegistry } from '@sign/generator';
import {
  DEMO_CONFIG,
  QUICK_CONFIG,
  configJsonSchema,
  mergeConfig,
  validateConfig,
  type ExperimentConfig,
} from '@sign/trainer';
import {
  BACKENDS,
  CONTROLS,
  EMBEDDINGS,
  LAYOUTS,
  SELF_TRAINING,
  choice,
  integer,
  number,
  string,
  type Flags,
} from './args.js';
import { UsageError, listValues } from './errors.js';

export const BASES: Record<string, ExperimentConfig> = { demo: DEMO_CONFIG, quick: QUICK_CONFIG };

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The item class names (no background). */
export function itemClasses(): string[] {
  return FASHION_CLASSES.slice(1);
}

/**
 * Resolves `--unseen` names (comma-separated; case, spaces, '-', '_' and '/' do not matter:
 * `ankle-boot`, `Ankle_Boot` and `'ankle boot'` are the same) to the canonical class names.
 */
export function resolveUnseen(value: string): string[] {
  const items = itemClasses();
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`--unseen: expected class names, comma-separated (valid: ${listValues(items)})`);
  const out: string[] = [];
  for (const n of names) {
    const hit = items.find((c) => squash(c) === squash(n));
    if (!hit) {
      const bg = squash(n) === 'background' ? ' (background is always seen)' : '';
      throw new UsageError(`--unseen: unknown class '${n}'${bg} (valid: ${listValues(items)})`);
    }
    if (out.includes(hit)) throw new UsageError(`--unseen: class '${hit}' is listed twice`);
    out.push(hit);
  }
  if (out.length >= items.length) throw new UsageError(`--unseen: at least one item class must stay seen`);
  return out;
}

export function generatorNames(): string[] {
  return generatorRegistry.names();
}

function checked(config: unknown, source: string): ExperimentConfig {
  const { config: ok, errors } = validateConfig(config);
  if (!ok) {
    throw new UsageError(`${source}: invalid config\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  }
  return ok;
}

/**
 * What `--generator <name>` sets besides the name. 'sign' and 'cagnet' share one architecture and
 * keep the base config's widths (a like-for-like comparison); ZS3Net's GMMN has a single hidden
 * layer of 256 units (METHOD §6), which the base config's widths for the latent MLP do not fit.
 */
const GENERATOR_FLAG_WIDTHS: Record<string, { hidden?: number[] }> = { gmmn: { hidden: [256] } };

/** The config of `sign demo` with its flags applied (validated). */
export function demoConfig(flags: Flags): ExperimentConfig {
  const overrides: Record<string, any> = { data: {}, model: {}, selfTraining: {}, eval: {}, runtime: {} };
  const unseen = string(flags, 'unseen');
  if (unseen !== undefined) overrides.data.unseen = resolveUnseen(unseen);
  const seed = integer(flags, 'seed', { min: 0 });
  if (seed !== undefined) overrides.seed = seed;
  const layout = choice(flags, 'layout', LAYOUTS);
  if (layout) overrides.data.layout = layout;
  const generator = string(flags, 'generator');
  if (generator !== undefined) {
    const names = generatorNames();
    if (!names.includes(generator)) throw new UsageError(`--generator: unknown generator '${generator}' (valid: ${listValues(names)})`);
    overrides.model.generator = { name: generator, ...GENERATOR_FLAG_WIDTHS[generator] };
  }
  const st = choice(flags, 'self-training', SELF_TRAINING);
  if (st) overrides.selfTraining.mode = st;
  const backend = choice(flags, 'backend', BACKENDS);
  if (backend) overrides.runtime.backend = backend;
  const control = choice(flags, 'control', CONTROLS);
  if (control) overrides.data.control = control;
  const controlSeed = integer(flags, 'control-seed', { min: 0 });
  if (controlSeed !== undefined) {
    if ((control ?? 'none') === 'none') throw new UsageError(`--control-seed: only meaningful with --control random|permuted`);
    overrides.data.controlSeed = controlSeed;
  }
  const embeddings = choice(flags, 'embeddings', EMBEDDINGS);
  if (embeddings) overrides.data.embeddings = embeddings;
  const calibrate = number(flags, 'calibrate');
  if (calibrate !== undefined) overrides.eval.calibrate = calibrate;
  const temperature = number(flags, 'temperature');
  if (temperature !== undefined) {
    if (!(temperature >= 0)) throw new UsageError(`--temperature: must be a number >= 0, got ${temperature}`);
    if ((st ?? 'ast') !== 'ast') throw new UsageError(`--temperature: only meaningful with --self-training ast`);
    overrides.selfTraining.temperature = temperature;
  }
  if (flags.supervised) overrides.data.supervised = true;
  const base = flags.quick ? QUICK_CONFIG : DEMO_CONFIG;
  const merged = mergeConfig(base, overrides);
  return checked(merged, 'sign demo');
}

/**
 * Reads a config file: JSON, either a full ExperimentConfig or `{ "base": "demo"|"quick",
 * ...overrides }` (deep-merged onto the base: objects key by key, arrays and values replace).
 */
export function loadConfigFile(path: string): ExperimentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--config: cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${path}: expected a JSON object`);
  const { base, ...rest } = raw as Record<string, unknown>;
  if (base === undefined) return checked(rest, path);
  if (typeof base !== 'string' || !(base in BASES)) {
    throw new UsageError(`${path}: base: unknown base config '${String(base)}' (valid: ${listValues(Object.keys(BASES))})`);
  }
  return checked(mergeConfig(BASES[base], rest), path);
}
