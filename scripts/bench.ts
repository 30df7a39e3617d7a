/**
 * Runs the benchmarks one after another with tsx: each package's (packages/<pkg>/bench/*.bench.ts)
 * and the workspace-level suites (bench/<suite>/*.bench.ts, e.g. `peer`: the PyTorch peer's
 * workloads built from the public packages).
 *
 *   pnpm bench                      # every benchmark
 *   pnpm bench core                 # only @sign/core's
 *   pnpm bench peer                 # the peer workloads (JSON lines); `pnpm bench:peer` compares with PyTorch
 *   pnpm bench core -- --all        # pass arguments after `--` to each bench
 *
 * A bench folder with its own tsconfig.json (mapping @sign/* to sources) is run with it (the
 * workspace suites use bench/tsconfig.json). The exit code is non-zero if any bench failed.
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
const suitesDir = join(root, 'bench');
// name → [folder with *.bench.ts, tsconfig.json to run them with]
const dirs = new Map<string, [string, string]>();
for (const p of readdirSync(packagesDir)) {
  const dir = join(packagesDir, p, 'bench');
  if (existsSync(dir)) dirs.set(p, [dir, join(dir, 'tsconfig.json')]);
}
if (existsSync(suitesDir)) {
  for (const s of readdirSync(suitesDir, { withFileTypes: true })) {
    if (s.isDirectory()) dirs.set(s.name, [join(suitesDir, s.name), join(suitesDir, 'tsconfig.json')]);
  }
}
const known = [...dirs.keys()];
for (const s of selected) {
  if (!dirs.has(s)) {
    console.error(`bench: no benchmarks named '${s}' (known: ${known.join(', ')})`);
    process.exit(2);
  }
}
const names = selected.length ? selected : known;
let failed = 0;
for (const name of names) {
  const [dir, tsconfig] = dirs.get(name)!;
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort();
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
