/**
 * Optional native BLAS for the matrix products and convolutions of the wasm and cpu backends:
 * oneDNN's `dnnl_sgemm` or OpenBLAS's `cblas_sgemm`, called through the `koffi` FFI package
 * (prebuilt binaries from npm, nothing to compile) directly on tensor memory (the wasm heap, or
 * the cpu backend's arrays).
 *
 * Which one is tried first depends on `OPENBLAS_CORETYPE`. Unset, OpenBLAS picks its kernel from
 * the CPU and comes first: on a Zen 3 machine (AVX2) it ran the paper-size steps 10–15 % faster
 * than oneDNN, and on a Zen 5 machine (AVX-512) the two were equal within noise. Set (machine
 * images set it, e.g. `Haswell`, AVX2, on this project's AVX-512 machines), OpenBLAS runs that
 * kernel whatever the CPU can do, so oneDNN comes first: it picks its kernels from the CPU, and
 * there the SIM's training step took 774–933 ms with oneDNN against 1,271 ms with OpenBLAS
 * (docs/PERFORMANCE.md, items 11 and 12). The variable is respected, never overridden.
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
  /** Which library: 'oneDNN' or 'OpenBLAS'. */
  readonly name: 'oneDNN' | 'OpenBLAS';
  /** The shared library that was loaded, e.g. 'libdnnl.so.2' or 'libopenblas.so.0'. */
  readonly library: string;
  /** The library's own description: version and kernel (e.g. 'oneDNN 2.6.3 (cpu runtime OpenMP)'). */
  readonly config: string;
  /** Threads the library uses for one product. */
  readonly threads: number;
}

/** Where oneDNN usually is (Debian/Ubuntu `libdnnl2`, which `python3-torch` depends on; newer: `libdnnl3`; Homebrew). */
const ONEDNN = [
  'libdnnl.so.3',
  'libdnnl.so.2',
  'libdnnl.so',
  'libdnnl.3.dylib',
  '/opt/homebrew/opt/onednn/lib/libdnnl.dylib',
  '/usr/local/opt/onednn/lib/libdnnl.dylib',
];

/** Where OpenBLAS usually is (Debian/Ubuntu `libopenblas0-pthread`, Fedora, Homebrew, …). */
const OPENBLAS = [
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
 * Loads koffi and OpenBLAS, else oneDNN (oneDNN first when `OPENBLAS_CORETYPE` is set: see the
 * top of this file). Returns the sgemm wrapper, or the reason none is
 * available. `SIGN_BLAS_LIB` names the library file to use instead of the search lists (either
 * kind: the one whose sgemm symbol it exports); `threads` (default: the library's own choice,
 * i.e. `OMP_NUM_THREADS` / `OPENBLAS_NUM_THREADS` or every core) sets its thread count.
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
  const os: any = await dynamicImport('node:os');
  const cores = Number((os.availableParallelism ?? (() => os.cpus().length))());
  const env = process.env.SIGN_BLAS_LIB;
  const names = env ? [env] : process.env.OPENBLAS_CORETYPE ? [...ONEDNN, ...OPENBLAS] : [...OPENBLAS, ...ONEDNN];
  const failures: string[] = [];
  for (const name of names) {
    let lib: any;
    try {
      lib = withPassiveOpenMp(() => koffi.load(name));
    } catch (e) {
      failures.push(`${name}: ${errorText(e)}`);
      continue;
    }
    let blas: Blas;
    try {
      const dnnlSgemm = optionalFunc(lib, DNNL_SGEMM);
      blas = dnnlSgemm ? bindOneDnn(koffi, lib, dnnlSgemm, name, opts.threads, cores) : bindOpenBlas(lib, name, opts.threads);
    } catch (e) {
      failures.push(`${name}: neither oneDNN nor OpenBLAS (${errorText(e)})`);
      continue;
    }
    if (!selfTest(blas)) {
      failures.push(`${name}: sgemm gave a wrong product in the self-test`);
      continue;
    }
    return blas;
  }
  return { reason: `no oneDNN or OpenBLAS library found (${failures.join('; ')})` };
}

/**
 * Runs `load` with `OMP_WAIT_POLICY=PASSIVE` in the environment unless the user set a policy
 * (`OMP_WAIT_POLICY` or `GOMP_SPINCOUNT`), then puts the environment back: the OpenMP runtime
 * that oneDNN pulls in reads it once, when it loads. By default its idle threads spin before
 * sleeping, which collapses when two such processes share the cores (the test suite's two forks,
 * or two trainings on one machine): two `sign demo --quick` at once took 489 s each against
 * 23 s alone; with passive waiting 53–56 s each (26 s alone), and the paper-size steps are not
 * slower (docs/PERFORMANCE.md, item 12).
 */
function withPassiveOpenMp<T>(load: () => T): T {
  const env = process.env;
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return load();
  env.OMP_WAIT_POLICY = 'PASSIVE';
  try {
    return load();
  } finally {
    delete env.OMP_WAIT_POLICY;
  }
}

/** How the OpenMP threads wait, for the report. */
function waitNote(): string {
  const env = process.env;
  if (env.OMP_WAIT_POLICY !== undefined) return `OpenMP wait policy ${env.OMP_WAIT_POLICY} from the environment`;
  if (env.GOMP_SPINCOUNT !== undefined) return `OpenMP spin count ${env.GOMP_SPINCOUNT} from the environment`;
  return 'OpenMP threads wait passively (OMP_WAIT_POLICY=ACTIVE in the environment to spin)';
}

/** The library's function of this signature, or null when it does not export it. */
function optionalFunc(lib: any, signature: string): ((...args: any[]) => any) | null {
  try {
    return lib.func(signature);
  } catch {
    return null;
  }
}

function bindOpenBlas(lib: any, name: string, threads: number | undefined): Blas {
  const sgemm = lib.func(
    'void cblas_sgemm(int, int, int, int, int, int, float, float *, int, float *, int, float, float *, int)',
  );
  const getThreads = lib.func('int openblas_get_num_threads()');
  const setThreads = lib.func('void openblas_set_num_threads(int)');
  const getConfig = lib.func('const char *openblas_get_config()');
  const getCore = lib.func('const char *openblas_get_corename()');
  if (threads !== undefined) setThreads(threads);
  return {
    sgemm: (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
      sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
    name: 'OpenBLAS',
    library: name,
    config: `${String(getConfig())} (kernel ${String(getCore())}${coretypeNote()})`,
    threads: Number(getThreads()),
  };
}

const DNNL_SGEMM =
  'int dnnl_sgemm(char, char, int64_t, int64_t, int64_t, float, float *, int64_t, float *, int64_t, float, float *, int64_t)';
const CHAR_N = 78; // 'N'
const CHAR_T = 84; // 'T'

/**
 * oneDNN's `dnnl_sgemm` is row-major with 64-bit sizes. Its threads are OpenMP's (Debian's and
 * Intel's builds): the count is set and read through the OpenMP runtime it loaded. The library
 * is pinned with `RTLD_NODELETE` first (glibc): koffi closes its libraries when Node exits, and
 * unmapping the OpenMP runtime under its idle worker threads crashes the exit (measured: exit
 * code 139 on every run without the pin, 0 in 12 runs with it).
 */
function bindOneDnn(
  koffi: any,
  lib: any,
  sgemm: (...args: any[]) => any,
  name: string,
  threads: number | undefined,
  cores: number,
): Blas {
  pin(koffi, name);
  const version = lib.func('const void *dnnl_version()');
  let config = 'oneDNN';
  try {
    const v = koffi.decode(version(), koffi.struct({ major: 'int', minor: 'int', patch: 'int', hash: 'const char *', cpu_runtime: 'uint32_t', gpu_runtime: 'uint32_t' }));
    const runtime = CPU_RUNTIME[v.cpu_runtime] ?? String(v.cpu_runtime);
    config = `oneDNN ${v.major}.${v.minor}.${v.patch} (cpu runtime ${runtime}${runtime === 'OpenMP' ? `; ${waitNote()}` : ''}${isaNote()})`;
  } catch {
    // older builds without dnnl_version: the name says enough
  }
  let count = cores;
  const omp = loadOmp(koffi);
  if (omp) {
    if (threads !== undefined) omp.set(threads);
    count = omp.get();
  } else if (threads !== undefined) {
    config += `; its thread count cannot be set here (no OpenMP runtime found), so ${threads} was not applied`;
  }
  return {
    sgemm: (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) => {
      if (m === 0 || n === 0) return;
      if (k === 0) {
        // BLAS's rule C = beta·C, which dnnl_sgemm skips (measured: C left as it was)
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * ldc + j] = beta === 0 ? 0 : beta * c[i * ldc + j];
        return;
      }
      const status = sgemm(ta ? CHAR_T : CHAR_N, tb ? CHAR_T : CHAR_N, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      if (status !== 0) throw new Error(`dnnl_sgemm failed with status ${status} (m=${m}, n=${n}, k=${k}, lda=${lda}, ldb=${ldb}, ldc=${ldc})`);
    },
    name: 'oneDNN',
    library: name,
    config,
    threads: count,
  };
}

const CPU_RUNTIME: Record<number, string> = { 0: 'none', 1: 'sequential', 2: 'OpenMP', 4: 'TBB', 8: 'threadpool' };

function pin(koffi: any, name: string): void {
  if (process.platform !== 'linux') return;
  try {
    const libc = koffi.load('libc.so.6');
    const dlopen = libc.func('void *dlopen(const char *, int)');
    dlopen(name, 0x2 /* RTLD_NOW */ | 0x1000 /* RTLD_NODELETE */);
  } catch {
    // not glibc: nothing to pin with
  }
}

function loadOmp(koffi: any): { set(n: number): void; get(): number } | null {
  for (const name of ['libgomp.so.1', 'libiomp5.so', 'libomp.so', 'libomp.dylib']) {
    try {
      const lib = koffi.load(name);
      const set = lib.func('void omp_set_num_threads(int)');
      const get = lib.func('int omp_get_max_threads()');
      return { set: (n) => set(n), get: () => Number(get()) };
    } catch {
      // next runtime
    }
  }
  return null;
}

/** oneDNN reads `DNNL_MAX_CPU_ISA` (or `ONEDNN_MAX_CPU_ISA`) to limit its kernels: said when set. */
function isaNote(): string {
  const forced = process.env.ONEDNN_MAX_CPU_ISA ?? process.env.DNNL_MAX_CPU_ISA;
  return forced ? `, kernels limited by MAX_CPU_ISA=${forced} in the environment` : '';
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

/** a·b, aᵀ·a and a·aᵀ for a = [[1,2,3],[4,5,6]], b = [[7,8],[9,10],[11,12]], against hand-computed values. */
function selfTest(blas: Blas): boolean {
  try {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]); // [2,3]
    const b = new Float32Array([7, 8, 9, 10, 11, 12]); // [3,2]
    const c = new Float32Array(4);
    blas.sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
    const ok1 = c[0] === 58 && c[1] === 64 && c[2] === 139 && c[3] === 154;
    const d = new Float32Array(9);
    blas.sgemm(true, false, 3, 3, 2, 1, a, 3, a, 3, 0, d, 3); // aᵀ·a [3,3]
    const ok2 = d[0] === 17 && d[4] === 29 && d[8] === 45 && d[2] === 27;
    const e = new Float32Array(4);
    blas.sgemm(false, true, 2, 2, 3, 1, a, 3, a, 3, 0, e, 2); // a·aᵀ [2,2]
    const ok3 = e[0] === 14 && e[1] === 32 && e[2] === 32 && e[3] === 77;
    return ok1 && ok2 && ok3;
  } catch {
    return false;
  }
}
