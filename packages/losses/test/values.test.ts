import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import {
  annealedSelfTrainingTargets,
  classwiseMmdLoss,
  DEFAULT_SIGMAS,
  KERNEL_EXPONENT_FLOOR,
  klDivergence,
  l1AdversarialLoss,
  leastSquaresAdversarialLoss,
  mmdLoss,
  topPPseudoLabels,
  topPPseudoLabelsAsync,
  weightedCrossEntropy,
} from '../src/index';
import { expectClose, mmdReference, randn, take } from './_helpers';

// Hand-computed and float64-reference values, edge cases and input checks, on wasm and cpu.

describe('MMD', () => {
  const rows = (v: number[], d: number) =>
    Array.from({ length: v.length / d }, (_, i) => v.slice(i * d, i * d + d));

  forEachBackend(['wasm', 'cpu'], (backend) => {
    it(`hand-computed: two points against two points (${backend})`, () => {
      // ‖·‖² within X and within Y: {0, 1, 1, 0}; between them: {1, 2, 2, 1}. With a = e^{−1/(2σ)},
      // b = e^{−1/σ}: mean k(X,X) = mean k(Y,Y) = (1 + a)/2, mean k(X,Y) = (a + b)/2, so MMD² = Σ_σ (1 − b)
      let expected2 = 0;
      for (const s of DEFAULT_SIGMAS) expected2 += 1 - Math.exp(-1 / s);
      const got = take(
        mmdLoss(
          tf.tensor2d([
            [0, 0],
            [1, 0],
          ]),
          tf.tensor2d([
            [0, 1],
            [1, 1],
          ]),
        ),
      );
      expectClose([got], [Math.sqrt(expected2)]);
      expectClose([got], [0.8717169143837695]);
    });

    it(`matches a float64 reference on random sets of different sizes (${backend})`, () => {
      const x = randn(9 * 6, 21);
      const y = randn(4 * 6, 22, 1.4);
      const got = take(mmdLoss(tf.tensor2d(x, [9, 6]), tf.tensor2d(y, [4, 6]), [1, 3, 7]));
      expectClose([got], [mmdReference(rows(x, 6), rows(y, 6), [1, 3, 7])]);
    });

    it(`real == fake: value ≈ 0 and finite gradient (${backend})`, () => {
      const x = randn(6 * 5, 31);
      const t = tf.tensor2d(x, [6, 5]);
      const { value, grads } = tf.tidy(() => {
        const vg = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
          mmdLoss(a as tf.Tensor2D, b as tf.Tensor2D),
        );
        const r = vg([t, t]);
        return {
          value: r.value.dataSync()[0],
          grads: r.grads.map((g) => Array.from(g.dataSync())),
        };
      });
      expect(Number.isFinite(value)).toBe(true);
      // identical sets give identical centred blocks, so MMD² is exactly 0
      expect(value).toBe(0);
      for (const g of grads) for (const v of g) expect(Number.isFinite(v)).toBe(true);
      // also a single point against itself, where the MMD² is exactly 0
      const one = tf.tensor2d([[0.3, -1.2]]);
      const g1 = tf.tidy(() =>
        Array.from(
          tf
            .grad((a: tf.Tensor) => mmdLoss(a as tf.Tensor2D, one))(one)
            .dataSync(),
        ),
      );
      expect(g1.every((v) => v === 0)).toBe(true);
      expect(take(mmdLoss(one, one))).toBe(0);
      t.dispose();
      one.dispose();
    });

    it(`kernel floor: distant points give the float64 result and finite gradients (${backend})`, () => {
      expect(Math.exp(KERNEL_EXPONENT_FLOOR)).toBeGreaterThan(1.18e-38 * 1e6); // far from denormal range
      // two clusters at distance² 4·d² apart, spanning exponents from ~0 to −10⁴: with σ = 2 the
      // cross terms are far below the floor, with σ = 60 some are above it
      for (const shift of [3, 8, 15, 40, 200]) {
        const x = randn(5 * 4, 40 + shift, 0.5);
        const y = randn(6 * 4, 50 + shift, 0.5).map((v) => v + shift);
        const ref = mmdReference(rows(x, 4), rows(y, 4), [...DEFAULT_SIGMAS]);
        const { value, grad } = tf.tidy(() => {
          const vg = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
            mmdLoss(a as tf.Tensor2D, b as tf.Tensor2D),
          );
          const r = vg([tf.tensor2d(x, [5, 4]), tf.tensor2d(y, [6, 4])]);
          return { value: r.value.dataSync()[0], grad: Array.from(r.grads[0].dataSync()) };
        });
        expectClose([value], [ref]);
        expect(grad.every(Number.isFinite)).toBe(true);
      }
    });

    it(`classwise: groups by class, not by consecutive runs (${backend})`, () => {
      const x = randn(6 * 3, 61);
      const y = randn(6 * 3, 62, 1.2);
      const labels = [4, 9, 4, 255, 9, 4];
      const R = rows(x, 3);
      const F = rows(y, 3);
      const pick = (m: number[][], c: number) => m.filter((_, i) => labels[i] === c);
      const expected =
        (mmdReference(pick(R, 4), pick(F, 4), [...DEFAULT_SIGMAS]) +
          mmdReference(pick(R, 9), pick(F, 9), [...DEFAULT_SIGMAS])) /
        2;
      // the public code's grouping (runs 4 | 9 | 4 | 9 | 4) gives a different number
      const runs = [[0], [1], [2], [4], [5]];
      const byRuns =
        runs.reduce(
          (s, r) =>
            s +
            mmdReference(
              r.map((i) => R[i]),
              r.map((i) => F[i]),
              [...DEFAULT_SIGMAS],
            ),
          0,
        ) / runs.length;
      expect(Math.abs(byRuns - expected)).toBeGreaterThan(1e-2);
      const got = take(
        classwiseMmdLoss(
          tf.tensor2d(x, [6, 3]),
          tf.tensor2d(y, [6, 3]),
          tf.tensor1d(labels, 'int32'),
        ),
      );
      expectClose([got], [expected]);
    });

    it(`classwise: custom ignoreIndex and sigmas; no class present gives 0 with zero gradient (${backend})`, () => {
      const x = tf.tensor2d(randn(4 * 2, 71), [4, 2]);
      const y = tf.tensor2d(randn(4 * 2, 72), [4, 2]);
      const xs = rows(Array.from(x.dataSync()), 2);
      const ys = rows(Array.from(y.dataSync()), 2);
      const labels = tf.tensor1d([0, 7, 0, 7], 'int32');
      const got = take(classwiseMmdLoss(x, y, labels, { ignoreIndex: 7, sigmas: [1] }));
      expectClose([got], [mmdReference([xs[0], xs[2]], [ys[0], ys[2]], [1])]);
      // labels on the host (nothing read back from the backend): the same value
      expect(take(classwiseMmdLoss(x, y, Int32Array.from([0, 7, 0, 7]), { ignoreIndex: 7, sigmas: [1] }))).toBe(got);
      const none = tf.tensor1d([255, 255, 255, 255], 'int32');
      expect(take(classwiseMmdLoss(x, y, none))).toBe(0);
      const g = tf.tidy(() =>
        Array.from(
          tf
            .grad((a: tf.Tensor) => classwiseMmdLoss(a as tf.Tensor2D, y, none))(x)
            .dataSync(),
        ),
      );
      expect(g).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
      tf.dispose([x, y, labels, none]);
    });
  });

  it('rejects bad inputs with messages that say what was expected', () => {
    const a = tf.zeros([3, 2]) as tf.Tensor2D;
    const b = tf.zeros([3, 4]) as tf.Tensor2D;
    expect(() => mmdLoss(a, b)).toThrow(/same feature width D/);
    expect(() => mmdLoss(tf.zeros([3]) as unknown as tf.Tensor2D, a)).toThrow(
      /mmdLoss: real must have rank 2 \[M, D\]/,
    );
    expect(() => mmdLoss(a, a, [])).toThrow(/sigmas must be a non-empty array/);
    expect(() => mmdLoss(a, a, [1, -2])).toThrow(/positive finite number, got -2/);
    expect(() => mmdLoss(tf.zeros([0, 2]) as tf.Tensor2D, a)).toThrow(/at least one row/);
    expect(() => classwiseMmdLoss(a, a, tf.tensor1d([0, 1, 2]))).toThrow(/labels must be int32/);
    expect(() => classwiseMmdLoss(a, a, tf.tensor1d([0, 1], 'int32'))).toThrow(
      /must be \[P, D\], \[P, D\] and \[P\]/,
    );
    expect(() => classwiseMmdLoss(a, a, Int32Array.from([0, 1]))).toThrow(/labels \[2\] must be \[P, D\], \[P, D\] and \[P\]/);
    expect(() => classwiseMmdLoss(a, a, tf.tensor1d([0, -1, 1], 'int32'))).toThrow(
      /found -1 at row 1/,
    );
  });
});

describe('KL, cross-entropy, adversarial', () => {
  forEachBackend(['wasm', 'cpu'], (backend) => {
    it(`klDivergence: hand-computed, masked, empty mask (${backend})`, () => {
      // pixel 0: mu (1, 0), logvar (0, ln 2) → −½[(1+0−1−1) + (1+ln2−0−2)] = ½(2 − ln 2) ≈ 0.65343
      // pixel 1: mu (0, 0), logvar (0, 0) → 0
      const mu = tf.tensor4d([1, 0, 0, 0], [1, 1, 2, 2]);
      const logvar = tf.tensor4d([0, Math.log(2), 0, 0], [1, 1, 2, 2]);
      const p0 = 0.5 * (2 - Math.log(2));
      expectClose([take(klDivergence(mu, logvar))], [p0 / 2]);
      expectClose([take(klDivergence(mu, logvar, tf.tensor3d([1, 0], [1, 1, 2])))], [p0]);
      // a precomputed variance exp(logvar) gives the same value; a wrong shape is refused
      expectClose([take(klDivergence(mu, logvar, undefined, { variance: tf.tensor4d([1, 2, 1, 1], [1, 1, 2, 2]) }))], [p0 / 2]);
      expect(() => klDivergence(mu, logvar, undefined, { variance: tf.ones([1, 2, 2]) as never })).toThrow(/opts.variance/);
      expectClose([take(klDivergence(mu, logvar, tf.tensor3d([0, 1], [1, 1, 2], 'int32')))], [0]);
      // a bool mask is a 0/1 mask too
      expectClose(
        [take(klDivergence(mu, logvar, tf.tensor3d([true, true], [1, 1, 2], 'bool')))],
        [p0 / 2],
      );
      // empty mask: 0, not NaN, and a zero gradient
      const none = tf.zeros([1, 1, 2]) as tf.Tensor3D;
      expect(take(klDivergence(mu, logvar, none))).toBe(0);
      const g = tf.tidy(() =>
        Array.from(
          tf
            .grad((m: tf.Tensor) => klDivergence(m as tf.Tensor4D, logvar, none))(mu)
            .dataSync(),
        ),
      );
      expect(g).toEqual([0, 0, 0, 0]);
      // a masked-out pixel may hold Inf without spoiling the value
      const wild = tf.tensor4d([1, 0, 1e30, 0], [1, 1, 2, 2]);
      expectClose([take(klDivergence(wild, logvar, tf.tensor3d([1, 0], [1, 1, 2])))], [p0]);
      tf.dispose([mu, logvar, none, wild]);
    });

    it(`weightedCrossEntropy: hand-computed, weights, ignore index, stability (${backend})`, () => {
      const logits = tf.tensor4d([
        [
          [
            [2, 0, 0],
            [0, 0, 0],
            [0, 3, 1],
          ],
        ],
      ]); // [1, 1, 3, 3]
      const ce0 = Math.log(1 + 2 * Math.exp(-2)); // label 0 at pixel 0
      const ce1 = Math.log(3); // any label at pixel 1
      const ce2 = Math.log(1 + Math.exp(3) + Math.exp(1)) - 1; // label 2 at pixel 2
      const labels = tf.tensor3d([[[0, 1, 2]]], undefined, 'int32');
      expectClose([take(weightedCrossEntropy(logits, labels))], [(ce0 + ce1 + ce2) / (3 + 1e-6)]);
      const w = tf.tensor3d([[[0.5, 2, 0.25]]]);
      expectClose(
        [take(weightedCrossEntropy(logits, labels, w))],
        [(0.5 * ce0 + 2 * ce1 + 0.25 * ce2) / (2.75 + 1e-6)],
      );
      const ignored = tf.tensor3d([[[0, 255, 2]]], undefined, 'int32');
      expectClose(
        [take(weightedCrossEntropy(logits, ignored, w))],
        [(0.5 * ce0 + 0.25 * ce2) / (0.75 + 1e-6)],
      );
      const custom = tf.tensor3d([[[0, 9, 2]]], undefined, 'int32');
      expectClose(
        [take(weightedCrossEntropy(logits, custom, w, { ignoreIndex: 9 }))],
        [(0.5 * ce0 + 0.25 * ce2) / (0.75 + 1e-6)],
      );
      // everything ignored: 0
      expect(
        take(weightedCrossEntropy(logits, tf.tensor3d([[[255, 255, 255]]], undefined, 'int32'))),
      ).toBe(0);
      // large logits do not overflow: [1000, 0] with label 1 → CE = 1000
      const big = tf.tensor4d([[[[1000, 0]]]]);
      expectClose(
        [take(weightedCrossEntropy(big, tf.tensor3d([[[1]]], undefined, 'int32')))],
        [1000 / (1 + 1e-6)],
      );
      // Inf logits at an ignored pixel do not give NaN
      const inf = tf.tensor4d([
        [
          [
            [Infinity, 0],
            [1, 0],
          ],
        ],
      ]);
      const v = take(weightedCrossEntropy(inf, tf.tensor3d([[[255, 0]]], undefined, 'int32')));
      expectClose([v], [Math.log(1 + Math.exp(-1)) / (1 + 1e-6)]);
      // checkLabels: false skips the host check (the caller checked): same value for valid labels,
      // and no error naming an out-of-range label
      expect(take(weightedCrossEntropy(logits, labels, undefined, { checkLabels: false }))).toBe(take(weightedCrossEntropy(logits, labels)));
      const bad = tf.tensor3d([[[0, 7, 1]]], undefined, 'int32');
      expect(() => weightedCrossEntropy(logits, bad)).toThrow(/label 7 at flat pixel 1 is outside/);
      expect(() => take(weightedCrossEntropy(logits, bad, undefined, { checkLabels: false }))).not.toThrow();
      bad.dispose();
      tf.dispose([logits, labels, w, ignored, custom, big, inf]);
    });

    it(`adversarial losses: hand-computed, masks of both layouts (${backend})`, () => {
      const pred = tf.tensor2d([[0.9], [0.2], [0.6]]);
      expectClose([take(l1AdversarialLoss(pred, 1))], [(0.1 + 0.8 + 0.4) / 3]);
      expectClose([take(l1AdversarialLoss(pred, 0))], [(0.9 + 0.2 + 0.6) / 3]);
      expectClose([take(l1AdversarialLoss(pred, 1, tf.tensor1d([1, 0, 1])))], [0.25]);
      expectClose(
        [take(l1AdversarialLoss(pred, 1, tf.tensor2d([[0], [1], [0]], undefined, 'int32')))],
        [0.8],
      );
      expectClose([take(leastSquaresAdversarialLoss(pred, 1))], [(0.01 + 0.64 + 0.16) / 3]);
      expectClose(
        [take(leastSquaresAdversarialLoss(pred, 0, tf.tensor1d([1, 1, 0])))],
        [(0.81 + 0.04) / 2],
      );
      expect(take(l1AdversarialLoss(pred, 1, tf.zeros([3])))).toBe(0);
      // NHWC discriminator maps with an [N, H, W] mask
      const map = tf.tensor4d([0.5, 1, 0, 0.25], [1, 2, 2, 1]);
      expectClose(
        [take(l1AdversarialLoss(map, 1, tf.tensor3d([1, 1, 0, 1], [1, 2, 2])))],
        [(0.5 + 0 + 0.75) / 3],
      );
      tf.dispose([pred, map]);
    });
  });

  it('rejects bad inputs with clear messages', () => {
    const mu = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expect(() => klDivergence(mu, tf.zeros([1, 2, 2, 4]) as tf.Tensor4D)).toThrow(
      /klDivergence: mu \[1, 2, 2, 3\] and logvar \[1, 2, 2, 4\]/,
    );
    expect(() => klDivergence(mu, mu, tf.zeros([1, 2, 3]) as tf.Tensor3D)).toThrow(
      /mask \[1, 2, 3\] and the expected shape \[1, 2, 2\]/,
    );
    expect(() => klDivergence(mu, mu, tf.zeros([2, 2]) as unknown as tf.Tensor3D)).toThrow(
      /mask must have rank 3/,
    );
    const logits = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    expect(() => weightedCrossEntropy(logits, tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(
      /labels must be int32/,
    );
    expect(() =>
      weightedCrossEntropy(
        logits,
        tf.tensor3d(
          [
            [
              [0, 1],
              [3, 255],
            ],
          ],
          undefined,
          'int32',
        ),
      ),
    ).toThrow(/label 3 at flat pixel 2 is outside \[0, 3\)/);
    expect(() => weightedCrossEntropy(logits, tf.zeros([1, 2, 3], 'int32') as tf.Tensor3D)).toThrow(
      /must have the same shape/,
    );
    expect(() =>
      weightedCrossEntropy(
        logits,
        tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D,
        tf.ones([1, 2, 1]) as tf.Tensor3D,
      ),
    ).toThrow(/weights \[1, 2, 1\] and labels \[1, 2, 2\]/);
    expect(() => l1AdversarialLoss(tf.zeros([4, 1]), 1, tf.ones([3]))).toThrow(
      /mask \[3\] must have pred's shape \[4, 1\] or \[4\]/,
    );
    expect(() => l1AdversarialLoss(tf.zeros([4, 1]), NaN)).toThrow(
      /target must be a finite number/,
    );
  });
});

describe('self-training targets', () => {
  function read(t: { labels: tf.Tensor; weights: tf.Tensor }): {
    labels: number[];
    weights: number[];
  } {
    const out = {
      labels: Array.from(t.labels.dataSync()),
      weights: Array.from(t.weights.dataSync()),
    };
    expect(t.labels.dtype).toBe('int32');
    expect(t.weights.dtype).toBe('float32');
    tf.dispose([t.labels, t.weights]);
    return out;
  }

  // Two images of 1×3 pixels, classes 0..3, unseen {1, 3}.
  //   image 0: labels [0, 255, 255]; image 1: labels [2, 2, 2] (nothing to pseudo-label)
  const probs = () =>
    tf.tensor4d(
      [
        [0.7, 0.1, 0.1, 0.1],
        [0.1, 0.5, 0.3, 0.1],
        [0.4, 0.1, 0.3, 0.2],
        [0.1, 0.1, 0.7, 0.1],
        [0.2, 0.3, 0.4, 0.1],
        [0.25, 0.25, 0.25, 0.25],
      ].flat(),
      [2, 1, 3, 4],
    );
  const labels = () => tf.tensor3d([0, 255, 255, 2, 2, 2], [2, 1, 3], 'int32');

  forEachBackend(['wasm', 'cpu'], (backend) => {
    it(`annealedSelfTrainingTargets: hand-computed, per image, T = 0 and T > 0 (${backend})`, () => {
      const p = probs();
      const l = labels();
      // image 0: pixel 1 → u* = 1 (p 0.5), pixel 2 → u* = 3 (p 0.2); p_max = 0.5
      const t4 = read(annealedSelfTrainingTargets(p, l, [1, 3], { temperature: 4 }));
      expect(t4.labels).toEqual([0, 1, 3, 2, 2, 2]);
      expectClose(t4.weights, [1, 1, Math.exp(4 * (0.2 - 0.5)), 1, 1, 1]);
      const t0 = read(annealedSelfTrainingTargets(p, l, [1, 3], { temperature: 0 }));
      expect(t0.labels).toEqual([0, 1, 3, 2, 2, 2]);
      expect(t0.weights).toEqual([1, 1, 1, 1, 1, 1]);
      // a tie between unseen classes goes to the first listed
      const tie = read(
        annealedSelfTrainingTargets(
          p,
          tf.tensor3d([0, 255, 255, 2, 2, 255], [2, 1, 3], 'int32'),
          [3, 1],
          { temperature: 1 },
        ),
      );
      // image 1 pixel 2: probs all 0.25 → u* = 3 (first in [3, 1]); it is the only pseudo pixel of image 1 → weight 1
      expect(tie.labels).toEqual([0, 1, 3, 2, 2, 3]);
      expectClose(tie.weights, [1, 1, Math.exp(0.2 - 0.5), 1, 1, 1]);
      // custom ignore index
      const custom = read(
        annealedSelfTrainingTargets(
          p,
          tf.tensor3d([0, 9, 9, 2, 2, 2], [2, 1, 3], 'int32'),
          [1, 3],
          { temperature: 4, ignoreIndex: 9 },
        ),
      );
      expect(custom.labels).toEqual([0, 1, 3, 2, 2, 2]);
      // the targets feed weightedCrossEntropy directly
      const t = annealedSelfTrainingTargets(p, l, [1, 3], { temperature: 4 });
      const ce = weightedCrossEntropy(tf.log(p) as tf.Tensor4D, t.labels, t.weights);
      const w2 = Math.exp(4 * (0.2 - 0.5));
      const expected =
        -(
          Math.log(0.7) +
          Math.log(0.5) +
          w2 * Math.log(0.2) +
          Math.log(0.7) +
          Math.log(0.4) +
          Math.log(0.25)
        ) /
        (5 + w2 + 1e-6);
      expectClose([ce.dataSync()[0]], [expected]);
      tf.dispose([p, l, t.labels, t.weights, ce]);
    });

    it(`topPPseudoLabels, rank rule: hand-computed for topP 1, 2, 3 (${backend})`, () => {
      const p = probs();
      const l = tf.tensor3d([0, 255, 255, 255, 255, 2], [2, 1, 3], 'int32');
      // unlabelled pixels, their u* and the number of classes strictly more probable than u*:
      //   img0 px1: u* 1 (0.5), 0 higher → rank 0;  img0 px2: u* 3 (0.2), 2 higher (0.4, 0.3) → rank 2
      //   img1 px0: u* 1 (0.1) tie with 3, u* = 1, higher: 0.7 → 1; img1 px1: u* 1 (0.3), higher 0.4 → 1
      const r1 = read(topPPseudoLabels(p, l, [1, 3], { topP: 1 }));
      expect(r1.labels).toEqual([0, 1, 255, 255, 255, 2]);
      expect(r1.weights).toEqual([1, 1, 0, 0, 0, 1]);
      const r2 = read(topPPseudoLabels(p, l, [1, 3], { topP: 2 }));
      expect(r2.labels).toEqual([0, 1, 255, 1, 1, 2]);
      expect(r2.weights).toEqual([1, 1, 0, 1, 1, 1]);
      const r3 = read(topPPseudoLabels(p, l, [1, 3], { topP: 3 }));
      expect(r3.labels).toEqual([0, 1, 3, 1, 1, 2]);
      expect(r3.weights).toEqual([1, 1, 1, 1, 1, 1]);
      // ties with a seen class count in the pixel's favour: all 0.25 → rank 0
      const flat = read(
        topPPseudoLabels(p, tf.tensor3d([0, 0, 0, 0, 0, 255], [2, 1, 3], 'int32'), [3], {
          topP: 1,
        }),
      );
      expect(flat.labels).toEqual([0, 0, 0, 0, 0, 3]);
      expect(flat.weights).toEqual([1, 1, 1, 1, 1, 1]);
      // custom ignore index: dropped pixels keep that index
      const c = read(
        topPPseudoLabels(p, tf.tensor3d([0, 7, 7, 2, 2, 2], [2, 1, 3], 'int32'), [1, 3], {
          topP: 1,
          ignoreIndex: 7,
        }),
      );
      expect(c.labels).toEqual([0, 1, 7, 2, 2, 2]);
      expect(c.weights).toEqual([1, 1, 0, 1, 1, 1]);
      tf.dispose([p, l]);
    });

    it(`topPPseudoLabels, percentPerClass rule: hand-computed (${backend})`, () => {
      // 1 image, 1×5 pixels, classes 0..2, unseen {1, 2}; all unlabelled except pixel 4
      const p = tf.tensor4d(
        [
          [0.1, 0.8, 0.1],
          [0.2, 0.6, 0.2],
          [0.1, 0.2, 0.7],
          [0.5, 0.3, 0.2],
          [0.1, 0.1, 0.8],
        ].flat(),
        [1, 1, 5, 3],
      );
      const l = tf.tensor3d([255, 255, 255, 255, 0], [1, 1, 5], 'int32');
      // candidates (overall argmax unseen): class 1 → pixels 0 (0.8), 1 (0.6); class 2 → pixel 2 (0.7)
      // pixel 3's argmax is the seen class 0: never kept
      const half = read(topPPseudoLabels(p, l, [1, 2], { topP: 0.5, rule: 'percentPerClass' }));
      expect(half.labels).toEqual([1, 255, 2, 255, 0]); // ceil(0.5·2) = 1 of class 1, ceil(0.5·1) = 1 of class 2
      expect(half.weights).toEqual([1, 0, 1, 0, 1]);
      const all = read(topPPseudoLabels(p, l, [1, 2], { topP: 1, rule: 'percentPerClass' }));
      expect(all.labels).toEqual([1, 1, 2, 255, 0]);
      expect(all.weights).toEqual([1, 1, 1, 0, 1]);
      tf.dispose([p, l]);
    });

    it(`topPPseudoLabelsAsync gives the same targets as topPPseudoLabels, both rules (${backend})`, async () => {
      const p = tf.tensor4d([[0.1, 0.8, 0.1], [0.2, 0.6, 0.2], [0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]].flat(), [1, 1, 5, 3]);
      const l = tf.tensor3d([255, 255, 255, 255, 0], [1, 1, 5], 'int32');
      for (const opts of [{ topP: 0.5, rule: 'percentPerClass' as const }, { topP: 2 }, { topP: 1 }]) {
        const a = read(await topPPseudoLabelsAsync(p, l, [1, 2], opts));
        const b = read(topPPseudoLabels(p, l, [1, 2], opts));
        expect(a).toEqual(b);
      }
      expect(read(await topPPseudoLabelsAsync(p, l, [1, 2], { topP: 0.5, rule: 'percentPerClass' })).labels).toEqual([1, 255, 2, 255, 0]);
      await expect(topPPseudoLabelsAsync(p, l, [1], { topP: 0 })).rejects.toThrow(/topPPseudoLabelsAsync: .*integer ≥ 1/);
      tf.dispose([p, l]);
    });
  });

  it('rejects bad self-training inputs with clear messages', () => {
    const p = probs();
    const l = labels();
    expect(() => annealedSelfTrainingTargets(p, l, [], { temperature: 1 })).toThrow(
      /unseen must be a non-empty array/,
    );
    expect(() => annealedSelfTrainingTargets(p, l, [4], { temperature: 1 })).toThrow(
      /unseen class 4 is outside \[0, 4\)/,
    );
    expect(() => annealedSelfTrainingTargets(p, l, [1, 1], { temperature: 1 })).toThrow(
      /unseen class 1 is listed twice/,
    );
    expect(() => annealedSelfTrainingTargets(p, l, [1], { temperature: -1 })).toThrow(
      /temperature must be ≥ 0/,
    );
    expect(() => annealedSelfTrainingTargets(p, l, [1], {} as never)).toThrow(
      /opts.temperature must be a finite number/,
    );
    expect(() =>
      annealedSelfTrainingTargets(p, tf.zeros([2, 1, 3]) as tf.Tensor3D, [1], { temperature: 1 }),
    ).toThrow(/labels must be int32/);
    expect(() =>
      annealedSelfTrainingTargets(p, tf.zeros([2, 3, 1], 'int32') as tf.Tensor3D, [1], {
        temperature: 1,
      }),
    ).toThrow(/same shape/);
    expect(() => topPPseudoLabels(p, l, [1], { topP: 0 })).toThrow(/integer ≥ 1/);
    expect(() => topPPseudoLabels(p, l, [1], { topP: 1.5 })).toThrow(/integer ≥ 1/);
    expect(() => topPPseudoLabels(p, l, [1], { topP: 2, rule: 'percentPerClass' })).toThrow(
      /fraction in \(0, 1\]/,
    );
    expect(() => topPPseudoLabels(p, l, [1], { topP: 1, rule: 'nope' as never })).toThrow(
      /rule must be 'rank' or 'percentPerClass'/,
    );
    tf.dispose([p, l]);
  });
});

describe('no leaked tensors', () => {
  forEachBackend(['wasm', 'cpu'], (backend) => {
    it(`every function, forward and backward (${backend})`, async () => {
      const x = tf.tensor2d(randn(6 * 3, 91), [6, 3]);
      const y = tf.tensor2d(randn(6 * 3, 92), [6, 3]);
      const lab1 = tf.tensor1d([0, 1, 255, 1, 0, 2], 'int32');
      const mu = tf.tensor4d(randn(2 * 2 * 3 * 4, 93), [2, 2, 3, 4]);
      const lv = tf.tensor4d(randn(2 * 2 * 3 * 4, 94, 0.3), [2, 2, 3, 4]);
      const mask = tf.tensor3d([1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1], [2, 2, 3]);
      const lab3 = tf.tensor3d([0, 255, 2, 3, 255, 1, 1, 1, 255, 0, 0, 2], [2, 2, 3], 'int32');
      const probs = tf.softmax(mu) as tf.Tensor4D;
      const pred = tf.sigmoid(tf.tensor2d(randn(6, 95), [6, 1])) as tf.Tensor2D;
      const predMask = tf.tensor1d([1, 1, 0, 1, 0, 1]);
      const none = tf.fill([6], 255, 'int32') as tf.Tensor1D;
      const nine = tf.fill([2, 2, 3], 9, 'int32') as tf.Tensor3D;
      const wide = tf.zeros([2, 5]) as tf.Tensor2D;

      const scalars: [string, () => tf.Scalar][] = [
        ['mmdLoss', () => mmdLoss(x, y)],
        ['mmdLoss identical', () => mmdLoss(x, x)],
        ['classwiseMmdLoss', () => classwiseMmdLoss(x, y, lab1)],
        ['classwiseMmdLoss empty', () => classwiseMmdLoss(x, y, none)],
        ['klDivergence', () => klDivergence(mu, lv)],
        ['klDivergence masked', () => klDivergence(mu, lv, mask)],
        ['weightedCrossEntropy', () => weightedCrossEntropy(mu, lab3)],
        ['weightedCrossEntropy weighted', () => weightedCrossEntropy(mu, lab3, mask)],
        ['l1AdversarialLoss', () => l1AdversarialLoss(pred, 1, predMask)],
        ['leastSquaresAdversarialLoss', () => leastSquaresAdversarialLoss(pred, 0)],
      ];
      for (const [name, f] of scalars) {
        const v = await expectNoLeaks(f).catch((e) => {
          throw new Error(`${name}: ${e.message}`);
        });
        expect(v.shape, name).toEqual([]);
        v.dispose();
      }
      // gradients: tf.grads inside the check, every returned tensor disposed
      const grads: [string, () => tf.Tensor[]][] = [
        [
          'mmdLoss',
          () =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) => mmdLoss(a as tf.Tensor2D, b as tf.Tensor2D))([
              x,
              y,
            ]),
        ],
        [
          'mmdLoss identical',
          () => tf.grads((a: tf.Tensor) => mmdLoss(a as tf.Tensor2D, a as tf.Tensor2D))([x]),
        ],
        [
          'classwiseMmdLoss',
          () =>
            tf.grads((a: tf.Tensor, b: tf.Tensor) =>
              classwiseMmdLoss(a as tf.Tensor2D, b as tf.Tensor2D, lab1),
            )([x, y]),
        ],
        [
          'klDivergence',
          () =>
            tf.grads((m: tf.Tensor, l: tf.Tensor) =>
              klDivergence(m as tf.Tensor4D, l as tf.Tensor4D, mask),
            )([mu, lv]),
        ],
        [
          'weightedCrossEntropy',
          () =>
            tf.grads((z: tf.Tensor) => weightedCrossEntropy(z as tf.Tensor4D, lab3, mask))([mu]),
        ],
        [
          'l1AdversarialLoss',
          () => tf.grads((p: tf.Tensor) => l1AdversarialLoss(p, 1, predMask))([pred]),
        ],
        [
          'leastSquaresAdversarialLoss',
          () => tf.grads((p: tf.Tensor) => leastSquaresAdversarialLoss(p, 1))([pred]),
        ],
      ];
      for (const [name, f] of grads) {
        const gs = await expectNoLeaks(f).catch((e) => {
          throw new Error(`gradient of ${name}: ${e.message}`);
        });
        expect(gs.length, name).toBeGreaterThan(0);
        tf.dispose(gs);
      }
      const targets = [
        () => annealedSelfTrainingTargets(probs, lab3, [2, 3], { temperature: 3 }),
        () => topPPseudoLabels(probs, lab3, [2, 3], { topP: 2 }),
        () => topPPseudoLabels(probs, lab3, [2, 3], { topP: 0.5, rule: 'percentPerClass' }),
      ];
      for (const f of targets) {
        const t = await expectNoLeaks(f);
        expect(t.labels.shape).toEqual([2, 2, 3]);
        tf.dispose([t.labels, t.weights]);
      }
      // a rejected call leaves nothing behind either
      await expectNoLeaks(() => {
        expect(() => weightedCrossEntropy(mu, nine)).toThrow(/label 9/);
        expect(() => mmdLoss(x, wide)).toThrow(/feature width/);
      });
      tf.dispose([x, y, lab1, mu, lv, mask, lab3, probs, pred, predMask, none, nine, wide]);
    });
  });
});
