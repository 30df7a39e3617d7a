/**
 * Optional native BLAS for the matrix products and convolutions of the wasm and cpu backends:
 * OpenBLAS's `cblas_sgemm`, called through the `koffi` FFI package (prebuilt binaries from npm,
 * nothing to compile) directly on tensor memory (the wasm heap, or the cpu backend's arrays).
 *
 * `koffi` is imported only when `loadBlas` runs (called by `initBackend`, under Node only), and a
 * missing `koffi` or library is a reason in the report, not an error.
 */
import { dynamicImport, errorText } from './util';

/** The sgemm entry point, row-major, on Float32Array views (offsets are in elements). */
export interface Blas {
  /**
   * C[m×n] = alpha·op(A)·op(B) + beta·C with op(X) = X or Xᵀ; A, B, C are views starting at the
   * first element of each matrix; lda, ldb, ldc are row strides in elements.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** The shared library that was loaded, e.g. 'libopenblas.so.0'. */
  readonly library: string;
  /** OpenBLAS's own description: version, build options, kernel (e.g. 'Cooperlake'). */
  readonly config: string;
  /** Threads OpenBLAS uses for one product. */
  readonly threads: number;
}

/** Where OpenBLAS usually is (Debian/Ubuntu `libopenblas0-pthread`, Fedora, Homebrew, …). */
const CANDIDATES = [
  'libopenblas.so.0',
  'libopenblas.so',
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0',
  '/usr/lib64/libopenblas.so.0',
  'libopenblas.dylib',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
];

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/**
 * Loads koffi and OpenBLAS. Returns the sgemm wrapper, or the reason it is unavailable.
 * `SIGN_BLAS_LIB` names the library file to use instead of the search list; `threads` (default:
 * OpenBLAS's own choice, i.e. `OPENBLAS_NUM_THREADS` or every core) sets its thread count.
 */
export async function loadBlas(opts: { threads?: number } = {}): Promise<Blas | { reason: string }> {
  if (typeof process === 'undefined' || !process.versions?.node) return { reason: 'not Node' };
  let koffi: any;
  try {
    const mod: any = await dynamicImport('koffi');
    koffi = mod.default ?? mod;
  } catch (e) {
    return { reason: `the optional package koffi is not installed (${errorText(e)})` };
  }
  const env = process.env.SIGN_BLAS_LIB;
  const names = env ? [env] : CANDIDATES;
  const failures: string[] = [];
  for (const name of names) {
    let lib: any;
    try {
      lib = koffi.load(name);
    } catch (e) {
      failures.push(`${name}: ${errorText(e)}`);
      continue;
    }
    try {
      const sgemm = lib.func(
        'void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)',
      );
      const getThreads = lib.func('int openblas_get_num_threads()');
      const setThreads = lib.func('void openblas_set_num_threads(int)');
      const getConfig = lib.func('const char *openblas_get_config()');
      const getCore = lib.func('const char *openblas_get_corename()');
      if (opts.threads !== undefined) setThreads(opts.threads);
      const blas: Blas = {
        sgemm: (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
          sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
        library: name,
        config: `${String(getConfig())} (kernel ${String(getCore())}${coretypeNote()})`,
        threads: Number(getThreads()),
      };
      if (!selfTest(blas)) {
        failures.push(`${name}: cblas_sgemm gave a wrong product in the self-test`);
        continue;
      }
      return blas;
    } catch (e) {
      failures.push(`${name}: not OpenBLAS (${errorText(e)})`);
    }
  }
  return { reason: `no OpenBLAS library found (${failures.join('; ')})` };
}

/**
 * OpenBLAS reads `OPENBLAS_CORETYPE` when it loads and then uses that kernel whatever the CPU
 * can do (e.g. `Haswell`, AVX2, on an AVX-512 machine: measured 1.6× slower products and
 * convolutions there, docs/PERFORMANCE.md). It is respected, and said, since it is easy to
 * inherit from a machine image without knowing.
 */
function coretypeNote(): string {
  const forced = process.env.OPENBLAS_CORETYPE;
  return forced ? `, chosen by OPENBLAS_CORETYPE=${forced} in the environment; unset it to let OpenBLAS pick the CPU's own kernel` : '';
}

/** a·b and aᵀ·a for a = [[1,2,3],[4,5,6]], b = [[7,8],[9,10],[11,12]], against hand-computed values. */
function selfTest(blas: Blas): boolean {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]); // [2,3]
  const b = new Float32Array([7, 8, 9, 10, 11, 12]); // [3,2]
  const c = new Float32Array(4);
  blas.sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
  const ok1 = c[0] === 58 && c[1] === 64 && c[2] === 139 && c[3] === 154;
  const d = new Float32Array(9);
  blas.sgemm(true, false, 3, 3, 2, 1, a, 3, a, 3, 0, d, 3); // aᵀ·a [3,3]
  const ok2 = d[0] === 17 && d[4] === 29 && d[8] === 45 && d[2] === 27;
  return ok1 && ok2;
}
