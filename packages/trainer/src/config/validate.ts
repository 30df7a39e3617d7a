/**
 * Validation of experiment configs: the zod schema's issues turned into one line each that names
 * the key path (`schedule.batchSize: expected integer, got 1.5`, `seeed: unknown key (did you
 * mean 'seed'?)`, `data.__proto__: forbidden key`, `model.type: unknown recipe 'sgin' (did you mean 'sign'?); known: …`), plus the
 * checks that span sections (parameter groups of `lrMult`, registry names, the teacher of
 * self-training).
 */
import { backboneRegistry } from '@sign/backbones';
import { closestName } from '@sign/core';
import { MODEL_LIMITS, recipes } from '@sign/recipes';
import type { z } from 'zod';
import { experimentSchema, type ExperimentConfig } from './schema';

/** An invalid config: `errors` holds one line per problem, each naming its key path. */
export class ConfigError extends Error {
  constructor(
    readonly errors: string[],
    source = 'config',
    /** 'keys': errors in the config's keys (listed under "invalid config"); 'file': the file itself could not be used. */
    kind: 'keys' | 'file' = 'keys',
  ) {
    super(kind === 'file' ? `${source}: ${errors.join('; ')}` : `${source}: invalid config\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Keys that would reach an object's prototype when merged or read: refused anywhere in a config. */
export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** How deep a config may nest (objects and arrays); the real configs nest 5 levels. */
export const MAX_CONFIG_DEPTH = 32;

/**
 * The problems that make a raw config unsafe to merge or validate, each naming its key path: a
 * key in {@link FORBIDDEN_KEYS} (`data.__proto__: forbidden key`), an object whose prototype is
 * not a plain object's (what merging a `__proto__` key leaves), nesting deeper than
 * {@link MAX_CONFIG_DEPTH}. Empty for a closed config. Iterative (no recursion limit).
 *
 * @example
 * closedConfigProblems(JSON.parse('{"data": {"__proto__": {"size": 1}}}')) // ['data.__proto__: forbidden key (…)']
 */
export function closedConfigProblems(value: unknown, prefix = ''): string[] {
  const problems: string[] = [];
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: prefix, depth: 0 }];
  const at = (path: string, k: string | number) => (typeof k === 'number' ? `${path}[${k}]` : path ? `${path}.${k}` : k);
  while (stack.length > 0 && problems.length < 20) {
    const { v, path, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_CONFIG_DEPTH) {
      problems.push(`${path || '(root)'}: nested deeper than ${MAX_CONFIG_DEPTH} levels`);
      continue;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: at(path, i), depth: depth + 1 }));
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      problems.push(`${path || '(root)'}: not a plain object (its prototype was replaced, e.g. by a '__proto__' key)`);
    for (const k of Object.keys(v)) {
      if (FORBIDDEN_KEYS.includes(k)) problems.push(`${at(path, k)}: forbidden key (${FORBIDDEN_KEYS.map((f) => `'${f}'`).join(', ')} are refused anywhere in a config)`);
      else stack.push({ v: (v as Record<string, unknown>)[k], path: at(path, k), depth: depth + 1 });
    }
  }
  return problems;
}

/** The registry kind behind each `type` discriminator, by path pattern. */
const UNION_KINDS: [RegExp, string][] = [
  [/^model$/, 'recipe'],
  [/^data$/, 'dataset'],
  [/^optimizers\.[^.]+$/, 'optimizer'],
  [/^optimizers\.[^.]+\.lrSchedule$/, 'lr-schedule'],
  [/^selfTraining$/, 'self-training'],
];

function pathString(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; discriminator?: string; values?: unknown[]; valueType?: z.ZodType; format?: string };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Whether the schema at `path` is an integer (zod reports a non-number given to z.int() as "expected number"). */
function isIntegerAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): boolean {
  if (path.length === 0) return false;
  const parent = objectAt(schema, path.slice(0, -1), input);
  let s = parent?.[String(path[path.length - 1])];
  while (s) {
    const d = defOf(s);
    if (d.innerType) s = d.innerType;
    else return d.type === 'number' && (d.format ?? '').includes('int');
  }
  return false;
}

/** The object schema at `path` of `schema` (following the input through unions), or undefined. */
function objectAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): Record<string, z.ZodType> | undefined {
  let s: z.ZodType | undefined = schema;
  let v: unknown = input;
  for (let i = 0; ; ) {
    if (!s) return undefined;
    const d = defOf(s);
    if (['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) {
      s = d.innerType;
      continue;
    }
    if (d.type === 'pipe') {
      s = d.in;
      continue;
    }
    if (d.type === 'union') {
      const key = d.discriminator;
      const want = key && v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
      s = d.options?.find((o) => {
        const shape = defOf(o).shape;
        const lit = key && shape?.[key] ? defOf(shape[key]).values : undefined;
        return lit?.includes(want);
      });
      continue;
    }
    if (i === path.length) return d.type === 'object' ? d.shape : undefined;
    const p = path[i++];
    if (d.type === 'object') s = d.shape?.[String(p)];
    else if (d.type === 'array') s = d.element;
    else if (d.type === 'record') s = d.valueType;
    else return undefined;
    v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  }
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, schema: z.ZodType): string[] {
  const at = pathString(issue.path);
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      if (value === undefined) return [`${at}: missing required key`];
      const expected = issue.expected === 'int' || (issue.expected === 'number' && isIntegerAt(schema, issue.path, input)) ? 'integer' : issue.expected;
      const shown = typeof value === 'number' && (expected === 'integer' || expected === 'number') ? String(value) : typeName(value);
      return [`${at}: expected ${expected}, got ${shown}`];
    }
    case 'unrecognized_keys': {
      const known = Object.keys(objectAt(schema, issue.path, input) ?? {});
      return issue.keys.map((k) => {
        const near = closestName(k, known);
        return `${pathString([...issue.path, k])}: unknown key${near ? ` (did you mean '${near}'?)` : ''}`;
      });
    }
    case 'invalid_union': {
      const u = issue as unknown as { note?: string; discriminator?: string; options?: unknown[] };
      if (u.note === 'No matching discriminator' && u.discriminator) {
        const parent = issue.path.slice(0, issue.path[issue.path.length - 1] === u.discriminator ? -1 : undefined);
        const v = valueAt(input, [...parent, u.discriminator]);
        const p = pathString([...parent, u.discriminator]);
        const kind = UNION_KINDS.find(([re]) => re.test(pathString(parent)))?.[1] ?? 'value';
        const known = (u.options ?? []).map(String);
        if (v === undefined) return [`${p}: missing required key (one of: ${known.join(', ')})`];
        const near = typeof v === 'string' ? closestName(v, known) : undefined;
        return [`${p}: unknown ${kind} '${String(v)}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`];
      }
      return [`${at}: ${issue.message}`];
    }
    case 'invalid_value':
      return [`${at}: unknown value '${String(value)}' (valid: ${issue.values.map(String).join(', ')})`];
    case 'too_small': {
      if (issue.origin === 'array') return [`${at}: expected at least ${issue.minimum} item(s), got ${Array.isArray(value) ? value.length : typeName(value)}`];
      if (issue.origin === 'string') return [`${at}: must not be empty`];
      return [`${at}: must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}, got ${String(value)}`];
    }
    case 'too_big': {
      if (issue.origin === 'array') return [`${at}: expected at most ${issue.maximum} item(s), got ${Array.isArray(value) ? value.length : typeName(value)}`];
      return [`${at}: must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}, got ${String(value)}`];
    }
    default:
      return [`${at}: ${issue.message}`];
  }
}

/** Checks across sections, on a config the schema accepted. */
function crossChecks(c: ExperimentConfig): string[] {
  const errors: string[] = [];
  const recipe = recipes.get(c.model.type);
  const groups = recipe.parameterGroups(c.model);
  for (const part of ['backbone', 'classifier', 'generator'] as const) {
    const mine = groups.filter((g) => g.part === part).map((g) => g.name);
    for (const table of ['lrMult', 'decayMult'] as const)
      for (const key of Object.keys(c.optimizers[part][table])) {
        if (mine.includes(key)) continue;
        const near = closestName(key, mine);
        errors.push(
          `optimizers.${part}.${table}.${key}: not a parameter group of the ${part} in recipe '${c.model.type}'${near ? ` (did you mean '${near}'?)` : ''}; groups: ${mine.join(', ') || 'none'}`,
        );
      }
  }
  if (!backboneRegistry.has(c.model.backbone.name)) errors.push(`model.backbone.name: ${backboneRegistry.unknownMessage(c.model.backbone.name)}`);
  // the backbone's own keys pass through to its factory: bounded here, before anything is built
  const { name: _name, channels: _channels, ...own } = c.model.backbone as Record<string, unknown>;
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number' && v > MODEL_LIMITS.channels) errors.push(`${path}: must be <= ${MODEL_LIMITS.channels}, got ${v}`);
    else if (Array.isArray(v)) {
      if (v.length > MODEL_LIMITS.listLength) errors.push(`${path}: expected at most ${MODEL_LIMITS.listLength} item(s), got ${v.length}`);
      else v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  };
  for (const [k, v] of Object.entries(own)) walk(v, `model.backbone.${k}`);
  if ('inChannels' in c.model.backbone)
    errors.push(`model.backbone.inChannels: set by the dataset (its images' channels); remove the key`);
  const s = c.schedule;
  if (c.selfTraining.type !== 'none' && s.selfTrainingIters > 0 && s.step1Iters + s.transferIters === 0)
    errors.push(`schedule: self-training needs a trained teacher (step1Iters + transferIters > 0)`);
  return errors;
}

/**
 * Validates a config (defaults filled in from the schema: the recipe's paper settings, optimizer
 * defaults, …). Unknown keys, missing keys and wrong types are errors naming the key path, with a
 * suggestion for a misspelt key or plug-in name. Returns `config` only when there are no errors.
 *
 * @example
 * validateConfig({ ...config, seeed: 1 }).errors // ["seeed: unknown key (did you mean 'seed'?)"]
 */
export function validateConfig(input: unknown): { config?: ExperimentConfig; errors: string[] } {
  const unsafe = closedConfigProblems(input);
  if (unsafe.length > 0) return { errors: unsafe };
  const schema = experimentSchema();
  const r = schema.safeParse(input);
  if (!r.success) {
    // z.int() adds the safe-integer bound: of two upper bounds on one key, name the tighter
    const key = (i: z.core.$ZodIssue) => pathString(i.path);
    const bounds = r.error.issues.filter((i) => i.code === 'too_big');
    const issues = r.error.issues.filter(
      (i) => i.code !== 'too_big' || !bounds.some((b) => b !== i && key(b) === key(i) && Number(b.maximum) < Number(i.maximum)),
    );
    return { errors: issues.flatMap((i) => describeIssue(i, input, schema)) };
  }
  const config = r.data as ExperimentConfig;
  const errors = crossChecks(config);
  return errors.length > 0 ? { errors } : { config, errors };
}

/**
 * {@link validateConfig} that throws a {@link ConfigError} (naming `source`, e.g. the file) on errors.
 *
 * @example
 * const config = parseConfig(JSON.parse(text), 'configs/demo.json');
 */
export function parseConfig(input: unknown, source = 'config'): ExperimentConfig {
  const { config, errors } = validateConfig(input);
  if (!config) throw new ConfigError(errors, source);
  return config;
}
