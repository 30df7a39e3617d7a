/**
 * Deep merge of configs (objects key by key, arrays and values replace, `_delete_: true`
 * replaces): what `_base_` composition and command-line overrides use. No file access: the
 * main entry's; reading config files is `composeConfigFile` in `@sign/trainer/node`.
 */
export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A JSON object (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep merge (objects key by key, arrays and values replace; `_delete_: true` replaces). Does not
 * validate: unknown keys are kept so that validation reports them.
 *
 * @example
 * mergeConfig(base, { data: { unseen: ['coat', 'sandal', 'bag'] }, schedule: { step1Iters: 100 } })
 */
export function mergeConfig<T>(base: T, overrides: DeepPartial<T> | Record<string, unknown>): T {
  return deepMerge(base, overrides) as T;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return structuredClone(base);
  if (isPlainObject(over) && over._delete_ === true) {
    const { _delete_: _, ...rest } = over;
    return deepMerge(undefined, rest);
  }
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = structuredClone(base);
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : deepMerge(undefined, v);
    return out;
  }
  if (isPlainObject(over)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(undefined, v);
    return out;
  }
  return structuredClone(over);
}
