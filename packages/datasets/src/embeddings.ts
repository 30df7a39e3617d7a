import { EMBEDDING_TABLE_FORMAT, EmbeddingTable } from '@sign/embeddings';

/**
 * Reads a class-embedding file's text: either a table written by `EmbeddingTable.save` /
 * `sign embed` (`{"format": "sign-embedding-table", …}`), or a plain object with one vector per
 * class (`{"cat": [0.1, …], "dog": […]}`, any width, all rows the same width). Returns the rows of
 * `classNames`, in that order; errors name the file and the class (a missing class, a row of
 * another width, a value that is not a finite number, a row of zeros).
 *
 * @example
 * const M = parseEmbeddings('{"background": [1, 0], "cat": [0, 1]}', 'embeddings.json', ['background', 'cat']);
 * M.vector('cat'); // Float32Array [0, 1]
 */
export function parseEmbeddings(text: string, source: string, classNames: readonly string[]): EmbeddingTable {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    throw new Error(`${source}: expected an object {"class name": [numbers], …} or a table written by 'sign embed'`);
  let table: EmbeddingTable;
  if ((obj as { format?: unknown }).format === EMBEDDING_TABLE_FORMAT) {
    try {
      table = EmbeddingTable.fromJSON(obj, source);
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).message}`);
    }
  } else {
    const entries = Object.entries(obj as Record<string, unknown>);
    if (entries.length === 0) throw new Error(`${source}: no class vectors`);
    const dim = Array.isArray(entries[0]![1]) ? (entries[0]![1] as unknown[]).length : -1;
    for (const [name, v] of entries) {
      if (!Array.isArray(v) || v.length === 0) throw new Error(`${source}: class '${name}': expected an array of numbers`);
      if (v.length !== dim) throw new Error(`${source}: class '${name}' has ${v.length} values, class '${entries[0]![0]}' has ${dim}: every vector must have the same width`);
      const bad = v.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
      if (bad >= 0) throw new Error(`${source}: class '${name}': value ${bad} is ${JSON.stringify(v[bad])}, not a finite number`);
    }
    table = new EmbeddingTable({
      classNames: entries.map(([n]) => n),
      vectors: entries.map(([, v]) => v as number[]),
      provenance: { file: source, format: 'class → vector JSON' },
      source,
    });
  }
  const missing = classNames.filter((n) => !table.has(n));
  if (missing.length > 0)
    throw new Error(`${source}: no vector for class${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `'${n}'`).join(', ')} (it has ${table.classNames.map((n) => `'${n}'`).join(', ')})`);
  const out = table.subset(classNames);
  for (const n of classNames) if (out.vector(n).every((x) => x === 0)) throw new Error(`${source}: the vector of class '${n}' is all zeros`);
  return out;
}
