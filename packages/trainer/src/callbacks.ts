/**
 * Built-in callbacks of the training loop: checkpoints, periodic evaluation, loss averages and
 * per-stage evaluation (what the old experiment script printed), all on the {@link Callback}
 * hooks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkpointPath, saveTrainingState } from './checkpoint';
import { evaluate } from './evaluation';
import { scheduleAt, type Callback, type Phase, type TrainState } from './loop';

/**
 * Writes `<outDir>/checkpoints/last.safetensors` (atomically) every `every` steps (0: never in
 * between), when the run is interrupted, and after the last step; reports the path through
 * `onCheckpoint`.
 *
 * @example
 * callbacks: [checkpointing({ outDir: 'runs/a', every: 100 })]
 */
export function checkpointing(opts: { outDir: string; every: number }): Callback {
  const path = checkpointPath(opts.outDir);
  const save = async (s: TrainState) => {
    await saveTrainingState(path, {
      config: s.config,
      model: s.model,
      teacher: s.teacher,
      optimizers: s.optimizers,
      dataset: s.data.meta,
      step: s.step,
      total: s.total,
      phase: s.step < s.total ? scheduleAt(s.config, s.step).phase : 'done',
      extra: { trainSeconds: s.secondsBefore + (Date.now() - s.startedAt) / 1000 },
    });
    s.reportCheckpoint(path);
  };
  return {
    onStepEnd: async (s) => {
      if (opts.every > 0 && s.step % opts.every === 0 && s.step < s.total) await save(s);
    },
    onInterrupt: save,
    onFitEnd: save,
  };
}

/**
 * Evaluates on the data module's test samples every `every` steps (not after the last step:
 * the run's final evaluation does that) and reports through `onEvaluation`.
 */
export function periodicEvaluation(opts: { every: number }): Callback {
  return {
    onStepEnd: async (s) => {
      if (opts.every <= 0 || s.step % opts.every !== 0 || s.step >= s.total) return;
      s.model.eval();
      const { metrics } = await evaluate(s.model, s.data.testSamples(), s.config.eval);
      s.reportEvaluation({ step: s.step, metrics });
    },
  };
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

/**
 * Logs the mean of every loss over the last `every` steps, with the live tensor count (a leak
 * shows as a growing count), through `onLog` (or `log` when given).
 *
 * @example
 * callbacks: [lossAverages({ every: 50, log: console.log })]
 */
export function lossAverages(opts: { every: number; log?: (line: string) => void }): Callback {
  const acc: Record<string, number[]> = {};
  return {
    onStepEnd: async (s, e) => {
      for (const [k, v] of Object.entries(e.losses)) (acc[k] ??= []).push(v);
      if (e.step % opts.every !== 0 && e.step !== e.total) return;
      const means = Object.entries(acc).map(([k, v]) => `${k}=${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`);
      (opts.log ?? s.log)(`${e.step}/${e.total} ${e.phase}/${e.update} ${means.join(' ')} tensors=${tf.memory().numTensors}`);
      for (const k of Object.keys(acc)) delete acc[k];
    },
  };
}

/**
 * Evaluates after every stage (step 1, transfer, self-training), once per calibration γ in
 * `calibrations`, and logs mIoU(S) / mIoU(U) / hIoU, the per-class IoU (first γ) and the ZSL
 * naming accuracy: what an experiment needs to see where the unseen score comes from.
 *
 * @example
 * callbacks: [stageEvaluation({ calibrations: [0, 1], log: console.log })]
 */
export function stageEvaluation(opts: { calibrations: number[]; log?: (line: string) => void }): Callback {
  return {
    onStageEnd: async (s, phase: Phase) => {
      const log = opts.log ?? s.log;
      s.model.eval();
      for (const [i, calibrate] of opts.calibrations.entries()) {
        const r = await evaluate(s.model, s.data.testSamples(), { ...s.config.eval, calibrate });
        const m = r.metrics;
        log(`[${phase} done, step ${s.step}, γ ${calibrate}] S ${fmt(m.mIoUSeen)} U ${fmt(m.mIoUUnseen)} H ${fmt(m.hIoU)} mIoU ${fmt(m.mIoU)}`);
        if (i === 0) {
          log(`    ${Object.entries(r.perClassIoU).map(([k, v]) => `${k}:${fmt(v)}`).join(' ')}`);
          log(`    unseen alone (ZSL): mIoU ${fmt(r.zsl.mIoU)} naming accuracy ${fmt(r.zsl.pixelAccuracy)}`);
        }
      }
    },
  };
}
