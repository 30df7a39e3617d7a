/**
 * From a data module (@sign/datasets' contract) to the model's class table. The trainer never
 * names a dataset: `data` configs are validated by the datasets' own schemas and opened with
 * @sign/datasets' `createDataModule`.
 */
import type { DataModule } from '@sign/datasets';
import type { ClassInfo } from '@sign/recipes';

/**
 * The class table a model is built for, from a data module: ids = the dataset's class ids, seen =
 * object classes not unseen (background apart), M = the module's embeddings, one row per class.
 *
 * @example
 * const classes = classInfo(dataModule); // classes.embeddings: [K·E]
 */
export function classInfo(dm: DataModule): ClassInfo {
  const { classNames, background } = dm.meta;
  const table = dm.embeddings;
  const E = table.dimension;
  const embeddings = new Float32Array(classNames.length * E);
  classNames.forEach((name, i) => embeddings.set(table.vector(name), i * E));
  return {
    classNames: [...classNames],
    seen: dm.seen.filter((c) => c !== background),
    unseen: [...dm.unseen].sort((a, b) => a - b),
    background,
    embeddings,
    embeddingDim: E,
  };
}
