// Lints every published package (packages/*) with publint: exports, types and files as a
// consumer's bundler and Node would resolve them, after `pnpm build`. Exits 1 on any warning or
// error (strict); suggestions are printed only. `npm pack` lists the files (publint's 'auto'
// would spawn `pnpm`, which is not on PATH when pnpm itself runs through npx).
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')));
let failed = 0;
for (const pkgDir of dirs) {
  if (!existsSync(join(pkgDir, 'dist'))) {
    console.error(`publint: ${pkgDir} has no dist/ (run the build first)`);
    failed++;
    continue;
  }
  const { messages, pkg } = await publint({ pkgDir, pack: 'npm', strict: true });
  const bad = messages.filter((m) => m.type !== 'suggestion');
  for (const m of messages) console.log(`${pkg.name}: ${m.type}: ${formatMessage(m, pkg)}`);
  if (bad.length > 0) failed++;
  else console.log(`${pkg.name}: ok`);
}
if (failed > 0) {
  console.error(`publint: ${failed} package(s) with problems`);
  process.exit(1);
}
