/**
 * Deep merge of configs (objects key by key, arrays and values replace, `_delete_: true`
 * replaces): what `_base_` composition and command-line overrides use. No file access: the
 * main entry's; reading config files is `composeConfigFile` in `@sign/trainer/node`.
 */
import { ConfigError, FORBIDDEN_KEYS } from './validate';

export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A JSON object (not null, not an array). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep merge (objects key by key, arrays and values replace; `_delete_: true` replaces). Does not
 * validate: unknown keys are kept so that validation reports them; a `__proto__`, `constructor` or
 * `prototype` key anywhere is a {@link ConfigError} naming its path.
 *
 * @example
 * mergeConfig(base, { data: { unseen: ['coat', 'sandal', 'bag'] }, schedule: { step1Iters: 100 } })
 */
export function mergeConfig<T>(base: T, overrides: DeepPartial<T> | Record<string, unknown>): T {
  return deepMerge(base, overrides) as T;
}

function deepMerge(base: unknown, over: unknown, path = ''): unknown {
  if (over === undefined) return structuredClone(base);
  if (isPlainObject(over) && over._delete_ === true) {
    const { _delete_: _, ...rest } = over;
    return deepMerge(undefined, rest, path);
  }
  if (isPlainObject(over)) {
    // a '__proto__' key assigned below would replace the object's prototype: refused by name
    for (const k of Object.keys(over))
      if (FORBIDDEN_KEYS.includes(k)) throw new ConfigError([`${path ? `${path}.` : ''}${k}: forbidden key`], 'config merge');
    const out: Record<string, unknown> = isPlainObject(base) ? structuredClone(base) : {};
    for (const [k, v] of Object.entries(over)) out[k] = isPlainObject(base) && Object.hasOwn(base, k) ? deepMerge(base[k], v, path ? `${path}.${k}` : k) : deepMerge(undefined, v, path ? `${path}.${k}` : k);
    return out;
  }
  return structuredClone(over);
}
