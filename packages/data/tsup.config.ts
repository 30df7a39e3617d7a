import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // src/node/assets.ts locates ../assets from __dirname (CJS) or import.meta.url (ESM): shim both.
  shims: true,
  // one copy of the shared code for both entries in the CommonJS build too
  splitting: true,
});
