import * as tf from '@tensorflow/tfjs-core';
import { dynamicImport, errorText } from './util';
import { describeAdapter, loadWebgpu, releaseWebgpu, type WebgpuAdapterReport } from './webgpu';
import { accelerationInfo, installAcceleration, type AccelerationInfo, type BlasPreference } from './accel';

/**
 * Which tfjs backend to run on. `'auto'` picks the fastest one that loads. `'webgl'` runs in
 * browsers only; `'tensorflow'` and `'tensorflow-gpu'` (tfjs-node) in Node only.
 */
export type BackendPreference = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'webgl' | 'wasm' | 'cpu';

/** One try at loading a backend: `ok`, or the `reason` it was skipped. */
export interface BackendAttempt {
  name: BackendPreference;
  ok: boolean;
  reason?: string;
}

/** What `initBackend` got: the active tfjs backend name and every attempt in order. */
export interface BackendReport {
  /** `tf.getBackend()` after initialisation: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  backend: string;
  attempts: BackendAttempt[];
  /** The GPU adapter and device limits, when the backend is 'webgpu'. */
  adapter?: WebgpuAdapterReport;
  /** The compute path: native BLAS (oneDNN or OpenBLAS) or not, its library and threads (see `accelerationInfo`). */
  acceleration: AccelerationInfo;
}

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /**
   * Native BLAS for the products and convolutions of the wasm and cpu backends: `'auto'`
   * (default; used when the optional `koffi` package and a oneDNN or OpenBLAS library load;
   * `SIGN_BLAS_LIB` names the library file), `'off'`, or
   * `'require'` (throw when it cannot load). The `SIGN_BLAS` environment variable sets the
   * default.
   */
  blas?: BlasPreference;
  /** Native BLAS threads (default: `SIGN_BLAS_THREADS`, else the library's own: every core). */
  blasThreads?: number;
  /**
   * Free saved tensors and intermediate gradients during the backward pass instead of at its
   * end (default true; any backend). Same gradients, lower peak memory; see gradients.ts.
   */
  leanGradients?: boolean;
}

/** Node: true; browsers and web workers: false (the backends that exist differ). */
const IN_NODE = typeof process !== 'undefined' && !!process.versions?.node;
const AUTO_ORDER: Exclude<BackendPreference, 'auto'>[] = IN_NODE
  ? ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']
  : ['webgpu', 'webgl', 'wasm', 'cpu'];
const PREFERENCES: BackendPreference[] = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'webgl', 'wasm', 'cpu'];
/** What an explicit preference tries: itself; 'webgpu' falls back to wasm (webgl in a browser) when no adapter fits. */
const EXPLICIT_ORDER: Partial<Record<BackendPreference, Exclude<BackendPreference, 'auto'>[]>> = {
  webgpu: IN_NODE ? ['webgpu', 'wasm'] : ['webgpu', 'webgl'],
};

// Module specifiers are held in variables so that bundlers and the type checker leave the
// optional packages alone; they are resolved at run time, where they may be missing.
const SPEC = {
  tfjsNodeGpu: '@tensorflow/tfjs-node-gpu',
  tfjsNode: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  gradients: '@tensorflow/tfjs-core/dist/register_all_gradients.js',
  chainedOps: '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js',
};


/**
 * tfjs-core's per-file ES modules (the only place its gradient definitions ship) use
 * extensionless relative imports, which bundlers and vite accept but Node's own ESM loader
 * refuses. Under plain Node we register a resolve hook, limited to files inside
 * `@tensorflow/tfjs-core/dist/`, that resolves `./x` to `./x.js` (or `./x/index.js`).
 */
const TFJS_CORE_RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  const p = context.parentURL;
  if (p && p.includes('/@tensorflow/tfjs-core/dist/') &&
      (specifier.startsWith('./') || specifier.startsWith('../')) && !/\\.[cm]?js$/.test(specifier)) {
    try { return await next(specifier + '.js', context); } catch {}
    return next(specifier + '/index.js', context);
  }
  return next(specifier, context);
}`;

let hookRegistered = false;
async function registerTfjsCoreResolveHook(): Promise<void> {
  if (hookRegistered) return;
  hookRegistered = true;
  if (typeof process === 'undefined' || !process.versions?.node) return;
  try {
    const mod: any = await dynamicImport('node:module');
    if (typeof mod.register === 'function') {
      mod.register('data:text/javascript,' + encodeURIComponent(TFJS_CORE_RESOLVE_HOOK));
    }
  } catch {
    // Not Node, or no loader hooks (Node < 20.6): the plain import below may still work (bundlers).
  }
}

let gradientsLoaded: Promise<void> | null = null;

/** Whether tfjs-core's chained tensor methods (`x.square()`) are registered. */
function hasChainedOps(): boolean {
  return typeof (tf.Tensor.prototype as unknown as { square?: unknown }).square === 'function';
}

/**
 * Makes the backend package `spec` register backend `name`: nothing to do when it is registered
 * already (the app imported it, or `@tensorflow/tfjs`), else a dynamic import, which works in
 * Node and in unbundled browser modules (an import map) but not in a bundle, where the app must
 * import the package itself: the error says so.
 */
async function loadBackendPackage(name: string, spec: string): Promise<void> {
  if (tf.findBackendFactory(name) != null) return;
  try {
    await dynamicImport(spec);
  } catch (e) {
    throw new Error(
      IN_NODE
        ? `${spec} is not installed: ${errorText(e)}`
        : `${spec} could not be loaded (${errorText(e)}): in a bundled app, install it and add import '${spec}' before initBackend`,
    );
  }
  if (tf.findBackendFactory(name) == null) {
    throw new Error(`${spec} loaded but registered no '${name}' backend (a second copy of @tensorflow/tfjs-core?)`);
  }
}

/**
 * Loads tfjs-core's gradient registrations and chained tensor methods (`x.square()`), which the
 * full `@tensorflow/tfjs` package loads for you but `@tensorflow/tfjs-core` alone does not.
 * Idempotent. Called by `initBackend`.
 */
export function registerGradients(): Promise<void> {
  if (!gradientsLoaded) {
    gradientsLoaded = (async () => {
      // Already there when the app imported @tensorflow/tfjs (or registered them itself): a bundled
      // browser app cannot import packages by a name computed at run time, so this is its way.
      if (tf.getGradient('Conv2D') != null && tf.getGradient('BatchMatMul') != null && hasChainedOps()) return;
      // vitest (vite-node) runs tfjs-core's ES modules through its own resolver; plain Node needs the hook.
      const underVite = typeof (globalThis as any).__vitest_worker__ !== 'undefined';
      if (!underVite) await registerTfjsCoreResolveHook();
      await dynamicImport(SPEC.gradients);
      await dynamicImport(SPEC.chainedOps);
      if (tf.getGradient('Conv2D') == null || tf.getGradient('BatchMatMul') == null) {
        throw new Error('registerGradients: tfjs-core gradient registrations did not load');
      }
    })().catch((e) => {
      gradientsLoaded = null;
      const hint = IN_NODE
        ? ''
        : "; in a bundled browser app, import '@tensorflow/tfjs' (or '@tensorflow/tfjs-core/dist/register_all_gradients' and '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops') before initBackend";
      throw new Error(
        `initBackend: could not load tfjs-core's gradient registrations (${SPEC.gradients}): ${errorText(e)}${hint}`,
      );
    });
  }
  return gradientsLoaded;
}

async function trySetBackend(name: string): Promise<void> {
  let ok = false;
  let err: unknown = null;
  // tf.setBackend logs and returns false when the backend's async init fails, and the cpu backend
  // prints an "install tfjs-node" banner on its first tensor; our report says that already.
  const warn = console.warn;
  try {
    console.warn = () => {};
    ok = await tf.setBackend(name);
    if (ok) tf.dispose(tf.scalar(0));
  } catch (e) {
    err = e;
  } finally {
    console.warn = warn;
  }
  if (!ok) throw new Error(err ? errorText(err) : `tf.setBackend('${name}') returned false`);
  await tf.ready();
}

async function attempt(name: Exclude<BackendPreference, 'auto'>, preference: BackendPreference): Promise<void> {
  switch (name) {
    case 'webgpu': {
      if (!IN_NODE && tf.findBackendFactory('webgpu') != null) {
        // a browser app that imported @tensorflow/tfjs-backend-webgpu itself: its backend as it is
        await trySetBackend('webgpu');
        lastNote = 'the webgpu backend the app registered';
        return;
      }
      // In 'auto' a software adapter (llvmpipe, lavapipe, SwiftShader) is skipped: wasm is faster.
      try {
        lastAdapter = await loadWebgpu(preference === 'webgpu');
      } catch (e) {
        if (IN_NODE) throw e;
        throw new Error(`${errorText(e)} (in a bundled app, add import '@tensorflow/tfjs-backend-webgpu' before initBackend)`);
      }
      try {
        await trySetBackend('webgpu');
      } catch (e) {
        releaseWebgpu();
        throw e;
      }
      lastNote = describeAdapter(lastAdapter);
      return;
    }
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const spec = name === 'tensorflow-gpu' ? SPEC.tfjsNodeGpu : SPEC.tfjsNode;
      if (!IN_NODE) throw new Error(`${spec} runs in Node only`);
      try {
        await dynamicImport(spec);
      } catch (e) {
        throw new Error(`${spec} is not installed or its native library failed to load: ${errorText(e)}`);
      }
      if (tf.findBackendFactory('tensorflow') == null) {
        throw new Error(`${spec} loaded but registered no 'tensorflow' backend (a second copy of tfjs-core?)`);
      }
      await trySetBackend('tensorflow');
      return;
    }
    case 'webgl': {
      if (IN_NODE) throw new Error('webgl runs in browsers only (Node has no WebGL)');
      await loadBackendPackage('webgl', SPEC.webgl);
      await trySetBackend('webgl');
      return;
    }
    case 'wasm': {
      await loadBackendPackage('wasm', SPEC.wasm);
      if (IN_NODE) {
        // The multi-threaded binary needs Web Workers; in Node use the single-threaded SIMD one.
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
      // In Node the package's own bundle (dist/tf-backend-wasm.node.js) finds its .wasm files next
      // to itself, so no setWasmPaths() is needed; bundled browser apps call setWasmPaths first.
      await trySetBackend('wasm');
      if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
        // Works, but ~3x slower; say so in the report.
        lastNote = 'SIMD not supported here: running the plain wasm binary';
      }
      return;
    }
    case 'cpu': {
      await loadBackendPackage('cpu', SPEC.cpu);
      await trySetBackend('cpu');
      return;
    }
  }
}

/** A note on the attempt that worked (the adapter, or wasm without SIMD), for the report. */
let lastNote: string | null = null;
let lastAdapter: WebgpuAdapterReport | null = null;

/**
 * Loads and activates a tfjs backend, and registers tfjs-core's gradients (always).
 *
 * `'auto'` tries, in order: `@tensorflow/tfjs-node-gpu` (optional native package), WebGPU on a
 * hardware adapter (`@tensorflow/tfjs-backend-webgpu` on Dawn, the optional `webgpu` package:
 * Vulkan, then OpenGL ES), `@tensorflow/tfjs-node`, the wasm backend (SIMD, single-threaded in
 * Node), then the plain JS cpu backend, and stops at the first that works. A software GPU adapter
 * (llvmpipe, lavapipe, SwiftShader) is slower than wasm: `'auto'` skips it, `'webgpu'` takes it.
 * An explicit preference tries only that backend and throws if it cannot load, except `'webgpu'`,
 * which falls back to wasm. The report lists every attempt and why it was skipped, and for webgpu
 * the adapter and the device limits it was given (`report.adapter`).
 * In a browser, `'auto'` tries webgpu, webgl, wasm, then cpu (tfjs-node does not exist there).
 *
 * In a bundled browser app, import the backend packages you want (or `@tensorflow/tfjs`, which
 * brings webgl, cpu and the gradients) before calling it: a bundle cannot load a package named at
 * run time, and a backend that is registered already is used as it is.
 *
 * On wasm and cpu it then installs the speed-ups of `accelerationInfo` (wasm's shared-memory
 * Identity and blocked Transpose; oneDNN's or OpenBLAS's sgemm for products and convolutions
 * when the optional `koffi` package and one of them load, unless `opts.blas` is `'off'`).
 *
 * @example
 * const report = await initBackend('auto');
 * console.log(report.backend);            // 'wasm' on a machine without libtensorflow
 * for (const a of report.attempts) console.log(a.name, a.ok, a.reason ?? '');
 * console.log(report.acceleration.summary);   // 'wasm + oneDNN (libdnnl.so.2, 2 threads)'
 * const gpu = await initBackend('webgpu'); // Vulkan → OpenGL ES → wasm, saying why at each step
 * if (gpu.adapter) console.log(gpu.adapter.description, gpu.adapter.limits.maxStorageBuffersPerShaderStage);
 * // in a browser bundle: import '@tensorflow/tfjs'; then
 * await initBackend('webgl');
 */
export async function initBackend(preference: BackendPreference = 'auto', opts: InitBackendOptions = {}): Promise<BackendReport> {
  if (!PREFERENCES.includes(preference)) {
    throw new Error(`initBackend: unknown backend '${String(preference)}'; expected one of ${PREFERENCES.join(', ')}`);
  }
  await registerGradients();
  const order = preference === 'auto' ? AUTO_ORDER : (EXPLICIT_ORDER[preference] ?? [preference]);
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    lastNote = null;
    lastAdapter = null;
    try {
      await attempt(name, preference);
    } catch (e) {
      attempts.push({ name, ok: false, reason: errorText(e) });
      continue;
    }
    attempts.push(lastNote ? { name, ok: true, reason: lastNote } : { name, ok: true });
    const adapter = lastAdapter;
    await installAcceleration(tf.getBackend(), opts);
    const report: BackendReport = { backend: tf.getBackend(), attempts, acceleration: accelerationInfo() };
    if (adapter) report.adapter = adapter;
    return report;
  }
  const detail = attempts.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new Error(`initBackend('${preference}'): no backend could be loaded (${detail})`);
}

/**
 * Warns when the active backend is tfjs' plain JavaScript `cpu` backend, which is several times
 * slower than wasm for training: what `@tensorflow/tfjs` users get unless they install
 * `@tensorflow/tfjs-backend-wasm` (`initBackend('auto')` falls back to cpu without it). Training
 * code calls it once before its first step. Returns the warning given, or `null` on any other
 * backend (nothing is printed then).
 *
 * @example
 * await initBackend('auto');
 * warnIfSlowBackend({ what: 'sign train' }); // prints nothing on wasm, webgl, webgpu, tensorflow
 */
export function warnIfSlowBackend(opts: { what?: string; warn?: (message: string) => void } = {}): string | null {
  if (tf.getBackend() !== 'cpu') return null;
  const how = IN_NODE
    ? "install @tensorflow/tfjs-backend-wasm and call initBackend('wasm') (or 'auto', which prefers it)"
    : "import '@tensorflow/tfjs-backend-webgl' (or '@tensorflow/tfjs') and call initBackend('webgl')";
  const message = `${opts.what ?? 'training'} runs on tfjs' plain JavaScript cpu backend, which is several times slower: ${how}`;
  (opts.warn ?? console.warn)(message);
  return message;
}

/** The active tfjs backend name (`tf.getBackend()`), e.g. 'wasm', 'cpu' or 'tensorflow'. */
export function currentBackend(): string {
  return tf.getBackend();
}
