import path from 'node:path';
import { expect, it } from 'vitest';
import { markedExample, readmeExample } from '../../../tooling/vitest/readme';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import {
  annealedSelfTrainingTargets,
  classwiseMmdLoss,
  l1AdversarialLoss,
  weightedCrossEntropy,
} from '../src/index';
import { expectClose, mmdReference } from './_helpers';

// The code between the markers is the README's example, verbatim (checked below); the README
// imports the same names from '@sign/losses'.
it('README example runs and gives the documented values', async () => {
  // README-EXAMPLE-START
  await initBackend('auto'); // tfjs-node if installed, else wasm, else cpu

  // Generator content loss: class-wise MMD between real and generated features of 5 pixels.
  // Rows 0 and 2 are class 3, rows 1 and 3 class 5; row 4 is unlabelled (255).
  const real = tf.tensor2d([0.1, 0.9, 0.9, 0.1, 0.2, 0.8, 0.8, 0.3, 0.5, 0.5], [5, 2]);
  const fake = tf.variable(tf.tensor2d([0.3, 0.6, 0.6, 0.2, 0.1, 0.9, 0.9, 0.2, 0, 0], [5, 2]));
  const pixelLabels = tf.tensor1d([3, 5, 3, 5, 255], 'int32');
  const { value: mmd, grads } = tf.variableGrads(
    () => classwiseMmdLoss(real, fake, pixelLabels),
    [fake],
  );
  console.log('class-wise MMD', mmd.dataSync()[0]); // ≈ 0.0998; grads[fake.name] is [5, 2]

  // Adversarial loss as the public code computes it: L1 between D's output and the target.
  const dOut = tf.tensor2d([[0.8], [0.3]]);
  const adv = l1AdversarialLoss(dOut, 1);
  console.log('G adversarial', adv.dataSync()[0]); // (0.2 + 0.7) / 2 = 0.45

  // Annealed self-training: a teacher labels the unlabelled pixels with unseen classes,
  // weighted by confidence; the student trains with the weighted cross-entropy.
  const teacher = tf.tensor4d([0.8, 0.1, 0.1, 0.2, 0.1, 0.7, 0.4, 0.3, 0.3], [1, 1, 3, 3]);
  const gt = tf.tensor3d([0, 255, 255], [1, 1, 3], 'int32'); // class 2 is unseen
  const targets = annealedSelfTrainingTargets(teacher, gt, [2], { temperature: 5 });
  console.log(targets.labels.arraySync(), targets.weights.arraySync());
  // labels [[[0, 2, 2]]], weights [[[1, 1, exp(5·(0.3 − 0.7)) ≈ 0.1353]]]
  const studentLogits = tf.tensor4d([2, 0, 0, 0, 0, 1, 1, 0, 0], [1, 1, 3, 3]);
  const ce = weightedCrossEntropy(studentLogits, targets.labels, targets.weights);
  console.log('student CE', ce.dataSync()[0]); // ≈ 0.4688
  // README-EXAMPLE-END

  const R = real.arraySync() as number[][];
  const F = fake.arraySync() as number[][];
  const sig = [2, 5, 10, 20, 40, 60];
  const want =
    (mmdReference([R[0], R[2]], [F[0], F[2]], sig) +
      mmdReference([R[1], R[3]], [F[1], F[3]], sig)) /
    2;
  expectClose([mmd.dataSync()[0]], [want]);
  expectClose([mmd.dataSync()[0]], [0.0998], 1e-3);
  expect(grads[fake.name].shape).toEqual([5, 2]);
  expect(Array.from(grads[fake.name].dataSync()).slice(8)).toEqual([0, 0]); // unlabelled row
  expect(targets.labels.arraySync()).toEqual([[[0, 2, 2]]]);
  expectClose(targets.weights.dataSync(), [1, 1, Math.exp(5 * (0.3 - 0.7))]);
  const lse = (v: number[]) => Math.log(v.reduce((s, x) => s + Math.exp(x), 0));
  const w2 = Math.exp(-2);
  const ceWant =
    (lse([2, 0, 0]) - 2 + (lse([0, 0, 1]) - 1) + w2 * (lse([1, 0, 0]) - 0)) / (2 + w2 + 1e-6);
  expectClose([ce.dataSync()[0]], [ceWant]);
  expectClose([ce.dataSync()[0]], [0.4688], 1e-3);
  expectClose([adv.dataSync()[0]], [0.45]);
  tf.dispose([
    real,
    fake,
    pixelLabels,
    mmd,
    dOut,
    adv,
    teacher,
    gt,
    targets.labels,
    targets.weights,
  ]);
  tf.dispose([studentLogits, ce, ...Object.values(grads)]);
});

it('the README shows exactly this example', () => {
  const code = readmeExample(path.resolve(__dirname, '..')).replace(/^import[\s\S]*?from '[^']+';\n/gm, '').trim();
  expect(code).toBe(markedExample(__filename));
});
