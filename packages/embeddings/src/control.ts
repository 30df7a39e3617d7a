import { Rng } from '@sign/core';
import { EmbeddingTable, l2Normalize } from './table';

/**
 * A control table for a zero-shot experiment: the rows of the `unseen` classes are replaced, the
 * seen rows are kept.
 * - 'random': each unseen row becomes a random unit vector (Gaussian direction) drawn from `seed`;
 *   run several seeds for several draws.
 * - 'permuted': the unseen rows are permuted among the unseen classes so that no class keeps its
 *   own vector (a random cyclic permutation from `seed`, Sattolo's algorithm; needs at least 2
 *   unseen classes).
 * A method that does as well with these controls as with the real table is not using the
 * embeddings' information.
 *
 * @example
 * const real = new EmbeddingTable({ classNames: ['cat', 'dog', 'cow'], vectors: [[1, 0], [0, 1], [0.6, 0.8]] });
 * const rand = controlEmbeddings(real, ['dog', 'cow'], 'random', 1);   // 'cat' row kept
 * const perm = controlEmbeddings(real, ['dog', 'cow'], 'permuted', 1); // dog gets cow's vector and vice versa
 */
export function controlEmbeddings(table: EmbeddingTable, unseen: readonly string[], mode: 'random' | 'permuted', seed: number): EmbeddingTable {
  if (!(table instanceof EmbeddingTable)) throw new Error('controlEmbeddings: table must be an EmbeddingTable');
  const names = [...new Set(unseen)];
  if (names.length !== unseen.length) throw new Error(`controlEmbeddings: unseen classes listed twice: ${unseen.join(', ')}`);
  if (names.length === 0) throw new Error('controlEmbeddings: no unseen classes given');
  for (const n of names) table.id(n); // throws naming a missing class
  const rows = table.classNames.map((n) => table.vector(n));
  const rng = new Rng(seed).fork(`control/${mode}`);
  const provenance: Record<string, unknown> = { ...table.provenance, control: mode, controlSeed: seed, controlUnseen: names };
  if (mode === 'random') {
    for (const n of names) rows[table.id(n)] = l2Normalize(rng.normalArray(table.dimension));
  } else if (mode === 'permuted') {
    if (names.length < 2) throw new Error('controlEmbeddings: permuting needs at least 2 unseen classes');
    const order = names.map((_, i) => i);
    // Sattolo's algorithm: a uniformly random cyclic permutation, which has no fixed point.
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const mapping: Record<string, string> = {};
    names.forEach((n, i) => {
      const from = names[order[i]!]!;
      rows[table.id(n)] = table.vector(from);
      mapping[n] = from;
    });
    provenance.controlMapping = mapping;
  } else {
    throw new Error(`controlEmbeddings: mode must be 'random' or 'permuted', got '${String(mode)}'`);
  }
  return new EmbeddingTable({ classNames: table.classNames, vectors: rows, dimension: table.dimension, provenance });
}
