/**
 * The losses as backend parity cases (compared with cpu by `expectMatchesCpu`): values and
 * gradients of the cross-entropy, the class-wise MMD (12 classes: more terms than one webgpu AddN
 * takes), the KL divergence and the adversarial losses, and the self-training targets.
 * Label tensors are built inside each case from host arrays: the losses check labels with a
 * synchronous read, which webgpu can do only before the tensor is uploaded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sign/core';
import { readAll, type ParityCase } from '@sign/core/testing';
import {
  annealedSelfTrainingTargets,
  classwiseMmdLoss,
  klDivergence,
  l1AdversarialLoss,
  leastSquaresAdversarialLoss,
  topPPseudoLabels,
  weightedCrossEntropy,
} from '../src/index';

function labelsArray(rng: Rng, n: number, classes: number, ignoreEvery = 0): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === 0 ? 255 : rng.int(classes)));
}

export const LOSS_CASES: ParityCase[] = [
  {
    name: 'weightedCrossEntropy with weights and ignored pixels: value and d/dlogits',
    compute: async () => {
      const rng = new Rng(11);
      const shape: [number, number, number, number] = [2, 5, 6, 7];
      const logits = tf.tensor4d(rng.normalArray(2 * 5 * 6 * 7, 0, 2), shape);
      const labels = tf.tensor3d(labelsArray(rng, 60, 7, 9), [2, 5, 6], 'int32');
      const weights = tf.tensor3d(rng.uniformArray(60, 0.2, 1.5), [2, 5, 6]);
      const { value, grads } = tf.valueAndGrads((l: tf.Tensor) => weightedCrossEntropy(l as tf.Tensor4D, labels, weights))([logits]);
      tf.dispose([logits, labels, weights]);
      return readAll({ value, dlogits: grads[0] });
    },
  },
  {
    name: 'classwiseMmdLoss over 12 classes: value and d/dfake',
    compute: async () => {
      const rng = new Rng(12);
      const p = 72;
      const d = 10;
      const real = tf.tensor2d(rng.normalArray(p * d), [p, d]);
      const fake = tf.tensor2d(rng.normalArray(p * d, 0.3, 1.2), [p, d]);
      const labels = tf.tensor1d(Int32Array.from({ length: p }, (_, i) => i % 12), 'int32');
      const { value, grads } = tf.valueAndGrads((f: tf.Tensor) => classwiseMmdLoss(real, f as tf.Tensor2D, labels))([fake]);
      tf.dispose([real, fake, labels]);
      return readAll({ value, dfake: grads[0] });
    },
  },
  {
    name: 'klDivergence with a mask: value, d/dmu and d/dlogvar',
    compute: async () => {
      const rng = new Rng(13);
      const shape: [number, number, number, number] = [2, 4, 5, 6];
      const mu = tf.tensor4d(rng.normalArray(240), shape);
      const logvar = tf.tensor4d(rng.normalArray(240, 0, 0.5), shape);
      const mask = tf.tensor3d(Float32Array.from({ length: 40 }, (_, i) => (i % 3 ? 1 : 0)), [2, 4, 5]);
      const { value, grads } = tf.valueAndGrads((m: tf.Tensor, l: tf.Tensor) => klDivergence(m as tf.Tensor4D, l as tf.Tensor4D, mask))([mu, logvar]);
      tf.dispose([mu, logvar, mask]);
      return readAll({ value, dmu: grads[0], dlogvar: grads[1] });
    },
  },
  {
    name: 'l1AdversarialLoss (masked) and leastSquaresAdversarialLoss: values and gradients',
    compute: async () => {
      const rng = new Rng(14);
      const pred = tf.tensor2d(rng.uniformArray(30, 0.01, 0.99), [30, 1]);
      const mask = tf.tensor2d(Float32Array.from({ length: 30 }, (_, i) => (i % 4 ? 1 : 0)), [30, 1]);
      const f = (x: tf.Tensor) => tf.add(l1AdversarialLoss(x, 1, mask), leastSquaresAdversarialLoss(x, 0)) as tf.Scalar;
      const { value, grads } = tf.valueAndGrads(f)([pred]);
      tf.dispose([pred, mask]);
      return readAll({ value, dpred: grads[0] });
    },
  },
  {
    name: 'annealedSelfTrainingTargets and topPPseudoLabels (rank): labels and weights',
    compute: async () => {
      const rng = new Rng(15);
      const n = 2 * 6 * 5;
      const probs = tf.tidy(() => tf.softmax(tf.tensor4d(rng.normalArray(n * 6, 0, 2), [2, 6, 5, 6])) as tf.Tensor4D);
      const labels = tf.tensor3d(labelsArray(rng, n, 4, 3), [2, 6, 5], 'int32');
      const annealed = annealedSelfTrainingTargets(probs, labels, [4, 5], { temperature: 2 });
      const top = topPPseudoLabels(probs, labels, [4, 5], { topP: 2 });
      tf.dispose([probs, labels]);
      return readAll({ annealedLabels: annealed.labels, annealedWeights: annealed.weights, topLabels: top.labels, topWeights: top.weights });
    },
  },
];
