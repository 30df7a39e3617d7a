import { EmbeddingTable, l2Norm, l2Normalize } from './table';

function describe(t: EmbeddingTable, i: number): string {
  const name = t.source ?? (typeof t.provenance.name === 'string' ? t.provenance.name : undefined);
  return name ? `table ${i} (${name})` : `table ${i}`;
}

/**
 * Combines several embedding sources the way SIGN / CaGNet / SPNet do (METHOD §2, M): each
 * source's row is L2-normalised, the rows are concatenated, and the result is L2-normalised again:
 *
 *   w_c = l2( concat( l2(w_c^1), l2(w_c^2), … ) )
 *
 * With k sources the final step divides by √k. Classes are matched by name, so the tables may
 * list them in different orders; the result follows the first table's order. Every table must
 * have exactly the same set of classes (the error names the missing ones and the table), and no
 * row may be all zeros (it has no direction to normalise).
 *
 * @example
 * const w2v = new EmbeddingTable({ classNames: ['cat', 'dog'], vectors: [[3, 4], [1, 0]] });
 * const ft = new EmbeddingTable({ classNames: ['dog', 'cat'], vectors: [[0, 2], [5, 0]] });
 * combineSources([w2v, ft]).vector('cat'); // [0.6, 0.8, 1, 0] / √2
 */
export function combineSources(tables: readonly EmbeddingTable[]): EmbeddingTable {
  if (tables == null || tables.length === 0) {
    throw new Error('combineSources: expected at least one EmbeddingTable');
  }
  tables.forEach((t, i) => {
    if (!(t instanceof EmbeddingTable)) throw new Error(`combineSources: table ${i} is not an EmbeddingTable`);
  });
  const first = tables[0];
  const names = first.classNames;
  const problems: string[] = [];
  for (let i = 1; i < tables.length; i++) {
    const t = tables[i];
    const missing = names.filter((n) => !t.has(n));
    const extra = t.classNames.filter((n) => !first.has(n));
    if (missing.length > 0) {
      problems.push(`${describe(t, i)} lacks ${missing.map((n) => `'${n}'`).join(', ')}`);
    }
    if (extra.length > 0) {
      problems.push(`${describe(first, 0)} lacks ${extra.map((n) => `'${n}'`).join(', ')} (present in ${describe(t, i)})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`combineSources: the tables do not have the same classes: ${problems.join('; ')}`);
  }
  const dimension = tables.reduce((s, t) => s + t.dimension, 0);
  const vectors = names.map((name) => {
    const row = new Float64Array(dimension);
    let off = 0;
    tables.forEach((t, i) => {
      const v = t.vector(name);
      if (l2Norm(v) === 0) {
        throw new Error(`combineSources: class '${name}' has an all-zero vector in ${describe(t, i)}`);
      }
      row.set(l2Normalize(v), off);
      off += t.dimension;
    });
    return l2Normalize(Array.from(row));
  });
  return new EmbeddingTable({
    classNames: names,
    vectors,
    dimension,
    provenance: {
      combination: 'l2(concat(l2(source_1), …, l2(source_k)))',
      sources: tables.map((t) => ({ dimension: t.dimension, ...(t.source ? { file: t.source } : {}), ...t.provenance })),
    },
  });
}
