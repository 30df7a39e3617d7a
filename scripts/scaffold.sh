#!/usr/bin/env bash
# Creates an empty package under packages/<name> with the house layout (used once per package).
set -euo pipefail
name=$1; desc=$2; dir=packages/$name
mkdir -p $dir/src $dir/test
cat > $dir/package.json <<JSON
{
  "name": "@sign/$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "MIT",
  "type": "module",
  "sideEffects": false,
  "main": "./dist/index.cjs",
  "module": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "exports": {
    ".": {
      "import": { "types": "./dist/index.d.ts", "default": "./dist/index.js" },
      "require": { "types": "./dist/index.d.cts", "default": "./dist/index.cjs" }
    },
    "./package.json": "./package.json"
  },
  "files": ["dist", "README.md"],
  "publishConfig": { "access": "public" },
  "scripts": {
    "build": "tsup",
    "typecheck": "tsc -p tsconfig.json"
  },
  "peerDependencies": {
    "@tensorflow/tfjs-core": "^4.22.0"
  },
  "devDependencies": {
    "@tensorflow/tfjs-core": "4.22.0"
  }
}
JSON
cat > $dir/tsconfig.json <<JSON
{
  "extends": "../../tooling/tsconfig/tsconfig.base.json",
  "include": ["src", "test"]
}
JSON
cat > $dir/tsup.config.ts <<TS
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
TS
echo "export {};" > $dir/src/index.ts
