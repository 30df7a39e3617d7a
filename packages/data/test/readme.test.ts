import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { markedExample, readmeExample } from '../../../tooling/vitest/readme';
import { controlEmbeddings } from '@sign/embeddings';
import { DEFAULT_UNSEEN, fashionEmbeddings, FASHION_ATTRIBUTES, FASHION_CLASSES, attributeVector, CLASS_WORDS } from '../src/index';
import { makeFashionScenes } from '../src/node';

const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
const firstBlock = readmeExample(resolve(__dirname, '..'));

/** The README example, verbatim below the import line (a test checks they are the same text). */
function example() {
  // README-EXAMPLE-START
  // 8 training scenes, 64×64: images [8, 64, 64, 1] in 0..1, labels [8, 64, 64]
  const train = makeFashionScenes({ split: 'train', count: 8, seed: 1, layout: 'outfit' });
  // test scenes (test items only) keep every label: 0 background, 1..10 items
  const test = makeFashionScenes({ split: 'test', count: 8, seed: 1, layout: 'outfit' });
  console.log(DEFAULT_UNSEEN); // ['pullover', 'dress', 'sandal']
  console.log(train.labels.includes(255), test.labels.includes(255)); // true false: unseen pixels are ignored in training

  // class embeddings: GloVe 6B + 19 visual attributes, each L2-normalised, concatenated, normalised
  const embeddings = fashionEmbeddings('both'); // EmbeddingTable, 10 rows (class ids 1..10) × 119
  // controls: the unseen rows replaced by random unit vectors, or permuted among the unseen classes
  const random = controlEmbeddings(embeddings, DEFAULT_UNSEEN, 'random', 1);
  const permuted = controlEmbeddings(embeddings, DEFAULT_UNSEEN, 'permuted', 1);
  console.log(embeddings.dimension, random.vector('sandal').length, permuted.provenance.controlMapping);
  // README-EXAMPLE-END
  return { train, test, embeddings, random, permuted };
}

describe('README', () => {
  it('the example in the README is the code this test runs', () => {
    const [importLine, importLine1, importLine2, ...rest] = firstBlock.trimEnd().split('\n');
    expect(importLine).toBe("import { DEFAULT_UNSEEN, fashionEmbeddings } from '@sign/data';");
    expect(importLine1).toBe("import { makeFashionScenes } from '@sign/data/node'; // reads the Fashion-MNIST subset shipped in the package");
    expect(importLine2).toBe("import { controlEmbeddings } from '@sign/embeddings';");
    expect(rest.join('\n').trim()).toBe(markedExample(__filename));
  });

  it('the example runs and prints what its comments say', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const { train, test, embeddings, random, permuted } = example();
    expect(log.mock.calls[0]![0]).toEqual(['pullover', 'dress', 'sandal']);
    expect(log.mock.calls[1]).toEqual([true, false]);
    expect(log.mock.calls[2]!.slice(0, 2)).toEqual([119, 119]);
    log.mockRestore();
    expect([train.n, train.height, train.width, train.images.length]).toEqual([8, 64, 64, 8 * 64 * 64]);
    expect(test.labels.length).toBe(8 * 64 * 64);
    expect(embeddings.classNames.length).toBe(10);
    expect(random.vector('coat')).toEqual(embeddings.vector('coat'));
    expect(Object.keys(permuted.provenance.controlMapping as object).sort()).toEqual(['dress', 'pullover', 'sandal']);
  });

  it('the attribute table in the README matches the code', () => {
    const section = readme.slice(readme.indexOf('**Attributes**'), readme.indexOf('**Background.**'));
    expect(section.length).toBeGreaterThan(100);
    for (const [i, a] of FASHION_ATTRIBUTES.entries()) {
      const row = section.split('\n').find((l) => l.startsWith(`| ${a.name} | `));
      expect(row, `README row for attribute ${a.name}`).toBeDefined();
      const cells = row!.split('|').slice(1, -1).map((c) => c.trim());
      expect(cells[1]).toBe(a.description);
      const values = cells.slice(2).map((c) => (c === '·' ? 0 : Number(c)));
      expect(values).toEqual(FASHION_CLASSES.map((c) => attributeVector(c)[i]));
    }
  });

  it('the GloVe word table in the README matches the code', () => {
    const section = readme.slice(readme.indexOf('**GloVe words**'), readme.indexOf('**Attributes**'));
    for (const [cls, words] of Object.entries(CLASS_WORDS)) {
      const row = section.split('\n').find((l) => l.startsWith(`| ${cls} | `));
      expect(row, `README row for class ${cls}`).toBeDefined();
      expect(row!.split('|')[2]!.trim().startsWith(words.join(', '))).toBe(true);
    }
  });
});
