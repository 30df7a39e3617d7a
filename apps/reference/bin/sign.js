#!/usr/bin/env node
// The `sign` CLI. Runs the built bundle (dist/cli.js, made by `tsup`, importing the @sign/*
// packages' built dist) when it exists; otherwise, or with SIGN_FROM_SOURCE=1, runs the
// TypeScript sources through tsx with @sign/* mapped to packages/*/src (tsconfig.source.json),
// so a developer needs no build step. See README.md ("Running from source or from dist").
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'cli.js');
const fromSource = process.env.SIGN_FROM_SOURCE === '1' || !existsSync(dist);

let cli;
if (fromSource) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      `sign: ${dist} is not built and tsx (to run from source) is not installed.\n` +
        `Build first: npx turbo run build --filter=@sign/reference...\n`,
    );
    process.exit(1);
  }
  register({ tsconfig: join(root, 'tsconfig.source.json') });
  cli = await import(pathToFileURL(join(root, 'src', 'cli.ts')).href);
} else {
  cli = await import(pathToFileURL(dist).href);
}

process.exitCode = await cli.main(process.argv.slice(2));
