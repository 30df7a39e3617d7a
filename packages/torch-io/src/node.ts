import { saveCheckpoint } from '@sign/core/node';
import { stat, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { PthError, quote } from './errors';
import { PyDict, type PyValue } from './pickle';
import { namedTensors, toTfTensors } from './tensors';
import { parsePth, type PthFile, type PthLimits } from './torch';

export interface ReadPthOptions extends PthLimits {
  /** Largest file to read, in bytes (default 8 GiB; Node cannot hold more in one buffer anyway). */
  maxFileBytes?: number;
}

/**
 * Reads a `.pth` file from disk and parses it (see `parsePth`): the size is checked before the
 * file is read, and every error names the path.
 *
 * @example
 * import { readPth } from '@sign/torch-io/node';
 * const pth = await readPth('voc12.pth'); // pth.value: the saved dict; pth.format: 'zip'
 */
export async function readPth(path: string, options: ReadPthOptions = {}): Promise<PthFile> {
  const maxFile = options.maxFileBytes ?? 8 * 2 ** 30;
  let bytes: Uint8Array;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new PthError(path, 'is a directory, not a .pth file');
    if (!s.isFile()) throw new PthError(path, 'is not a regular file');
    if (s.size > maxFile) throw new PthError(path, `has ${s.size} bytes (more than ${maxFile}; raise maxFileBytes)`);
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof PthError) throw e;
    throw new PthError(path, `could not read: ${(e as Error).message}`, { cause: e });
  }
  return parsePth(bytes, { ...options, source: path });
}

export interface PthToSafetensorsOptions extends ReadPthOptions {
  /**
   * Which part of the saved object to convert: a top-level dict key (e.g. 'state_dict'), or ''
   * for the whole object. Default: 'state_dict' when the file is a dict that has one (the SIGN
   * release's checkpoints; optimizer states are then left out), else the whole object.
   */
  key?: string;
}

/** What `pthToSafetensors` wrote. */
export interface PthImport {
  /** The part converted ('' = the whole object). */
  key: string;
  /** Number of tensors written, and their names in file order. */
  tensors: number;
  names: string[];
  /** Paths of the non-tensor values that were left out (numbers, strings, ...). */
  skipped: string[];
  /** The source file's format. */
  format: PthFile['format'];
}

/**
 * Converts a PyTorch checkpoint to safetensors (the format of @sign/core's `loadCheckpoint`):
 * reads `path`, picks the state dict (see `key`), converts every tensor as `toTfTensor` does
 * (float32 / int32 / bool; int64 values outside int32 are refused naming the tensor), and writes
 * `out` atomically with `saveCheckpoint` (a temporary file renamed into place: on any error
 * nothing is written, and an existing `out` is left as it was). Metadata records the source file,
 * the key and each tensor's PyTorch dtype. No tensor outlives the call.
 *
 * @example
 * import { pthToSafetensors } from '@sign/torch-io/node';
 * const r = await pthToSafetensors('voc12.pth', 'voc12.safetensors'); // r.key 'state_dict', r.tensors 420
 */
export async function pthToSafetensors(path: string, out: string, options: PthToSafetensorsOptions = {}): Promise<PthImport> {
  const pth = await readPth(path, options);
  const root = pth.value;
  let key = options.key;
  if (key === undefined) key = root instanceof PyDict && root.get('state_dict') instanceof PyDict ? 'state_dict' : '';
  let part: PyValue = root;
  if (key !== '') {
    if (!(root instanceof PyDict) || !root.has(key)) {
      const known = root instanceof PyDict ? [...root.keys()].map((k) => quote(String(k))).join(', ') : 'none (the file is not a dict)';
      throw new PthError(path, `has no top-level key '${key}'; keys: ${known}`);
    }
    part = root.get(key)!;
  }
  const { tensors, others } = namedTensors(part, { source: path });
  const names = Object.keys(tensors);
  if (names.length === 0) throw new PthError(path, `holds no tensors${key ? ` under '${key}'` : ''}`);
  const dtypes: Record<string, string> = {};
  for (const n of names) dtypes[n] = tensors[n].dtype;
  const converted = toTfTensors(tensors, path);
  try {
    await saveCheckpoint(out, converted, {
      source: { file: basename(path), format: pth.format, key, byteOrder: pth.byteOrder, version: pth.version },
      torchDtypes: dtypes,
    });
  } finally {
    tf.dispose(Object.values(converted));
  }
  return { key, tensors: names.length, names, skipped: others, format: pth.format };
}
