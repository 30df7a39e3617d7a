import type { Rng } from '@sign/core';
import { GzsModel } from './model';
import type { ClassInfo, ModelConfigBase, Recipe } from './types';

/**
 * Builds the model of a recipe for a validated `model` config section.
 *
 * @example
 * const model = buildModel(recipes.get('zs3net'), config.model, { classes, channels: 3, rng: new Rng(0) });
 * model.groups.get('generator'); // { part: 'generator', variables: Map { 'generator.layer1.kernel' → …, … } }
 */
export function buildModel<C extends ModelConfigBase>(
  recipe: Recipe<C>,
  config: C,
  ctx: { classes: ClassInfo; channels: number; rng: Rng },
): GzsModel {
  if (config.type !== recipe.type) throw new Error(`buildModel: config of '${config.type}' given to recipe '${recipe.type}'`);
  return new GzsModel(recipe.modules(config), ctx.classes, ctx.channels, ctx.rng, recipe.parameterGroups(config));
}
