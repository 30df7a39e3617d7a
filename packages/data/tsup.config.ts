import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // src/assets.ts locates ../assets from __dirname (CJS) or import.meta.url (ESM): shim both.
  shims: true,
});
