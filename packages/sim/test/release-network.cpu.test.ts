/**
 * Parity with the SIGN release's own network on the cpu backend, on a subset of stages: the
 * cpu backend's convolutions are plain JavaScript (the whole network at 97×129 takes 35 s of CPU
 * time for the backbone's ASPP alone, minutes under load), so
 * - the backbone runs on wasm (checked against the fixture in release-network.wasm.test.ts;
 *   its ops are checked on cpu against PyTorch in @sign/core's torch-reference.test.ts, and
 *   the composed backbone on cpu against wasm in @sign/backbones' deeplabv2.test.ts);
 * - from its ASPP output, cpu runs network type 2.1 ('release-v2': positional module with its
 *   own latent, contextual module, feature, classifier head, KL values, argmax) completely, and
 *   network type 1's positional module (the only code of 'release-v1' that type 2.1 does not run).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, initBackend } from '@sign/core';
import { fixturesOrSkip, inputNhwc } from './release-network/fixture';
import { expectSimRun } from './release-network/expect';
import { buildBackbone, runSimAndHead, settle } from './release-network/network';

const { fixtures, missing } = fixturesOrSkip('release-network.cpu.test');

describe.skipIf(!!missing)(
  'the SIGN release network on cpu: the SIM stages (../shared/fixtures/release-network)',
  () => {
    let asppValues: Float32Array;
    let asppShape: [number, number, number, number];

    beforeAll(async () => {
      await initBackend('wasm');
      const fx = fixtures[0];
      const bb = await buildBackbone(fx);
      const [b, c, h, w] = fx.input_shape_nchw;
      const x = tf.tensor4d(inputNhwc(fx.input_shape_nchw, fx.phase), [b, h, w, c]);
      await settle();
      const aspp = bb.apply(x, { training: false, rng: new Rng(0) });
      asppValues = aspp.dataSync().slice() as Float32Array;
      asppShape = aspp.shape;
      tf.dispose([x, aspp]);
      bb.dispose();
      await initBackend('cpu');
    }, 600_000);

    it('runs on cpu', () => {
      expect(tf.getBackend()).toBe('cpu');
    });

    it('type 2.1 (release-v2): SIM, classifier head, KL values and argmax', async () => {
      const fx = fixtures.find((f) => f.network_type === 2.1)!;
      const h = tf.tensor4d(asppValues, asppShape);
      const before = tf.memory().numTensors;
      const run = await runSimAndHead(fx, h, 'split');
      expect(tf.memory().numTensors).toBe(before);
      h.dispose();
      expectSimRun('cpu type 2.1', fx, run);
    }, 600_000);

    it('type 1 (release-v1): the positional module', async () => {
      const fx = fixtures.find((f) => f.network_type === 1)!;
      const h = tf.tensor4d(asppValues, asppShape);
      const run = await runSimAndHead(fx, h, 'positional');
      h.dispose();
      expectSimRun('cpu type 1', fx, run);
    }, 600_000);
  },
);
