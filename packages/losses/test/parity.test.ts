import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { forEachBackend } from '@sign/core/testing';
import {
  annealedSelfTrainingTargets,
  classwiseMmdLoss,
  klDivergence,
  mmdLoss,
  weightedCrossEntropy,
} from '../src/index';
import { expectClose } from './_helpers';

// ../shared beside the repository root: packages/losses/test → ../../../../shared
const parityDir = path.resolve(__dirname, '../../../../shared/fixtures/parity');
const present = existsSync(parityDir);

type Case = Record<string, any>;
function cases(name: string): Case[] {
  const file = path.join(parityDir, `${name}.json`);
  if (!existsSync(file)) throw new Error(`parity fixture ${file} is missing`);
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed.cases) || parsed.cases.length === 0) {
    throw new Error(`parity fixture ${file} has no cases`);
  }
  return parsed.cases;
}

const f32 = (v: unknown) => tf.tensor(v as number[], undefined, 'float32');
const i32 = (v: unknown) => tf.tensor(v as number[], undefined, 'int32');
const opt = <T>(c: Case, key: string, make: (v: unknown) => T): T | undefined =>
  c[key] === undefined || c[key] === null ? undefined : make(c[key]);

describe.skipIf(!present)(
  present
    ? 'parity with ../shared/fixtures/parity (within 1e-4, relative or absolute)'
    : `parity fixtures skipped: ${parityDir} is absent (../shared is not on this machine)`,
  () => {
    forEachBackend(['wasm', 'cpu'], (backend) => {
      it(`mmdLoss on ${backend}`, () => {
        expect(tf.getBackend()).toBe(backend);
        for (const c of cases('mmdLoss')) {
          const got = tf.tidy(
            () =>
              mmdLoss(
                f32(c.real) as tf.Tensor2D,
                f32(c.fake) as tf.Tensor2D,
                c.sigmas,
              ).dataSync()[0],
          );
          expectClose([got], [c.expected]);
        }
      });

      it(`classwiseMmdLoss on ${backend}`, () => {
        for (const c of cases('classwiseMmdLoss')) {
          const got = tf.tidy(
            () =>
              classwiseMmdLoss(
                f32(c.real) as tf.Tensor2D,
                f32(c.fake) as tf.Tensor2D,
                i32(c.labels) as tf.Tensor1D,
                {
                  sigmas: c.sigmas,
                  ignoreIndex: c.ignoreIndex,
                },
              ).dataSync()[0],
          );
          expectClose([got], [c.expected]);
        }
      });

      it(`klDivergence on ${backend}`, () => {
        for (const c of cases('klDivergence')) {
          const got = tf.tidy(
            () =>
              klDivergence(
                f32(c.mu) as tf.Tensor4D,
                f32(c.logvar) as tf.Tensor4D,
                opt(c, 'mask', f32) as tf.Tensor3D | undefined,
              ).dataSync()[0],
          );
          expectClose([got], [c.expected]);
        }
      });

      it(`weightedCrossEntropy on ${backend}`, () => {
        for (const c of cases('weightedCrossEntropy')) {
          const got = tf.tidy(
            () =>
              weightedCrossEntropy(
                f32(c.logits) as tf.Tensor4D,
                i32(c.labels) as tf.Tensor3D,
                opt(c, 'weights', f32) as tf.Tensor3D | undefined,
                { ignoreIndex: c.ignoreIndex },
              ).dataSync()[0],
          );
          expectClose([got], [c.expected]);
        }
      });

      it(`annealedSelfTrainingTargets on ${backend}`, () => {
        const all = cases('annealedSelfTrainingTargets');
        for (const c of all) {
          const [labels, weights, shape] = tf.tidy(() => {
            const t = annealedSelfTrainingTargets(
              f32(c.probs) as tf.Tensor4D,
              i32(c.labels) as tf.Tensor3D,
              c.unseen,
              {
                temperature: c.temperature,
                ignoreIndex: c.ignoreIndex,
              },
            );
            expect(t.labels.dtype).toBe('int32');
            expect(t.weights.dtype).toBe('float32');
            return [
              Array.from(t.labels.dataSync()),
              Array.from(t.weights.dataSync()),
              t.labels.shape,
            ];
          });
          expect(shape).toEqual(tf.tensor(c.labels).shape);
          expect(labels).toEqual((c.expectedLabels as number[][][]).flat(2));
          expectClose(weights, (c.expectedWeights as number[][][]).flat(2));
        }
        // the fixture spans plain pseudo-labelling (T = 0) and annealing (T > 0)
        expect(all.some((c) => c.temperature === 0)).toBe(true);
        expect(all.some((c) => c.temperature > 0)).toBe(true);
      });
    });
  },
);
