/**
 * Exports a trained checkpoint for the page: the network (`model.*`), the class table
 * (`classes.embeddings`) and the metadata (config, classes, dataset), without optimizer or teacher
 * state, so that the file the page downloads is small. The tensors are copied as they are and
 * checked finite; the metadata records where the file came from. fixtures/demo.safetensors was
 * made so from the demo trained without 'bag':
 *
 *   pnpm sign demo --exclude-classes bag --seed 0 --backend wasm --out runs/demo-bagless
 *   npx tsx --tsconfig apps/reference/tsconfig.source.json apps/web/scripts/export-checkpoint.ts \
 *     runs/demo-bagless/checkpoints/last.safetensors apps/web/fixtures/demo.safetensors
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { loadCheckpoint, saveCheckpoint } from '@sign/core/node';
import { CHECKPOINT_FORMAT } from '@sign/trainer';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: export-checkpoint.ts IN.safetensors OUT.safetensors');
  process.exit(2);
}
await initBackend('cpu');
const { tensors, metadata } = await loadCheckpoint(from, { requireFinite: true });
try {
  if (metadata.format !== CHECKPOINT_FORMAT) throw new Error(`${from}: not a ${CHECKPOINT_FORMAT} checkpoint`);
  const kept = Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith('model.') || k === 'classes.embeddings'));
  if (!kept['classes.embeddings']) throw new Error(`${from}: missing tensor 'classes.embeddings'`);
  const { optimizers: _o, rng: _r, versions: _v, ...meta } = metadata;
  mkdirSync(dirname(to), { recursive: true });
  await saveCheckpoint(to, kept, { ...meta, optimizers: {}, exportedFrom: basename(from), exportedBy: 'apps/web/scripts/export-checkpoint.ts' });
  const classes = (meta.classes as { classNames: string[] }).classNames;
  console.log(`export-checkpoint: ${from} → ${to}: ${Object.keys(kept).length} of ${Object.keys(tensors).length} tensors, ${classes.length} classes (${classes.join(', ')})`);
} finally {
  tf.dispose(Object.values(tensors));
}
