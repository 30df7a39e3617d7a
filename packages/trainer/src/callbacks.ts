/**
 * Built-in callbacks of the training loop: periodic evaluation, loss averages and per-stage
 * evaluation (what the old experiment script printed), all on the {@link Callback} hooks. The
 * checkpoint callback (`checkpointing`) writes files: `@sign/trainer/node`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { evaluate } from './evaluation';
import { type Callback, type Phase } from './loop';

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
