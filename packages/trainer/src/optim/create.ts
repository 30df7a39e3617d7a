/** The optimizers of a model from the registry, one per part. */
import type { GzsModel, Part } from '@sign/recipes';
import type { ExperimentConfig } from '../config/schema';
import type { Optimizers } from '../updates';
import { optimizers as optimizerRegistry } from './registry';

/**
 * The optimizers of a model, one per part, from the registry (`config.optimizers.<part>.type`),
 * with each variable's learning-rate and weight-decay multipliers from its parameter group (`lrMult`,
 * `decayMult`, default 1).
 */
export function createOptimizers(config: ExperimentConfig, model: GzsModel): Optimizers {
  const groupOf = new Map<string, string>();
  for (const [name, g] of model.groups) for (const path of g.variables.keys()) groupOf.set(path, name);
  const make = (part: Part) => {
    const c = config.optimizers[part];
    // configs recorded in checkpoints written before a key existed (decayMult) lack it: its default applies
    const lrMult = (c.lrMult ?? {}) as Record<string, number>;
    const decayMult = (c.decayMult ?? {}) as Record<string, number>;
    return optimizerRegistry.get(c.type).create(
      c,
      (variable: string) => lrMult[groupOf.get(variable) ?? ''] ?? 1,
      (variable: string) => decayMult[groupOf.get(variable) ?? ''] ?? 1,
    );
  };
  return { backbone: make('backbone'), classifier: make('classifier'), generator: make('generator') };
}
