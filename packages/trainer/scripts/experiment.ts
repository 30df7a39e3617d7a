// Runs the trainer stages of a config (DEMO_CONFIG + JSON overrides from argv[2]) without checkpoints and prints
// loss means every EVERY steps, metrics after each stage and, at the end, for calibration gammas 0..3.
// npx tsx --tsconfig packages/trainer/scripts/tsconfig.json packages/trainer/scripts/experiment.ts '{"schedule":{"step1Iters":300}}'
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { DEMO_CONFIG, mergeConfig, type ExperimentConfig } from '../src/config';
import { buildClassInfo, buildScenes } from '../src/data';
import { SignModel } from '../src/model';
import { Adam, SgdMomentum, polyLr } from '../src/optim';
import { step1Update, transferUpdate } from '../src/stages';
import { makeOptimizers, evaluate, featureGrid, pseudoLabel, sampleBatch, scheduleAt, totalSteps } from '../src/trainer';

async function main() {
  const overrides = JSON.parse(process.argv[2] ?? '{}');
  const config: ExperimentConfig = mergeConfig(DEMO_CONFIG, overrides);
  await initBackend(config.runtime.backend === 'auto' ? 'wasm' : config.runtime.backend);
  const t0 = Date.now();
  const classes = buildClassInfo(config);
  const { train, test } = buildScenes(config);
  console.log(`data ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const root = new Rng(config.seed);
  const model = new SignModel(config, classes, root.fork('init'));
  const s = config.schedule;
  const opts = makeOptimizers(config);
  const total = totalSteps(config);
  const grid = featureGrid(model, train.height, train.width);
  const trainRng = root.fork('train');
  let teacher: SignModel | null = null;
  const acc: Record<string, number[]> = {};
  let tStage = Date.now();
  let lastPhase = '';
  for (let step = 0; step < total; step++) {
    const { phase, update, offset } = scheduleAt(config, step);
    if (phase !== lastPhase) {
      if (lastPhase) {
        model.eval();
        const r = evaluate(model, test, config.eval);
        const r2 = evaluate(model, test, { ...config.eval, calibrate: 1 });
        console.log(`[${lastPhase} done ${((Date.now() - tStage) / 1000).toFixed(0)}s] S ${r.metrics.mIoUSeen.toFixed(1)} U ${r.metrics.mIoUUnseen.toFixed(1)} H ${r.metrics.hIoU.toFixed(1)} | cal1: S ${r2.metrics.mIoUSeen.toFixed(1)} U ${r2.metrics.mIoUUnseen.toFixed(1)} H ${r2.metrics.hIoU.toFixed(1)}`);
        console.log('   ', Object.entries(r.perClassIoU).map(([k, v]) => `${k}:${v.toFixed(0)}`).join(' '));
      }
      lastPhase = phase;
      tStage = Date.now();
    }
    if (phase === 'self-training' && !teacher) {
      teacher = new SignModel(config, classes, new Rng(0));
      teacher.loadStateDict(model.stateDict());
      teacher.eval();
    }
    const rng = trainRng.fork(`step-${step}`);
    opts.encoder.lr = polyLr(s.lr.backbone, step, total, s.lrPower);
    let batch = sampleBatch(train, s.batchSize, rng.fork('batch'), grid);
    if (teacher) batch = pseudoLabel(teacher, batch, config, config.selfTraining.temperature);
    model.train();
    const losses = update === 'step1' ? step1Update(model, opts, batch, rng.fork('update'), config) : transferUpdate(model, opts, batch, rng.fork('update'), config);
    for (const [k, v] of Object.entries(losses)) (acc[k] ??= []).push(v);
    if ((step + 1) % Number(process.env.EVERY ?? 50) === 0) {
      console.log(`${step + 1}/${total} ${phase}/${update} ${Object.entries(acc).map(([k, v]) => `${k}=${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`).join(' ')} tensors=${tf.memory().numTensors} t=${((Date.now() - t0) / 1000).toFixed(0)}s`);
      for (const k of Object.keys(acc)) delete acc[k];
    }
  }
  model.eval();
  for (const cal of [0, 0.5, 1, 2, 3]) {
    const r = evaluate(model, test, { ...config.eval, calibrate: cal });
    console.log(`[${lastPhase} final cal=${cal}] S ${r.metrics.mIoUSeen.toFixed(1)} U ${r.metrics.mIoUUnseen.toFixed(1)} H ${r.metrics.hIoU.toFixed(1)} mIoU ${r.metrics.mIoU.toFixed(1)}`);
    if (cal === 0) {
      console.log('   ', Object.entries(r.perClassIoU).map(([k, v]) => `${k}:${v.toFixed(0)}`).join(' '));
      console.log(`    unseen alone (ZSL): mIoU ${r.zsl.mIoU.toFixed(1)} naming acc ${r.zsl.pixelAccuracy.toFixed(1)}`);
    }
  }
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
