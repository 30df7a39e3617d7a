/**
 * scripts/check-pack.mjs, every published package's `prepack`: npm (which copies `workspace:`
 * ranges into the tarball) is refused while such a range is there; pnpm (which rewrites them) is
 * let through. And every published package runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without types
import { packerRewrites, workspaceRanges } from '../../../scripts/check-pack.mjs';

const ROOT = resolve(__dirname, '..', '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-pack.mjs');
const dir = mkdtempSync(join(tmpdir(), 'sign-check-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function prepack(pkg: object, userAgent: string) {
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  return spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_user_agent: userAgent } });
}

describe('check-pack (prepack)', () => {
  const pkg = { name: '@sign/x', dependencies: { '@sign/core': 'workspace:^', zod: '^4.1.0' }, devDependencies: { '@sign/y': 'workspace:*' } };

  it('lists the workspace ranges by field', () => {
    expect(workspaceRanges(pkg)).toEqual(['dependencies: @sign/core@workspace:^', 'devDependencies: @sign/y@workspace:*']);
    expect(workspaceRanges({ name: 'a', dependencies: { zod: '^4' } })).toEqual([]);
  });

  it('knows which packers rewrite them', () => {
    expect(packerRewrites('pnpm/10.34.8 npm/? node/v20.20.2 linux x64')).toBe(true);
    expect(packerRewrites('yarn/4.5.0 npm/? node/v20')).toBe(true);
    expect(packerRewrites('yarn/1.22.22 npm/? node/v20')).toBe(false);
    expect(packerRewrites('npm/10.8.2 node/v20.20.2 linux x64 workspaces/false')).toBe(false);
    expect(packerRewrites('')).toBe(false);
  });

  it('npm pack / npm publish: exit 1, naming the ranges and what to run instead', () => {
    const r = prepack(pkg, 'npm/10.8.2 node/v20.20.2 linux x64 workspaces/false');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('@sign/x: refusing to pack with npm/10.8.2: it would publish workspace ranges (dependencies: @sign/core@workspace:^)');
    expect(r.stderr).toContain('`pnpm pack`, or `pnpm changeset publish`');
  });

  it('pnpm, and packages without workspace ranges (devDependencies do not count): let through', () => {
    expect(prepack(pkg, 'pnpm/10.34.8 npm/? node/v20.20.2').status).toBe(0);
    expect(prepack({ name: 'a', dependencies: { zod: '^4' }, devDependencies: { b: 'workspace:^' } }, 'npm/10.8.2').status).toBe(0);
  });

  it('every published package runs it as prepack, ships LICENSE, and has repository, homepage and bugs', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    for (const d of readdirSync(join(ROOT, 'packages'))) {
      const p = JSON.parse(readFileSync(join(ROOT, 'packages', d, 'package.json'), 'utf8'));
      if (p.private) continue;
      expect(p.scripts.prepack, p.name).toBe('node ../../scripts/check-pack.mjs');
      expect(p.files, p.name).toContain('LICENSE');
      expect(readFileSync(join(ROOT, 'packages', d, 'LICENSE'), 'utf8'), p.name).toBe(license);
      expect(p.repository, p.name).toEqual({ type: 'git', url: 'git+https://github.com/sign-ts/sign-ts.git', directory: `packages/${d}` });
      expect(p.homepage, p.name).toBe(`https://github.com/sign-ts/sign-ts/tree/main/packages/${d}#readme`);
      expect(p.bugs, p.name).toEqual({ url: 'https://github.com/sign-ts/sign-ts/issues' });
      // /node and /testing resolve under TypeScript's node10 resolution too
      const subs = Object.keys(p.exports).filter((k) => k !== '.' && k !== './package.json').map((k) => k.slice(2));
      expect(p.typesVersions?.['*'] ?? {}, p.name).toEqual(Object.fromEntries(subs.map((s) => [s, [`./dist/${s}.d.ts`]])));
    }
  });
});
