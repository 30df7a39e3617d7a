import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { EmbeddingTable, buildClassEmbeddings, cosineSimilarity } from '@sign/embeddings';

// Two tiny word-vector files stand in for GoogleNews word2vec and a fastText model.
const dir = mkdtempSync(join(tmpdir(), 'sign-embeddings-'));
const glove = join(dir, 'glove.txt'); // GloVe text: no header
writeFileSync(glove, 'cow 0.9 0.1 0\nsheep 0.8 0.3 0\npotted 0 0.2 0.9\nplant 0.1 0.4 0.8\ntv 0 1 0.1\n');
const vec = join(dir, 'vectors.vec'); // fastText .vec: header "<count> <dim>"
writeFileSync(vec, '5 2\ncow 1 0.1\nsheep 0.9 0.2\npotted 0.1 1\nplant 0.2 0.9\ntv -0.5 0.5\n');

// Each name → words (potted_plant → potted, plant), averaged per source;
// sources L2-normalised, concatenated, L2-normalised again.
const table = await buildClassEmbeddings(
  ['cow', 'sheep', 'potted_plant', 'tv'],
  [
    { path: glove, format: 'glove' },
    { path: vec, format: 'fasttext-vec' },
  ],
);
console.log(table.dimension); // 5 (3 + 2)
console.log(cosineSimilarity(table.vector('cow'), table.vector('sheep')) > cosineSimilarity(table.vector('cow'), table.vector('tv'))); // true

table.save(join(dir, 'classes.json')); // atomic JSON (temporary file + rename)
const loaded = EmbeddingTable.load(join(dir, 'classes.json')).validate({ classNames: ['cow', 'tv'], dimension: 5 });
const w = loaded.toTensor(); // [numClasses, dimension] = [4, 5], e.g. for a generator's input
console.log(w.shape); // [4, 5]
w.dispose();
rmSync(dir, { recursive: true });
