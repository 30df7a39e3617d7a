import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Rng } from '@sign/core';
import { SpatialInformationModule, type SimOutput } from '../src/index';

/**
 * Gradients of a scalar function of every SIM output, against central finite differences along
 * a random direction for the input and along random single elements of every parameter tensor. The noise is a fixed eps,
 * so the function is deterministic; the weighted sums are taken on the host in float64 to keep
 * float32 round-off out of the differences.
 */

function fixedArray(n: number, seed: number, scale = 1): Float32Array {
  return new Rng(seed).normalArray(n, 0, scale);
}

const KEYS = ['feature', 'latent', 'hPrime', 'mu', 'logvar'] as const;

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`SIM gradients vs finite differences on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend(backend);
    });

    for (const positional of ['relative', 'none'] as const) {
      it(`positional '${positional}': d/dx and d/dparams match central differences`, () => {
        const shape: [number, number, number, number] = [1, 5, 7, 8];
        const size = shape.reduce((a, b) => a * b, 1);
        const sim = new SpatialInformationModule(new Rng(21), { channels: 8, hidden: 4, positional });
        const x = tf.tensor4d(fixedArray(size, 1), shape);
        const eps = tf.tensor4d(fixedArray(size, 2), shape);
        // fixed weights per output
        const w: Record<string, Float64Array> = {};
        KEYS.forEach((k, i) => {
          w[k] = Float64Array.from(fixedArray(size, 100 + i, 1));
        });
        const wT = Object.fromEntries(
          KEYS.map((k) => [k, tf.tensor(Float32Array.from(w[k]), shape)]),
        );
        const lossT = (out: SimOutput) =>
          tf.addN(KEYS.map((k) => tf.sum(tf.mul(out[k]!, wT[k])))) as tf.Scalar;
        const lossHost = (inp: tf.Tensor4D): number => {
          const out = sim.apply(inp, { eps });
          let s = 0;
          for (const k of KEYS) {
            const v = out[k]!.dataSync();
            const wk = w[k];
            for (let i = 0; i < v.length; i++) s += v[i] * wk[i];
          }
          tf.dispose(Object.values(out));
          return s;
        };
        const h = 1e-3;
        const close = (analytic: number, numeric: number, what: string) => {
          const tol = 2e-3 + 1e-2 * Math.max(Math.abs(analytic), Math.abs(numeric));
          expect(Math.abs(analytic - numeric), `${what}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThan(tol);
        };

        // w.r.t. the input
        const gx = tf.grad((inp: tf.Tensor) => lossT(sim.apply(inp as tf.Tensor4D, { eps })))(x);
        const dir = tf.tensor4d(fixedArray(size, 3), shape);
        const analyticX = tf.tidy(() => tf.sum(tf.mul(gx, dir)).dataSync()[0]);
        const xp = tf.tidy(() => tf.add(x, tf.mul(dir, h))) as tf.Tensor4D;
        const xm = tf.tidy(() => tf.sub(x, tf.mul(dir, h))) as tf.Tensor4D;
        const numericX = (lossHost(xp) - lossHost(xm)) / (2 * h);
        close(analyticX, numericX, 'input');
        expect(Math.abs(analyticX)).toBeGreaterThan(1e-3);
        tf.dispose([gx, dir, xp, xm]);

        // w.r.t. every parameter tensor
        const params = [...sim.namedParameters()];
        const { grads, value } = tf.variableGrads(() => lossT(sim.apply(x, { eps })), params.map(([, v]) => v));
        value.dispose();
        // Per parameter tensor: the derivative along single elements picked at random. A ReLU kink
        // within ±h of a pre-activation spoils a difference quotient, so an element may be retried
        // (up to 4 elements); a wrong gradient fails on every element, and most must pass first time.
        const dirRng = new Rng(500);
        let firstTry = 0;
        let nonzero = 0;
        for (const [name, v] of params) {
          const g = grads[v.name];
          expect(g, `gradient for ${name}`).toBeDefined();
          const gv = g.dataSync();
          if (Math.max(...Array.from(gv, Math.abs)) > 1e-4) nonzero++;
          const orig = tf.clone(v);
          const numeric = (idx: number, step: number) => {
            const base = orig.dataSync();
            const p = Float32Array.from(base);
            p[idx] += step;
            const m = Float32Array.from(base);
            m[idx] -= step;
            const plus = tf.tensor(p, v.shape);
            const minus = tf.tensor(m, v.shape);
            v.assign(plus);
            const fp = lossHost(x);
            v.assign(minus);
            const fm = lossHost(x);
            v.assign(orig);
            tf.dispose([plus, minus]);
            return (fp - fm) / (2 * step);
          };
          const tries: string[] = [];
          const order = dirRng.shuffle(Array.from({ length: v.size }, (_, i) => i)).slice(0, 4);
          let ok = false;
          for (const [t, idx] of order.entries()) {
            const a = gv[idx];
            const n = numeric(idx, h);
            ok = Math.abs(a - n) <= 2e-3 + 1e-2 * Math.max(Math.abs(a), Math.abs(n));
            if (ok && t === 0) firstTry++;
            if (!ok) {
              // a smaller step crosses fewer kinks; allow for its larger round-off
              const n4 = numeric(idx, h / 4);
              ok = Math.abs(a - n4) <= 5e-3 + 1e-2 * Math.max(Math.abs(a), Math.abs(n4));
              tries.push(`[${idx}] analytic ${a} vs numeric ${n} (h) / ${n4} (h/4)`);
            }
            if (ok) break;
          }
          expect(ok, `${name}: ${tries.join('; ')}`).toBe(true);
          orig.dispose();
        }
        expect(firstTry).toBeGreaterThanOrEqual(Math.ceil(0.75 * params.length));
        // every parameter influences the outputs (the gates, the dilated branches, mu, logvar)
        expect(nonzero).toBe(params.length);
        tf.dispose([x, eps, ...Object.values(wT), ...Object.values(grads)]);
        sim.dispose();
      });
    }
  });
}
