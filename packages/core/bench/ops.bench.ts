/**
 * Op benchmark for @sign/core (not a test): forward and backward GFLOP/s of a dense layer and of
 * a dilated 3×3 conv, and the time of one SGD step of a small conv net.
 *
 *   npx tsx packages/core/bench/ops.bench.ts            # wasm
 *   npx tsx packages/core/bench/ops.bench.ts --all      # wasm, then cpu
 *   npx tsx packages/core/bench/ops.bench.ts --impls    # also every conv2d implementation
 *   npx tsx packages/core/bench/ops.bench.ts --quick    # smaller shapes (a smoke run)
 *
 * Backward GFLOP/s counts the two products of the gradient (2× the forward FLOPs) over the time
 * of forward+backward minus the forward time.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as os from 'node:os';
import {
  Conv2d,
  Module,
  Rng,
  conv2d,
  convImplementation,
  dense,
  initBackend,
  setConvImplementation,
  type ConvImplementation,
} from '../src/index';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const backends = args.has('--all') ? (['wasm', 'cpu'] as const) : (['wasm'] as const);

async function timeIt(f: () => tf.Tensor | tf.Tensor[], reps: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const out = tf.tidy(f);
    const arr = Array.isArray(out) ? out : [out];
    for (const o of arr) await o.data();
    const dt = performance.now() - t0;
    tf.dispose(arr);
    if (r > 0 || reps === 0) best = Math.min(best, dt); // the first run warms up (kernel setup, packing)
  }
  return best / 1000;
}

function fmt(flops: number, sec: number): string {
  return `${(flops / sec / 1e9).toFixed(1).padStart(5)} GFLOP/s (${(sec * 1000).toFixed(0).padStart(5)} ms)`;
}

async function benchDense(reps: number): Promise<void> {
  const [m, k, n] = quick ? [1024, 600, 256] : [4096, 1200, 1024];
  const x = tf.randomNormal([m, k]) as tf.Tensor2D;
  const w = tf.randomNormal([k, n]) as tf.Tensor2D;
  const dy = tf.randomNormal([m, n]) as tf.Tensor2D;
  const flops = 2 * m * k * n;
  const fwd = await timeIt(() => dense(x, w), reps);
  const both = await timeIt(() => tf.grads((a, b) => dense(a as tf.Tensor2D, b as tf.Tensor2D))([x, w], dy), reps);
  const bwd = Math.max(both - fwd, 1e-9);
  console.log(`  dense [${m}x${k}]·[${k}x${n}]   forward ${fmt(flops, fwd)}   backward ${fmt(2 * flops, bwd)}   bwd/fwd time ${(bwd / fwd).toFixed(2)}`);
  tf.dispose([x, w, dy]);
}

async function benchConv(reps: number, impl: ConvImplementation | 'auto'): Promise<void> {
  const [n, h, cin, cout] = quick ? [1, 21, 64, 32] : [2, 41, 600, 256];
  const x = tf.randomNormal([n, h, h, cin]) as tf.Tensor4D;
  const k = tf.randomNormal([3, 3, cin, cout]) as tf.Tensor4D;
  const dy = tf.randomNormal([n, h, h, cout]) as tf.Tensor4D;
  const flops = 2 * n * h * h * 9 * cin * cout;
  setConvImplementation(impl);
  const name = convImplementation();
  const fwd = await timeIt(() => conv2d(x, k, { dilations: 2, padding: 'same' }), reps);
  const both = await timeIt(
    () => tf.grads((a, b) => conv2d(a as tf.Tensor4D, b as tf.Tensor4D, { dilations: 2, padding: 'same' }))([x, k], dy),
    reps,
  );
  const bwd = Math.max(both - fwd, 1e-9);
  console.log(
    `  conv 3x3 d2 ${cin}→${cout} on [${n},${h},${h},${cin}] (${name.padEnd(6)})  forward ${fmt(flops, fwd)}   backward ${fmt(2 * flops, bwd)}   bwd/fwd time ${(bwd / fwd).toFixed(2)}`,
  );
  setConvImplementation('auto');
  tf.dispose([x, k, dy]);
}

class SmallNet extends Module {
  c1: Conv2d;
  c2: Conv2d;
  c3: Conv2d;
  constructor(rng: Rng) {
    super();
    this.c1 = this.child('c1', new Conv2d(rng, { inChannels: 1, outChannels: 16, kernelSize: 3 }));
    this.c2 = this.child('c2', new Conv2d(rng, { inChannels: 16, outChannels: 32, kernelSize: 3, dilation: 2 }));
    this.c3 = this.child('c3', new Conv2d(rng, { inChannels: 32, outChannels: 11, kernelSize: 1 }));
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.c3.apply(tf.relu(this.c2.apply(tf.relu(this.c1.apply(x)))));
  }
}

async function benchTrainStep(steps: number, impl: ConvImplementation | 'auto'): Promise<void> {
  setConvImplementation(impl);
  const rng = new Rng(0);
  const net = new SmallNet(rng);
  const x = tf.randomUniform([8, 64, 64, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  // A learnable per-pixel target: the class is the input intensity quantised to 11 levels.
  const labels = tf.oneHot(tf.cast(tf.floor(tf.mul(tf.reshape(x, [8, 64, 64]), 10.999)), 'int32'), 11);
  const opt = tf.train.sgd(0.1);
  const step = () =>
    opt.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.apply(x)) as tf.Scalar, true, net.trainableVariables());
  const losses: number[] = [];
  for (let i = 0; i < 2; i++) {
    const l = step()!;
    losses.push((await l.data())[0]);
    l.dispose();
  }
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const l = step()!;
    losses.push((await l.data())[0]);
    l.dispose();
  }
  const ms = (performance.now() - t0) / steps;
  console.log(
    `  train step (${convImplementation().padEnd(6)}): 3 convs (1→16 3x3, 16→32 3x3 d2, 32→11 1x1) on [8,64,64,1] + SGD: ${ms.toFixed(0)} ms/step ` +
      `(${net.numParameters()} parameters; loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)})`,
  );
  setConvImplementation('auto');
  opt.dispose();
  net.dispose();
  tf.dispose([x, labels]);
}

async function main(): Promise<void> {
  console.log(`@sign/core ops benchmark — ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}${quick ? ', --quick shapes' : ''}`);
  for (const b of backends) {
    const report = await initBackend(b);
    const reps = b === 'cpu' && !quick ? 0 : 2;
    console.log(`backend ${report.backend} (conv2d implementation: ${convImplementation()})`);
    await benchDense(reps);
    await benchConv(reps, 'auto');
    const others = args.has('--impls') ? (['native', 'taps', 'im2col'] as const).filter((i) => i !== convImplementation()) : [];
    for (const impl of others) await benchConv(reps, impl);
    await benchTrainStep(quick ? 2 : 5, 'auto');
    for (const impl of others) await benchTrainStep(quick ? 2 : 5, impl);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
