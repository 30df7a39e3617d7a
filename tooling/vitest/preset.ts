import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Shared vitest settings: every `@sign/*` import resolves to the package's TypeScript source,
 * so the test suite needs no build step; test files run in separate processes (tfjs keeps a
 * global engine, and the wasm backend is per process).
 */
export function signVitestConfig(root: string) {
  const alias: Record<string, string> = {};
  const pkgs = join(root, 'packages');
  for (const name of readdirSync(pkgs)) {
    const src = join(pkgs, name, 'src');
    if (!existsSync(join(src, 'index.ts'))) continue;
    // sub-entries (`@sign/core/testing`, `@sign/core/node`) before the package, so that they match first
    for (const sub of ['testing', 'node']) {
      if (existsSync(join(src, `${sub}.ts`))) alias[`@sign/${name}/${sub}`] = join(src, `${sub}.ts`);
    }
    alias[`@sign/${name}`] = join(src, 'index.ts');
  }
  return {
    resolve: { alias },
    test: {
      reporters: ['default', join(root, 'tooling', 'vitest', 'summary-reporter.ts')],
      include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tooling/*/test/**/*.test.ts'],
      pool: 'forks' as const,
      poolOptions: { forks: { maxForks: 2, minForks: 1 } },
      testTimeout: 120_000,
      hookTimeout: 120_000,
      root: resolve(root),
    },
  };
}
