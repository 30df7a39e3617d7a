/**
 * One registry type for every extension point (generators, backbones, datasets, recipes,
 * optimizers, …): a name → value table with the same error everywhere,
 * `unknown <kind> '<name>'; known: a, b, c` (plus "did you mean" when a name is close).
 *
 * {@link Registry.shared} returns one instance per kind **per process**: the table lives on
 * `globalThis` under a `Symbol.for` key, so a caller that loads a package's ESM build and another
 * that loads its CJS build see the same entries (a generator registered through `require` is
 * visible to `import`). Built-in entries are added with {@link Registry.provide}, which is
 * idempotent, so that a package whose module is evaluated twice (ESM + CJS) does not trip over
 * its own registrations.
 *
 * @example
 * const generators = Registry.shared<GeneratorFactory>('generator');
 * generators.provide('sign', createSignGenerator);         // built-in (idempotent)
 * generators.register('my-gen', createMyGenerator);        // user extension (a taken name throws)
 * generators.get('sgin'); // Error: unknown generator 'sgin' (did you mean 'sign'?); known: sign, my-gen
 */
export class Registry<T> {
  private readonly entries = new Map<string, T>();

  /** @param kind what one entry is, for messages: 'generator', 'backbone', 'dataset', … */
  constructor(readonly kind: string) {
    if (typeof kind !== 'string' || kind.length === 0) throw new Error('Registry: kind must be a non-empty string');
  }

  /**
   * The process-wide registry of `kind` (created on first use). Every copy of @sign/core in the
   * process (ESM and CJS builds, or two installed versions) returns the same object.
   */
  static shared<T>(kind: string): Registry<T> {
    const g = globalThis as unknown as Record<symbol, Map<string, Registry<unknown>> | undefined>;
    let table = g[GLOBAL_KEY];
    if (!table) {
      table = new Map();
      Object.defineProperty(globalThis, GLOBAL_KEY, { value: table, enumerable: false, configurable: false, writable: false });
    }
    let r = table.get(kind);
    if (!r) {
      r = new Registry<unknown>(kind);
      table.set(kind, r);
    }
    return r as Registry<T>;
  }

  /** Adds an entry; throws if the name is taken (register under a new name rather than overriding). */
  register(name: string, value: T): this {
    checkName(this.kind, name);
    if (value === undefined || value === null) throw new Error(`register ${this.kind} '${name}': value is ${String(value)}`);
    if (this.entries.has(name)) throw new Error(`register ${this.kind} '${name}': the name is taken (known: ${this.names().join(', ')})`);
    this.entries.set(name, value);
    return this;
  }

  /**
   * Adds a built-in entry unless the name is already present (idempotent: a package's registry
   * module may be evaluated once for its ESM and once for its CJS build).
   */
  provide(name: string, value: T): this {
    checkName(this.kind, name);
    if (!this.entries.has(name)) this.entries.set(name, value);
    return this;
  }

  /** The entry under `name`; throws `unknown <kind> '<name>'; known: …` when there is none. */
  get(name: string): T {
    const v = typeof name === 'string' ? this.entries.get(name) : undefined;
    if (v === undefined) throw new Error(this.unknownMessage(name));
    return v;
  }

  /** The message {@link get} throws for an unknown name (for validators that collect errors). */
  unknownMessage(name: unknown): string {
    const known = this.names();
    const near = typeof name === 'string' ? closestName(name, known) : undefined;
    return `unknown ${this.kind} '${String(name)}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ') || 'none'}`;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Names in registration order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Removes an entry (tests, or replacing an extension); returns whether it existed. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }
}

const GLOBAL_KEY = Symbol.for('@sign/core/registries');

function checkName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.trim() !== name)
    throw new Error(`register ${kind}: name must be a non-empty string without surrounding spaces, got ${JSON.stringify(name)}`);
}

/** Levenshtein distance (insert, delete, substitute), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The option closest to `name` (case-insensitive edit distance) when it is close enough to be a
 * likely typo: distance ≤ max(2, ⌊length/3⌋). Undefined otherwise.
 *
 * @example
 * closestName('seeed', ['seed', 'name']) // 'seed'
 */
export function closestName(name: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(name.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
