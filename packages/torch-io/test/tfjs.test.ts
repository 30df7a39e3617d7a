import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeaks, forEachBackend } from '@sign/core/testing';
import { expect, it } from 'vitest';
import { namedTensors, parsePth, toTfTensors, type PyDict } from '../src';
import { expected, fixture } from './helpers';

type Recorded = { __dict__: [string, { __tensor__: { dtype: string; shape: number[]; values: (number | string | boolean)[] } }][] };

forEachBackend(['wasm', 'cpu'], (backend) => {
  it(`toTfTensors gives torch.load's values as float32 / int32 / bool (${backend})`, async () => {
    const value = parsePth(fixture('dtypes.pth'), { source: 'dtypes.pth' }).value as PyDict;
    value.delete('i64'); // 2^40 and -2^62 do not fit int32 (refused; see refusals.test.ts)
    const { tensors } = namedTensors(value);
    const out = await expectNoLeaks(() => toTfTensors(tensors, 'dtypes.pth'));
    try {
      for (const [name, { __tensor__: want }] of (expected('dtypes') as Recorded).__dict__) {
        if (name === 'i64') continue;
        const t = out[name];
        const kind = want.dtype === 'bool' ? 'bool' : /^(int|uint)/.test(want.dtype) ? 'int32' : 'float32';
        expect([t.dtype, t.shape], name).toEqual([kind, want.shape]);
        // float64 values are rounded to float32, as Math.fround does
        const values = want.values.map((v) => (typeof v === 'boolean' ? Number(v) : kind === 'float32' ? Math.fround(Number(v)) : Number(v)));
        expect(Array.from(await t.data()), name).toEqual(values);
      }
    } finally {
      tf.dispose(Object.values(out));
    }
  });
});
