/**
 * Config files composed from base files (mmsegmentation's `_base_`): a JSON file may name base
 * files, merged in order, with its own keys merged on top. Objects merge key by key; arrays and
 * values replace; an object with `"_delete_": true` replaces the base's object instead of merging.
 *
 * ```json
 * { "_base_": ["../_base_/datasets/fashion-scenes.json", "../_base_/models/sign.json", "../_base_/schedules/demo.json"],
 *   "name": "demo", "seed": 0 }
 * ```
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, parseConfig } from './validate';
import type { ExperimentConfig } from './schema';
import { isPlainObject, mergeConfig } from './merge';

function readJson(path: string, from?: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${path}${from ? ` (a _base_ of ${from})` : ''}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], from ?? path, 'file');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid JSON (${(err as Error).message})`], path, 'file');
  }
  if (!isPlainObject(raw)) throw new ConfigError([`expected a JSON object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`], path, 'file');
  return raw;
}

/**
 * Reads a config file and its `_base_` files (paths relative to the file that names them,
 * recursively; a cycle is an error) into one raw object, not validated.
 *
 * @example
 * const raw = composeConfigFile('apps/reference/configs/demo.json');
 */
export function composeConfigFile(path: string, chain: string[] = []): Record<string, unknown> {
  const file = resolve(path);
  if (chain.includes(file)) throw new ConfigError([`_base_: cycle ${[...chain, file].join(' → ')}`], chain[chain.length - 1], 'file');
  const raw = readJson(file, chain.length ? chain[chain.length - 1] : undefined);
  const { _base_: bases, ...own } = raw;
  if (bases === undefined) return own;
  const list = typeof bases === 'string' ? [bases] : bases;
  if (!Array.isArray(list) || list.some((b) => typeof b !== 'string'))
    throw new ConfigError([`_base_: expected a file name or a list of file names, got ${JSON.stringify(bases)}`], path, 'file');
  let merged: Record<string, unknown> = {};
  for (const b of list as string[]) merged = mergeConfig(merged, composeConfigFile(resolve(dirname(file), b), [...chain, file]));
  return mergeConfig(merged, own);
}

/**
 * Reads, composes and validates a config file; errors (unreadable file, bad JSON, a missing
 * base, an invalid key) are a {@link ConfigError} naming the file.
 *
 * @example
 * const config = loadConfigFile('apps/reference/configs/quick.json');
 */
export function loadConfigFile(path: string, overrides: Record<string, unknown> = {}): ExperimentConfig {
  return parseConfig(mergeConfig(composeConfigFile(path), overrides), path);
}
