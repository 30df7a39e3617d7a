/**
 * Experiment configs: plain data, typed, validated once at the edge.
 *
 * One schema (`CONFIG_SCHEMA` below) drives three things: the TypeScript type (written out by
 * hand next to it and checked against it by the snapshot test), `validateConfig` (unknown keys,
 * missing keys and wrong types are errors that name the key path) and `configJsonSchema()`.
 *
 * @example
 * const { config, errors } = validateConfig(mergeConfig(DEMO_CONFIG, { seed: 3 }));
 * if (!config) throw new Error(errors.join('\n'));
 */

import { closestName } from '@sign/core';
import { DEFAULT_UNSEEN, FASHION_CLASSES } from '@sign/data';
import { registry as generatorRegistry } from '@sign/generator';
import { backboneRegistry } from '@sign/backbones';

/** Backend names understood by `@sign/core`'s `initBackend` (kept structurally identical). */
export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface ExperimentConfig {
  /** Free-form run name (appears in reports). */
  name: string;
  /** Seed for everything: data, init, dropout, noise, batch order. */
  seed: number;
  data: {
    dataset: 'fashion-scenes';
    layout: 'outfit' | 'random';
    /** Scene side in pixels. */
    size: number;
    trainCount: number;
    testCount: number;
    /** Unseen class names (must be fashion-scenes class names, not 'background'). */
    unseen: string[];
    embeddings: 'glove' | 'attributes' | 'both';
    /** Control: replace the unseen classes' embedding rows by random vectors or permute them. */
    control: 'none' | 'random' | 'permuted';
    controlSeed?: number;
    fashionMnistDir?: string;
    /**
     * Fully supervised upper bound: training scenes keep the unseen classes' labels (no 255),
     * while the metrics still split classes into `unseen` and seen. Default false.
     */
    supervised?: boolean;
  };
  model: {
    /** `channels` is the feature width D (also the SIM latent width). */
    backbone: { name: string; channels: number; [k: string]: unknown };
    sim: { positional: 'relative' | 'absolute' | 'none'; hidden: number; dilations: number[] };
    /** Registry name: 'sign' | 'cagnet' | 'gmmn' (see README: how each maps to SIM use). */
    generator: { name: string; hidden?: number[]; dropout?: number[] };
    discriminator: { hidden: number; dropout: number };
  };
  schedule: {
    batchSize: number;
    /** Iterations of step 1 alone (feature/SIM phase, METHOD §4.1). */
    step1Iters: number;
    /** Iterations of the transfer stage (step 1 and step 2 alternating every `alternateEvery`). */
    transferIters: number;
    alternateEvery: number;
    /** Iterations of self-training (same alternation, teacher pseudo labels); 0 or mode 'none' skips it. */
    selfTrainingIters: number;
    lr: { backbone: number; discriminator: number; generator: number };
    /** Poly power of the backbone/SIM learning rate schedule (METHOD: 0.9). */
    lrPower: number;
    /**
     * Optimizer of E/SIM: 'sgd' (SGD with momentum, the paper's, for a pre-trained backbone) or
     * 'adam' (beta1 = momentum; the default here: the small backbone trains from scratch).
     */
    encoderOptimizer: 'sgd' | 'adam';
    /** SGD momentum (or Adam beta1) of the backbone/SIM optimizer. */
    momentum: number;
    weightDecay: number;
    /**
     * Loss weights (METHOD §3): mmd, adv (G's adversarial), kl, clsReal (E/SIM and C on real
     * features), clsFakeD (C on fake features in step 1), clsFakeG (G through C in step 1),
     * clsTransfer (C on generated features in step 2).
     */
    lossWeights: { mmd: number; adv: number; kl: number; clsReal: number; clsFakeD: number; clsFakeG: number; clsTransfer: number };
    /** Step 1: pixels per class (class-balanced sample) fed to G, D and the MMD. */
    pixelsPerClass: number;
    /** Extra prior mass on unseen classes when sampling label maps in step 2. */
    genUnseenRate: number;
    /** Generated pixels per step-2 iteration. */
    transferPixels: number;
    /** Real seen pixels (from the current batch's features) mixed into each step-2 iteration, as a fraction of transferPixels. */
    transferMixReal: number;
    /** Step 2 also updates G through C's loss (METHOD §4.2 "and G through C's loss"). */
    transferUpdatesG: boolean;
  };
  selfTraining: {
    mode: 'none' | 'ast' | 'top-p';
    /** AST temperature T (METHOD §4.4); `temperatureEnd`, when set, anneals T linearly to it. */
    temperature: number;
    temperatureEnd?: number;
    topP: number;
  };
  eval: {
    /** Evaluate every this many steps (0: only at the end). */
    every: number;
    /** Calibrated stacking: gamma subtracted from seen-class scores (log-probabilities) at inference. */
    calibrate: number;
    countBackground: boolean;
  };
  runtime: { backend: BackendPreference; checkpointEvery: number };
}

// ---------------------------------------------------------------------------------------------
// The schema DSL: small, closed, enough for configs.

type Node =
  | { kind: 'number'; integer?: boolean; min?: number; max?: number; description?: string }
  | { kind: 'string'; enum?: readonly string[]; description?: string }
  | { kind: 'boolean'; description?: string }
  | { kind: 'array'; items: Node; minItems?: number; description?: string }
  | {
      kind: 'object';
      fields: Record<string, { node: Node; optional?: boolean }>;
      /** Extra keys allowed (any JSON value). */
      open?: boolean;
      description?: string;
    };

const num = (o: Omit<Extract<Node, { kind: 'number' }>, 'kind'> = {}): Node => ({ kind: 'number', ...o });
const int = (min?: number, description?: string): Node => ({ kind: 'number', integer: true, min, description });
const str = (values?: readonly string[], description?: string): Node => ({ kind: 'string', enum: values, description });
const bool = (description?: string): Node => ({ kind: 'boolean', description });
const arr = (items: Node, minItems?: number): Node => ({ kind: 'array', items, minItems });
const obj = (fields: Record<string, Node | { node: Node; optional: true }>, open = false): Node => ({
  kind: 'object',
  open,
  fields: Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, 'node' in v ? v : { node: v }]),
  ),
});
const opt = (node: Node): { node: Node; optional: true } => ({ node, optional: true });
const nonNeg = num({ min: 0 });

export const CONFIG_SCHEMA: Node = obj({
  name: str(),
  seed: int(0, 'seed for everything'),
  data: obj({
    dataset: str(['fashion-scenes']),
    layout: str(['outfit', 'random']),
    size: int(16),
    trainCount: int(1),
    testCount: int(1),
    unseen: arr(str(), 1),
    embeddings: str(['glove', 'attributes', 'both']),
    control: str(['none', 'random', 'permuted']),
    controlSeed: opt(int(0)),
    fashionMnistDir: opt(str()),
    supervised: opt(bool()),
  }),
  model: obj({
    backbone: obj({ name: str(), channels: int(4) }, true),
    sim: obj({ positional: str(['relative', 'absolute', 'none']), hidden: int(1), dilations: arr(int(1), 1) }),
    generator: obj({ name: str(), hidden: opt(arr(int(1))), dropout: opt(arr(num({ min: 0, max: 1 }))) }),
    discriminator: obj({ hidden: int(1), dropout: num({ min: 0, max: 1 }) }),
  }),
  schedule: obj({
    batchSize: int(1),
    step1Iters: int(0),
    transferIters: int(0),
    alternateEvery: int(1),
    selfTrainingIters: int(0),
    lr: obj({ backbone: nonNeg, discriminator: nonNeg, generator: nonNeg }),
    lrPower: nonNeg,
    encoderOptimizer: str(['sgd', 'adam']),
    momentum: num({ min: 0, max: 1 }),
    weightDecay: nonNeg,
    lossWeights: obj({ mmd: nonNeg, adv: nonNeg, kl: nonNeg, clsReal: nonNeg, clsFakeD: nonNeg, clsFakeG: nonNeg, clsTransfer: nonNeg }),
    pixelsPerClass: int(1),
    genUnseenRate: num({ min: 0, max: 1 }),
    transferPixels: int(1),
    transferMixReal: nonNeg,
    transferUpdatesG: bool(),
  }),
  selfTraining: obj({
    mode: str(['none', 'ast', 'top-p']),
    temperature: nonNeg,
    temperatureEnd: opt(nonNeg),
    topP: int(1),
  }),
  eval: obj({ every: int(0), calibrate: num(), countBackground: bool() }),
  runtime: obj({
    backend: str(['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']),
    checkpointEvery: int(0),
  }),
});

// ---------------------------------------------------------------------------------------------
// Validation

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function check(node: Node, value: unknown, path: string, errors: string[]): void {
  const at = path || '(root)';
  switch (node.kind) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        errors.push(`${at}: expected ${node.integer ? 'integer' : 'number'}, got ${typeof value === 'number' ? String(value) : typeName(value)}`);
        return;
      }
      if (node.integer && !Number.isInteger(value)) errors.push(`${at}: expected integer, got ${value}`);
      if (node.min !== undefined && value < node.min) errors.push(`${at}: must be >= ${node.min}, got ${value}`);
      if (node.max !== undefined && value > node.max) errors.push(`${at}: must be <= ${node.max}, got ${value}`);
      return;
    case 'string':
      if (typeof value !== 'string') {
        errors.push(`${at}: expected string, got ${typeName(value)}`);
        return;
      }
      if (node.enum && !node.enum.includes(value))
        errors.push(`${at}: unknown value '${value}' (valid: ${node.enum.join(', ')})`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${at}: expected boolean, got ${typeName(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) {
        errors.push(`${at}: expected array, got ${typeName(value)}`);
        return;
      }
      if (node.minItems !== undefined && value.length < node.minItems)
        errors.push(`${at}: expected at least ${node.minItems} item(s), got ${value.length}`);
      value.forEach((v, i) => check(node.items, v, `${path}[${i}]`, errors));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        errors.push(`${at}: expected object, got ${typeName(value)}`);
        return;
      }
      const rec = value as Record<string, unknown>;
      for (const [key, field] of Object.entries(node.fields)) {
        const p = path ? `${path}.${key}` : key;
        if (!(key in rec) || rec[key] === undefined) {
          if (!field.optional) errors.push(`${p}: missing required key`);
          continue;
        }
        check(field.node, rec[key], p, errors);
      }
      if (!node.open) {
        for (const key of Object.keys(rec)) {
          if (!(key in node.fields)) {
            const p = path ? `${path}.${key}` : key;
            const near = closestName(key, Object.keys(node.fields));
            errors.push(`${p}: unknown key${near ? ` (did you mean '${near}'?)` : ''}`);
          }
        }
      }
      return;
    }
  }
}

/** Names the trainer checks config values against (the registries and the dataset's classes). */
export interface KnownNames {
  classNames: readonly string[];
  generators: readonly string[];
  backbones: readonly string[];
}

/**
 * Validates a full config: unknown keys, missing keys and wrong types are errors naming the key
 * path (`schedule.lr.backbone: expected number, got string`); unknown class names in
 * `data.unseen` and unknown generator/backbone names are errors naming them and listing the
 * valid ones. Returns `config` only when there are no errors. Does not fill defaults: merge a
 * partial config onto a base first (`mergeConfig(DEMO_CONFIG, partial)`).
 *
 * @example
 * validateConfig({ ...DEMO_CONFIG, seeed: 1 }).errors // ["seeed: unknown key (did you mean 'seed'?)"]
 */
export function validateConfig(
  input: unknown,
  known: KnownNames = defaultKnownNames(),
): { config?: ExperimentConfig; errors: string[] } {
  const errors: string[] = [];
  check(CONFIG_SCHEMA, input, '', errors);
  if (errors.length > 0) return { errors };
  const cfg = input as ExperimentConfig;
  const classes = known.classNames;
  const seenNames = new Set<string>();
  cfg.data.unseen.forEach((name, i) => {
    if (!classes.includes(name) || name === classes[0]) {
      errors.push(
        `data.unseen[${i}]: unknown class '${name}' (valid: ${classes.slice(1).join(', ')})`,
      );
    }
    if (seenNames.has(name)) errors.push(`data.unseen[${i}]: class '${name}' listed twice`);
    seenNames.add(name);
  });
  if (classes.length > 0 && cfg.data.unseen.length >= classes.length - 1)
    errors.push(`data.unseen: at least one non-background class must stay seen`);
  if (!known.generators.includes(cfg.model.generator.name))
    errors.push(
      `model.generator.name: unknown generator '${cfg.model.generator.name}' (valid: ${known.generators.join(', ')})`,
    );
  if (!known.backbones.includes(cfg.model.backbone.name))
    errors.push(
      `model.backbone.name: unknown backbone '${cfg.model.backbone.name}' (valid: ${known.backbones.join(', ')})`,
    );
  if (cfg.model.backbone.channels % 4 !== 0)
    errors.push(`model.backbone.channels: must be a multiple of 4 (positional encoding), got ${cfg.model.backbone.channels}`);
  if (cfg.selfTraining.mode !== 'none' && cfg.schedule.selfTrainingIters > 0 && cfg.schedule.step1Iters + cfg.schedule.transferIters === 0)
    errors.push(`schedule: self-training needs a trained teacher (step1Iters + transferIters > 0)`);
  if (cfg.schedule.transferMixReal > 4) errors.push(`schedule.transferMixReal: must be <= 4, got ${cfg.schedule.transferMixReal}`);
  return errors.length > 0 ? { errors } : { config: cfg, errors };
}

/** The names registered right now: fashion-scenes classes, generator and backbone registries. */
export function defaultKnownNames(): KnownNames {
  return {
    classNames: FASHION_CLASSES ?? [],
    generators: generatorRegistry?.names?.() ?? [],
    backbones: backboneRegistry?.names?.() ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// Merging

export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return structuredClone(base);
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = structuredClone(base);
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : structuredClone(v);
    return out;
  }
  return structuredClone(over);
}

/**
 * Deep-merges `overrides` onto `base` (objects merge key by key, arrays and scalars replace).
 * Does not validate: unknown keys in `overrides` are kept so that `validateConfig` reports them.
 *
 * @example
 * mergeConfig(DEMO_CONFIG, { data: { unseen: ['coat', 'sandal', 'bag'] } })
 */
export function mergeConfig(base: ExperimentConfig, overrides: DeepPartial<ExperimentConfig> | Record<string, unknown>): ExperimentConfig {
  return deepMerge(base, overrides) as ExperimentConfig;
}

// ---------------------------------------------------------------------------------------------
// Built-in configs

/** The demo: must finish in <= 10 minutes on 2 CPU cores (wasm), data generation and eval included. */
export const DEMO_CONFIG: ExperimentConfig = {
  name: 'demo',
  seed: 0,
  data: {
    dataset: 'fashion-scenes',
    layout: 'outfit',
    size: 64,
    trainCount: 1000,
    testCount: 200,
    unseen: [...(DEFAULT_UNSEEN ?? [])],
    embeddings: 'both',
    control: 'none',
  },
  model: {
    backbone: { name: 'small', channels: 32 },
    sim: { positional: 'relative', hidden: 32, dilations: [1, 2, 5] },
    generator: { name: 'sign', hidden: [128, 128] },
    discriminator: { hidden: 128, dropout: 0.2 },
  },
  schedule: {
    batchSize: 8,
    step1Iters: 500,
    transferIters: 200,
    alternateEvery: 50,
    selfTrainingIters: 400,
    lr: { backbone: 2e-3, discriminator: 1e-2, generator: 1e-3 },
    lrPower: 0.9,
    encoderOptimizer: 'adam',
    momentum: 0.9,
    weightDecay: 5e-4,
    lossWeights: { mmd: 50, adv: 1, kl: 0.05, clsReal: 1, clsFakeD: 0, clsFakeG: 0, clsTransfer: 1 },
    pixelsPerClass: 64,
    genUnseenRate: 0.5,
    transferPixels: 1024,
    transferMixReal: 0.5,
    transferUpdatesG: false,
  },
  selfTraining: { mode: 'ast', temperature: 0, topP: 2 },
  eval: { every: 0, calibrate: 0, countBackground: false },
  runtime: { backend: 'auto', checkpointEvery: 100 },
};

/** A reduced run for smoke tests: <= 90 s in total including process start. */
export const QUICK_CONFIG: ExperimentConfig = mergeConfig(DEMO_CONFIG, {
  name: 'quick',
  data: { trainCount: 150, testCount: 40 },
  schedule: { step1Iters: 50, transferIters: 30, alternateEvery: 10, selfTrainingIters: 30 },
  runtime: { checkpointEvery: 50 },
});

// ---------------------------------------------------------------------------------------------
// JSON schema

function toJsonSchema(node: Node): Record<string, unknown> {
  const desc = node.description ? { description: node.description } : {};
  switch (node.kind) {
    case 'number':
      return {
        type: node.integer ? 'integer' : 'number',
        ...(node.min !== undefined ? { minimum: node.min } : {}),
        ...(node.max !== undefined ? { maximum: node.max } : {}),
        ...desc,
      };
    case 'string':
      return { type: 'string', ...(node.enum ? { enum: [...node.enum] } : {}), ...desc };
    case 'boolean':
      return { type: 'boolean', ...desc };
    case 'array':
      return { type: 'array', items: toJsonSchema(node.items), ...(node.minItems !== undefined ? { minItems: node.minItems } : {}), ...desc };
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(Object.entries(node.fields).map(([k, f]) => [k, toJsonSchema(f.node)])),
        required: Object.entries(node.fields)
          .filter(([, f]) => !f.optional)
          .map(([k]) => k),
        additionalProperties: node.open ? true : false,
        ...desc,
      };
  }
}

/** The JSON schema (draft 2020-12) of ExperimentConfig, generated from the same schema validateConfig uses. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'ExperimentConfig',
    ...toJsonSchema(CONFIG_SCHEMA),
  };
}
