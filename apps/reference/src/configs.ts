/**
 * From flags or a JSON file to a validated ExperimentConfig. The app ships its configs in
 * `configs/` (mmsegmentation's layout: `_base_/{datasets,models,schedules}/*.json` and small
 * experiment files composed from them). `sign demo` is `configs/demo.json` (or `quick.json` with
 * --quick) plus the flags; `sign train --config f.json` reads any config file (with `_base_`), or
 * the older `{ "base": "demo" | "quick", ...overrides }`. Everything is checked before any work
 * starts: a bad value is a UsageError (exit code 2).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { closestName } from '@sign/core';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { FASHION_CLASSES } from '@sign/data';
import { SIGN_RELEASE_BENCHMARKS } from '@sign/datasets';
import './plugins.js';
import { ConfigError, mergeConfig, parseConfig, type ExperimentConfig } from '@sign/trainer';
import { composeConfigFile } from '@sign/trainer/node';
import { BACKENDS, CONTROLS, EMBEDDINGS, LAYOUTS, SELF_TRAINING, choice, integer, number, string, type Flags } from './args.js';
import { UsageError, listValues } from './errors.js';

/** The app's config folder (one level above both src/ and dist/). */
export const CONFIG_DIR = fileURLToPath(new URL('../configs/', import.meta.url));

/** The built-in experiment files by name (`configs/<name>.json`). */
export function configFile(name: 'demo' | 'quick'): string {
  return join(CONFIG_DIR, `${name}.json`);
}

const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The item class names of fashion-scenes (no background). */
export function itemClasses(): string[] {
  return FASHION_CLASSES.slice(1);
}

/**
 * Resolves `--unseen` (or `--exclude-classes`: `flag`) names (comma-separated; case, spaces, '-', '_' and '/' do not matter:
 * `ankle-boot`, `Ankle_Boot` and `'ankle boot'` are the same) against the dataset's class names.
 */
export function resolveUnseen(value: string, classes: string[] = itemClasses(), background: string | null = 'background', flag = '--unseen'): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new UsageError(`${flag}: expected class names, comma-separated (valid: ${listValues(classes)})`);
  const out: string[] = [];
  for (const n of names) {
    const hit = classes.find((c) => squash(c) === squash(n));
    if (!hit) {
      const bg = background !== null && squash(n) === squash(background) ? ` (${background} is always seen)` : '';
      throw new UsageError(`${flag}: unknown class '${n}'${bg} (valid: ${listValues(classes)})`);
    }
    if (out.includes(hit)) throw new UsageError(`${flag}: class '${hit}' is listed twice`);
    out.push(hit);
  }
  if (out.length >= classes.length) throw new UsageError(`${flag}: at least one class must stay seen`);
  return out;
}

/**
 * The recipes the app has a base model file for (`configs/_base_/models/<type>.json` whose
 * `model.type` is its name; other model files, such as the presets' `sign-deeplabv2.json`, are
 * not recipes).
 */
export function recipeNames(): string[] {
  return readdirSync(join(CONFIG_DIR, '_base_', 'models'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .filter((name) => (composeConfigFile(join(CONFIG_DIR, '_base_', 'models', `${name}.json`)).model as { type?: string } | undefined)?.type === name)
    .sort((a, b) => ['sign', 'cagnet', 'zs3net'].indexOf(a) - ['sign', 'cagnet', 'zs3net'].indexOf(b));
}

/** `--generator` (the old flag) names: each selects a recipe. */
export const GENERATOR_RECIPES: Record<string, string> = { sign: 'sign', cagnet: 'cagnet', gmmn: 'zs3net' };

/** The `model` section of the app's base file for a recipe. */
export function recipeModel(type: string): Record<string, unknown> {
  const file = join(CONFIG_DIR, '_base_', 'models', `${type}.json`);
  if (!recipeNames().includes(type)) throw new UsageError(`--recipe: unknown recipe '${type}' (valid: ${listValues(recipeNames())})`);
  return composeConfigFile(file).model as Record<string, unknown>;
}

/** Validates, turning config errors into a UsageError that names `source`. */
export function checked(raw: unknown, source: string): ExperimentConfig {
  try {
    return parseConfig(raw, source);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** The self-training keys a `--self-training` value starts from. */
const SELF_TRAINING_DEFAULTS: Record<string, Record<string, unknown>> = {
  none: { type: 'none' },
  ast: { type: 'ast', temperature: 0 },
  'top-p': { type: 'top-p', topP: 2 },
};

/** `--control` and `--control-seed` as `data` keys (`sign demo` and `sign train`). */
function controlFlags(flags: Flags): { control?: string; controlSeed?: number } {
  const out: { control?: string; controlSeed?: number } = {};
  const control = choice(flags, 'control', CONTROLS);
  if (control) out.control = control;
  const controlSeed = integer(flags, 'control-seed', { min: 0 });
  if (controlSeed !== undefined) {
    if ((control ?? 'none') === 'none') throw new UsageError(`--control-seed: only meaningful with --control random|permuted`);
    out.controlSeed = controlSeed;
  }
  return out;
}

/** The config of `sign demo` with its flags applied (validated). */
export function demoConfig(flags: Flags): ExperimentConfig {
  const base = composeConfigFile(configFile(flags.quick ? 'quick' : 'demo'));
  const overrides: Record<string, any> = { data: {}, eval: {}, runtime: {} };
  const unseen = string(flags, 'unseen');
  if (unseen !== undefined) overrides.data.unseen = resolveUnseen(unseen);
  const exclude = string(flags, 'exclude-classes');
  if (exclude !== undefined) {
    const names = resolveUnseen(exclude, undefined, 'background', '--exclude-classes');
    const unseenNames: string[] = overrides.data.unseen ?? (base.data as { unseen: string[] }).unseen;
    const both = names.filter((n) => unseenNames.includes(n));
    if (both.length > 0) throw new UsageError(`--exclude-classes: '${both[0]}' is also unseen; a class is either excluded (absent altogether) or unseen (choose --unseen without it)`);
    overrides.data.exclude = names;
  }
  const seed = integer(flags, 'seed', { min: 0 });
  if (seed !== undefined) overrides.seed = seed;
  const layout = choice(flags, 'layout', LAYOUTS);
  if (layout) overrides.data.layout = layout;
  const generator = string(flags, 'generator');
  const recipe = string(flags, 'recipe');
  if (generator !== undefined && recipe !== undefined) throw new UsageError('--generator and --recipe: give one of them (--generator gmmn is --recipe zs3net)');
  if (generator !== undefined) {
    const valid = Object.keys(GENERATOR_RECIPES);
    if (!valid.includes(generator)) throw new UsageError(`--generator: unknown generator '${generator}' (valid: ${listValues(valid)}; or --recipe ${recipeNames().join('|')})`);
    overrides.model = { _delete_: true, ...recipeModel(GENERATOR_RECIPES[generator]) };
  }
  if (recipe !== undefined) overrides.model = { _delete_: true, ...recipeModel(recipe) };
  const positional = string(flags, 'positional');
  if (positional !== undefined) {
    const type = ((overrides.model ?? base.model) as { type: string }).type;
    if (type !== 'sign') throw new UsageError(`--positional: only the sign recipe has a positional encoding (this run: ${type})`);
    choice(flags, 'positional', ['relative', 'absolute', 'none'] as const);
    overrides.model = mergeConfig(overrides.model ?? {}, { sim: { positional } });
  }
  const st = choice(flags, 'self-training', SELF_TRAINING);
  if (st) overrides.selfTraining = { _delete_: true, ...SELF_TRAINING_DEFAULTS[st] };
  const backend = choice(flags, 'backend', BACKENDS);
  if (backend) overrides.runtime.backend = backend;
  Object.assign(overrides.data, controlFlags(flags));
  const embeddings = choice(flags, 'embeddings', EMBEDDINGS);
  if (embeddings) overrides.data.embeddings = embeddings;
  const calibrate = number(flags, 'calibrate');
  if (calibrate !== undefined) overrides.eval.calibrate = calibrate;
  const temperature = number(flags, 'temperature');
  const stType = st ?? (base.selfTraining as { type: string }).type;
  if (temperature !== undefined) {
    if (!(temperature >= 0)) throw new UsageError(`--temperature: must be a number >= 0, got ${temperature}`);
    if (stType !== 'ast') throw new UsageError(`--temperature: only meaningful with --self-training ast`);
    overrides.selfTraining = mergeConfig(overrides.selfTraining ?? {}, { temperature });
  }
  const temperatureEnd = number(flags, 'temperature-end');
  if (temperatureEnd !== undefined) {
    if (!(temperatureEnd >= 0)) throw new UsageError(`--temperature-end: must be a number >= 0, got ${temperatureEnd}`);
    if (stType !== 'ast') throw new UsageError(`--temperature-end: only meaningful with --self-training ast`);
    overrides.selfTraining = mergeConfig(overrides.selfTraining ?? {}, { temperatureEnd });
  }
  const topP = number(flags, 'top-p');
  if (topP !== undefined) {
    if (stType !== 'top-p') throw new UsageError(`--top-p: only meaningful with --self-training top-p`);
    overrides.selfTraining = mergeConfig(overrides.selfTraining ?? {}, { topP });
  }
  if (flags.supervised) overrides.data.supervised = true;
  return checked(mergeConfig(base, overrides), 'sign demo');
}

/**
 * Reads a config file: JSON composed from its `_base_` files (paths relative to the file), or
 * the older `{ "base": "demo" | "quick", ...overrides }` (deep-merged onto the app's demo or quick
 * config). `overrides` (from flags) are merged last.
 */
export function loadConfigFile(path: string, overrides: Record<string, unknown> = {}): ExperimentConfig {
  return checked(mergeConfig(rawConfigFile(path), overrides), path);
}

/** {@link loadConfigFile} without validation: the composed raw object. */
function rawConfigFile(path: string): Record<string, unknown> {
  let raw: Record<string, unknown>;
  try {
    raw = composeConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  const { base, ...rest } = raw;
  if (base === undefined) return raw;
  if (typeof base !== 'string' || !['demo', 'quick'].includes(base))
    throw new UsageError(`${path}: base: unknown base config '${String(base)}' (valid: ${listValues(['demo', 'quick'])})`);
  return mergeConfig(composeConfigFile(configFile(base as 'demo' | 'quick')), rest);
}

/** The datasets the app has a base file for (`configs/_base_/datasets/<name>.json`). */
export function datasetNames(): string[] {
  return readdirSync(join(CONFIG_DIR, '_base_', 'datasets'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** The app's presets folder: `configs/presets/<name>.json`, the paper's settings per benchmark. */
export const PRESET_DIR = join(CONFIG_DIR, 'presets');

/** The names of the presets (`configs/presets/*.json`), sorted. */
export function presetNames(): string[] {
  return readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/**
 * The file of preset `name` (`configs/presets/<name>.json`); an unknown name is a UsageError
 * (exit code 2) with the closest name and the list.
 *
 * @example
 * presetFile('voc12-sign'); // …/configs/presets/voc12-sign.json
 */
export function presetFile(name: string): string {
  const names = presetNames();
  if (!names.includes(name)) {
    const near = closestName(name, names);
    throw new UsageError(`--preset: unknown preset '${name}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${names.join(', ')}`);
  }
  return join(PRESET_DIR, `${name}.json`);
}

/**
 * The class names of a preset's benchmark, in label-id order, and the embeddings file the preset
 * reads (`data.embeddingsFile`): what `sign embed --preset` writes.
 *
 * @example
 * presetClasses('voc12-sign'); // { classes: ['background', 'aeroplane', …, 'tv'], out: 'class-embeddings/voc12.json' }
 */
export function presetClasses(name: string): { classes: string[]; out: string } {
  const data = (composeConfigFile(presetFile(name)).data ?? {}) as { type?: string; benchmark?: string; embeddingsFile?: string };
  const benchmark = SIGN_RELEASE_BENCHMARKS[data.benchmark as keyof typeof SIGN_RELEASE_BENCHMARKS];
  if (data.type !== 'sign-release' || !benchmark || !data.embeddingsFile)
    throw new UsageError(`--preset ${name}: its data section names no benchmark of the release data and no embeddingsFile`);
  return { classes: [...benchmark.classNames], out: data.embeddingsFile };
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** The dataset types a preset's benchmark can read, by the layout found at a data root. */
const LAYOUT_TYPES: Record<string, { type: string; benchmark: string; keys?: Record<string, unknown>; marks: string[] }> = {
  'pascal-voc12': { type: 'pascal-voc12', benchmark: 'voc12', marks: ['SegmentationClassAug'] },
  'pascal-context': { type: 'pascal-context', benchmark: 'context', keys: { classes: 33 }, marks: ['SegmentationClassContext'] },
  'coco-stuff164k': { type: 'coco-stuff164k', benchmark: 'cocostuff', marks: ['stuffthingmaps'] },
};

/**
 * A preset's `data` section for the data at `root`. Presets name the release's preprocessed
 * layout (`sign-release`: images/, annotations/, split/); when `root` holds the original layout
 * of the preset's benchmark instead (VOC 2012 + SBD: SegmentationClassAug/; PASCAL Context:
 * SegmentationClassContext/, CaGNet's 33 classes unless the config sets `classes: 59`, ZS3Net's
 * protocol, with one of its unseenSplits; COCO-Stuff 164k: stuffthingmaps/), the
 * dataset type of that layout is used with the same unseen set, pipelines and embeddings. A
 * layout of another benchmark is a UsageError.
 *
 * @example
 * presetData({ type: 'sign-release', benchmark: 'voc12', unseenSplit: 'cagnet', … }, 'data/VOC2012')
 * // { type: 'pascal-voc12', root: 'data/VOC2012', unseenSplit: 'cagnet', … }
 */
export function presetData(data: Record<string, unknown>, root: string): Record<string, unknown> {
  if (data.type !== 'sign-release' || isDir(join(root, 'annotations')) || existsSync(join(root, 'split'))) return { ...data, root };
  const found = Object.entries(LAYOUT_TYPES).find(([, l]) => l.marks.some((m) => isDir(join(root, m))));
  if (!found) return { ...data, root }; // the sign-release dataset names what is missing
  const [layout, l] = found;
  if (l.benchmark !== data.benchmark)
    throw new UsageError(`--data-root: ${root} holds the ${layout} layout, but this preset is for the '${String(data.benchmark)}' benchmark`);
  const { type: _t, benchmark: _b, lists: _l, ...common } = data;
  // the layout's keys are defaults: a key the config sets stands (PASCAL Context's classes: 59, ZS3Net's protocol)
  return { ...l.keys, ...common, type: l.type, root };
}

/**
 * The app's experiment file for a dataset, where it ships one: `configs/<name>.json`
 * (`configs/<name>-quick.json` with --quick), e.g. the folder dataset's, whose schedule and
 * learning rates were measured on it (packages/trainer/NOTES.md §7). Undefined for a dataset
 * without one (or a name that is no dataset of the app).
 */
export function datasetConfigFile(name: string, quick: boolean): string | undefined {
  if (!datasetNames().includes(name)) return undefined;
  const file = join(CONFIG_DIR, `${name}${quick ? '-quick' : ''}.json`);
  return existsSync(file) ? file : undefined;
}

/**
 * The config of `sign train`: `--preset NAME` (the paper's settings, `configs/presets/`),
 * `--config FILE` (with a preset: merged on top of it) and/or `--dataset NAME` (the app's experiment file for
 * the dataset, {@link datasetConfigFile}, where it ships one; else the app's base file for the dataset, the
 * sign recipe and the demo schedule, `--quick`: the quick schedule), then `--quick` with `--config` (the quick schedule),
 * `--data-root`, `--unseen`, `--control`, `--seed`. Validated; class names are checked when the data opens.
 */
export function trainConfig(flags: Flags): ExperimentConfig {
  const file = string(flags, 'config');
  const dataset = string(flags, 'dataset');
  const preset = string(flags, 'preset');
  if (preset !== undefined && dataset !== undefined) throw new UsageError('--preset and --dataset: give one of them (a preset names its dataset; --data-root says where it is)');
  if (file === undefined && dataset === undefined && preset === undefined)
    throw new UsageError('sign train: give --preset <name>, --config <file.json> or --dataset <name> (e.g. --preset voc12-sign --data-root <dir>, or --dataset folder --data-root <dir>)');
  const base = (name: string) => join(CONFIG_DIR, '_base_', name);
  const datasetBase = (name: string) => {
    if (!datasetNames().includes(name)) throw new UsageError(`--dataset: no base config for dataset '${name}' (valid: ${listValues(datasetNames())})`);
    return composeConfigFile(base(`datasets/${name}.json`)).data as Record<string, unknown>;
  };
  let raw: Record<string, unknown>;
  if (preset !== undefined) raw = file !== undefined ? mergeConfig(composeConfigFile(presetFile(preset)), rawConfigFile(file)) : composeConfigFile(presetFile(preset));
  else if (file !== undefined) raw = rawConfigFile(file);
  else {
    const own = datasetConfigFile(dataset!, flags.quick === true);
    raw = own
      ? composeConfigFile(own)
      : mergeConfig(
          mergeConfig(composeConfigFile(base('models/sign.json')), composeConfigFile(base(`schedules/${flags.quick ? 'quick' : 'demo'}.json`))),
          { name: `${dataset}${flags.quick ? '-quick' : ''}`, seed: 0 },
        );
  }
  const overrides: Record<string, any> = {};
  if (dataset !== undefined) {
    const current = (raw.data as { type?: string } | undefined)?.type;
    overrides.data = current === dataset ? {} : { _delete_: true, ...datasetBase(dataset) };
  }
  if (file !== undefined && flags.quick) Object.assign(overrides, composeConfigFile(base('schedules/quick.json')));
  const root = string(flags, 'data-root');
  if (root !== undefined && preset !== undefined) overrides.data = { _delete_: true, ...presetData(raw.data as Record<string, unknown>, root) };
  else if (root !== undefined) overrides.data = { ...overrides.data, root };
  const embeddingsFile = string(flags, 'embeddings-file');
  if (embeddingsFile !== undefined) overrides.data = { ...overrides.data, embeddingsFile };
  const unseen = string(flags, 'unseen');
  if (unseen !== undefined) {
    const names = unseen.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new UsageError('--unseen: expected class names, comma-separated');
    overrides.data = { ...overrides.data, unseen: names };
  }
  const control = controlFlags(flags);
  if (Object.keys(control).length > 0) overrides.data = { ...overrides.data, ...control };
  const seed = integer(flags, 'seed', { min: 0 });
  if (seed !== undefined) overrides.seed = seed;
  const pretrained = string(flags, 'pretrained');
  if (pretrained !== undefined) {
    if (!existsSync(pretrained) || !statSync(pretrained).isFile()) throw new UsageError(`--pretrained: no such file ${pretrained}`);
    overrides.model = { backbone: { pretrained: resolve(pretrained) } };
  }
  return checked(mergeConfig(raw, overrides), preset !== undefined ? `preset ${preset}${file !== undefined ? ` + ${file}` : ''}` : file ?? `sign train --dataset ${dataset}`);
}
