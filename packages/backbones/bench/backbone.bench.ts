/**
 * Times one forward and one forward+backward of the 'small' backbone on a [8,64,64,1] batch
 * (the fashion-scenes setting). Run from the repository root:
 *
 *   npx tsx --tsconfig packages/backbones/bench/tsconfig.json packages/backbones/bench/backbone.bench.ts [wasm|cpu] [channels] [outputStride] [patch2x2|conv3x3]
 *
 * (that tsconfig maps @sign/core to its TypeScript sources, so nothing needs building; plain
 * `npx tsx packages/backbones/bench/backbone.bench.ts` also works once @sign/core is built)
 */
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { type SmallBackbone, createBackbone } from '../src/index';

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
  const channels = Number(process.argv[3] ?? 32);
  const outputStride = Number(process.argv[4] ?? 4);
  const downsample = (process.argv[5] ?? 'patch2x2') as 'patch2x2' | 'conv3x3';
  const report = await initBackend(backend);
  const rng = new Rng(0);
  const bb = createBackbone('small', rng.fork('init'), { channels, outputStride, downsample }) as SmallBackbone;
  const x = tf.randomUniform([8, 64, 64, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const weight = tf.randomNormal([8, 64 / outputStride, 64 / outputStride, channels], 0, 1, 'float32', 2);
  const opts = { training: true, rng: rng.fork('apply') };
  const vars = bb.trainableVariables();

  const forward = () => tf.tidy(() => bb.apply(x, opts).dataSync());
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(bb.apply(x, opts), weight)) as tf.Scalar, vars);
      for (const g of Object.values(grads)) g.dataSync();
      return value.dataSync()[0];
    });
  // Wall time, and the CPU time of this process: on a shared machine the wall time includes
  // waiting for a core, the CPU time does not (the wasm backend runs on one thread here).
  const time = (fn: () => unknown, reps: number): { wall: number[]; cpu: number[] } => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      fn();
      const c = process.cpuUsage(c0);
      wall.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
    return { wall, cpu };
  };
  forward();
  step(); // warm-up (kernel compilation, allocation)
  const reps = Number(process.env.REPS ?? 10);
  const f = time(forward, reps);
  const b = time(step, reps);
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const summary = (t: { wall: number[]; cpu: number[] }) => ({
    wallMedian: +median(t.wall).toFixed(1),
    wallMin: +Math.min(...t.wall).toFixed(1),
    cpuMedian: +median(t.cpu).toFixed(1),
  });
  console.log(
    JSON.stringify({
      backend: report.backend,
      input: [8, 64, 64, 1],
      config: bb.config,
      parameters: bb.numParameters(),
      reps,
      loadAverage1m: +os.loadavg()[0].toFixed(2),
      forwardMs: summary(f),
      forwardBackwardMs: summary(b),
      numTensorsAfter: tf.memory().numTensors,
    }),
  );
  bb.dispose();
  x.dispose();
  weight.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
