/**
 * Checkpoint findings of issue 10: trailing data, corrupt files that must name the file, failed
 * loads that must leak no tensor, checksums verified on load, non-finite weights found by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInChild } from '../../../tooling/fuzz/harness';
import { CHECKSUMS_KEY, findNonFiniteTensor, initBackend } from '../src/index';
import { loadCheckpoint, saveCheckpoint } from '../src/node';
import { expectNoLeaks } from '../src/testing';
import { safetensorsBytes } from './fuzz/corpus';

const dir = mkdtempSync(join(tmpdir(), 'sign-core-ckpt-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('cpu');
});

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Header and data of a saved file, to rewrite one part of it. */
function split(bytes: Buffer): { header: Record<string, unknown>; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')), data: bytes.subarray(8 + n) };
}
function join8(header: Record<string, unknown>, data: Uint8Array): Buffer {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), data]);
}

async function saved(name: string, metadata: Record<string, unknown> = { step: 7 }): Promise<string> {
  const path = join(dir, name);
  const a = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const b = tf.tensor1d([5, 6, 7], 'int32');
  await saveCheckpoint(path, { 'enc.kernel': a, 'enc.step': b }, metadata);
  tf.dispose([a, b]);
  return path;
}

describe('loadCheckpoint on hostile files', () => {
  it('refuses trailing data, naming the file, and creates no tensor', async () => {
    const path = await saved('trailing.safetensors');
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('garbage!')]));
    await expect(expectNoLeaks(() => loadCheckpoint(path))).rejects.toThrow(
      `checkpoint ${path}: 8 bytes of trailing data after the last tensor`,
    );
  });

  const corruptions: [string, (h: Record<string, unknown>) => void, RegExp][] = [
    [
      'gap',
      (h) => Object.assign(h['enc.kernel'] as object, { shape: [1, 2], data_offsets: [0, 8] }),
      /bad header: 8 bytes of the data before tensor 'enc.step' belong to no tensor/,
    ],
    ['overlap', (h) => ((h['enc.step'] as { data_offsets: number[] }).data_offsets = [0, 12]), /overlaps another tensor/],
    ['dtype toString', (h) => ((h['enc.step'] as { dtype: string }).dtype = 'toString'), /tensor 'enc.step' has unsupported dtype "toString"/],
    ['huge dimension', (h) => ((h['enc.step'] as { shape: number[] }).shape = [2 ** 31, 0]), /tensor 'enc.step' has a bad shape \[2147483648,0\]/],
    ['entry not an object', (h) => (h['enc.step'] = [1, 2]), /bad header entry for 'enc.step'/],
    [
      '__proto__ name',
      (h) => {
        Object.defineProperty(h, '__proto__', { value: h['enc.step'], enumerable: true, configurable: true, writable: true });
        delete h['enc.step'];
      },
      /invalid tensor name "__proto__"/,
    ],
    ['checksums unreadable', (h) => ((h.__metadata__ as Record<string, string>)[CHECKSUMS_KEY] = '{"x": 1}'), /__metadata__\.sign\.sha256 is unreadable/],
  ];
  for (const [what, corrupt, re] of corruptions) {
    it(`a corrupt header (${what}) is refused, naming the file, creating no tensor`, async () => {
      const path = await saved(`corrupt-${what.replace(/\W+/g, '-')}.safetensors`);
      const { header, data } = split(readFileSync(path));
      corrupt(header);
      writeFileSync(path, join8(header, data));
      const err = await expectNoLeaks(() => loadCheckpoint(path)).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('CheckpointError');
      expect((err as Error).message).toMatch(new RegExp(`^checkpoint ${esc(path)}: `));
      expect((err as Error).message).toMatch(re);
    });
  }

  it('a directory, a FIFO and a missing file are refused, naming the path (in a child: a FIFO could block)', async () => {
    const target = { module: join(__dirname, 'fuzz', 'targets.ts'), name: 'checkpoint' };
    for (const kind of ['directory', 'fifo', 'missing'] as const) {
      const r = await readInChild(target, kind, '.safetensors');
      expect(r.outcome, r.message).toBe('error');
      expect(r.message).toContain(`checkpoint ${r.path}: could not read:`);
    }
  });
});

describe('checksums', () => {
  it('are written per tensor and for the metadata, and verified on load', async () => {
    const path = await saved('sums.safetensors');
    const { header } = split(readFileSync(path));
    const sums = JSON.parse((header.__metadata__ as Record<string, string>)[CHECKSUMS_KEY]);
    expect(Object.keys(sums).sort()).toEqual(['__metadata__', 'enc.kernel', 'enc.step']);
    // the SHA-256 of [1, 2, 3, 4] as float32 little-endian
    const { createHash } = await import('node:crypto');
    expect(sums['enc.kernel']).toBe(createHash('sha256').update(new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer)).digest('hex'));
    const c = await loadCheckpoint(path);
    expect(c.checksums).toBe('verified');
    expect(c.metadata.step).toBe(7);
    tf.dispose(Object.values(c.tensors));
  });

  it('a flipped data byte fails the check, naming the file and the tensor, creating no tensor', async () => {
    const path = await saved('flipped.safetensors');
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] ^= 0x01; // the last byte of 'enc.step' (int32, stored after the float32 tensor)
    writeFileSync(path, bytes);
    await expect(expectNoLeaks(() => loadCheckpoint(path))).rejects.toThrow(
      new RegExp(`^checkpoint ${esc(path)}: tensor 'enc\\.step' fails its SHA-256 check \\(stored [0-9a-f]{12}…, computed [0-9a-f]{12}…\\): the file is corrupt`),
    );
  });

  it('a changed metadata record fails the check', async () => {
    const path = await saved('meta.safetensors', { step: 7 });
    const bytes = readFileSync(path);
    const at = bytes.indexOf('\\"step\\":7');
    expect(at).toBeGreaterThan(0);
    bytes[at + 9] = '8'.charCodeAt(0); // still valid JSON, same length
    writeFileSync(path, bytes);
    await expect(loadCheckpoint(path)).rejects.toThrow(`checkpoint ${path}: the metadata record fails its SHA-256 check`);
  });

  it('files without checksums (other tools, older versions) load, and say that nothing was verified', async () => {
    const ref = await loadCheckpoint(resolve(__dirname, 'fixtures/reference.safetensors'));
    expect(ref.checksums).toBe('absent');
    tf.dispose(Object.values(ref.tensors));
    const path = join(dir, 'old.safetensors');
    writeFileSync(
      path,
      safetensorsBytes({
        tensors: [{ name: 'w', dtype: 'F32', shape: [2], bytes: new Uint8Array(new Float32Array([1.5, -2]).buffer) }],
        metadata: { step: 3 },
        checksums: false,
        order: [0],
      }),
    );
    const old = await loadCheckpoint(path);
    expect(old.checksums).toBe('absent');
    expect(Array.from(old.tensors.w.dataSync())).toEqual([1.5, -2]);
    tf.dispose(Object.values(old.tensors));
  });
});

describe('non-finite weights', () => {
  it('findNonFiniteTensor names the first tensor with NaN or ±Inf, its first position and count', async () => {
    const tensors = {
      ok: tf.tensor1d([1, 2, 3]),
      ids: tf.tensor1d([1, 2], 'int32'),
      bad: tf.tensor2d([
        [0, Infinity],
        [NaN, 1],
      ]),
      later: tf.tensor1d([NaN]),
    };
    const found = await expectNoLeaks(() => findNonFiniteTensor(tensors));
    expect(found).toEqual({ name: 'bad', index: 1, value: Infinity, count: 2 });
    expect(await findNonFiniteTensor({ ok: tensors.ok, ids: tensors.ids })).toBeUndefined();
    expect(await findNonFiniteTensor({})).toBeUndefined();
    tf.dispose(Object.values(tensors));
  });

  it('loadCheckpoint with requireFinite refuses NaN weights, naming the file and the tensor, creating no tensor', async () => {
    const path = join(dir, 'nan.safetensors');
    const w = tf.tensor1d([0.5, NaN, -Infinity, 2]);
    const b = tf.tensor1d([1]);
    await saveCheckpoint(path, { 'gen.w': w, 'gen.b': b });
    tf.dispose([w, b]);
    await expect(expectNoLeaks(() => loadCheckpoint(path, { requireFinite: true }))).rejects.toThrow(
      `checkpoint ${path}: tensor 'gen.w' has 2 non-finite values (first: NaN at index 1)`,
    );
    const c = await loadCheckpoint(path); // without the option the values load as stored
    expect((await findNonFiniteTensor(c.tensors))?.name).toBe('gen.w');
    tf.dispose(Object.values(c.tensors));
  });
});
