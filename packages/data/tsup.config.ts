import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // src/node/assets.ts uses __dirname where CommonJS defines it, else import.meta.url (ESM). The
  // CommonJS build needs tsup's shim for import.meta.url (no imports); its ESM shim (`__dirname`
  // from `import path from 'path'` and 'url') is left out: it is not needed, and it landed in the
  // chunk that the browser-safe main entry imports (tooling/browser bundles dist/ to check).
  shims: true,
  esbuildOptions(options, { format }) {
    if (format === 'esm') options.inject = (options.inject ?? []).filter((f) => !/esm_shims\.js$/.test(f));
  },
  // one copy of the shared code for both entries in the CommonJS build too
  splitting: true,
});
