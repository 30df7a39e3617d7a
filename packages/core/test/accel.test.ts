import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accelerationInfo, conv2d, dense, initBackend, matMul, Rng } from '../src/index';
import { loadBlas } from '../src/blas';
import { reducePermutation } from '../src/host-kernels';
import { expectNoLeaks, forEachBackend } from '../src/testing';
import { maxAbsDiff, randTensor } from './helpers';

/** Plain-loop reference transpose (any permutation). */
function naiveTranspose(x: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const outShape = perm.map((p) => shape[p]);
  const n = outShape.reduce((a, b) => a * b, 1);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Array<number>(n);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * inStrides[perm[d]];
    out[o] = x[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe('reducePermutation', () => {
  it('merges axes that stay neighbours and drops size-1 axes', () => {
    expect(reducePermutation([2, 3, 4, 5], [0, 2, 3, 1])).toEqual({ shape: [2, 3, 20], perm: [0, 2, 1] });
    expect(reducePermutation([6, 7], [1, 0])).toEqual({ shape: [6, 7], perm: [1, 0] });
    expect(reducePermutation([2, 1, 3], [1, 0, 2])).toEqual({ shape: [6], perm: [0] });
    expect(reducePermutation([4, 1, 5], [2, 1, 0])).toEqual({ shape: [4, 5], perm: [1, 0] });
    expect(reducePermutation([2, 3, 4, 5], [3, 1, 2, 0])).toEqual({ shape: [2, 12, 5], perm: [2, 1, 0] });
  });
});

describe('wasm kernel replacements', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('Identity (tf.clone, and every tensor a gradient saves) shares memory instead of copying', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const before = tf.memory().numBytes;
    const y = tf.clone(x);
    const backend = tf.backend() as unknown as { getMemoryOffset(id: object): number };
    expect(backend.getMemoryOffset(y.dataId)).toBe(backend.getMemoryOffset(x.dataId));
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]); // still alive through its own reference
    y.dispose();
    expect(tf.memory().numBytes).toBe(before - 12);
  });

  it('Transpose matches a plain loop for swaps, batched swaps, copies and other permutations', () => {
    const rng = new Rng(1);
    const cases: [number[], number[]][] = [
      [[37, 70], [1, 0]],
      [[3, 33, 65], [0, 2, 1]],
      [[2, 5, 6, 7], [0, 2, 3, 1]],
      [[2, 5, 6, 7], [3, 1, 2, 0]], // not a batched swap: the wasm kernel
      [[4, 1, 9], [2, 1, 0]],
      [[3, 4], [0, 1]],
    ];
    for (const [shape, perm] of cases) {
      for (const dtype of ['float32', 'int32'] as const) {
        const data = rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, 100);
        const x = tf.tensor(dtype === 'int32' ? Int32Array.from(data, Math.round) : data, shape, dtype);
        const y = tf.transpose(x, perm);
        expect(y.shape).toEqual(perm.map((p) => shape[p]));
        expect(Array.from(y.dataSync())).toEqual(naiveTranspose(x.dataSync(), shape, perm));
        tf.dispose([x, y]);
      }
    }
  });

  it('Slice and SplitV copy straight from the heap: equal to a plain loop, every dtype, any rank; bad bounds still throw', () => {
    const rng = new Rng(5);
    /** x[begin : begin + size] by nested loops over every output index. */
    const naiveSlice = (x: ArrayLike<number>, shape: number[], begin: number[], sz: number[]): number[] => {
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const n = sz.reduce((a, b) => a * b, 1);
      const out: number[] = [];
      const idx = sz.map(() => 0);
      for (let o = 0; o < n; o++) {
        out.push(x[idx.reduce((s, v, d) => s + (begin[d] + v) * strides[d], 0)]);
        for (let d = idx.length - 1; d >= 0; d--) {
          if (++idx[d] < sz[d]) break;
          idx[d] = 0;
        }
      }
      return out;
    };
    const cases: [number[], number[], number[]][] = [
      [[37, 70], [3, 0], [20, 70]], // whole rows: one run
      [[37, 70], [3, 5], [20, 9]], // short runs (element loop)
      [[37, 70], [0, 40], [37, 30]], // long runs
      [[3, 33, 65], [1, 2, 0], [2, 30, 65]],
      [[2, 5, 6, 7], [1, 1, 2, 3], [1, 3, 4, 4]],
      [[2, 5, 6, 7], [0, 0, 0, 0], [2, 5, 6, 7]], // the whole tensor
      [[2, 3, 4, 5, 6], [1, 0, 1, 2, 0], [1, 3, 2, 3, 6]], // rank 5
      [[4, 6], [1, 2], [0, 3]], // empty
    ];
    for (const [shape, begin, sz] of cases) {
      const data = rng.normalArray(shape.reduce((a, b) => a * b, 1), 0, 100);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const values = dtype === 'float32' ? data : dtype === 'int32' ? Int32Array.from(data, Math.round) : Uint8Array.from(data, (v) => (v > 0 ? 1 : 0));
        const x = tf.tensor(values, shape, dtype);
        const y = tf.slice(x, begin, sz);
        expect(y.shape).toEqual(sz);
        expect(y.dtype).toBe(dtype);
        expect(Array.from(y.dataSync())).toEqual(naiveSlice(x.dataSync() as ArrayLike<number>, shape, begin, sz));
        tf.dispose([x, y]);
      }
    }
    const x = tf.tensor3d(rng.normalArray(3 * 10 * 4), [3, 10, 4]);
    for (const axis of [0, 1, 2]) {
      const sizes = axis === 0 ? [1, 2] : axis === 1 ? [3, 0, 5, 2] : [2, 2];
      const before = tf.memory().numTensors;
      const pieces = tf.split(x, sizes, axis);
      expect(tf.memory().numTensors).toBe(before + sizes.length);
      let at = 0;
      pieces.forEach((p, i) => {
        const begin = [0, 0, 0];
        begin[axis] = at;
        const sz = [...x.shape];
        sz[axis] = sizes[i];
        at += sizes[i];
        expect(p.shape).toEqual(sz);
        expect(Array.from(p.dataSync())).toEqual(naiveSlice(x.dataSync(), x.shape, begin, sz));
      });
      tf.dispose(pieces);
    }
    expect(() => tf.slice(x, [2, 0, 0], [2, 10, 4])).toThrow(/slice/i);
    x.dispose();
  });

  it('Tile by block copies matches a plain loop for every dtype and rank', () => {
    const rng = new Rng(7);
    const cases: [number[], number[]][] = [
      [[5], [3]],
      [[1, 600], [4096, 1]], // a bias gradient's broadcast
      [[3, 1], [1, 40]], // rows of length 1
      [[2, 3, 4], [2, 1, 3]],
      [[2, 1, 3, 2], [1, 5, 1, 2]],
      [[2, 3], [0, 2]], // empty
      [[2, 3], [1, 1]],
    ];
    for (const [shape, reps] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = rng.normalArray(n, 0, 100);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const values = dtype === 'float32' ? data : dtype === 'int32' ? Int32Array.from(data, Math.round) : Uint8Array.from(data, (v) => (v > 0 ? 1 : 0));
        const x = tf.tensor(values, shape, dtype);
        const y = tf.tile(x, reps);
        const outShape = shape.map((d, i) => d * reps[i]);
        expect(y.shape).toEqual(outShape);
        // plain loop: out[idx] = x[idx mod shape]
        const xv = x.dataSync() as ArrayLike<number>;
        const want: number[] = [];
        const total = outShape.reduce((a, b) => a * b, 1);
        const idx = outShape.map(() => 0);
        for (let o = 0; o < total; o++) {
          let src = 0;
          for (let d = 0; d < shape.length; d++) src = src * shape[d] + (idx[d] % shape[d]);
          want.push(xv[src]);
          for (let d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < outShape[d]) break;
            idx[d] = 0;
          }
        }
        expect(Array.from(y.dataSync() as ArrayLike<number>)).toEqual(want);
        tf.dispose([x, y]);
      }
    }
  });

  it('the gradients of Sum and Mean broadcast dy (no ones array): values as tfjs defines them, any axes', () => {
    const rng = new Rng(6);
    const shape = [3, 4, 5];
    const x = tf.tensor3d(rng.normalArray(60), [3, 4, 5]);
    const cases: { axis: number | number[] | undefined; keepDims: boolean }[] = [
      { axis: undefined, keepDims: false },
      { axis: 0, keepDims: false },
      { axis: [0, 1], keepDims: true },
      { axis: -1, keepDims: false },
      { axis: [0, 2], keepDims: false },
    ];
    for (const { axis, keepDims } of cases) {
      for (const op of ['sum', 'mean'] as const) {
        const reduce = (t: tf.Tensor) => (op === 'sum' ? tf.sum(t, axis, keepDims) : tf.mean(t, axis, keepDims));
        const outShape = reduce(x).shape;
        const w = tf.tensor(rng.normalArray(outShape.reduce((a, b) => a * b, 1)), outShape);
        const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reduce(t), w)))(x);
        // expected: dx[i,j,k] = w at the reduced index (÷ n for mean), computed by loops
        const axes = axis === undefined ? [0, 1, 2] : (Array.isArray(axis) ? axis : [axis]).map((a) => (a + 3) % 3);
        const n = axes.reduce((p, a) => p * shape[a], 1);
        const wv = w.dataSync();
        const keptDims = [0, 1, 2].filter((d) => !axes.includes(d));
        const want: number[] = [];
        for (let i = 0; i < 3; i++)
          for (let j = 0; j < 4; j++)
            for (let k = 0; k < 5; k++) {
              const ijk = [i, j, k];
              let flat = 0;
              for (const d of keptDims) flat = flat * shape[d] + ijk[d];
              want.push(op === 'sum' ? wv[flat] : Math.fround(wv[flat] / n));
            }
        expect(dx.shape).toEqual(shape);
        expect(Array.from(dx.dataSync())).toEqual(want);
        tf.dispose([w, dx]);
      }
    }
    x.dispose();
  });

  it('GatherV2 by block copies matches a plain loop on every axis; a bad index still throws naming it', () => {
    const rng = new Rng(4);
    const shape = [3, 5, 20];
    const data = rng.normalArray(300);
    const x = tf.tensor3d(data, [3, 5, 20]);
    const xi = tf.tensor3d(Int32Array.from(data, (v) => Math.round(v * 100)), [3, 5, 20], 'int32');
    for (const axis of [0, 1, 2]) {
      const idx = [0, shape[axis] - 1, 1, 1];
      for (const t of [x, xi]) {
        const y = tf.gather(t, tf.tensor1d(idx, 'int32'), axis);
        const want = tf.tidy(() => tf.concat(idx.map((i) => tf.slice(t, axis === 0 ? [i, 0, 0] : axis === 1 ? [0, i, 0] : [0, 0, i], axis === 0 ? [1, 5, 20] : axis === 1 ? [3, 1, 20] : [3, 5, 1])), axis));
        expect(y.shape).toEqual(want.shape);
        expect(Array.from(y.dataSync())).toEqual(Array.from(want.dataSync()));
        tf.dispose([y, want]);
      }
    }
    const rows = tf.gather(x, tf.tensor2d([[2, 0], [1, 1]], [2, 2], 'int32')); // indices of rank 2
    expect(rows.shape).toEqual([2, 2, 5, 20]);
    expect(Array.from(rows.dataSync().slice(0, 100))).toEqual(Array.from(x.dataSync().slice(200, 300)));
    expect(() => tf.gather(x, tf.tensor1d([3], 'int32'))).toThrow(/index value 3 is not in \[0, 2\]/);
    tf.dispose([x, xi, rows]);
  });

  it('Sum and Mean over leading axes (bias gradients) match hand-computed values; other axes unchanged', () => {
    const x = tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]); // [2,2,2]
    expect(tf.sum(x, [0, 1]).arraySync()).toEqual([16, 20]);
    expect(tf.sum(x, 0).arraySync()).toEqual([[6, 8], [10, 12]]);
    expect(tf.sum(x, [1, 0], true).arraySync()).toEqual([[[16, 20]]]);
    expect(tf.mean(x, [0, 1]).arraySync()).toEqual([4, 5]);
    expect(tf.sum(x, 2).arraySync()).toEqual([[3, 7], [11, 15]]);
    expect(tf.sum(x, [0, 2]).arraySync()).toEqual([14, 22]);
    expect(tf.sum(x).arraySync()).toBe(36);
    const bias = tf.tensor1d([1, -1]);
    const g = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(x, b), x)))(bias);
    expect(g.arraySync()).toEqual([16, 20]);
    tf.dispose([x, bias, g]);
  });
});

const blas = process.env.SIGN_BLAS === 'off' ? null : 'auto';

describe('initBackend acceleration options', () => {
  afterAll(async () => {
    await initBackend('wasm');
  });
  it("reports the compute path; blas: 'off' turns OpenBLAS off and 'auto' turns it back on", async () => {
    const off = await initBackend('wasm', { blas: 'off' });
    expect(off.acceleration.blas).toBe(false);
    expect(off.acceleration.summary).toMatch(/^wasm \(single-threaded; no BLAS: turned off\)/);
    const auto = await initBackend('wasm', { blas: 'auto' });
    expect(auto.acceleration).toEqual(accelerationInfo());
    if (auto.acceleration.blas) {
      expect(auto.acceleration.summary).toMatch(/^wasm \+ (oneDNN \(.*libdnnl|OpenBLAS \(.*libopenblas).*, \d+ threads?\)$/);
      expect(auto.acceleration.threads).toBeGreaterThanOrEqual(1);
      if (auto.acceleration.summary.includes('OpenBLAS')) {
        // a kernel forced through the environment is said (OpenBLAS applies it whatever the CPU can do)
        const forced = process.env.OPENBLAS_CORETYPE;
        if (forced) expect(auto.acceleration.detail).toContain(`chosen by OPENBLAS_CORETYPE=${forced} in the environment`);
        else expect(auto.acceleration.detail).not.toContain('OPENBLAS_CORETYPE');
      } else {
        expect(auto.acceleration.detail).toMatch(/^libdnnl[^:]*: oneDNN \d+\.\d+\.\d+ \(cpu runtime /);
      }
    } else {
      expect(auto.acceleration.detail).toMatch(/koffi|oneDNN or OpenBLAS/);
    }
  });
});

/** Whether the dynamic loader knows this library file (`ldconfig -p`, read once). */
const loaderList = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' }).stdout ?? '';
const installed = (name: string) => loaderList.includes(name);

describe('native BLAS libraries (each one this machine has, loaded by name)', () => {
  it.skipIf(blas === null)('OpenBLAS first, oneDNN first when OPENBLAS_CORETYPE is set, SIGN_BLAS_LIB over both', async () => {
    const saved = { lib: process.env.SIGN_BLAS_LIB, core: process.env.OPENBLAS_CORETYPE };
    try {
      delete process.env.SIGN_BLAS_LIB;
      delete process.env.OPENBLAS_CORETYPE;
      const free = await loadBlas();
      process.env.OPENBLAS_CORETYPE = 'Haswell';
      const forced = await loadBlas();
      process.env.SIGN_BLAS_LIB = 'libopenblas.so.0';
      const named = await loadBlas();
      if (installed('libopenblas.so.0')) {
        expect('name' in free && free.name).toBe('OpenBLAS');
        expect('name' in named && named.library).toBe('libopenblas.so.0');
      }
      if (installed('libdnnl.so.2') || installed('libdnnl.so.3')) expect('name' in forced && forced.name).toBe('oneDNN');
      else if (installed('libopenblas.so.0')) expect('name' in forced && forced.name).toBe('OpenBLAS');
    } finally {
      for (const [k, v] of [['SIGN_BLAS_LIB', saved.lib], ['OPENBLAS_CORETYPE', saved.core]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
  // Each library loaded by name must follow BLAS's rules, including the edge cases dnnl_sgemm
  // handles differently (k = 0: C = beta·C).
  const names = ['libdnnl.so.2', 'libdnnl.so.3', 'libopenblas.so.0'];
  it.skipIf(blas === null)('give the same products as a float64 loop, with transposes, strides, beta and k = 0', async () => {
    const saved = process.env.SIGN_BLAS_LIB;
    let loaded = 0;
    try {
      for (const name of names) {
        process.env.SIGN_BLAS_LIB = name;
        const lib = await loadBlas({ threads: 2 });
        if ('reason' in lib) {
          expect(lib.reason).toContain(name);
          continue;
        }
        loaded++;
        expect(lib.library).toBe(name);
        expect(lib.name).toBe(name.includes('dnnl') ? 'oneDNN' : 'OpenBLAS');
        expect(lib.threads).toBe(2);
        const rng = new Rng(5);
        // a 37×29 product inside padded buffers (lda, ldb, ldc larger than the rows), beta = 0.5
        const [m, k, n, pad] = [37, 53, 29, 3];
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
          const a = Float32Array.from({ length: ar * (ac + pad) }, () => rng.normal());
          const b = Float32Array.from({ length: br * (bc + pad) }, () => rng.normal());
          const c = Float32Array.from({ length: m * (n + pad) }, () => rng.normal());
          const want = new Float64Array(m * n);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let acc = 0;
              for (let q = 0; q < k; q++) acc += (ta ? a[q * (ac + pad) + i] : a[i * (ac + pad) + q]) * (tb ? b[j * (bc + pad) + q] : b[q * (bc + pad) + j]);
              want[i * n + j] = 2 * acc + 0.5 * c[i * (n + pad) + j];
            }
          lib.sgemm(ta, tb, m, n, k, 2, a, ac + pad, b, bc + pad, 0.5, c, n + pad);
          let worst = 0;
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(c[i * (n + pad) + j] - want[i * n + j]));
          expect(worst, `${name} ta=${ta} tb=${tb}`).toBeLessThan(1e-4);
        }
        const c0 = new Float32Array([1, 2, 3, 4]);
        lib.sgemm(false, false, 2, 2, 0, 1, new Float32Array(1), 1, new Float32Array(2), 2, 0.5, c0, 2);
        expect(Array.from(c0)).toEqual([0.5, 1, 1.5, 2]);
      }
    } finally {
      if (saved === undefined) delete process.env.SIGN_BLAS_LIB;
      else process.env.SIGN_BLAS_LIB = saved;
    }
    if (accelerationInfo().blas) expect(loaded).toBeGreaterThanOrEqual(1);
  });
});

describe('OpenMP wait policy of oneDNN', () => {
  // oneDNN's OpenMP runtime reads its wait policy once, when it loads; libgomp prints what it read
  // with OMP_DISPLAY_ENV=verbose (GOMP_SPINCOUNT 0 is passive, 300000 its spinning default).
  const blasModule = fileURLToPath(new URL('../src/blas.ts', import.meta.url));
  function loadInChild(env: Record<string, string>): { spin: string | undefined; config: string; after: string } {
    const script = `import { loadBlas } from ${JSON.stringify(blasModule)};
      const b = await loadBlas();
      console.log(JSON.stringify({ config: 'reason' in b ? b.reason : b.config, after: String(process.env.OMP_WAIT_POLICY) }));`;
    const base = { ...process.env };
    delete base.OMP_WAIT_POLICY;
    delete base.GOMP_SPINCOUNT;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...base, SIGN_BLAS_LIB: 'libdnnl.so.2', OMP_DISPLAY_ENV: 'verbose', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const line = r.stdout.trim().split('\n').at(-1)!;
    return { spin: /GOMP_SPINCOUNT = '(\d+)'/.exec(r.stdout + r.stderr)?.[1], ...JSON.parse(line) };
  }
  const dnnl = blas !== null && installed('libdnnl.so.2');
  it.skipIf(!dnnl)('is passive unless the environment sets one, and the environment is put back after the load', () => {
    const passive = loadInChild({});
    expect(passive.spin).toBe('0');
    expect(passive.config).toContain('OpenMP threads wait passively');
    expect(passive.after).toBe('undefined');
    const active = loadInChild({ OMP_WAIT_POLICY: 'ACTIVE' });
    expect(active.spin).toBe('30000000000');
    expect(active.config).toContain('OpenMP wait policy ACTIVE from the environment');
    expect(active.after).toBe('ACTIVE');
    const spin = loadInChild({ GOMP_SPINCOUNT: '1000' });
    expect(spin.spin).toBe('1000');
    expect(spin.config).toContain('OpenMP spin count 1000 from the environment');
  }, 120_000);
});

forEachBackend(['wasm', 'cpu'], (backend) => {
  describe(`native BLAS products (${backend})`, () => {
    it.skipIf(blas === null)('tf.matMul with transposes and broadcast batches matches a plain loop (when native BLAS loaded)', () => {
      if (!accelerationInfo().blas) return; // no native BLAS on this machine: nothing to compare
      const rng = new Rng(2);
      const ref = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, ta: boolean, tb: boolean) => {
        const out = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let q = 0; q < k; q++) s += (ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
            out[i * n + j] = s;
          }
        return out;
      };
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const [m, k, n] = [5, 7, 3];
        const a = randTensor(rng, ta ? [k, m] : [m, k]);
        const b = randTensor(rng, tb ? [n, k] : [k, n]);
        const y = tf.matMul(a, b, ta, tb);
        expect(maxAbsDiff(y.dataSync(), ref(a.dataSync() as Float32Array, b.dataSync() as Float32Array, m, k, n, ta, tb))).toBeLessThan(1e-5);
        tf.dispose([a, b, y]);
      }
      // [2,3,4]·[1,4,5] (broadcast batch) and [3,4]·[2,4,5]
      const a3 = randTensor(rng, [2, 3, 4]);
      const b3 = randTensor(rng, [1, 4, 5]);
      const y3 = tf.matMul(a3, b3);
      const av = a3.dataSync() as Float32Array;
      const bv = b3.dataSync() as Float32Array;
      for (let t = 0; t < 2; t++) {
        const want = ref(av.subarray(t * 12, t * 12 + 12), bv, 3, 4, 5, false, false);
        expect(maxAbsDiff((y3.dataSync() as Float32Array).subarray(t * 15, t * 15 + 15), want)).toBeLessThan(1e-5);
      }
      tf.dispose([a3, b3, y3]);
    });
  });

  describe(`gradients only for the inputs that need one (${backend})`, () => {
    async function kernelCounts(f: () => void): Promise<Map<string, number>> {
      const info = await tf.profile(f);
      const counts = new Map<string, number>();
      for (const k of info.kernels) counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
      return counts;
    }

    it('a layer on constant data computes its weight gradient but not its input gradient', async () => {
      const rng = new Rng(3);
      const x = randTensor(rng, [6, 4]) as tf.Tensor2D;
      const w = tf.variable(randTensor(rng, [4, 3]));
      const img = randTensor(rng, [1, 5, 5, 2]) as tf.Tensor4D;
      const k = tf.variable(randTensor(rng, [3, 3, 2, 3]));
      const onlyWeights = await kernelCounts(() => {
        const { value, grads } = tf.variableGrads(() => tf.add(tf.sum(dense(x, w as tf.Tensor2D)), tf.sum(conv2d(img, k as tf.Tensor4D, { dilations: 2 }))), [w, k]);
        tf.dispose([value, ...Object.values(grads)]);
      });
      expect(onlyWeights.get('SignMatMul')).toBe(2); // forward + dW
      expect(onlyWeights.get('SignConv2D')).toBe(1);
      expect(onlyWeights.get('SignConv2DBackpropFilter')).toBe(1);
      expect(onlyWeights.has('SignConv2DBackpropInput')).toBe(false);
      const both = await kernelCounts(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.add(tf.sum(dense(a as tf.Tensor2D, w as tf.Tensor2D)), tf.sum(conv2d(b as tf.Tensor4D, k as tf.Tensor4D))))([x, img]);
        tf.dispose(g);
      });
      expect(both.get('SignMatMul')).toBe(2); // forward + dx (w is not differentiated here)
      expect(both.get('SignConv2DBackpropInput')).toBe(1);
      expect(both.has('SignConv2DBackpropFilter')).toBe(false);
      tf.dispose([x, w, img, k]);
    });

    it('matMul gradients leak nothing and match tfjs’ own for every transpose combination', async () => {
      const rng = new Rng(4);
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const a = randTensor(rng, ta ? [5, 3] : [3, 5]);
        const b = randTensor(rng, tb ? [4, 5] : [5, 4]);
        const dy = randTensor(rng, [3, 4]);
        const ours = await expectNoLeaks(() => tf.grads((p, q) => matMul(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb))([a, b], dy));
        const ref = tf.grads((p, q) => tf.matMul(p, q, ta, tb))([a, b], dy);
        expect(maxAbsDiff(ours[0].dataSync(), ref[0].dataSync())).toBeLessThan(1e-5);
        expect(maxAbsDiff(ours[1].dataSync(), ref[1].dataSync())).toBeLessThan(1e-5);
        tf.dispose([a, b, dy, ...ours, ...ref]);
      }
    });
  });
});
