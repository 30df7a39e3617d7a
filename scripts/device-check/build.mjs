// Builds .device/bundle/: the device check (main.ts and the parity case lists it imports, the
// @sign packages' sources, tfjs and its backends) as one CommonJS file, the wasm binaries beside
// it, Dawn (the `webgpu` package: its index.js and the linux-x64 binary only), and shim packages
// that answer @sign/core's run-time imports of the backends from the bundle.
// Usage: node scripts/device-check/build.mjs <outDir>
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, '.device', 'bundle'));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/** @sign/<pkg>[/<entry>] → packages/<pkg>/src/<entry or index>.ts; vitest → a stub (not run here). */
const sources = {
  name: 'sign-sources',
  setup(b) {
    b.onResolve({ filter: /^@sign\// }, (args) => {
      const [, pkg, entry] = args.path.match(/^@sign\/([^/]+)(?:\/(.+))?$/);
      return { path: join(root, 'packages', pkg, 'src', `${entry ?? 'index'}.ts`) };
    });
    b.onResolve({ filter: /^vitest$/ }, () => ({ path: 'vitest', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "const no = () => { throw new Error('vitest is not part of the device check'); };\n" +
        'export const describe = Object.assign(no, { skip: no }); export const beforeAll = no; export const beforeEach = no; export const it = no;',
      loader: 'js',
    }));
  },
};

// Resolve tfjs packages from @sign/core's folder (where pnpm links them).
const coreRequire = createRequire(join(root, 'packages', 'core', 'package.json'));
const result = await build({
  entryPoints: [join(root, 'scripts', 'device-check', 'main.ts')],
  outfile: join(out, 'device-check.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  // One copy of tfjs-core: the packages' ES module builds (the CommonJS node bundles would pull
  // a second copy beside the per-file gradient modules).
  mainFields: ['module', 'main'],
  external: ['webgpu'],
  plugins: [sources],
  nodePaths: [join(root, 'packages', 'core', 'node_modules'), join(root, 'node_modules')],
  logLevel: 'warning',
  metafile: true,
});

// The wasm backend finds its binaries beside the script that loaded it.
const wasmDir = dirname(coreRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
]) {
  copyFileSync(join(wasmDir, 'dist', f), join(out, f));
}

// Dawn: the real package, trimmed to Linux x64.
const dawnDir = dirname(coreRequire.resolve('webgpu/package.json'));
const dawnOut = join(out, 'node_modules', 'webgpu');
mkdirSync(join(dawnOut, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md'])
  if (existsSync(join(dawnDir, f))) copyFileSync(join(dawnDir, f), join(dawnOut, f));
copyFileSync(
  join(dawnDir, 'dist', 'linux-x64', 'dawn.node'),
  join(dawnOut, 'dist', 'linux-x64', 'dawn.node'),
);

// Shims for initBackend's run-time imports: the bundle registered these modules on globalThis.
const shim = (spec, file, body) => {
  const dir = join(out, 'node_modules', ...spec.split('/'));
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: spec, version: '0.0.0-device-check', main: 'index.js' }),
  );
  writeFileSync(join(dir, file), body);
};
for (const spec of [
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-backend-webgpu',
]) {
  shim(
    spec,
    'index.js',
    `module.exports = globalThis.__signDeviceModules[${JSON.stringify(spec)}];\n`,
  );
}
// Gradients and chained ops are registered by the bundle itself (main.ts imports them).
shim('@tensorflow/tfjs-core', 'dist/register_all_gradients.js', 'module.exports = {};\n');
shim(
  '@tensorflow/tfjs-core',
  'dist/public/chained_ops/register_all_chained_ops.js',
  'module.exports = {};\n',
);

const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0);
console.log(`device-check bundle: ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB of JavaScript)`);
