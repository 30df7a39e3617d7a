import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function moduleDir(): string {
  // CJS build and vitest define __dirname; the ESM build has import.meta.url (tsup shims both).
  if (typeof __dirname === 'string') return __dirname;
  return dirname(fileURLToPath(import.meta.url));
}

let cached: string | undefined;

/**
 * The folder holding the package's shipped data (`assets/` in the package root). Works from the
 * TypeScript sources (`src/`, as in the tests) and from the build (`dist/`), since both sit one
 * level below the package root; the folder is listed in package.json "files".
 */
export function assetsDir(): string {
  if (cached) return cached;
  const here = moduleDir();
  const tried = [resolve(here, '..', 'assets'), resolve(here, 'assets'), resolve(here, '..', '..', 'assets')];
  for (const dir of tried) {
    if (existsSync(join(dir, 'fashion-mnist-subset'))) return (cached = dir);
  }
  throw new Error(`@sign/data: shipped assets not found; looked in ${tried.join(', ')}`);
}

/** The shipped compact Fashion-MNIST subset (same file names as the full set). */
export function subsetDir(): string {
  return join(assetsDir(), 'fashion-mnist-subset');
}
