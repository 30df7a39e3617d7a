import { EmbeddingTable, combineSources, l2Normalize } from '@sign/embeddings';
// bundled into the build (31 KB), so that the table needs no file access (browsers)
import gloveJson from '../assets/glove-fashion.json';
import { FASHION_ATTRIBUTES, attributeVector } from './attributes';
import { FASHION_CLASSES, FASHION_ITEM_CLASSES } from './classes';

export type FashionEmbeddingSource = 'glove' | 'attributes' | 'both';

export interface FashionEmbeddingOptions {
  /**
   * Add a row for the background class first, so that row i is class id i (0..10). Default false:
   * 10 rows, row i is class id i + 1 (CaGNet/SIGN exclude background from the classes). The
   * background row is the GloVe vector of the word 'background' and, in the attribute table, a
   * dedicated attribute 'background' that no item has.
   */
  includeBackground?: boolean;
}

interface GloveFile {
  format: string;
  dimension: number;
  source: Record<string, unknown>;
  classes: Record<string, { words: string[]; vector: number[] }>;
  words: Record<string, number[]>;
}

let gloveCache: GloveFile | undefined;

/**
 * The committed GloVe table (assets/glove-fashion.json, made by scripts/extract-glove.ts, bundled
 * into the build), checked once.
 *
 * @example
 * fashionGloveTable().classes['ankle boot'].words; // ['ankle', 'boot']
 */
export function fashionGloveTable(): GloveFile {
  if (gloveCache) return gloveCache;
  const path = 'assets/glove-fashion.json';
  const obj = gloveJson as unknown as GloveFile;
  if (obj.format !== 'sign-fashion-glove' || obj.dimension !== 100) {
    throw new Error(`${path}: not a sign-fashion-glove table of dimension 100`);
  }
  for (const name of FASHION_CLASSES) {
    const c = obj.classes[name];
    if (!c || !Array.isArray(c.vector) || c.vector.length !== 100 || !c.vector.every(Number.isFinite)) {
      throw new Error(`${path}: class '${name}' is missing or has a bad vector`);
    }
  }
  return (gloveCache = obj);
}

function classNamesFor(opts: FashionEmbeddingOptions): string[] {
  return opts.includeBackground ? [...FASHION_CLASSES] : [...FASHION_ITEM_CLASSES];
}

function gloveEmbeddings(names: string[]): EmbeddingTable {
  const g = fashionGloveTable();
  return new EmbeddingTable({
    classNames: names,
    vectors: names.map((n) => l2Normalize(g.classes[n]!.vector)),
    provenance: {
      name: 'glove',
      source: g.source,
      rule: 'mean of the raw GloVe vectors of the words, then L2-normalised',
      words: Object.fromEntries(names.map((n) => [n, g.classes[n]!.words])),
    },
  });
}

function attributeEmbeddings(names: string[]): EmbeddingTable {
  return new EmbeddingTable({
    classNames: names,
    vectors: names.map((n) => l2Normalize(attributeVector(n))),
    provenance: {
      name: 'attributes',
      rule: 'hand-made attribute values (0, 0.5, 1), L2-normalised',
      attributes: FASHION_ATTRIBUTES.map((a) => a.name),
    },
  });
}

/**
 * Class embeddings for fashion-scenes, every row L2-normalised:
 * - 'glove': GloVe 6B 100-d, the mean of the vectors of the words naming the class (100-d);
 * - 'attributes': the hand-made visual attribute table (19-d, see FASHION_ATTRIBUTES);
 * - 'both' (default): each source L2-normalised, concatenated, normalised again (119-d), the way
 *   SIGN combines word2vec and fastText.
 *
 * Rows are the 10 item classes in id order (row i = class id i + 1); with `includeBackground`,
 * 11 rows with row i = class id i.
 *
 * @example
 * const table = fashionEmbeddings('both');
 * table.dimension;        // 119
 * table.vector('sandal'); // Float32Array, unit norm
 */
export function fashionEmbeddings(source: FashionEmbeddingSource = 'both', opts: FashionEmbeddingOptions = {}): EmbeddingTable {
  const names = classNamesFor(opts);
  switch (source) {
    case 'glove':
      return gloveEmbeddings(names);
    case 'attributes':
      return attributeEmbeddings(names);
    case 'both': {
      const t = combineSources([gloveEmbeddings(names), attributeEmbeddings(names)]);
      return new EmbeddingTable({
        classNames: t.classNames,
        vectors: t.classNames.map((n) => t.vector(n)),
        provenance: { name: 'glove+attributes', ...t.provenance },
      });
    }
    default:
      throw new Error(`fashionEmbeddings: unknown source '${String(source)}'; use 'glove', 'attributes' or 'both'`);
  }
}
