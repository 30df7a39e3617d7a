// Packs every published package (packages/*) the way it will be published and checks each
// tarball, after `pnpm build`: `pnpm pack` (which, like `changeset publish`, rewrites the
// `workspace:` ranges; `npm pack` refuses them in `prepack`, see check-pack.mjs), then in every
// tarball: no `workspace:` range left, LICENSE, README.md and every file the `exports` map names
// present, a README without links to files outside the package, and publint (strict: warnings
// fail) on the files as packed. Prints files and sizes per package; exits 1 on any problem.
//
//   node scripts/pack.mjs [--out DIR]   # keep the tarballs in DIR (default: a temporary folder, removed)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { workspaceRanges } from './check-pack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = outArg >= 0 ? resolve(args[outArg + 1]) : mkdtempSync(join(tmpdir(), 'sign-pack-'));
mkdirSync(out, { recursive: true });

/** The files of a .tgz: `[{ name, data }]`, names without the leading `package/`. */
export function untar(tgz) {
  const tar = gunzipSync(tgz);
  const files = [];
  const text = (a, b) => new TextDecoder().decode(tar.subarray(a, b)).replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = text(off, off + 100);
    if (!name) break;
    const size = parseInt(text(off + 124, off + 136).trim() || '0', 8);
    const prefix = text(off + 345, off + 500);
    const type = String.fromCharCode(tar[off + 156] || 48);
    const full = (prefix ? `${prefix}/${name}` : name).replace(/^package\//, '');
    if (type === '0' || type === '\0') files.push({ name: full, data: tar.subarray(off + 512, off + 512 + size) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Every file path an `exports` map points to. */
function exportedFiles(exp) {
  if (typeof exp === 'string') return [exp];
  if (exp && typeof exp === 'object') return Object.values(exp).flatMap(exportedFiles);
  return [];
}

const published = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')) && !JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).private);
for (const d of published) {
  if (!existsSync(join(d, 'dist'))) {
    console.error(`pack: ${d} has no dist/ (run the build first)`);
    process.exit(1);
  }
}

// one pnpm call packs them all (pnpm runs each prepack, which lets pnpm through)
execFileSync('npx', ['--yes', 'pnpm@10.34.8', '-r', '--filter', './packages/*', 'pack', '--pack-destination', out], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});

let failed = 0;
const rows = [];
for (const dir of published) {
  const src = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const tgzName = `${src.name.replace(/^@/, '').replace('/', '-')}-${src.version}.tgz`;
  const problems = [];
  const tgzPath = join(out, tgzName);
  if (!existsSync(tgzPath)) {
    console.error(`${src.name}: pnpm pack made no ${tgzName}`);
    failed++;
    continue;
  }
  const tgz = readFileSync(tgzPath);
  const files = untar(tgz);
  const names = new Set(files.map((f) => f.name));
  const pkg = JSON.parse(new TextDecoder().decode(files.find((f) => f.name === 'package.json').data));
  for (const r of workspaceRanges(pkg)) problems.push(`workspace range in the tarball: ${r}`);
  for (const f of ['LICENSE', 'README.md', 'package.json']) if (!names.has(f)) problems.push(`${f} is missing`);
  for (const f of new Set(exportedFiles(pkg.exports).map((p) => p.replace(/^\.\//, '')))) {
    if (!names.has(f)) problems.push(`exports names ${f}, which is not in the tarball`);
  }
  for (const [sub, targets] of Object.entries(pkg.typesVersions?.['*'] ?? {})) {
    for (const t of targets) if (!names.has(t.replace(/^\.\//, ''))) problems.push(`typesVersions '${sub}' → ${t}, which is not in the tarball`);
  }
  const readme = new TextDecoder().decode(files.find((f) => f.name === 'README.md')?.data ?? new Uint8Array());
  for (const m of readme.matchAll(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g)) {
    const target = m[1].replace(/^\.\//, '').split('#')[0];
    if (target.startsWith('../') || !names.has(target)) problems.push(`README links to ${m[1]}, which is not in the package (use an absolute URL)`);
  }
  if (/\.\.\/shared\//.test(readme)) problems.push('README refers to ../shared/, outside the package');
  const { messages } = await publint({ pkgDir: '/package', pack: { files: files.map((f) => ({ name: `/package/${f.name}`, data: f.data })) }, strict: true });
  for (const msg of messages) {
    const line = `publint ${msg.type}: ${formatMessage(msg, pkg)}`;
    if (msg.type === 'suggestion') console.log(`${src.name}: ${line}`);
    else problems.push(line);
  }
  const unpacked = files.reduce((s, f) => s + f.data.length, 0);
  rows.push(`${src.name.padEnd(18)} ${String(files.length).padStart(3)} files  ${(tgz.length / 1024).toFixed(1).padStart(7)} KiB packed  ${(unpacked / 1024).toFixed(1).padStart(8)} KiB unpacked  deps: ${Object.entries(pkg.dependencies ?? {}).map(([n, v]) => `${n}@${v}`).join(', ') || '-'}`);
  if (problems.length > 0) {
    failed++;
    for (const p of problems) console.error(`${src.name}: ${p}`);
  }
}
console.log(rows.join('\n'));
if (outArg < 0) rmSync(out, { recursive: true, force: true });
else console.log(`tarballs in ${out}`);
if (failed > 0) {
  console.error(`pack: ${failed} package(s) with problems`);
  process.exit(1);
}
console.log(`pack: ${published.length} packages packed and checked`);
