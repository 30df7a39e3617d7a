/**
 * The `data` section of an experiment config, as one zod schema: the keys every dataset shares
 * ({@link commonDataKeys}) plus each registered dataset's own `schema`, as strict objects in a
 * union discriminated on `type`. Types, validation (errors naming the key path, "did you mean"
 * for unknown keys and unknown types) and the JSON schema come from it.
 */
import { closestName, type Registry } from '@sign/core';
import { z } from 'zod';
import { datasets } from './registry';
import { transformConfigSchema } from './transforms/pipeline';
import type { DataConfig, DatasetDefinition } from './types';

const pipeline = z.strictObject({ pipeline: z.array(transformConfigSchema).max(64).describe('transforms applied in order (a normalize step is added at the end when missing)') });

/** The keys every dataset's config has (see {@link DataConfig}); a dataset's own keys may not reuse them. */
export const commonDataKeys = {
  unseen: z.array(z.string().min(1).max(200)).max(10_000).optional().describe('unseen class names: their pixels become ignore (255) in training (or name a set with unseenSplit)'),
  unseenSplit: z.string().min(1).optional().describe("a named set of unseen classes the dataset knows (e.g. 'cagnet', 'zs3net-4'); fills unseen"),
  trainSplit: z.string().min(1).optional().describe("split to train on (default 'train')"),
  testSplit: z.string().min(1).optional().describe("split to test on (default 'test', else 'val')"),
  train: pipeline.optional().describe('training augmentation'),
  test: pipeline.optional().describe('test-time transforms (default: normalize only; test images stay at full size)'),
  selfTraining: pipeline.optional().describe("augmentation of the self-training stage's batches (default: the train pipeline; the SIGN release crops 328 for VOC there)"),
  embeddingsFile: z.string().min(1).optional().describe("class embeddings file ({\"class\": [numbers]} or a table written by 'sign embed'); default: the dataset's own"),
  control: z.enum(['none', 'random', 'permuted']).optional().describe('control: replace the unseen rows of M by random unit vectors, or permute them among the unseen classes'),
  controlSeed: z.number().int().min(0).max(4_294_967_295).optional().describe('seed of the control draw (default: seed + 1000)'),
  supervised: z.boolean().optional().describe('upper bound: unseen classes stay labelled in training'),
  exclude: z
    .array(z.string().min(1))
    .optional()
    .describe('classes absent altogether: removed from the class list (later ids move down), their pixels ignored in training and testing'),
};

/**
 * The schema of one dataset type's `data` section: `type: <name>`, the common keys, the
 * dataset's own keys; strict. Throws when the dataset's schema reuses a common key.
 */
export function datasetConfigSchema(name: string, def: DatasetDefinition) {
  const own = def.schema.shape as Record<string, z.ZodType>;
  for (const k of Object.keys(own))
    if (k === 'type' || k in commonDataKeys) throw new Error(`dataset '${name}': its schema redefines the common key '${k}'`);
  return z.strictObject({ type: z.literal(name).describe(def.description), ...commonDataKeys, ...own });
}

/**
 * The schema of the `data` section over every dataset in `registry` (default: the shared
 * `datasets` registry, built-ins and whatever was registered so far), discriminated on `type`.
 * Build it after registering plug-ins.
 *
 * @example
 * datasets.provide('fashion-scenes', fashionScenesDataset);
 * const jsonSchema = z.toJSONSchema(dataConfigSchema());
 */
export function dataConfigSchema(registry: Registry<DatasetDefinition> = datasets) {
  const members = registry.names().map((n) => datasetConfigSchema(n, registry.get(n)));
  if (members.length === 0) throw new Error('dataConfigSchema: no dataset is registered');
  // unseenSplit → unseen happens in the schema, so that any config that embeds it (the trainer's) gets the names
  return z.discriminatedUnion('type', members as [(typeof members)[0], ...typeof members]).superRefine((value, ctx) => {
    const config = value as unknown as DataConfig;
    const problem = resolveUnseenSplit(config, registry.has(config.type) ? registry.get(config.type) : undefined);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.key], message: problem.message });
  });
}

type Path = ReadonlyArray<PropertyKey>;

/** `data.train.pipeline[2].type` from a prefix and a zod path. */
export function formatPath(prefix: string, path: Path): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

/* zod 4 keeps a schema's definition in `_zod.def`; walking it finds the object schema at a path
 * (for the keys an unknown key may have meant). */
interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  element?: { _zod: { def: Def } };
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  options?: Array<{ _zod: { def: Def } }>;
  discriminator?: string;
}

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } })?._zod?.def;
}

function unwrap(def: Def | undefined, value: unknown): Def | undefined {
  while (def) {
    if (def.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(def.type)) def = defOf(def.innerType);
    else if (def.type === 'pipe' && def.in) def = defOf(def.in);
    else if (def.type === 'union' && def.options) {
      const d = def.discriminator;
      const v = d && value && typeof value === 'object' ? (value as Record<string, unknown>)[d] : undefined;
      const match = def.options.map(defOf).find((o) => {
        const lit = defOf(o?.shape?.[d ?? '']);
        return lit && (lit as unknown as { values?: unknown[] }).values?.includes(v);
      });
      if (!match) return undefined;
      def = match;
    } else return def;
  }
  return def;
}

function keysAt(schema: unknown, input: unknown, path: Path): string[] {
  let def = unwrap(defOf(schema), input);
  let value = input;
  for (const p of path) {
    if (!def) return [];
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p as string] : undefined;
    if (def.type === 'object' && def.shape) def = unwrap(defOf(def.shape[String(p)]), value);
    else if (def.type === 'array' && def.element) def = unwrap(defOf(def.element), value);
    else return [];
  }
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** Options of {@link formatIssues}. */
export interface FormatIssuesOptions {
  /** Path prefix of the messages ('data' → `data.root: …`). */
  prefix?: string;
  /** Message for an unknown discriminator value at a path (e.g. the registry's `unknownMessage`); default: a generic one with "did you mean". */
  unknownType?: (path: Path, value: unknown, options: string[]) => string | undefined;
}

/**
 * One message per zod issue, each naming the key path: unknown keys get "did you mean" (the
 * closest key the object at that path has, by {@link closestName}), unknown discriminator values
 * name the known ones. For config validators that use zod (the data section here; the trainer's
 * experiment config can reuse it).
 *
 * @example
 * const r = schema.safeParse(input);
 * if (!r.success) errors.push(...formatIssues(r.error, schema, input, { prefix: 'data' }));
 * // data.rot: unknown key (did you mean 'root'?)
 */
export function formatIssues(error: z.ZodError, schema: z.ZodType, input: unknown, opts: FormatIssuesOptions = {}): string[] {
  const prefix = opts.prefix ?? '';
  const out: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(schema, input, issue.path);
      for (const k of issue.keys) {
        const near = closestName(k, allowed);
        out.push(`${formatPath(prefix, [...issue.path, k])}: unknown key${near ? ` (did you mean '${near}'?)` : ''}${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`);
      }
    } else if (issue.code === 'invalid_union' && (issue as { discriminator?: string }).discriminator) {
      const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
      let value: unknown = input;
      for (const p of issue.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[p as string] : undefined;
      const custom = opts.unknownType?.(issue.path, value, options);
      if (custom) out.push(`${formatPath(prefix, issue.path)}: ${custom}`);
      else if (value === undefined) out.push(`${formatPath(prefix, issue.path)}: missing; one of ${options.join(', ')}`);
      else {
        const near = typeof value === 'string' ? closestName(value, options) : undefined;
        out.push(`${formatPath(prefix, issue.path)}: unknown value ${JSON.stringify(value)}${near ? ` (did you mean '${near}'?)` : ''}; known: ${options.join(', ')}`);
      }
    } else if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
      out.push(`${formatPath(prefix, issue.path)}: missing (expected ${(issue as { expected?: string }).expected})`);
    } else {
      out.push(`${formatPath(prefix, issue.path)}: ${issue.message}`);
    }
  }
  return out;
}

/**
 * Fills `config.unseen` from `config.unseenSplit` (a set the dataset names: its definition's
 * `unseenSplits(config)`), in place; returns the problem (the key and a message), or undefined
 * when fine: neither key given, an unknown set (with "did you mean" and the known ones), or both
 * given and different.
 */
function resolveUnseenSplit(config: DataConfig, def: DatasetDefinition | undefined): { key: string; message: string } | undefined {
  const split = config.unseenSplit;
  if (split === undefined) {
    if (config.unseen === undefined) return { key: 'unseen', message: 'missing (the unseen class names, or unseenSplit naming a set the dataset knows)' };
    return undefined;
  }
  const sets = def?.unseenSplits?.(config) ?? {};
  const known = Object.keys(sets);
  const names = sets[split];
  if (!names) {
    if (known.length === 0) return { key: 'unseenSplit', message: `the '${config.type}' dataset names no unseen sets; list the classes in unseen` };
    const near = closestName(split, known);
    return { key: 'unseenSplit', message: `unknown set '${split}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}` };
  }
  if (config.unseen !== undefined) {
    const same = config.unseen.length === names.length && names.every((n) => config.unseen!.includes(n));
    if (!same) return { key: 'unseen', message: `${config.unseen.join(', ')} differs from the set unseenSplit '${split}' names (${names.join(', ')}); give one of them` };
    return undefined;
  }
  config.unseen = [...names];
  return undefined;
}

/** Options of {@link validateDataConfig}. */
export interface ValidateDataConfigOptions {
  /** Path prefix of the messages. Default 'data'. */
  prefix?: string;
  /** Datasets to validate against. Default: the shared `datasets` registry. */
  registry?: Registry<DatasetDefinition>;
}

/**
 * Validates a `data` section: `{ config }` (with the schema's defaults filled in, and `unseen`
 * filled from `unseenSplit` when the config names a set: the schema itself does it) when it is valid, else `{ errors }`, one
 * message per problem, each naming the key path. Checks keys and types (and that `unseen` or
 * `unseenSplit` is there); class names (`unseen`) are checked against the opened dataset by
 * `createDataModule`.
 *
 * @example
 * const { config, errors } = validateDataConfig({ type: 'folder', rot: 'data/shapes', unseen: [] });
 * // errors: ["data.rot: unknown key (did you mean 'root'?); allowed: …", 'data.root: missing (expected string)']
 */
export function validateDataConfig(input: unknown, opts: ValidateDataConfigOptions = {}): { config?: DataConfig; errors: string[] } {
  const registry = opts.registry ?? datasets;
  const prefix = opts.prefix ?? 'data';
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return { errors: [`${prefix}: expected an object with a 'type' key`] };
  if (registry.names().length === 0) return { errors: [`${prefix}.type: ${registry.unknownMessage((input as { type?: unknown }).type)}`] };
  const schema = dataConfigSchema(registry);
  const r = schema.safeParse(input);
  if (r.success) return { config: r.data as DataConfig, errors: [] };
  const errors = formatIssues(r.error, schema, input, {
    prefix,
    unknownType: (path, value) => (path.length === 1 && path[0] === 'type' && value !== undefined ? registry.unknownMessage(value) : undefined),
  });
  return { errors };
}
