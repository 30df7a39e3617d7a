import { expect } from 'vitest';
import { type ReleaseFixture, type TensorSummary, compareSummary } from './fixture';
import type { SimRun } from './network';

const fmt = (v: number) => v.toExponential(1);

/** Asserts one tensor within 1e-3 (see compareSummary) and prints what was measured. */
export function expectSummary(label: string, values: Float32Array, s: TensorSummary): void {
  const c = compareSummary(values, s);
  console.log(
    `${label}: worst ${fmt(c.worst)} (sum ${fmt(c.sum)}, abs-sum ${fmt(c.absSum)}, min/max ${fmt(c.minMax)}, samples ${fmt(c.samples)}, channel means ${fmt(c.channelMeans)}; samples elementwise ${fmt(c.samplesElementwise)})`,
  );
  expect(c.sum, `${label}: sum`).toBeLessThan(1e-3);
  expect(c.absSum, `${label}: abs-sum`).toBeLessThan(1e-3);
  expect(c.minMax, `${label}: min/max`).toBeLessThan(1e-3);
  expect(c.samples, `${label}: sampled values`).toBeLessThan(1e-3);
  expect(c.channelMeans, `${label}: per-channel means`).toBeLessThan(1e-3);
}

/** Asserts a full SIM + head run against the fixture: tensors, KLs, argmax. */
export function expectSimRun(label: string, fx: ReleaseFixture, r: SimRun): void {
  const o = fx.outputs;
  expectSummary(`${label} after_positional_module`, r.afterPositional, o.after_positional_module);
  if (!r.latent) return;
  expectSummary(`${label} latent_z_eval`, r.latent, o.latent_z_eval);
  expectSummary(`${label} after_contextual_module`, r.afterContextual!, o.after_contextual_module);
  expectSummary(`${label} feature`, r.feature!, o.feature);
  expectSummary(`${label} logits`, r.logits!, o.logits);
  const dPos = Math.abs(r.kldPositional! - o.kld_positional);
  const dCtx = Math.abs(r.kldContextual! - o.kld_contextual);
  const hist = new Array(o.argmax_histogram.length).fill(0);
  for (const v of r.argmax!) hist[v]++;
  let flips = 0;
  let flipsAboveGap = 0;
  r.argmax!.forEach((v, i) => {
    if (v === o.argmax_labels_flat_nhw[i]) return;
    flips++;
    if (o.top2_logit_gap_flat_nhw[i] >= 1e-3) flipsAboveGap++;
  });
  console.log(
    `${label} KL: positional |Δ| ${fmt(dPos)} (${r.kldPositional}), contextual |Δ| ${fmt(dCtx)} (${r.kldContextual}); argmax: ${flips} of ${r.argmax!.length} pixels differ (${flipsAboveGap} with a top-2 gap ≥ 1e-3)`,
  );
  expect(dPos, `${label}: kld_positional`).toBeLessThan(1e-4);
  expect(dCtx, `${label}: kld_contextual`).toBeLessThan(1e-4);
  expect(flipsAboveGap, `${label}: argmax pixels with a top-2 gap ≥ 1e-3`).toBe(0);
  expect(hist, `${label}: argmax histogram`).toEqual(o.argmax_histogram);
}
