import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@sign/core';
import { loadCheckpoint } from '@sign/core/node';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PthError, PyDict, TorchTensor, namedTensors, parsePth } from '../src';
import { pthToSafetensors, readPth } from '../src/node';
import { FIXTURES, expected, fixture } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'torch-io-'));
beforeAll(async () => {
  await initBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readPth', () => {
  it('reads a file and names it in every error', async () => {
    const path = join(FIXTURES, 'plain-state-dict.pth');
    const pth = await readPth(path);
    expect((pth.value as PyDict).get('bn.num_batches_tracked')).toBeInstanceOf(TorchTensor);
    await expect(readPth(join(dir, 'missing.pth'))).rejects.toThrow(new RegExp(`^${join(dir, 'missing.pth')}: could not read: ENOENT`));
    await expect(readPth(dir)).rejects.toThrow(`${dir}: is a directory, not a .pth file`);
    await expect(readPth(path, { maxFileBytes: 100 })).rejects.toThrow(/plain-state-dict\.pth: has 3246 bytes \(more than 100; raise maxFileBytes\)/);
    const cut = join(dir, 'cut.pth');
    writeFileSync(cut, fixture('plain-state-dict.pth').subarray(0, 2000));
    const err = await readPth(cut).catch((e) => e);
    expect(err).toBeInstanceOf(PthError);
    expect(err.message).toMatch(new RegExp(`^${cut}: `));
  });
});

describe('pthToSafetensors', () => {
  it("converts the release checkpoint's state_dict (optimizer states left out); loadCheckpoint reads the same numbers", async () => {
    const out = join(dir, 'release.safetensors');
    const before = tf.memory().numTensors;
    const r = await pthToSafetensors(join(FIXTURES, 'release-checkpoint.pth'), out);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.key).toBe('state_dict');
    expect(r.format).toBe('zip');
    expect(r.skipped).toEqual([]);
    const source = namedTensors((parsePth(fixture('release-checkpoint.pth')).value as PyDict).get('state_dict')!).tensors;
    expect(r.names).toEqual(Object.keys(source));
    expect(r.tensors).toBe(23);
    const { tensors, metadata } = await loadCheckpoint(out);
    try {
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(source).sort());
      for (const [name, t] of Object.entries(source)) {
        const loaded = tensors[name];
        expect(loaded.shape, name).toEqual(t.shape);
        if (t.dtype === 'int64') {
          expect(loaded.dtype).toBe('int32');
          expect(Array.from(loaded.dataSync())).toEqual(Array.from(t.data as BigInt64Array, Number));
        } else {
          expect(loaded.dtype).toBe('float32');
          expect(loaded.dataSync()).toEqual(t.data); // bit for bit
        }
      }
      expect(metadata.source).toEqual({ file: 'release-checkpoint.pth', format: 'zip', key: 'state_dict', byteOrder: 'little', version: '3' });
      expect((metadata.torchDtypes as Record<string, string>)['back.scale.layer1.conv1.bn.num_batches_tracked']).toBe('int64');
    } finally {
      tf.dispose(Object.values(tensors));
    }
  });

  it('converts float16 / bfloat16 / small ints of a legacy file to float32 / int32 (key "" = the whole object)', async () => {
    const out = join(dir, 'legacy.safetensors');
    const r = await pthToSafetensors(join(FIXTURES, 'legacy-state-dict.pth'), out, { key: '' });
    expect(r.format).toBe('legacy');
    const { tensors } = await loadCheckpoint(out);
    try {
      const want = expected('legacy-state-dict') as { __ordereddict__: [string, { __tensor__: { values: (number | string)[] } }][] };
      for (const [name, { __tensor__ }] of want.__ordereddict__) {
        expect(Array.from(tensors[name].dataSync()), name).toEqual(__tensor__.values.map(Number));
      }
    } finally {
      tf.dispose(Object.values(tensors));
    }
  });

  it('writes nothing on failure: an existing output stays as it was, no temporary file is left, no tensor leaks', async () => {
    const out = join(dir, 'keep.safetensors');
    writeFileSync(out, 'previous contents');
    const before = tf.memory().numTensors;
    // dtypes.pth holds int64 values beyond int32: refused after some tensors were converted
    await expect(pthToSafetensors(join(FIXTURES, 'dtypes.pth'), out)).rejects.toThrow(/dtypes\.pth: tensor 'i64' \(I64\) has value 1099511627776 outside the int32 range/);
    await expect(pthToSafetensors(join(FIXTURES, 'forbidden-global.pth'), out)).rejects.toThrow(/forbidden global 'os\.system'/);
    await expect(pthToSafetensors(join(FIXTURES, 'release-checkpoint.pth'), out, { key: 'model' })).rejects.toThrow(
      /has no top-level key 'model'; keys: 'state_dict', 'optimizer_back', 'optimizer_dis', 'optimizer_gen', 'iter', 'best_miou'/,
    );
    await expect(pthToSafetensors(join(FIXTURES, 'release-checkpoint.pth'), out, { key: 'iter' })).rejects.toThrow(/holds no tensors under 'iter'/);
    // an output folder that does not exist: the write fails, naming the output
    await expect(pthToSafetensors(join(FIXTURES, 'plain-state-dict.pth'), join(dir, 'no', 'such', 'x.safetensors'))).rejects.toThrow(/x\.safetensors: could not write/);
    expect(tf.memory().numTensors).toBe(before);
    expect(readFileSync(out, 'utf8')).toBe('previous contents');
    expect(readdirSync(dir).filter((n) => n.includes('tmp'))).toEqual([]);
  });
});
