/**
 * The SIM as backend parity cases (compared with cpu by `expectMatchesCpu`): every output and
 * the gradients of a weighted sum of them for the input and every parameter, with each
 * positional encoding. The noise is a fixed eps, so the computation is deterministic.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sign/core';
import { readAll, type HostValues, type ParityCase } from '@sign/core/testing';
import { SpatialInformationModule, type PositionalKind } from '../src/index';

const KEYS = ['feature', 'latent', 'hPrime', 'mu', 'logvar'] as const;

function simForwardBackward(positional: PositionalKind): () => Promise<HostValues> {
  return async () => {
    const shape: [number, number, number, number] = [2, 9, 11, 8];
    const size = shape.reduce((a, b) => a * b, 1);
    const rng = new Rng(31);
    const sim = new SpatialInformationModule(rng.fork('sim'), { channels: 8, hidden: 6, dilations: [1, 2, 5], positional });
    try {
      const x = tf.tensor4d(rng.fork('x').normalArray(size), shape);
      const eps = tf.tensor4d(rng.fork('eps').normalArray(size), shape);
      const weights = Object.fromEntries(
        KEYS.map((k, i) => [k, tf.tensor(rng.fork(`w${i}`).normalArray(size), shape)]),
      );
      const params = [...sim.namedParameters()];
      const loss = () =>
        tf.tidy(() => {
          const out = sim.apply(x, { eps });
          return tf.addN(KEYS.map((k) => tf.sum(tf.mul(out[k]!, weights[k])))) as tf.Scalar;
        });
      const { value, grads } = tf.variableGrads(loss, params.map(([, v]) => v));
      const dx = tf.grad((xx: tf.Tensor) => {
        const out = sim.apply(xx as tf.Tensor4D, { eps });
        return tf.addN(KEYS.map((k) => tf.sum(tf.mul(out[k]!, weights[k])))) as tf.Scalar;
      })(x);
      const out = sim.apply(x, { eps });
      const named: Record<string, tf.Tensor> = { value, dx };
      for (const k of KEYS) named[k] = out[k]!;
      for (const [name, v] of params) named[`d ${name}`] = grads[v.name];
      tf.dispose([x, eps, ...Object.values(weights)]);
      return await readAll(named);
    } finally {
      sim.dispose();
    }
  };
}

export const SIM_CASES: ParityCase[] = (['relative', 'absolute', 'none'] as const).map((positional) => ({
  name: `SIM (positional '${positional}'): every output, d/dx and d/dparameter`,
  compute: simForwardBackward(positional),
}));
