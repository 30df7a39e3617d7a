import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { forEachBackend } from '@sign/core/testing';
import {
  classwiseMmdLoss,
  klDivergence,
  l1AdversarialLoss,
  leastSquaresAdversarialLoss,
  mmdLoss,
  weightedCrossEntropy,
} from '../src/index';
import { checkGradients, randn, seeded } from './_helpers';

// Gradients of every loss against central finite differences of the same function in float32:
// eps = 1e-2 keeps the rounding error of (f(x+eps) − f(x−eps)) / 2eps near 1e-5·|f|, and the
// truncation error O(eps²) near 1e-4, well inside |err| ≤ 2e-3 + 2e-2·|fd|.

forEachBackend(['wasm', 'cpu'], (backend) => {
  it(`mmdLoss gradient wrt real and fake (${backend})`, () => {
    const real = { values: randn(4 * 3, 1), shape: [4, 3] };
    const fake = { values: randn(5 * 3, 2, 1.5).map((v) => v + 0.5), shape: [5, 3] };
    const r = checkGradients((x, y) => mmdLoss(x as tf.Tensor2D, y as tf.Tensor2D), [real, fake]);
    expect(r.checked).toBe(27);
  });

  it(`mmdLoss gradient with narrow kernels (${backend})`, () => {
    const real = { values: randn(3 * 2, 3), shape: [3, 2] };
    const fake = { values: randn(3 * 2, 4).map((v) => v + 1), shape: [3, 2] };
    checkGradients((x, y) => mmdLoss(x as tf.Tensor2D, y as tf.Tensor2D, [0.5, 1]), [real, fake]);
  });

  it(`classwiseMmdLoss gradient, classes interleaved and one row ignored (${backend})`, () => {
    const labels = [2, 0, 2, 255, 0, 2, 0];
    const real = { values: randn(7 * 3, 5), shape: [7, 3] };
    const fake = { values: randn(7 * 3, 6, 1.3).map((v) => v - 0.4), shape: [7, 3] };
    const g = tf.tidy(() => {
      const lab = tf.tensor1d(labels, 'int32');
      return Array.from(
        tf
          .grad((x: tf.Tensor) =>
            classwiseMmdLoss(x as tf.Tensor2D, tf.tensor2d(fake.values, [7, 3]), lab),
          )(tf.tensor2d(real.values, [7, 3]))
          .dataSync(),
      );
    });
    // the ignored row receives no gradient
    expect(g.slice(9, 12)).toEqual([0, 0, 0]);
    const lab = tf.tensor1d(labels, 'int32');
    checkGradients(
      (x, y) => classwiseMmdLoss(x as tf.Tensor2D, y as tf.Tensor2D, lab),
      [real, fake],
    );
    lab.dispose();
  });

  it(`klDivergence gradient, with and without mask (${backend})`, () => {
    const mu = { values: randn(2 * 2 * 2 * 3, 7), shape: [2, 2, 2, 3] };
    const logvar = { values: randn(2 * 2 * 2 * 3, 8, 0.5), shape: [2, 2, 2, 3] };
    checkGradients((m, l) => klDivergence(m as tf.Tensor4D, l as tf.Tensor4D), [mu, logvar]);
    const mask = tf.tensor3d([1, 0, 1, 1, 0, 0, 1, 0], [2, 2, 2]);
    checkGradients(
      (m, l) => klDivergence(m as tf.Tensor4D, l as tf.Tensor4D, mask as tf.Tensor3D),
      [mu, logvar],
    );
    mask.dispose();
  });

  it(`weightedCrossEntropy gradient wrt logits and weights (${backend})`, () => {
    const logits = { values: randn(1 * 2 * 3 * 4, 9, 2), shape: [1, 2, 3, 4] };
    const r = seeded(10);
    const weights = { values: Array.from({ length: 6 }, () => 0.2 + r()), shape: [1, 2, 3] };
    const labels = tf.tensor3d(
      [
        [
          [0, 3, 255],
          [1, 2, 3],
        ],
      ],
      [1, 2, 3],
      'int32',
    );
    checkGradients(
      (x, w) => weightedCrossEntropy(x as tf.Tensor4D, labels, w as tf.Tensor3D),
      [logits, weights],
    );
    checkGradients((x) => weightedCrossEntropy(x as tf.Tensor4D, labels), [logits]);
    labels.dispose();
  });

  it(`adversarial losses gradient wrt pred (${backend})`, () => {
    // values kept more than eps away from the targets 0 and 1 (the L1 kink)
    const pred = { values: [0.2, 0.7, 0.45, 0.9, 0.05 + 0.03, 0.6], shape: [6, 1] };
    const mask = tf.tensor1d([1, 1, 0, 1, 1, 0]);
    for (const target of [0, 1]) {
      checkGradients((p) => l1AdversarialLoss(p, target, mask), [pred]);
      checkGradients((p) => l1AdversarialLoss(p, target), [pred]);
      checkGradients((p) => leastSquaresAdversarialLoss(p, target, mask), [pred]);
      checkGradients((p) => leastSquaresAdversarialLoss(p, target), [pred]);
    }
    mask.dispose();
  });
});
