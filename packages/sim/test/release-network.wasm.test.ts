/**
 * Parity with the SIGN release's own network (../shared/fixtures/release-network: PyTorch on
 * formula-defined weights and input) on the wasm backend, every stage: DeepLabv2-ResNet101's
 * layer5 and ASPP, the SIM of network types 1 ('release-v1') and 2.1 ('release-v2'), the
 * classifier head, the KL values and the argmax map. The weights are built from the fixture's
 * rule in PyTorch's layout and loaded through the key mappings a checkpoint uses.
 * (release-network.cpu.test.ts runs the cpu backend on the SIM stages.)
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { releaseSimConfigFromKeys } from '../src/index';
import { fixturesOrSkip, inputNhwc } from './release-network/fixture';
import { expectSimRun, expectSummary } from './release-network/expect';
import { buildBackbone, runSimAndHead, settle } from './release-network/network';

const { fixtures, missing } = fixturesOrSkip('release-network.wasm.test');

describe.skipIf(!!missing)(
  'the SIGN release network on wasm (../shared/fixtures/release-network)',
  () => {
    let layer5: Float32Array;
    let aspp: tf.Tensor4D;

    beforeAll(async () => {
      await initBackend('wasm');
      // One backbone serves both fixtures: its entries come first in both state dicts, so they
      // have the same indices k, hence the same weights.
      const n = fixtures[0].state_dict.findIndex(
        (e) => !e.name.startsWith('back.layer') && !e.name.startsWith('back.aspp'),
      );
      expect(fixtures[1].state_dict.slice(0, n)).toEqual(fixtures[0].state_dict.slice(0, n));
      const fx = fixtures[0];
      const bb = await buildBackbone(fx);
      const [b, c, h, w] = fx.input_shape_nchw;
      const x = tf.tensor4d(inputNhwc(fx.input_shape_nchw, fx.phase), [b, h, w, c]);
      await settle();
      const trunk = await expectNoLeaks(() => bb.applyTrunk(x));
      layer5 = trunk.dataSync() as Float32Array;
      await settle();
      aspp = await expectNoLeaks(() => bb.applyAspp(trunk));
      expect(bb.outputShape(h, w)).toEqual([aspp.shape[1], aspp.shape[2]]);
      tf.dispose([x, trunk]);
      bb.dispose();
    }, 600_000);

    afterAll(() => aspp?.dispose());

    it('DeepLabv2-ResNet101: layer5 and the ASPP output', () => {
      expect(aspp.shape).toEqual([1, 13, 17, 600]);
      expectSummary('wasm layer5', layer5, fixtures[0].outputs.layer5);
      expectSummary('wasm aspp', aspp.dataSync() as Float32Array, fixtures[0].outputs.aspp);
    });

    it.each(fixtures.map((fx) => [fx.file, fx] as const))(
      '%s: SIM, classifier head, KL values and argmax',
      async (_file, fx) => {
        expect(releaseSimConfigFromKeys(fx.state_dict).variant).toBe(
          fx.network_type === 1 ? 'release-v1' : 'release-v2',
        );
        const before = tf.memory().numTensors;
        const run = await runSimAndHead(fx, aspp, 'all');
        expect(tf.memory().numTensors).toBe(before);
        expectSimRun(`wasm type ${fx.network_type}`, fx, run);
      },
      600_000,
    );
  },
);
