/**
 * Every library package's main entry bundles for the browser (esbuild --platform=browser) without
 * a single Node built-in, and runs in a context without Node's globals; the `/node` entries are
 * where the Node imports went. The same holds for the BUILT main entries (`dist/index.js`, what
 * an app's bundler gets from npm, where tsup may add code of its own such as its `__dirname`
 * shim). initBackend's browser branch is run in such a context.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, libraryPackages, runWithoutNode } from '../bundle';

/**
 * Packages whose main entry is known not to be browser-ready yet, with the reason. The test fails
 * when one of them becomes clean, so that this list only shrinks.
 */
const NOT_YET: Record<string, string> = {};

const packages = libraryPackages();

describe('browser bundles of the main entries', () => {
  it('finds the library packages', () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@sign/core', '@sign/embeddings', '@sign/data', '@sign/datasets']));
  });

  for (const p of packages) {
    it(`${p.name}: no Node built-in is imported${NOT_YET[p.name] ? ' (not yet: ' + NOT_YET[p.name] + ')' : ''}`, async () => {
      const b = await bundleForBrowser(join(p.dir, 'src', 'index.ts'));
      const list = b.nodeImports.map((i) => `${i.path} (from ${i.importer})`);
      console.log(`${p.name}: ${(b.bytes / 1024).toFixed(1)} KiB minified, ${(b.gzipBytes / 1024).toFixed(1)} KiB gzip (without @tensorflow/*)`);
      if (NOT_YET[p.name]) expect(list.length, `${p.name} is browser-ready now: remove it from NOT_YET`).toBeGreaterThan(0);
      else expect(list).toEqual([]);
    });
  }

  for (const p of packages.filter((q) => !NOT_YET[q.name])) {
    it(`${p.name}: the bundle (tfjs included) loads in a context without process, Buffer or require`, async () => {
      const b = await bundleForBrowser({ contents: `import * as m from '${p.name}'; globalThis.__exports = Object.keys(m);` }, { external: [], format: 'iife' });
      const ctx = runWithoutNode(b.code);
      expect((ctx.__exports as string[]).length).toBeGreaterThan(0);
    });
  }

  it('the /node entries are where the Node imports are (the check sees them)', async () => {
    const withNode = packages.filter((p) => p.subpaths.includes('./node'));
    expect(withNode.map((p) => p.name)).toEqual(expect.arrayContaining(['@sign/core', '@sign/embeddings', '@sign/data', '@sign/datasets', '@sign/torch-io', '@sign/trainer']));
    for (const p of withNode) {
      const b = await bundleForBrowser(join(p.dir, 'src', 'node.ts'));
      expect(b.nodeImports.length, p.name).toBeGreaterThan(0);
    }
  });
});

/** The newest modification time of a file under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

describe('browser bundles of the built main entries (dist/index.js, as published)', () => {
  // a package is checked when it and the @sign/* packages it depends on (transitively) are built
  const hasDist = (p: { dir: string }) => existsSync(join(p.dir, 'dist', 'index.js'));
  const deps = (p: { dir: string }) =>
    Object.keys((JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {});
  const unbuilt = (p: (typeof packages)[number], seen = new Set<string>()): string[] => {
    if (seen.has(p.name)) return [];
    seen.add(p.name);
    const own = hasDist(p) ? [] : [p.name];
    const below = packages.filter((q) => deps(p).includes(q.name)).flatMap((q) => unbuilt(q, seen));
    return [...own, ...below];
  };
  const built = packages.filter((p) => unbuilt(p).length === 0);
  const skipped = packages.filter((q) => !built.includes(q));
  if (skipped.length > 0) console.warn(`tooling/browser: the built entries of ${skipped.map((p) => p.name).join(', ')} are not checked: not built (run 'pnpm build' first; 'pnpm test' does)`);
  for (const p of skipped) {
    it.skip(`${p.name}: not checked, ${unbuilt(p).join(', ')} not built (run 'pnpm build' first; 'pnpm test' does)`, () => {});
  }

  for (const p of built) {
    it(`${p.name}: dist/index.js imports no Node built-in, and its bundle (tfjs included) loads without process, Buffer or require`, async () => {
      const entry = join(p.dir, 'dist', 'index.js');
      if (statSync(entry).mtimeMs < newest(join(p.dir, 'src'))) console.warn(`${p.name}: dist/ is older than src/ (checking the build as it is; 'pnpm build' refreshes it)`);
      const b = await bundleForBrowser(entry, { sources: false });
      expect(b.nodeImports.map((i) => `${i.path} (from ${i.importer})`)).toEqual([]);
      const run = await bundleForBrowser({ contents: `import * as m from '${entry}'; globalThis.__exports = Object.keys(m);` }, { sources: false, external: [], format: 'iife' });
      expect(run.nodeImports).toEqual([]);
      const ctx = runWithoutNode(run.code);
      expect((ctx.__exports as string[]).length).toBeGreaterThan(0);
    });
  }

  const coreNode = built.find((p) => p.name === '@sign/core' && existsSync(join(p.dir, 'dist', 'node.js')));
  it.skipIf(!coreNode)('the check sees the Node built-ins of a built file (@sign/core/node)', async () => {
    const b = await bundleForBrowser(join(coreNode!.dir, 'dist', 'node.js'), { sources: false });
    expect(b.nodeImports.map((i) => i.path.replace(/^node:/, ''))).toContain('fs');
  });
});

describe('initBackend in a browser (a bundle run without Node)', () => {
  it('auto: webgpu and webgl are tried first, a backend the app registered is used, and the errors say what to import', async () => {
    const entry = `
      import * as tf from '@tensorflow/tfjs-core';
      import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
      import '@tensorflow/tfjs-core/dist/register_all_gradients';
      import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
      import { initBackend, warnIfSlowBackend } from '@sign/core';
      globalThis.__run = async () => {
        const out = {};
        out.auto = await initBackend('auto');
        const warnings = [];
        out.warning = warnIfSlowBackend({ warn: (m) => warnings.push(m) });
        out.warnings = warnings;
        out.grad = Array.from(await tf.grad((x) => tf.sum(tf.square(x)))(tf.tensor1d([1, 2, 3])).data());
        out.tensorflow = await initBackend('tensorflow').then(() => 'loaded', (e) => e.message);
        // an app that imported a webgl backend (here the cpu kernels under that name)
        tf.registerBackend('webgl', () => new MathBackendCPU());
        out.webgl = await initBackend('webgl');
        out.active = tf.getBackend();
        return out;
      };`;
    const b = await bundleForBrowser({ contents: entry }, { external: [], format: 'iife' });
    expect(b.nodeImports).toEqual([]);
    const ctx = runWithoutNode(b.code);
    const r = (await (ctx.__run as () => Promise<Record<string, any>>)()) as Record<string, any>;
    expect(r.auto.backend).toBe('cpu');
    expect(r.auto.attempts.map((a: { name: string }) => a.name)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(r.auto.attempts[0].reason).toContain('this runtime has no navigator.gpu');
    expect(r.auto.attempts[0].reason).toContain("import '@tensorflow/tfjs-backend-webgpu'");
    expect(r.auto.attempts[1].reason).toContain("@tensorflow/tfjs-backend-webgl could not be loaded");
    expect(r.auto.attempts[1].reason).toContain("in a bundled app, install it and add import '@tensorflow/tfjs-backend-webgl' before initBackend");
    expect(r.auto.attempts[2].reason).toContain("add import '@tensorflow/tfjs-backend-wasm'");
    expect(r.warning).toBe(
      "training runs on tfjs' plain JavaScript cpu backend, which is several times slower: import '@tensorflow/tfjs-backend-webgl' (or '@tensorflow/tfjs') and call initBackend('webgl')",
    );
    expect(r.warnings).toEqual([r.warning]);
    expect(r.grad).toEqual([2, 4, 6]);
    expect(r.tensorflow).toContain('tensorflow: @tensorflow/tfjs-node runs in Node only');
    expect(r.webgl.backend).toBe('webgl');
    expect(r.webgl.attempts).toEqual([{ name: 'webgl', ok: true }]);
    expect(r.active).toBe('webgl');
  });
});
