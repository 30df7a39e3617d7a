import { Registry } from '@sign/core';
import { cagnet } from './cagnet/index';
import { sign } from './sign/index';
import type { Recipe } from './types';
import { zs3net } from './zs3net/index';

/**
 * The process-wide recipe registry (`Registry.shared('recipe')` of @sign/core: one object for
 * the ESM and the CJS build). Built explicitly here: adding a recipe = one folder exporting a
 * {@link Recipe} + one `provide` line below (or `recipes.register(name, recipe)` from outside).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const recipes: Registry<Recipe<any>> = Registry.shared<Recipe<any>>('recipe')
  .provide('sign', sign)
  .provide('cagnet', cagnet)
  .provide('zs3net', zs3net);
