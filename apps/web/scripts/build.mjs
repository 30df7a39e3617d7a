/**
 * Builds the page into a folder: `main.js` (src/main.ts bundled by esbuild for the browser, tfjs
 * included), `index.html`, the tfjs wasm binaries (the page's backend) and the checkpoint it
 * loads (`demo.safetensors`; default fixtures/demo.safetensors, exported by scripts/export-checkpoint.ts).
 *
 *   node scripts/build.mjs [--out DIR] [--checkpoint FILE]
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_CHECKPOINT = join(WEB_ROOT, 'fixtures', 'demo.safetensors');

/**
 * `@sign/x` (and `@sign/x/sub`) → the package's TypeScript source, as the repository's browser
 * check (tooling/browser) bundles them: the page is built from the sources, so that it needs no
 * package build and bundles exactly what that check covers.
 */
function sourceAliases() {
  const root = resolve(WEB_ROOT, '../..');
  const alias = {};
  for (const d of readdirSync(join(root, 'packages'))) {
    const file = join(root, 'packages', d, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    for (const sub of Object.keys(pkg.exports ?? {})) {
      if (sub !== '.' && sub !== './package.json') alias[`${pkg.name}/${sub.slice(2)}`] = join(root, 'packages', d, 'src', `${sub.slice(2)}.ts`);
    }
    alias[pkg.name] = join(root, 'packages', d, 'src', 'index.ts');
  }
  return alias;
}

/** The folder that holds @tensorflow/tfjs-backend-wasm's .wasm files. */
function wasmDir() {
  const require = createRequire(join(WEB_ROOT, 'package.json'));
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/**
 * Builds the page into `outDir` (created) and returns the files written.
 * @param {{ outDir?: string, checkpoint?: string, minify?: boolean }} opts
 */
export async function buildWeb(opts = {}) {
  const outDir = resolve(opts.outDir ?? join(WEB_ROOT, 'dist'));
  const checkpoint = resolve(opts.checkpoint ?? DEFAULT_CHECKPOINT);
  if (!existsSync(checkpoint)) {
    throw new Error(`web: checkpoint not found: ${checkpoint} (export one with apps/web/scripts/export-checkpoint.ts)`);
  }
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(WEB_ROOT, 'src', 'main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: opts.minify ?? true,
    sourcemap: true,
    outfile: join(outDir, 'main.js'),
    logLevel: 'warning',
    alias: sourceAliases(),
  });
  copyFileSync(join(WEB_ROOT, 'src', 'index.html'), join(outDir, 'index.html'));
  const wasm = readdirSync(wasmDir()).filter((f) => f.endsWith('.wasm'));
  for (const f of wasm) copyFileSync(join(wasmDir(), f), join(outDir, f));
  copyFileSync(checkpoint, join(outDir, 'demo.safetensors'));
  return { outDir, files: ['index.html', 'main.js', 'main.js.map', 'demo.safetensors', ...wasm] };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const t0 = Date.now();
  const { outDir } = await buildWeb({ outDir: get('--out'), checkpoint: get('--checkpoint') });
  console.log(`web: built ${outDir} in ${Date.now() - t0} ms`);
}
