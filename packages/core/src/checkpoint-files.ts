import * as fs from 'node:fs/promises';
import { constants } from 'node:fs';
import type * as tf from '@tensorflow/tfjs-core';
import {
  type Checkpoint,
  type LoadCheckpointOptions,
  CheckpointError,
  checkPlatform,
  encodeSafetensors,
  headerLength,
  materialize,
  parseHeader,
} from './checkpoint';

/**
 * Saves named tensors and a JSON metadata record (config, step, seed, ...) as a safetensors file
 * that PyTorch (`safetensors.torch.load_file`) reads. The record is stored as a JSON string under
 * `__metadata__.sign`, with `versions` of @sign/core and tfjs-core added. The write is atomic: a
 * temporary file in the same folder is written, flushed and renamed over `path`. In memory (and in
 * browsers): `encodeSafetensors` from the main entry.
 *
 * @example
 * import { saveCheckpoint } from '@sign/core/node';
 * await saveCheckpoint('runs/a/step-1000.safetensors', model.stateDict(), { step: 1000, seed: 42, config });
 */
export async function saveCheckpoint(
  path: string,
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  const chunks = await encodeSafetensors(tensors, metadata, path);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  let fh: Awaited<ReturnType<typeof fs.open>> | null = null;
  try {
    fh = await fs.open(tmp, 'w');
    for (const c of chunks) {
      let written = 0;
      while (written < c.byteLength) {
        const { bytesWritten } = await fh.write(c, written, c.byteLength - written);
        written += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => {});
    await fs.unlink(tmp).catch(() => {});
    throw new Error(`checkpoint ${path}: could not write: ${(e as Error).message}`);
  }
}

/**
 * Loads a safetensors checkpoint: the tensors by name and the JSON metadata record (empty for
 * files written by other tools). A truncated, foreign or corrupt file is refused with an error
 * naming the file, and creates no tensor. The file is checked before anything is allocated from
 * it: a regular file; the header length and the tensors' offsets against the file size (they
 * must cover the data exactly: trailing bytes are refused); then each tensor against its SHA-256
 * checksum (`checksums: 'verified'`; files without checksums load with `checksums: 'absent'`).
 * With `requireFinite`, NaN or ±Infinity in a float tensor is refused, naming the tensor. The
 * caller owns (and disposes) the returned tensors. In memory (and in browsers): `decodeSafetensors`
 * from the main entry.
 *
 * @example
 * import { loadCheckpoint } from '@sign/core/node';
 * const { tensors, metadata } = await loadCheckpoint('runs/a/step-1000.safetensors');
 * model.loadStateDict(tensors); tf.dispose(Object.values(tensors));
 */
export async function loadCheckpoint(path: string, opts: LoadCheckpointOptions = {}): Promise<Checkpoint> {
  checkPlatform();
  let fh: Awaited<ReturnType<typeof fs.open>>;
  try {
    // non-blocking, so that opening a FIFO does not wait for a writer (it is then refused below)
    fh = await fs.open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new CheckpointError(path, `could not read: ${(e as Error).message}`);
  }
  try {
    const read = async (length: number, position: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) throw new CheckpointError(path, `truncated: the file ended while being read (changed during loading?)`);
        got += bytesRead;
      }
      return buf;
    };
    let size: number;
    let prefix: Uint8Array;
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(st.isDirectory() ? 'it is a directory, not a file' : 'it is not a regular file');
      size = st.size;
      prefix = await read(Math.min(8, size), 0);
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(path, `could not read: ${(e as Error).message}`);
    }
    const n = headerLength(prefix, size, path);
    const header = parseHeader(await read(n, 8), size - 8 - n, path);
    return await materialize(header, await read(size - 8 - n, 8 + n), path, opts);
  } finally {
    await fh.close().catch(() => {});
  }
}
