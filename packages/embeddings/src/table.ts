import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_CLASS_ALIASES, normalizeClassName } from './names';
import { MAX_WORD_VECTOR_DIMENSION } from './readers/types';

/** The `format` tag written by {@link EmbeddingTable.toJSON}. */
export const EMBEDDING_TABLE_FORMAT = 'sign-embedding-table';
/** The version of the JSON layout written by {@link EmbeddingTable.toJSON}. */
export const EMBEDDING_TABLE_VERSION = 1;

/** What {@link EmbeddingTable}'s constructor takes. */
export interface EmbeddingTableInit {
  /** One name per row, unique. */
  classNames: readonly string[];
  /** One vector per class, all of the same length. Copied into Float32Arrays. */
  vectors: readonly (Float32Array | readonly number[])[];
  /** The vector length; inferred from the first row when omitted (required for an empty table). */
  dimension?: number;
  /** Where the vectors came from (files, words used per class, rules applied). Stored as is. */
  provenance?: Record<string, unknown>;
  /** The file the table was read from, used in error messages. */
  source?: string;
}

/** The JSON layout of a saved table (see {@link EmbeddingTable.toJSON}). */
export interface EmbeddingTableJSON {
  format: typeof EMBEDDING_TABLE_FORMAT;
  version: number;
  classNames: string[];
  dimension: number;
  provenance: Record<string, unknown>;
  vectors: number[][];
}

/** What {@link EmbeddingTable.validate} checks besides finiteness. */
export interface ValidateOptions {
  /** Every one of these classes must have a row. */
  classNames?: readonly string[];
  /** The table's dimension must equal this. */
  dimension?: number;
  /** Refuse rows that are all zeros (a class with no information). Default false. */
  rejectZeroRows?: boolean;
}

/**
 * L2-normalises a vector: `v / max(‖v‖₂, 1e-12)` (the rule of PyTorch's `F.normalize`), computed in
 * float64 and returned as a new Float32Array. A zero vector stays zero.
 *
 * @example
 * l2Normalize(new Float32Array([3, 4])) // Float32Array [0.6, 0.8]
 */
export function l2Normalize(v: Float32Array | readonly number[]): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i] * v[i];
  const norm = Math.max(Math.sqrt(sq), 1e-12);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}

/** Euclidean norm of a vector, accumulated in float64. */
export function l2Norm(v: Float32Array | readonly number[]): number {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i] * v[i];
  return Math.sqrt(sq);
}

/** Cosine similarity of two vectors of equal length (0 when either is zero). */
export function cosineSimilarity(a: Float32Array | readonly number[], b: Float32Array | readonly number[]): number {
  if (a.length !== b.length) {
    throw new Error(`cosineSimilarity: vectors have different lengths (${a.length} and ${b.length})`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/**
 * The largest table {@link EmbeddingTable.parse} (and `loadEmbeddingTable` in
 * `@sign/embeddings/node`) reads (256 MiB): a table of 10,000 classes of dimension 1,000 is about
 * 120 MB of JSON.
 */
export const MAX_EMBEDDING_TABLE_BYTES = 256 * 1024 * 1024;

function where(source: string | undefined): string {
  return source ? ` in ${source}` : '';
}

/**
 * A fixed class-embedding table: the mapping M of SIGN (METHOD §2), one vector per class name.
 * Immutable: accessors return copies, and transforms return new tables.
 *
 * @example
 * const table = new EmbeddingTable({ classNames: ['cat', 'dog'], vectors: [[1, 0], [0.6, 0.8]] });
 * table.vector('dog');   // Float32Array [0.6, 0.8]
 * table.id('dog');       // 1
 * const w = table.toTensor(); // Tensor2D [2, 2]
 */
export class EmbeddingTable {
  /** Class names, one per row, in row order. */
  readonly classNames: readonly string[];
  /** Length of every vector. */
  readonly dimension: number;
  /** Where the vectors came from. */
  readonly provenance: Readonly<Record<string, unknown>>;
  /** The file this table was loaded from, when it was (used in error messages). */
  readonly source?: string;
  private readonly rows: Float32Array[];
  private readonly index: Map<string, number>;
  /** Normalised name → rows with that name (built on the first lookup that needs it). */
  private byKey?: Map<string, number[]>;

  constructor(init: EmbeddingTableInit) {
    const { classNames, vectors, provenance = {}, source } = init;
    this.source = source;
    if (!Array.isArray(classNames)) {
      throw new Error(`EmbeddingTable: classNames must be an array of strings${where(source)}`);
    }
    if (!Array.isArray(vectors)) {
      throw new Error(`EmbeddingTable: vectors must be an array of vectors${where(source)}`);
    }
    if (classNames.length !== vectors.length) {
      throw new Error(
        `EmbeddingTable: ${classNames.length} class names but ${vectors.length} vectors${where(source)}`,
      );
    }
    const dimension = init.dimension ?? (vectors.length > 0 ? vectors[0].length : undefined);
    if (dimension === undefined) {
      throw new Error(`EmbeddingTable: an empty table needs an explicit dimension${where(source)}`);
    }
    if (!Number.isInteger(dimension) || dimension <= 0) {
      throw new Error(`EmbeddingTable: dimension must be a positive integer, got ${dimension}${where(source)}`);
    }
    this.index = new Map();
    this.rows = [];
    for (let i = 0; i < classNames.length; i++) {
      const name = classNames[i];
      if (typeof name !== 'string' || name.length === 0) {
        throw new Error(`EmbeddingTable: class name of row ${i} must be a non-empty string${where(source)}`);
      }
      if (this.index.has(name)) {
        throw new Error(
          `EmbeddingTable: class '${name}' appears twice (rows ${this.index.get(name)} and ${i})${where(source)}`,
        );
      }
      this.index.set(name, i);
      const v = vectors[i];
      if (v == null || typeof (v as ArrayLike<number>).length !== 'number') {
        throw new Error(`EmbeddingTable: row ${i} (class '${name}') is not a vector${where(source)}`);
      }
      if (v.length !== dimension) {
        throw new Error(
          `EmbeddingTable: row ${i} (class '${name}') has ${v.length} values, expected dimension ${dimension}${where(source)}`,
        );
      }
      const row = new Float32Array(dimension);
      for (let j = 0; j < dimension; j++) {
        const x = v[j];
        if (typeof x !== 'number') {
          throw new Error(
            `EmbeddingTable: row ${i} (class '${name}') value ${j} is ${x === null ? 'null' : typeof x}, not a number${where(source)}`,
          );
        }
        row[j] = x;
      }
      this.rows.push(row);
    }
    this.classNames = Object.freeze([...classNames]);
    this.dimension = dimension;
    this.provenance = Object.freeze({ ...provenance });
  }

  /** Number of classes (rows). */
  get size(): number {
    return this.rows.length;
  }

  /**
   * The lookup key of a class name: its words by {@link normalizeClassName} (with the aliases the
   * table was built with, recorded in `provenance.aliases`, else the default ones), joined by a
   * space; `undefined` for a name with no word.
   */
  private keyOf(name: string): string | undefined {
    const a = this.provenance.aliases;
    const aliases =
      a !== null && typeof a === 'object' && !Array.isArray(a) && Object.values(a).every((w) => Array.isArray(w) && w.every((x) => typeof x === 'string'))
        ? (a as Record<string, readonly string[]>)
        : DEFAULT_CLASS_ALIASES;
    try {
      return normalizeClassName(name, { aliases }).join(' ');
    } catch {
      return undefined;
    }
  }

  /**
   * The row of `name`: the row of that exact name, else the one whose name normalises to the same
   * words (`traffic_light` finds `traffic light`, `TV monitor` finds `tvmonitor`); `undefined`
   * when none does. Throws when several rows normalise to the name's words.
   */
  private lookup(name: string): number | undefined {
    if (typeof name !== 'string') return undefined;
    const exact = this.index.get(name);
    if (exact !== undefined) return exact;
    const key = this.keyOf(name);
    if (key === undefined) return undefined;
    if (!this.byKey) {
      this.byKey = new Map();
      this.classNames.forEach((n, i) => {
        const k = this.keyOf(n);
        if (k !== undefined) this.byKey!.set(k, [...(this.byKey!.get(k) ?? []), i]);
      });
    }
    const rows = this.byKey.get(key);
    if (!rows) return undefined;
    if (rows.length > 1) {
      throw new Error(
        `EmbeddingTable: '${name}' matches the classes ${rows.map((i) => `'${this.classNames[i]}'`).join(' and ')} (the same words after normalizeClassName)${where(this.source)}; use the exact name`,
      );
    }
    return rows[0];
  }

  /**
   * Whether the table has a row for class `name`: the exact name, or one with the same words
   * after {@link normalizeClassName} (the rule tables are built with).
   */
  has(name: string): boolean {
    try {
      return this.lookup(name) !== undefined;
    } catch {
      return false; // ambiguous: id() says why
    }
  }

  /**
   * The row id of class `name` (matched exactly, else by its words after
   * {@link normalizeClassName}: `traffic_light` finds `traffic light`); throws naming the class
   * (and file) when it is absent or matches several rows.
   *
   * @example
   * const t = new EmbeddingTable({ classNames: ['background', 'traffic light'], vectors: [[1, 0], [0, 1]] });
   * t.id('traffic_light'); // 1
   */
  id(name: string): number {
    const i = this.lookup(name);
    if (i === undefined) {
      const known = this.classNames.slice(0, 12).map((n) => `'${n}'`).join(', ');
      const more = this.classNames.length > 12 ? `, … (${this.classNames.length} in all)` : '';
      throw new Error(`EmbeddingTable: no class '${name}'${where(this.source)}; known: ${known}${more}`);
    }
    return i;
  }

  /** A copy of the vector of a class, by name or by row id. */
  vector(nameOrId: string | number): Float32Array {
    if (typeof nameOrId === 'number') {
      if (!Number.isInteger(nameOrId) || nameOrId < 0 || nameOrId >= this.rows.length) {
        throw new Error(
          `EmbeddingTable: class id ${nameOrId} is out of range [0, ${this.rows.length})${where(this.source)}`,
        );
      }
      return this.rows[nameOrId].slice();
    }
    return this.rows[this.id(nameOrId)].slice();
  }

  /** All rows as one row-major Float32Array of length `size * dimension` (a copy). */
  toFlatArray(): Float32Array {
    const out = new Float32Array(this.rows.length * this.dimension);
    this.rows.forEach((r, i) => out.set(r, i * this.dimension));
    return out;
  }

  /**
   * The table as a float32 tensor of shape [numClasses, dimension], row i = class i. The caller
   * owns (and disposes) the tensor.
   *
   * @example
   * const w = table.toTensor(); // [C, D]
   * const perPixel = tf.gather(w, labels.flatten()); // [P, D]
   */
  toTensor(): tf.Tensor2D {
    return tf.tidy(() => tf.tensor2d(this.toFlatArray(), [this.rows.length, this.dimension], 'float32'));
  }

  /**
   * A new table with the rows of `names` (looked up as {@link EmbeddingTable.id} does), in that
   * order and under those names; throws naming every missing class. Provenance is kept.
   */
  subset(names: readonly string[]): EmbeddingTable {
    const missing = names.filter((n) => !this.has(n));
    if (missing.length > 0) {
      names.forEach((n) => this.lookup(n)); // an ambiguous name says so
      throw new Error(
        `EmbeddingTable.subset: missing class${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `'${n}'`).join(', ')}${where(this.source)}`,
      );
    }
    return new EmbeddingTable({
      classNames: names,
      vectors: names.map((n) => this.rows[this.id(n)]),
      dimension: this.dimension,
      provenance: { ...this.provenance },
      source: this.source,
    });
  }

  /** A new table whose rows are L2-normalised (see {@link l2Normalize}). */
  normalized(): EmbeddingTable {
    return new EmbeddingTable({
      classNames: this.classNames,
      vectors: this.rows.map((r) => l2Normalize(r)),
      dimension: this.dimension,
      provenance: { ...this.provenance, normalized: 'l2' },
      source: this.source,
    });
  }

  /**
   * Checks the table and throws one error listing every problem: non-finite values (class, row
   * and position named), a dimension other than `expect.dimension`, classes of
   * `expect.classNames` that have no row, and (with `rejectZeroRows`) all-zero rows.
   * Returns the table, so that calls can be chained.
   */
  validate(expect: ValidateOptions = {}): this {
    const problems: string[] = [];
    if (expect.dimension !== undefined && expect.dimension !== this.dimension) {
      problems.push(`dimension is ${this.dimension}, expected ${expect.dimension}`);
    }
    if (expect.classNames) {
      const missing = expect.classNames.filter((n) => !this.has(n));
      if (missing.length > 0) {
        problems.push(`missing class${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `'${n}'`).join(', ')}`);
      }
    }
    for (let i = 0; i < this.rows.length; i++) {
      const r = this.rows[i];
      const bad: string[] = [];
      let allZero = true;
      for (let j = 0; j < r.length; j++) {
        if (!Number.isFinite(r[j])) bad.push(`[${j}]=${r[j]}`);
        if (r[j] !== 0) allZero = false;
      }
      if (bad.length > 0) {
        const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? `, … (${bad.length} in all)` : '');
        problems.push(`row ${i} (class '${this.classNames[i]}') has non-finite values ${shown}`);
      }
      if (expect.rejectZeroRows && allZero) {
        problems.push(`row ${i} (class '${this.classNames[i]}') is all zeros`);
      }
    }
    if (problems.length > 0) {
      throw new Error(`EmbeddingTable is invalid${where(this.source)}: ${problems.join('; ')}`);
    }
    return this;
  }

  /** A plain JSON object (see {@link EmbeddingTableJSON}); float32 values survive the round trip exactly. */
  toJSON(): EmbeddingTableJSON {
    return {
      format: EMBEDDING_TABLE_FORMAT,
      version: EMBEDDING_TABLE_VERSION,
      classNames: [...this.classNames],
      dimension: this.dimension,
      provenance: { ...this.provenance },
      vectors: this.rows.map((r) => Array.from(r)),
    };
  }

  /**
   * Builds a table from {@link EmbeddingTable.toJSON}'s output and validates it (finite values).
   * `source` names the file in error messages.
   */
  static fromJSON(obj: unknown, source?: string): EmbeddingTable {
    const w = where(source);
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw new Error(`EmbeddingTable.fromJSON: expected an object${w}`);
    }
    const o = obj as Record<string, unknown>;
    if (o.format !== EMBEDDING_TABLE_FORMAT) {
      throw new Error(
        `EmbeddingTable.fromJSON: 'format' is ${JSON.stringify(o.format)}, expected '${EMBEDDING_TABLE_FORMAT}'${w}`,
      );
    }
    if (typeof o.version !== 'number' || o.version > EMBEDDING_TABLE_VERSION) {
      throw new Error(
        `EmbeddingTable.fromJSON: unsupported version ${JSON.stringify(o.version)} (this library reads up to ${EMBEDDING_TABLE_VERSION})${w}`,
      );
    }
    if (!Array.isArray(o.classNames) || !o.classNames.every((n) => typeof n === 'string')) {
      throw new Error(`EmbeddingTable.fromJSON: 'classNames' must be an array of strings${w}`);
    }
    if (!Array.isArray(o.vectors) || !o.vectors.every((v) => Array.isArray(v))) {
      throw new Error(`EmbeddingTable.fromJSON: 'vectors' must be an array of number arrays${w}`);
    }
    if (typeof o.dimension !== 'number') {
      throw new Error(`EmbeddingTable.fromJSON: 'dimension' must be a number${w}`);
    }
    if (o.dimension > MAX_WORD_VECTOR_DIMENSION) {
      throw new Error(
        `EmbeddingTable.fromJSON: 'dimension' ${o.dimension} is larger than the maximum ${MAX_WORD_VECTOR_DIMENSION}${w}`,
      );
    }
    const provenance =
      o.provenance && typeof o.provenance === 'object' && !Array.isArray(o.provenance)
        ? (o.provenance as Record<string, unknown>)
        : {};
    return new EmbeddingTable({
      classNames: o.classNames as string[],
      vectors: o.vectors as number[][],
      dimension: o.dimension,
      provenance,
      source,
    }).validate();
  }

  /**
   * Reads a table from the text (or UTF-8 bytes) of a JSON file written by `saveEmbeddingTable`
   * / {@link EmbeddingTable.toJSON}, and validates it; errors name `source`. Inputs over
   * {@link MAX_EMBEDDING_TABLE_BYTES}, and dimensions above {@link MAX_WORD_VECTOR_DIMENSION},
   * are refused; a UTF-8 byte-order mark is skipped. Files: `loadEmbeddingTable` in
   * `@sign/embeddings/node`.
   *
   * @example
   * const table = EmbeddingTable.parse(await (await fetch('classes.json')).arrayBuffer(), 'classes.json');
   */
  static parse(input: string | Uint8Array | ArrayBuffer, source = '<input>'): EmbeddingTable {
    let text: string;
    if (typeof input === 'string') {
      text = input;
    } else if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
      if (input.byteLength > MAX_EMBEDDING_TABLE_BYTES) {
        throw new Error(
          `EmbeddingTable.parse: ${source} has ${input.byteLength} bytes, more than the ${MAX_EMBEDDING_TABLE_BYTES} an embedding table may have`,
        );
      }
      text = new TextDecoder('utf-8').decode(input);
    } else {
      throw new Error(`EmbeddingTable.parse: ${source}: expected the table's JSON text or bytes, got ${input === null ? 'null' : typeof input}`);
    }
    // a string of N UTF-16 units has at least N bytes in UTF-8
    if (text.length > MAX_EMBEDDING_TABLE_BYTES) {
      throw new Error(`EmbeddingTable.parse: ${source} is longer than the ${MAX_EMBEDDING_TABLE_BYTES} bytes an embedding table may have`);
    }
    if (text.startsWith('\uFEFF')) text = text.slice(1);
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new Error(`EmbeddingTable.parse: ${source} is not valid JSON (${(err as Error).message})`);
    }
    return EmbeddingTable.fromJSON(obj, source);
  }
}
