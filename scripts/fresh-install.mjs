// The packages as a new user gets them: packs every published package (scripts/pack.mjs, after
// `pnpm build`), makes a new npm project in a temporary folder (CommonJS, npm's default), installs
// the tarballs with @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm, tsx, typescript and vitest
// (the optional peer of the /testing entries) from the
// registry, then
//   1. runs every package README's opening example as written, saved as `example.mts` and run with
//      `npx tsx` (what the READMEs tell users to do); where a README promises its output in
//      `console.log(...); // output` comments, the output must be exactly that;
//   2. type-checks a file that imports every entry point (`@sign/x`, `@sign/x/node`, …) under
//      TypeScript's node10, node16 and bundler module resolution (`typesVersions` for node10);
//   3. require()s and import()s every entry point (but /testing, whose vitest loads only in its
//      runner) from CommonJS and ESM.
// Needs the npm registry; takes a minute or two. Exits 1 on any failure.
//
//   node scripts/fresh-install.mjs [--keep]   # --keep: leave the project folder and print its path
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'sign-fresh-'));
const tarballs = join(work, 'tarballs');
const project = join(work, 'project');
const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
let failed = 0;
const fail = (msg) => {
  failed++;
  console.error(`FAIL ${msg}`);
};

/** Packages whose README example is known not to run outside the repository yet, with the reason. */
const NOT_YET = {};

execFileSync(process.execPath, [join(root, 'scripts', 'pack.mjs'), '--out', tarballs], { stdio: ['ignore', 'ignore', 'inherit'] });
const tgz = readdirSync(tarballs).filter((f) => f.endsWith('.tgz')).map((f) => join(tarballs, f));
console.log(`packed ${tgz.length} packages (${seconds()})`);

execFileSync('mkdir', ['-p', project]);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh', version: '1.0.0', private: true }, null, 2));
const npm = (args, opts = {}) => spawnSync('npm', args, { cwd: project, encoding: 'utf8', ...opts });
const install = npm(
  ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tgz, '@tensorflow/tfjs@4.22.0', '@tensorflow/tfjs-backend-wasm@4.22.0', 'tsx@^4.20.0', 'typescript@~5.9.3', 'vitest@^3.2.4', '@types/node@^20.19.0'],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
if (install.status !== 0) {
  console.error(install.stdout, install.stderr);
  fail('npm install of the tarballs and @tensorflow/tfjs');
  process.exit(1);
}
console.log(`npm install: tarballs + @tensorflow/tfjs + @tensorflow/tfjs-backend-wasm + tsx + typescript (${seconds()})`);

const packages = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

// 1. README examples
for (const { dir, pkg } of packages) {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) {
    fail(`${pkg.name}: README has no opening ts example`);
    continue;
  }
  const code = block[1];
  const file = `example-${pkg.name.split('/')[1]}.mts`;
  writeFileSync(join(project, file), code);
  const t0 = Date.now();
  const run = spawnSync('npx', ['--no-install', 'tsx', file], { cwd: project, encoding: 'utf8', timeout: 300_000 });
  const took = ((Date.now() - t0) / 1000).toFixed(1);
  const lines = run.stdout.split('\n').filter((l) => l.length > 0);
  const promised = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
  const exact = /toEqual\(promised\)/.test(safeRead(join(dir, 'test', 'readme.test.ts')));
  let problem = null;
  if (run.status !== 0) problem = `exit ${run.status ?? run.signal}: ${(run.stderr || '').trim().split('\n').slice(-6).join(' | ')}`;
  else if (exact && JSON.stringify(lines) !== JSON.stringify(promised)) problem = `printed ${JSON.stringify(lines)}, the README promises ${JSON.stringify(promised)}`;
  if (NOT_YET[pkg.name]) {
    console.log(`${pkg.name}: README example ${problem ? 'fails' : 'runs'} (${took} s; not yet required: ${NOT_YET[pkg.name]})`);
    if (!problem) fail(`${pkg.name}: its README example runs now: remove it from NOT_YET`);
  } else if (problem) fail(`${pkg.name}: README example (${file}): ${problem}`);
  else console.log(`${pkg.name}: README example runs as written (${took} s${exact ? `, ${lines.length} lines as promised` : ''})`);
}

function safeRead(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

// 2. types of every entry point under node10, node16 and bundler resolution
const entries = packages.flatMap(({ pkg }) => Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`)));
const typesFile = entries.map((e, i) => `import * as m${i} from '${e}';\nexport const n${i}: number = Object.keys(m${i}).length;`).join('\n') + '\n';
writeFileSync(join(project, 'entries.ts'), typesFile);
for (const [module, resolution] of [
  ['commonjs', 'node10'],
  ['node16', 'node16'],
  ['esnext', 'bundler'],
]) {
  const r = npm(['exec', '--no', '--', 'tsc', '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', module, '--moduleResolution', resolution, '--types', 'node', 'entries.ts']);
  if (r.status !== 0) fail(`tsc --moduleResolution ${resolution}: ${(r.stdout + r.stderr).trim().split('\n').slice(0, 8).join(' | ')}`);
  else console.log(`tsc --module ${module} --moduleResolution ${resolution}: all ${entries.length} entry points resolve with their types`);
}

// 3. require() and import() of every entry point (but /testing, which imports vitest: vitest loads
// only inside its runner)
const runtime = entries.filter((e) => !e.endsWith('/testing'));
const cjs = spawnSync(process.execPath, ['-e', `for (const e of ${JSON.stringify(runtime)}) { const m = require(e); if (!Object.keys(m).length) throw new Error(e + ' exports nothing'); }`], { cwd: project, encoding: 'utf8' });
if (cjs.status !== 0) fail(`require() of every entry: ${cjs.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
else console.log(`require(): all ${runtime.length} entry points but /testing load from CommonJS`);
const esm = spawnSync(process.execPath, ['--input-type=module', '-e', `for (const e of ${JSON.stringify(runtime)}) { const m = await import(e); if (!Object.keys(m).length) throw new Error(e + ' exports nothing'); }`], { cwd: project, encoding: 'utf8' });
if (esm.status !== 0) fail(`import() of every entry: ${esm.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
else console.log(`import(): all ${runtime.length} entry points but /testing load from ESM`);

if (keep) console.log(`project kept in ${project}`);
else rmSync(work, { recursive: true, force: true });
console.log(`fresh-install: ${failed === 0 ? 'ok' : `${failed} failure(s)`} (${seconds()})`);
process.exit(failed === 0 ? 0 : 1);
