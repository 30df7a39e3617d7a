import { Registry } from '@sign/core';
import { z } from 'zod';
import { cagnet } from './cagnet/index';
import { sign } from './sign/index';
import type { Recipe } from './types';
import { zs3net } from './zs3net/index';

/**
 * The built-in recipes: adding one = one folder exporting a {@link Recipe} + one entry here (or
 * `recipes.register(name, recipe)` from outside). The registry below and the static config type
 * (`builtinModelSchema`) are both made from this list, so nothing else names a recipe.
 */
const BUILTIN_RECIPES = [sign, cagnet, zs3net] as const;

/**
 * The process-wide recipe registry (`Registry.shared('recipe')` of @sign/core: one object for
 * the ESM and the CJS build), holding the built-ins.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const recipes: Registry<Recipe<any>> = Registry.shared<Recipe<any>>('recipe');
for (const r of BUILTIN_RECIPES) recipes.provide(r.type, r);

type SchemasOf<T> = { -readonly [K in keyof T]: T[K] extends { readonly schema: infer S } ? S : never };

/**
 * The `model` section's schema over the built-in recipes (a discriminated union on `type`), for
 * the static TypeScript type of a config; validation at run time uses everything registered.
 */
export const builtinModelSchema = z.discriminatedUnion(
  'type',
  BUILTIN_RECIPES.map((r) => r.schema) as unknown as SchemasOf<typeof BUILTIN_RECIPES>,
);
