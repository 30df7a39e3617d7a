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
import { regularFileSize } from '@sign/core/node';
import { ConfigError, closedConfigProblems, parseConfig } from './validate';
import type { ExperimentConfig } from './schema';
import { isPlainObject, mergeConfig } from './merge';

/** The largest config file read (1 MiB; the app's are under 2 KB). */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;
/** How many `_base_` files deep a config may compose. */
export const MAX_BASE_DEPTH = 16;

function readJson(path: string, from?: string): Record<string, unknown> {
  let text: string;
  const where = `${path}${from ? ` (a _base_ of ${from})` : ''}`;
  let size: number;
  try {
    // checked before reading: a FIFO would block for ever, /dev/zero never end
    size = regularFileSize(path);
  } catch (err) {
    const m = (err as Error).message;
    throw new ConfigError([`cannot read ${where}: ${/^(E[A-Z]+):/.exec(m)?.[1] ?? m}`], from ?? path, 'file');
  }
  if (size > MAX_CONFIG_FILE_BYTES) throw new ConfigError([`cannot read ${where}: ${size} bytes is more than a config file may have (${MAX_CONFIG_FILE_BYTES})`], from ?? path, 'file');
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`], from ?? path, 'file');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`not valid JSON (${(err as Error).message})`], where, 'file');
  }
  if (!isPlainObject(raw)) throw new ConfigError([`expected a JSON object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`], where, 'file');
  const unsafe = closedConfigProblems(raw);
  if (unsafe.length > 0) throw new ConfigError(unsafe, where);
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
  if (chain.length >= MAX_BASE_DEPTH) throw new ConfigError([`_base_: more than ${MAX_BASE_DEPTH} files deep (${[...chain, file].join(' → ')})`], chain[chain.length - 1], 'file');
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
