/**
 * Runs the package benchmarks (packages/<pkg>/bench/*.bench.ts) one after another with tsx.
 *
 *   pnpm bench                      # every package's benches
 *   pnpm bench core                 # only @sign/core's
 *   pnpm bench core -- --all        # pass arguments after `--` to each bench
 *
 * A bench folder with its own tsconfig.json (mapping @sign/* to sources) is run with it. The
 * exit code is non-zero if any bench failed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const selected = dash === -1 ? argv : argv.slice(0, dash);
const passThrough = dash === -1 ? [] : argv.slice(dash + 1);

const packagesDir = join(root, 'packages');
const known = readdirSync(packagesDir).filter((p) => existsSync(join(packagesDir, p, 'bench')));
for (const s of selected) {
  if (!known.includes(s)) {
    console.error(`bench: no benchmarks for package '${s}' (packages with a bench/ folder: ${known.join(', ')})`);
    process.exit(2);
  }
}
const pkgs = selected.length ? selected : known;
let failed = 0;
for (const pkg of pkgs) {
  const dir = join(packagesDir, pkg, 'bench');
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
  const tsconfig = join(dir, 'tsconfig.json');
  for (const f of files) {
    const file = join(dir, f);
    console.log(`\n=== ${relative(root, file)} ${passThrough.join(' ')}`);
    const args = ['tsx', ...(existsSync(tsconfig) ? ['--tsconfig', tsconfig] : []), file, ...passThrough];
    const r = spawnSync('npx', args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      failed++;
      console.error(`bench: ${relative(root, file)} exited with ${r.status ?? r.signal}`);
    }
  }
}
process.exit(failed ? 1 : 0);
