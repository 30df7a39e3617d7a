/** The data module of a config's `data` section (Node file access), for reports and predictions. */
import { createDataModule, type DataModule } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import type { ExperimentConfig } from '@sign/trainer';
import './plugins.js';

/**
 * Opens the data of a config, with `overrides` of its `data` keys (e.g. `{ root }` for another
 * folder).
 */
export function openData(config: ExperimentConfig, overrides: Record<string, unknown> = {}): Promise<DataModule> {
  return createDataModule({ ...config.data, ...overrides }, { io: nodeIo, seed: config.seed });
}
