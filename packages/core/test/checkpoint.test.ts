import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, initBackend, tensorFromBytes, VERSION } from '../src/index';
import { loadCheckpoint, saveCheckpoint } from '../src/node';
import { expectNoLeaks } from '../src/testing';

const dir = mkdtempSync(join(tmpdir(), 'sign-core-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initBackend('wasm');
});

function bytesOf(t: tf.Tensor): Uint8Array {
  const d = t.dataSync();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
}

function specialFloats(): Float32Array {
  const v = new Float32Array(64);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 12.9898) * 43758.5453;
  v.set([NaN, -0, Infinity, -Infinity, 1.4e-45 /* smallest denormal */, 3.4028234e38, 1 / 3], 0);
  return v;
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips float32 (NaN, -0, ±Inf, denormals), int32 and bool tensors bit for bit, with metadata', async () => {
    const path = join(dir, 'roundtrip.safetensors');
    const tensors = {
      'encoder.branch1.kernel': tf.tensor(specialFloats(), [4, 4, 2, 2]),
      'encoder.branch1.bias': tf.tensor1d([0.1, -0.2]),
      step: tf.scalar(12345, 'int32'),
      'mask.bits': tf.tensor([true, false, true], [3], 'bool'),
      empty: tf.zeros([0, 3]),
    };
    const metadata = { config: { hidden: 256, dilations: [1, 2, 5] }, step: 1000, seed: 42 };
    await expectNoLeaks(() => saveCheckpoint(path, tensors, metadata));
    const loaded = await expectNoLeaks(() => loadCheckpoint(path));
    expect(Object.keys(loaded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const u = loaded.tensors[name];
      expect(u.dtype, name).toBe(t.dtype);
      expect(u.shape, name).toEqual(t.shape);
      expect(bytesOf(u), name).toEqual(bytesOf(t));
    }
    expect(loaded.metadata).toEqual({
      ...metadata,
      versions: { '@sign/core': VERSION, '@tensorflow/tfjs-core': tf.version_core },
    });
    tf.dispose([...Object.values(tensors), ...Object.values(loaded.tensors)]);
  });

  it('writes the safetensors layout: LE u64 header length, 8-aligned JSON header, raw LE data', async () => {
    const path = join(dir, 'layout.safetensors');
    const a = tf.tensor1d([1, 2]);
    const b = tf.tensor1d([true], 'bool');
    await saveCheckpoint(path, { b, a }, { step: 3 });
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    // Wider dtypes first: 'a' (F32) at 0..8, then 'b' (BOOL) at 8..9.
    expect(header.a).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(header.b).toEqual({ dtype: 'BOOL', shape: [1], data_offsets: [8, 9] });
    expect(JSON.parse(header.__metadata__.sign).step).toBe(3);
    expect(bytes.length).toBe(8 + n + 9);
    expect(Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset + 8 + n, bytes.byteOffset + 8 + n + 8)))).toEqual([1, 2]);
    expect(bytes[8 + n + 8]).toBe(1);
    tf.dispose([a, b]);
  });

  it('reads a file written by the reference implementation (Python safetensors 0.8.0), converting PyTorch dtypes', async () => {
    const { tensors, metadata } = await loadCheckpoint(resolve(__dirname, 'fixtures/reference.safetensors'));
    expect(metadata).toEqual({ step: 3, note: 'written by safetensors 0.8.0' });
    const f32 = tensors.f32;
    expect(f32.dtype).toBe('float32');
    expect(f32.shape).toEqual([2, 3]);
    expect(Array.from(f32.dataSync())).toEqual(Array.from(new Float32Array([1.5, -2.0, 0.0, 3.25, 1e-3, -7.0])));
    expect(Array.from(tensors.f64.dataSync())).toEqual(Array.from(new Float32Array([0.1, -1.0, 1e10])));
    expect(Array.from(tensors.f16.dataSync())).toEqual([1, -0.5, 65504, 5.960464477539063e-8]);
    expect(Array.from(tensors.bf16.dataSync())).toEqual([3.140625, -2.5]);
    expect(tensors.i64.dtype).toBe('int32');
    expect(Array.from(tensors.i64.dataSync())).toEqual([-5, 0, 2147483647]);
    expect(tensors.i32.shape).toEqual([2, 1]);
    expect(Array.from(tensors.i32.dataSync())).toEqual([7, -8]);
    expect(Array.from(tensors.u8.dataSync())).toEqual([0, 128, 255]);
    expect(tensors.flags.dtype).toBe('bool');
    expect(Array.from(tensors.flags.dataSync())).toEqual([1, 0, 1]);
    tf.dispose(Object.values(tensors));
  });

  it('refuses a truncated file with a message naming the file, creating no tensors', async () => {
    const path = join(dir, 'truncated.safetensors');
    const t = tf.ones([16, 16]);
    await saveCheckpoint(path, { w: t });
    const size = readFileSync(path).length;
    truncateSync(path, size - 10);
    await expect(expectNoLeaks(() => loadCheckpoint(path))).rejects.toThrow(
      new RegExp(`checkpoint ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated: tensor 'w' ends at byte 1024`),
    );
    truncateSync(path, 20); // inside the header
    await expect(loadCheckpoint(path)).rejects.toThrow(/truncated\.safetensors: truncated: the header claims \d+ bytes but the file has only 12/);
    truncateSync(path, 5);
    await expect(loadCheckpoint(path)).rejects.toThrow(/truncated\.safetensors: truncated: 5 bytes/);
    t.dispose();
  });

  it('refuses foreign and corrupt files clearly', async () => {
    const png = join(dir, 'image.png');
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]));
    await expect(loadCheckpoint(png)).rejects.toThrow(/image\.png: not a safetensors file \(header length \d+ bytes is implausible\)/);
    const json = join(dir, 'config.json');
    writeFileSync(json, JSON.stringify({ hello: 'world', padding: 'x'.repeat(40) }));
    await expect(loadCheckpoint(json)).rejects.toThrow(/config\.json: not a safetensors file/);
    const enc = (header: unknown, data = 0) => {
      const h = Buffer.from(JSON.stringify(header));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      return new Uint8Array(Buffer.concat([len, h, Buffer.alloc(data)]));
    };
    await expect(decodeSafetensors(enc({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), 'm.st')).rejects.toThrow(
      /checkpoint m\.st: tensor 'x' has unsupported dtype "C64"/,
    );
    await expect(decodeSafetensors(enc({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'm.st')).rejects.toThrow(
      /data_offsets span 8 bytes but F32 \[3\] needs 12/,
    );
    await expect(decodeSafetensors(enc({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'm.st')).rejects.toThrow(/bad shape/);
    await expect(decodeSafetensors(enc({ __metadata__: { sign: '{oops' } }), 'm.st')).rejects.toThrow(/__metadata__\.sign is not a JSON object/);
    await expect(decodeSafetensors(enc([1, 2]), 'm.st')).rejects.toThrow(/header is not a JSON object/);
    await expect(loadCheckpoint(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: could not read/);
  });

  it('writes atomically: a failed save leaves the previous file intact and no temporary files', async () => {
    const path = join(dir, 'atomic', 'model.safetensors');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'atomic'));
    const good = tf.tensor1d([1, 2, 3]);
    await saveCheckpoint(path, { w: good }, { step: 1 });
    const before = readFileSync(path);
    const gone = tf.tensor1d([4]);
    gone.dispose();
    await expect(saveCheckpoint(path, { w: good, v: gone }, { step: 2 })).rejects.toThrow(/model\.safetensors: tensor 'v' is disposed/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(saveCheckpoint(path, { w: good }, cyclic)).rejects.toThrow(/metadata is not JSON-serialisable/);
    await expect(saveCheckpoint(join(dir, 'no-such-dir', 'x.safetensors'), { w: good })).rejects.toThrow(/x\.safetensors: could not write/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(join(dir, 'atomic'))).toEqual(['model.safetensors']);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    good.dispose();
  });

  it('tensorFromBytes: U64 to int32 (range-checked), F16 to float32, sizes checked, naming tensor and source', async () => {
    const u64 = new Uint8Array(new BigUint64Array([0n, 7n, 2147483647n]).buffer);
    const t = await expectNoLeaks(() => tensorFromBytes(u64, 'U64', [3], 'steps', 'x.pth'));
    expect([t.dtype, Array.from(t.dataSync())]).toEqual(['int32', [0, 7, 2147483647]]);
    t.dispose();
    const big = new Uint8Array(new BigUint64Array([2147483648n]).buffer);
    expect(() => tensorFromBytes(big, 'U64', [1], 'steps', 'x.pth')).toThrow("checkpoint x.pth: tensor 'steps' (U64) has value 2147483648 outside the int32 range");
    const f16 = tensorFromBytes(new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7c00]).buffer), 'F16', [3], 'h', 'x.pth');
    expect(Array.from(f16.dataSync())).toEqual([1, -2, Infinity]);
    f16.dispose();
    expect(() => tensorFromBytes(new Uint8Array(6), 'F32', [2], 'w', 'x.pth')).toThrow("checkpoint x.pth: tensor 'w': 6 bytes for F32 [2], expected 8");
  });

  it('VERSION matches package.json', () => {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8'));
    expect(VERSION).toBe(pkg.version);
  });
});
