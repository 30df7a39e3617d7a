#!/usr/bin/env node
// The `sign` CLI launcher.
//
// It runs the built bundle (dist/cli.js, which imports the @sign/* packages' built dist) when
// that bundle and every package's dist exist and are newer than all TypeScript sources;
// otherwise it runs the sources directly through tsx, with @sign/* mapped to packages/*/src
// (tsconfig.source.json, the same mapping vitest uses). So `node apps/reference/bin/sign.js`
// works from a fresh clone right after install, and never runs a stale build.
// SIGN_FROM_SOURCE=1 forces the sources; SIGN_FROM_SOURCE=0 forces dist; SIGN_DEBUG=1 says which
// one runs (and prints stack traces of failures).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(app, '..', '..');
const dist = join(app, 'dist', 'cli.js');

/** Newest mtime of the .ts files under dir (recursively), 0 if none. */
function newestSource(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Why dist cannot be used (missing or older than a source), or null when it is up to date. */
function distProblem() {
  if (!existsSync(dist)) return `${dist} is not built`;
  const units = [{ src: join(app, 'src'), out: dist }];
  const pkgs = join(repo, 'packages');
  if (existsSync(pkgs)) {
    for (const name of readdirSync(pkgs)) {
      const src = join(pkgs, name, 'src');
      if (existsSync(join(src, 'index.ts'))) units.push({ src, out: join(pkgs, name, 'dist', 'index.js') });
    }
  }
  for (const u of units) {
    if (!existsSync(u.out)) return `${u.out} is not built`;
    if (newestSource(u.src) > statSync(u.out).mtimeMs) return `${u.out} is older than its sources`;
  }
  return null;
}

// A closed stdout (`sign … | head`, a parent that went away) must not kill a run in the middle
// of writing a checkpoint: further output is dropped and the command carries on.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
  throw err;
});

const force = process.env.SIGN_FROM_SOURCE;
const problem = force === '1' ? 'SIGN_FROM_SOURCE=1' : force === '0' ? null : distProblem();

if (process.env.SIGN_DEBUG) process.stderr.write(`sign: ${problem === null ? `running ${dist}` : `running the sources (${problem})`}\n`);

let cli;
if (problem !== null) {
  let register = null;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // tsx is a dev dependency; without it only a build can run.
  }
  if (register) {
    register({ tsconfig: join(app, 'tsconfig.source.json') });
    cli = await import(pathToFileURL(join(app, 'src', 'cli.ts')).href);
  } else if (existsSync(dist)) {
    process.stderr.write(`sign: warning: ${problem}, and tsx is not installed to run the sources; using the build as it is\n`);
  } else {
    process.stderr.write(`sign: ${problem} and tsx is not installed. Build first: npx pnpm build\n`);
    process.exit(1);
  }
}
if (!cli) cli = await import(pathToFileURL(dist).href);

process.exitCode = await cli.main(process.argv.slice(2));
