// Measurement helper (not a test): the release test path's grid logits of a checkpoint on one
// image, as sign predict computes them, written as raw float32 [gh, gw, K] (class-id order) with
// the network input [513, 513, 3] beside it. Usage (from apps/reference):
//   npx tsx scripts/release-logits.ts CHECKPOINT.pth IMAGE.png OUTDIR [backend]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { releaseEvalInput } from '@sign/datasets';
import { nodeIo } from '@sign/datasets/node';
import { loadModel } from '@sign/trainer/node';
import { trainConfig } from '../src/configs';

const [ckpt, image, out, backend = 'wasm'] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
await initBackend(backend as 'wasm');
const config = trainConfig({ preset: 'voc12-sign', 'data-root': '(no data)' } as never);
const t0 = Date.now();
const m = await loadModel(ckpt, { config });
console.log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const img = await nodeIo.decodeImage(image);
const p = m.prepare(img);
const sample = { id: 'image', height: p.height, width: p.width, channels: 3, image: p.images, label: new Uint8Array(p.height * p.width) };
const t = releaseEvalInput(sample as never, { size: config.eval.inputSize });
writeFileSync(join(out, 'input.f32'), Buffer.from((t.image as Float32Array).buffer));
const t1 = Date.now();
const grid = tf.tidy(() => m.net.gridLogits(tf.tensor4d(t.image as Float32Array, [1, t.height, t.width, 3]), config.eval.calibrate));
const data = (await grid.data()) as Float32Array;
console.log(`grid ${grid.shape.join('x')} in ${((Date.now() - t1) / 1000).toFixed(1)} s, calibrate ${config.eval.calibrate}`);
writeFileSync(join(out, 'logits.f32'), Buffer.from(data.buffer));
writeFileSync(join(out, 'logits.json'), JSON.stringify({ shape: grid.shape, classNames: m.classNames }));
grid.dispose();
m.dispose();
