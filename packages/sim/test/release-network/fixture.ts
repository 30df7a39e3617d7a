/**
 * The release-network fixtures of ../shared (summaries of the SIGN release's own network run by
 * PyTorch on formula-defined weights and input) and the formulas that rebuild those weights and
 * that input here, in PyTorch's layout, so that the test loads them through the same key mapping
 * and layout conversion (`deeplabReleaseKey`, `releaseSimKey`, `loadTorchStateDict`) as a real
 * checkpoint.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

/** ../shared/fixtures/release-network, seen from the repository root. */
export const FIXTURE_DIR = resolve(__dirname, '../../../../../shared/fixtures/release-network');

/** One summarised tensor (NCHW, as PyTorch holds it). */
export interface TensorSummary {
  shape_nchw: number[];
  sum: number;
  abs_sum: number;
  min: number;
  max: number;
  sample_flat_nchw_indices: number[];
  sample_values: number[];
  channel_means_first_64: number[];
}

export interface ReleaseFixture {
  file: string;
  network_type: number;
  phase: number;
  input_shape_nchw: [number, number, number, number];
  weight_rule: string;
  input_rule: string;
  state_dict: { name: string; shape: number[]; dtype: string }[];
  outputs: {
    layer5: TensorSummary;
    aspp: TensorSummary;
    after_positional_module: TensorSummary;
    kld_positional: number;
    latent_z_eval: TensorSummary;
    after_contextual_module: TensorSummary;
    kld_contextual: number;
    feature: TensorSummary;
    logits: TensorSummary;
    argmax_histogram: number[];
    smallest_top2_logit_gap: number;
    argmax_labels_flat_nhw: number[];
    top2_logit_gap_flat_nhw: number[];
  };
}

/** The fixture files, or null (with the reason) where ../shared is absent. */
export function loadFixtures(): { fixtures: ReleaseFixture[]; missing: string | null } {
  const files = ['type1-97x129.json', 'type2.1-97x129.json'];
  const paths = files.map((f) => resolve(FIXTURE_DIR, f));
  const absent = paths.filter((p) => !existsSync(p));
  if (absent.length)
    return {
      fixtures: [],
      missing: `${absent.join(', ')} absent (../shared is not on this machine)`,
    };
  return {
    fixtures: paths.map((p, i) => ({ file: files[i], ...JSON.parse(readFileSync(p, 'utf8')) })),
    missing: null,
  };
}

/**
 * The fixtures for a test file; where ../shared is absent, says so (a warning, and one test that
 * states why the others are skipped) and returns `missing`.
 */
export function fixturesOrSkip(testFile: string): {
  fixtures: ReleaseFixture[];
  missing: string | null;
} {
  const r = loadFixtures();
  if (r.missing) console.warn(`${testFile}: skipped, ${r.missing}`);
  it.runIf(!!r.missing)(`skips the release-network parity: ${r.missing}`, () => {
    expect(r.fixtures).toEqual([]);
  });
  return r;
}

/**
 * `out[i] = scale · sin(a·i + b) + offset` for i < n in float64, stored as float32. Uses the
 * rotation recurrence (sin, cos of a·i + b advanced by the angle a), re-anchored with Math.sin /
 * Math.cos every 256 steps: ~10× faster than calling Math.sin for the 98M weights, and within
 * 1e-13 of it.
 */
export function sinSeries(
  n: number,
  a: number,
  b: number,
  scale = 1,
  offset = 0,
  cosine = false,
): Float32Array {
  const out = new Float32Array(n);
  const ca = Math.cos(a);
  const sa = Math.sin(a);
  let s = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    if ((i & 255) === 0) {
      s = Math.sin(a * i + b);
      c = Math.cos(a * i + b);
    } else {
      const s2 = s * ca + c * sa;
      c = c * ca - s * sa;
      s = s2;
    }
    out[i] = scale * (cosine ? c : s) + offset;
  }
  return out;
}

/**
 * The value of state-dict entry `k` (its index among all entries) under the fixture's weight
 * rule, in PyTorch's layout; null for `num_batches_tracked`.
 */
export function ruleValues(
  name: string,
  shape: number[],
  k: number,
  phase: number,
): Float32Array | null {
  const n = shape.reduce((p, q) => p * q, 1);
  if (name.endsWith('.num_batches_tracked')) return null;
  if (name.endsWith('.bn.running_mean')) return sinSeries(n, 0.3, k + phase, 0.1);
  if (name.endsWith('.bn.running_var')) return sinSeries(n, 0.1, k + phase, 0.25, 1.25);
  if (name.endsWith('.bn.weight')) return sinSeries(n, 0.7, k + phase, 0.1, 1);
  if (name.endsWith('.bn.bias')) return sinSeries(n, 0.5, k + phase, 0.1, 0, true);
  if (name.endsWith('.bias')) return sinSeries(n, 0.9, k + phase, 0.01);
  const fanIn = n / shape[0];
  let g = 1.5;
  if (name.endsWith('.increase.conv.weight') || name.endsWith('.proj.conv.weight')) g = 0.5;
  else if (name.startsWith('back.aspp.') || name.startsWith('dis.')) g = 60;
  else if (
    name.startsWith('back.positional') ||
    name.startsWith('back.contextual') ||
    name.startsWith('back.fc_')
  )
    g = 16;
  return sinSeries(n, 0.61803, 0.5 * k + phase, g * Math.sqrt(1 / fanIn));
}

/** The fixture's input, `x[0,c,y,x] = 60·sin(0.05·(y·W + x) + 1.7·c + phase)`, as NHWC values. */
export function inputNhwc(shape: [number, number, number, number], phase: number): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++)
          out[((b * h + y) * w + x) * c + ch] =
            60 * Math.sin(0.05 * (y * w + x) + 1.7 * ch + phase);
  return out;
}

/** Flat NCHW index → flat NHWC index. */
export function nchwToNhwcIndex(i: number, shape: number[]): number {
  const [, c, h, w] = shape;
  const b = Math.floor(i / (c * h * w));
  let r = i - b * c * h * w;
  const ch = Math.floor(r / (h * w));
  r -= ch * h * w;
  const y = Math.floor(r / w);
  const x = r - y * w;
  return ((b * h + y) * w + x) * c + ch;
}

/** What {@link compareSummary} measured for one tensor (each a relative error). */
export interface SummaryComparison {
  /** |Δsum| / |sum| */
  sum: number;
  /** |Δ abs-sum| / abs-sum */
  absSum: number;
  /** max of |Δmin|, |Δmax|, over the tensor's largest magnitude M = max(|min|, |max|) */
  minMax: number;
  /** max over the 256 sampled values of |Δ| / max(|value|, M) */
  samples: number;
  /** max over the per-channel means (first 64 channels) of |Δ| / max(|mean|, M) */
  channelMeans: number;
  /** for information: max over the sampled values of |Δ| / |value| (no floor) */
  samplesElementwise: number;
  /** the largest of sum, absSum, minMax, samples, channelMeans */
  worst: number;
}

/**
 * Compares our NHWC values with a fixture summary. Sums, abs-sums: relative to themselves.
 * Sampled values, per-channel means, min and max: relative to the larger of their own magnitude
 * and the tensor's largest magnitude M. Values far below M have no meaningful relative error in
 * float32: PyTorch's own float32 run of the release differs from its float64 run by up to 6.9e-4
 * of mean|z| on the latent z (a small difference of large terms under the fixture's weights), and
 * tfjs accumulates long dot products less accurately than PyTorch's oneDNN.
 */
export function compareSummary(values: Float32Array, s: TensorSummary): SummaryComparison {
  const c = s.shape_nchw[1];
  const hw = s.shape_nchw[2] * s.shape_nchw[3];
  if (values.length !== s.shape_nchw.reduce((p, q) => p * q, 1)) {
    throw new Error(
      `compareSummary: ${values.length} values for a tensor of shape [${s.shape_nchw}]`,
    );
  }
  let sum = 0;
  let abs = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    abs += Math.abs(v);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const M = Math.max(Math.abs(s.min), Math.abs(s.max));
  const rel = (a: number, b: number, floor: number) =>
    Math.abs(a - b) / Math.max(Math.abs(b), floor);
  let samples = 0;
  let samplesElementwise = 0;
  s.sample_flat_nchw_indices.forEach((idx, j) => {
    const ours = values[nchwToNhwcIndex(idx, s.shape_nchw)];
    samples = Math.max(samples, rel(ours, s.sample_values[j], M));
    samplesElementwise = Math.max(samplesElementwise, rel(ours, s.sample_values[j], 1e-30));
  });
  let channelMeans = 0;
  s.channel_means_first_64.forEach((m, ch) => {
    let t = 0;
    for (let p = 0; p < hw; p++) t += values[p * c + ch];
    channelMeans = Math.max(channelMeans, rel(t / hw, m, M));
  });
  const r = {
    sum: rel(sum, s.sum, 1e-30),
    absSum: rel(abs, s.abs_sum, 1e-30),
    minMax: Math.max(Math.abs(min - s.min), Math.abs(max - s.max)) / M,
    samples,
    channelMeans,
    samplesElementwise,
  };
  return { ...r, worst: Math.max(r.sum, r.absSum, r.minMax, r.samples, r.channelMeans) };
}
