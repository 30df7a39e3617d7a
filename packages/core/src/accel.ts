/**
 * Speed-ups that `initBackend` installs on tfjs' two CPU backends (see the package README,
 * "Acceleration"):
 *
 * - wasm: `Identity` (the clone tfjs makes of every tensor a gradient saves) shares the memory
 *   with a reference count, as the cpu backend already does, instead of copying it; `Transpose`
 *   runs cache-blocked in JavaScript for the (batched) 2-D swaps, instead of wasm's naive loop;
 *   `Sum` and `Mean` over leading axes (every bias gradient) add rows in place instead of
 *   transposing the whole tensor first; a `Cast` to the same dtype shares memory too; `GatherV2`
 *   copies whole rows (blocks) instead of single elements; `Slice` and `SplitV` copy each piece
 *   straight from the heap (wasm's copy the whole input out of the heap first, once per piece);
 *   `Tile` (the broadcast in the gradients of Sum and Mean) copies blocks.
 * - wasm and cpu, when the optional `koffi` package and a oneDNN or OpenBLAS library load:
 *   matrix products (`BatchMatMul` and this package's own ops) and this package's convolutions
 *   run through that library's multi-threaded sgemm on the tensors' memory (blas.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadBlas, type Blas } from './blas';
import { installLeanGradients, installReductionGradients, uninstallLeanGradients } from './gradients';
import {
  blasBatchMatMul,
  columnSums,
  gatherBlocks,
  hostIo,
  hostSlice,
  hostTile,
  hostTranspose,
  leadingReduction,
  reducePermutation,
  type HostIo,
} from './host-kernels';

/** What `initBackend` did about native BLAS: `'auto'` uses it when it loads. */
export type BlasPreference = 'auto' | 'off' | 'require';

/** The compute path of the active backend, for reports and benchmark logs. */
export interface AccelerationInfo {
  backend: string;
  /** Native BLAS (oneDNN or OpenBLAS) in use for this backend's products and convolutions. */
  blas: boolean;
  /** The library and its configuration when `blas`, else why not. */
  detail: string;
  /** Threads of one matrix product (the native library's count, or 1 for the single-threaded wasm/cpu kernels). */
  threads: number;
  /** One line: e.g. 'wasm + oneDNN (libdnnl.so.2, 2 threads)'. */
  summary: string;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];

let blasLoad: Promise<Blas | { reason: string }> | null = null;
let blas: Blas | null = null;
let blasReason = 'not requested';
const blasBackends = new Set<string>();
const originals = new Map<string, KernelFunc>();

function override(kernelName: string, backendName: string, kernelFunc: KernelFunc): void {
  const key = `${kernelName}/${backendName}`;
  const current = tf.getKernel(kernelName, backendName);
  if (!current) return;
  if (!originals.has(key)) originals.set(key, current.kernelFunc);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
}

function restore(kernelName: string, backendName: string): void {
  const key = `${kernelName}/${backendName}`;
  const kernelFunc = originals.get(key);
  if (!kernelFunc) return;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
  originals.delete(key);
}

function original(kernelName: string, backendName: string): KernelFunc {
  const f = originals.get(`${kernelName}/${backendName}`);
  if (!f) throw new Error(`@sign/core: no original '${kernelName}' kernel kept for '${backendName}'`);
  return f;
}

/** wasm's Identity and Transpose replaced (idempotent); no effect on other backends. */
function installWasmFixes(): void {
  if (originals.has('Identity/wasm')) return;
  override('Identity', 'wasm', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string' || x.dtype === 'complex64') return original('Identity', 'wasm')(args);
    (args.backend as any).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  // A cast to the tensor's own dtype (tfjs' relu/step gradients do one) is a copy on wasm.
  override('Cast', 'wasm', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
    if (dtype !== x.dtype || dtype === 'string' || dtype === 'complex64') return original('Cast', 'wasm')(args);
    (args.backend as any).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  });
  override('Transpose', 'wasm', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const perm = (args.attrs as unknown as { perm: number[] }).perm;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return original('Transpose', 'wasm')(args);
    const r = reducePermutation(x.shape, perm);
    const simple = r.perm.length <= 2 || (r.perm.length === 3 && r.perm[0] === 0 && r.perm[1] === 2 && r.perm[2] === 1);
    if (!simple) return original('Transpose', 'wasm')(args);
    const backend = args.backend as any;
    const out = backend.makeOutput(
      perm.map((p) => x.shape[p]),
      x.dtype,
    );
    hostTranspose(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), x.shape, perm);
    return out;
  });
  // Gather along one axis as contiguous block copies (wasm's kernel walks element by element:
  // ~50 ns an element for embedding rows).
  override('GatherV2', 'wasm', (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
    if (batchDims !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
      return original('GatherV2', 'wasm')(args);
    }
    const backend = args.backend as any;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const outer = x.shape.slice(0, ax).reduce((p, q) => p * q, 1);
    const dim = x.shape[ax];
    const inner = x.shape.slice(ax + 1).reduce((p, q) => p * q, 1);
    const idx = backend.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < idx.length; i++) {
      if (!(idx[i] >= 0 && idx[i] < dim)) return original('GatherV2', 'wasm')(args); // its error names the index
    }
    const count = idx.length;
    const out = backend.makeOutput([...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)], x.dtype);
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const iv = backend.typedArrayFromHeap(indices) as Int32Array;
    gatherBlocks(xv, iv, ov, outer, dim, inner, count);
    return out;
  });
  const sliceable = (x: tf.TensorInfo) => x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool';
  const slicePiece = (backend: any, x: tf.TensorInfo, begin: number[], sliceSize: number[]): tf.TensorInfo => {
    const out = backend.makeOutput(sliceSize, x.dtype);
    if (sliceSize.every((d) => d > 0)) hostSlice(backend.typedArrayFromHeap(x), x.shape, begin, sliceSize, backend.typedArrayFromHeap(out));
    return out;
  };
  override('Slice', 'wasm', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!sliceable(x)) return original('Slice', 'wasm')(args);
    const { begin, size: sz } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, sz);
    tf.slice_util.assertParamsValid(x as tf.Tensor, b, s);
    return slicePiece(args.backend, x, b, s);
  });
  override('SplitV', 'wasm', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (!sliceable(x)) return original('SplitV', 'wasm')(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = x.shape.map(() => 0);
    return sizes.map((s) => {
      const piece = slicePiece(args.backend, x, [...begin], x.shape.map((d, i) => (i === ax ? s : d)));
      begin[ax] += s;
      return piece;
    });
  });
  override('Tile', 'wasm', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { reps } = args.attrs as unknown as { reps: number[] };
    if (!sliceable(x) || reps.length !== x.shape.length || !reps.every((n) => Number.isInteger(n) && n >= 0)) {
      return original('Tile', 'wasm')(args); // its checks and errors
    }
    const backend = args.backend as any;
    const out = backend.makeOutput(
      x.shape.map((d, i) => d * reps[i]),
      x.dtype,
    );
    hostTile(backend.typedArrayFromHeap(x), x.shape, reps, backend.typedArrayFromHeap(out));
    return out;
  });
  for (const kernelName of ['Sum', 'Mean']) {
    override(kernelName, 'wasm', (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const lead = x.dtype === 'float32' ? leadingReduction(x.shape, axes) : null;
      if (!lead) return original(kernelName, 'wasm')(args);
      const backend = args.backend as any;
      const rest = x.shape.slice(axes.length);
      const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, 'float32');
      const scale = kernelName === 'Mean' ? 1 / lead.rows : 1;
      columnSums(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), lead.rows, lead.cols, scale);
      return out;
    });
  }
}

function installBlas(backendName: string): void {
  if (blasBackends.has(backendName)) return;
  override('BatchMatMul', backendName, (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ctx = blasContext(args.backend, backendName);
    if (ctx && a.dtype === 'float32' && b.dtype === 'float32') {
      const out = blasBatchMatMul(ctx.io, ctx.blas, a, b, transposeA, transposeB);
      if (out) return out;
    }
    return original('BatchMatMul', backendName)(args);
  });
  blasBackends.add(backendName);
}

function uninstallBlas(backendName: string): void {
  if (!blasBackends.has(backendName)) return;
  restore('BatchMatMul', backendName);
  blasBackends.delete(backendName);
}

/**
 * Installs the speed-ups for `backendName` (called by `initBackend` after the backend is
 * active). With `'require'`, throws when BLAS cannot be used; with `'auto'` the reason goes into
 * `accelerationInfo().detail`.
 */
export async function installAcceleration(
  backendName: string,
  opts: { blas?: BlasPreference; blasThreads?: number; leanGradients?: boolean } = {},
): Promise<void> {
  if (opts.leanGradients ?? true) installLeanGradients();
  else uninstallLeanGradients();
  installReductionGradients();
  if (backendName === 'wasm') installWasmFixes();
  const pref = opts.blas ?? envPreference() ?? 'auto';
  if (backendName !== 'wasm' && backendName !== 'cpu') return;
  if (pref === 'off') {
    uninstallBlas(backendName);
    blasReason = 'turned off';
    return;
  }
  blasLoad ??= loadBlas({ threads: opts.blasThreads ?? envThreads() });
  const loaded = await blasLoad;
  if ('reason' in loaded) {
    blasReason = loaded.reason;
    if (pref === 'require') throw new Error(`initBackend: native BLAS was required but ${loaded.reason}`);
    return;
  }
  blas = loaded;
  installBlas(backendName);
}

function envPreference(): BlasPreference | undefined {
  const v = typeof process !== 'undefined' ? process.env?.SIGN_BLAS : undefined;
  if (v === undefined || v === '') return undefined;
  if (v === 'auto' || v === 'off' || v === 'require') return v;
  throw new Error(`SIGN_BLAS must be 'auto', 'off' or 'require', got '${v}'`);
}

function envThreads(): number | undefined {
  const v = typeof process !== 'undefined' ? process.env?.SIGN_BLAS_THREADS : undefined;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SIGN_BLAS_THREADS must be a positive integer, got '${v}'`);
  return n;
}

/**
 * The BLAS handle and memory access for a kernel running on `backend`, or null when BLAS is
 * not in use there (the kernel then takes its portable path).
 */
export function blasContext(backend: unknown, backendName: string): { io: HostIo; blas: Blas } | null {
  if (!blas || !blasBackends.has(backendName)) return null;
  const io = hostIo(backend, backendName);
  return io ? { io, blas } : null;
}

/** Whether the active backend runs products and convolutions through native BLAS (oneDNN or OpenBLAS). */
export function blasActive(backendName: string = tf.getBackend()): boolean {
  return blas !== null && blasBackends.has(backendName);
}

/**
 * The compute path of the active backend.
 *
 * @example
 * await initBackend('wasm');
 * console.log(accelerationInfo().summary);   // 'wasm + oneDNN (libdnnl.so.2, 2 threads)'
 */
export function accelerationInfo(): AccelerationInfo {
  const backend = tf.getBackend();
  if (blasActive(backend)) {
    return {
      backend,
      blas: true,
      detail: `${blas!.library}: ${blas!.config}`,
      threads: blas!.threads,
      summary: `${backend} + ${blas!.name} (${blas!.library}, ${blas!.threads} thread${blas!.threads === 1 ? '' : 's'})`,
    };
  }
  const oneThread = backend === 'wasm' || backend === 'cpu';
  return {
    backend,
    blas: false,
    detail: oneThread ? blasReason : 'not used on this backend',
    threads: oneThread ? 1 : 0,
    summary: oneThread ? `${backend} (single-threaded; no BLAS: ${blasReason})` : backend,
  };
}
