/**
 * Times DeepLabv2-ResNet101 inference (trunk + ASPP to 600 channels, the release's network) on
 * one image, 513×513 by default (the release's test size: 65×65 features). Run from the
 * repository root (`pnpm bench backbones` runs every backbones bench with the defaults):
 *
 *   npx tsx --tsconfig packages/backbones/bench/tsconfig.json packages/backbones/bench/deeplabv2.bench.ts [wasm|cpu] [height] [width] [reps]
 *
 * Defaults: wasm, 513×513, 3 timed calls after one warm-up call. The weights are the default
 * init (the time does not depend on their values). Reports wall time per image (median and
 * fastest) and the process's CPU time, which other jobs on a shared machine inflate less.
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { DeepLabV2ResNet101 } from '../src/index';

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
  const height = Number(process.argv[3] ?? 513);
  const width = Number(process.argv[4] ?? height);
  const reps = Number(process.argv[5] ?? process.env.REPS ?? 3);
  const report = await initBackend(backend);
  const t0 = performance.now();
  const bb = new DeepLabV2ResNet101(new Rng(0));
  const buildMs = performance.now() - t0;
  const x = tf.randomNormal([1, height, width, 3], 0, 50, 'float32', 1) as tf.Tensor4D;
  const opts = { training: false, rng: new Rng(1) };
  let outShape: number[] = [];
  const once = (): { wall: number; cpu: number } => {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    tf.tidy(() => {
      const h = bb.apply(x, opts);
      h.dataSync();
      outShape = h.shape;
    });
    const c = process.cpuUsage(c0);
    return { wall: performance.now() - w0, cpu: (c.user + c.system) / 1000 };
  };
  const warm = once();
  const runs = Array.from({ length: reps }, once);
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const s = (ms: number) => +(ms / 1000).toFixed(2);
  console.log(
    JSON.stringify({
      bench: 'deeplabv2-resnet101 inference',
      backend: report.backend,
      input: [1, height, width, 3],
      output: outShape,
      parameters: bb.numParameters(),
      buildSeconds: s(buildMs),
      warmupSeconds: s(warm.wall),
      reps,
      secondsPerImage: {
        wallMedian: s(median(runs.map((r) => r.wall))),
        wallMin: s(Math.min(...runs.map((r) => r.wall))),
        cpuMedian: s(median(runs.map((r) => r.cpu))),
      },
      loadAverage1m: +os.loadavg()[0].toFixed(2),
      numTensorsAfter: tf.memory().numTensors,
    }),
  );
  bb.dispose();
  x.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
