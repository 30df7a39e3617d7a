import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { classwiseMmdLoss, weightedCrossEntropy } from '@sign/losses';
import { DEMO_CONFIG, mergeConfig } from '../src/config';
import { buildClassInfo } from '../src/data';
import { SignModel } from '../src/model';

async function main() {
  await initBackend((process.env.BACKEND as any) ?? 'wasm');
  const config = mergeConfig(DEMO_CONFIG, JSON.parse(process.argv[2] ?? '{}'));
  const model = new SignModel(config, buildClassInfo(config), new Rng(0));
  const B = config.schedule.batchSize, S = config.data.size;
  const x = tf.randomUniform([B, S, S, 1]) as tf.Tensor4D;
  const time = (name: string, f: () => void, reps = 3) => {
    f();
    const t = performance.now();
    for (let i = 0; i < reps; i++) f();
    console.log(`${name}: ${((performance.now() - t) / reps).toFixed(0)} ms`);
  };
  const rng = new Rng(1);
  time('backbone fwd', () => tf.tidy(() => { model.backbone.apply(x, { training: true, rng }).dataSync(); }));
  time('backbone fwd+bwd', () => tf.tidy(() => { const g = tf.variableGrads(() => tf.mean(model.backbone.apply(x, { training: true, rng })) as tf.Scalar, [...model.group0('backbone.').values()]); Object.values(g.grads).forEach(t=>t.dataSync()); }));
  const h = tf.tidy(() => model.backbone.apply(x, { training: false, rng }));
  console.log('feature grid', h.shape);
  if (model.sim) {
    time('sim fwd', () => tf.tidy(() => { model.sim!.apply(h, { training: true, rng }).feature.dataSync(); }));
    time('sim fwd+bwd', () => tf.tidy(() => { const g = tf.variableGrads(() => tf.mean(model.sim!.apply(h, { training: true, rng }).feature) as tf.Scalar, [...model.group0('sim.').values()]); Object.values(g.grads).forEach(t=>t.dataSync()); }));
  }
  time('features fwd+bwd all', () => tf.tidy(() => { const g = tf.variableGrads(() => tf.mean(model.features(x, { training: true, rng }).feature) as tf.Scalar, [...model.encoderVariables().values()]); Object.values(g.grads).forEach(t=>t.dataSync()); }));
  const P = 600, Dm = model.featureDim;
  const lab = tf.tensor1d(Array.from({ length: P }, (_, i) => i % 10), 'int32');
  const real = tf.randomUniform([P, Dm]) as tf.Tensor2D;
  time('gen fwd+bwd', () => tf.tidy(() => { const g = tf.variableGrads(() => tf.mean(model.generate(lab, undefined, { training: true, rng })) as tf.Scalar, [...model.generatorVariables().values()]); Object.values(g.grads).forEach(t=>t.dataSync()); }));
  time('mmd fwd+bwd', () => tf.tidy(() => { const g = tf.variableGrads(() => classwiseMmdLoss(real, model.generate(lab, undefined, { training: true, rng }), lab), [...model.generatorVariables().values()]); Object.values(g.grads).forEach(t=>t.dataSync()); }));
  const big = tf.randomUniform([B * (S/4) * (S/4), Dm]) as tf.Tensor2D;
  const blab = tf.zeros([B, S/4, S/4], 'int32') as tf.Tensor3D;
  time('disc+CE fwd+bwd (full map)', () => tf.tidy(() => { const g = tf.variableGrads(() => weightedCrossEntropy(tf.reshape(model.disc.apply(big, { training: true, rng }).logits, [B, S/4, S/4, model.numClasses]) as tf.Tensor4D, blab), [...model.discriminatorVariables().values()]); Object.values(g.grads).forEach(t=>t.dataSync()); }));
}
main();
