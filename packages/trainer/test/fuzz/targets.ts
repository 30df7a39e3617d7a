/**
 * What the fuzz child runs for config files (see tooling/fuzz/child.ts): variant 0 loads and
 * validates with `loadConfigFile`; variant 1 composes, merges a flag-like override and validates,
 * as the reference app does. The demo dataset is registered as the app registers it.
 */
import { fashionScenesDataset } from '@sign/data/node';
import { datasets } from '@sign/datasets';
import { mergeConfig, parseConfig, totalSteps } from '../../src/index';
import { composeConfigFile, loadConfigFile } from '../../src/node';

datasets.provide('fashion-scenes', fashionScenesDataset);

export async function config(path: string, variant: number) {
  const c = variant === 0 ? loadConfigFile(path) : parseConfig(mergeConfig(composeConfigFile(path), { seed: 1, runtime: { backend: 'cpu' } }), path);
  return { name: c.name.slice(0, 40), recipe: c.model.type, steps: totalSteps(c) };
}
