// `prepack` of every published package: refuses to pack (and so to publish) a package.json whose
// dependencies use the workspace protocol (`"@sign/core": "workspace:^"`) when the packer will
// not rewrite them. pnpm (`pnpm pack`, `pnpm publish`, `changeset publish`) and yarn ≥ 2 replace
// them with the real versions in the tarball; npm copies them as they are, and such a tarball
// cannot be installed (`npm install` fails on "workspace:^"). So `npm pack` / `npm publish` of a
// package with workspace ranges exits 1 here, naming them and saying what to run instead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

/** The dependencies of `pkg` whose range uses the workspace protocol, as `field: name@range`. */
export function workspaceRanges(pkg) {
  const found = [];
  for (const field of FIELDS) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (typeof range === 'string' && range.startsWith('workspace:')) found.push(`${field}: ${name}@${range}`);
    }
  }
  return found;
}

/** Whether the packer that runs this script rewrites workspace ranges (pnpm, yarn berry). */
export function packerRewrites(userAgent = process.env.npm_config_user_agent ?? '') {
  return /^pnpm\//.test(userAgent) || /^yarn\/([2-9]|\d\d)/.test(userAgent);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.cwd();
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const ranges = workspaceRanges(pkg);
  // devDependencies are not installed by consumers, but npm copies them too: only the others matter
  const fatal = ranges.filter((r) => !r.startsWith('devDependencies'));
  if (fatal.length > 0 && !packerRewrites()) {
    const agent = (process.env.npm_config_user_agent ?? 'an unknown packer').split(' ')[0];
    console.error(
      `${pkg.name}: refusing to pack with ${agent}: it would publish workspace ranges (${fatal.join(', ')}), ` +
        'which no registry install can resolve. Pack and publish with pnpm, which rewrites them to the real ' +
        'versions: `pnpm pack`, or `pnpm changeset publish` / `pnpm release` from the repository root.',
    );
    process.exit(1);
  }
}
