import * as tf from '@tensorflow/tfjs-core';
import { dynamicImport, errorText } from './util';

/**
 * The WebGPU backend: `@tensorflow/tfjs-backend-webgpu` on the browser's `navigator.gpu`, or in
 * Node on Dawn (the `webgpu` npm package, whose native binary ships inside its tarball).
 *
 * What this module adds to the stock backend, and why (each found by running a training step):
 * - Dawn is reached through Vulkan first, then OpenGL ES (EGL): the second is what a machine
 *   without a Vulkan driver has (Mesa's llvmpipe), and it needs the adapter's compatibility mode;
 * - the device is requested with the adapter's real limits (tfjs asks for 8 storage buffers per
 *   shader stage at most, 4 in compatibility mode, which its own AddN and Concat exceed);
 * - WebGPU reports an invalid shader or a lost device only through events: tfjs ignores them and
 *   the whole queued batch reads back as zeros. Here every program runs inside error scopes, and
 *   the first error is thrown, naming the op, kernel and shader, by the next read (`data()`);
 * - `dataSync()` of a tensor on the GPU needs `OffscreenCanvas`, which Node lacks: it throws an
 *   error saying to `await tensor.data()` instead.
 */

/** The adapter `initBackend('webgpu')` got, and the limits its device was created with. */
export interface WebgpuAdapterReport {
  /** How it was reached: Dawn's Vulkan or OpenGL ES backend, Dawn's platform default, or the browser. */
  api: 'vulkan' | 'opengles' | 'default' | 'browser';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader, …): slower than wasm. */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  /** The device's limits, as granted. */
  limits: Record<WebgpuLimitName, number>;
}

/** The limits requested at the adapter's maximum (the rest stay at WebGPU's defaults). */
export const WEBGPU_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;
export type WebgpuLimitName = (typeof WEBGPU_LIMITS)[number];

const SPEC = {
  backend: '@tensorflow/tfjs-backend-webgpu',
  dawn: 'webgpu',
};


const isNode = typeof process !== 'undefined' && !!process.versions?.node;

// ---------------------------------------------------------------------------------------------
// Which adapter

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render/i;

/** Whether adapter info names a CPU implementation (llvmpipe, lavapipe, SwiftShader, …). */
export function isSoftwareAdapter(info: {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  if (info.isFallbackAdapter === true) return true;
  return SOFTWARE.test([info.vendor, info.architecture, info.device, info.description].join(' '));
}

/**
 * Whether a shared library can be found by name the way dlopen looks (LD_LIBRARY_PATH, then the
 * ld.so cache, then the default folders). Lets the Vulkan and EGL tries say what is missing
 * instead of returning no adapter (Dawn only prints a warning then).
 */
async function findSharedLibrary(name: string): Promise<boolean> {
  const fs: typeof import('node:fs') = await dynamicImport('node:fs');
  const path: typeof import('node:path') = await dynamicImport('node:path');
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  for (const d of dirs) if (fs.existsSync(path.join(d, name))) return true;
  try {
    const cache = fs.readFileSync('/etc/ld.so.cache');
    if (cache.includes(Buffer.from(`\0${name}\0`))) return true;
  } catch {
    // no cache: look in the default folders below
  }
  const std = [
    '/lib',
    '/usr/lib',
    '/lib64',
    '/usr/lib64',
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
  ];
  return std.some((d) => fs.existsSync(path.join(d, name)));
}

interface Candidate {
  api: WebgpuAdapterReport['api'];
  /** Dawn flags for `create()`. */
  flags: string[];
  options: Record<string, unknown>;
  /** Why it cannot work here, found before asking Dawn; null to try. */
  precheck: () => Promise<string | null>;
  /** Said when Dawn returns no adapter. */
  noAdapter: string;
}

function dawnCandidates(): Candidate[] {
  if (process.platform !== 'linux') {
    return [
      {
        api: 'default',
        flags: [],
        options: {},
        precheck: async () => null,
        noAdapter: 'Dawn found no adapter',
      },
    ];
  }
  return [
    {
      api: 'vulkan',
      flags: ['backend=vulkan'],
      options: { powerPreference: 'high-performance' },
      precheck: async () =>
        (await findSharedLibrary('libvulkan.so.1'))
          ? null
          : 'libvulkan.so.1 (the Vulkan loader, Debian package libvulkan1) not found',
      noAdapter:
        'no adapter (no Vulkan driver, or one Dawn refuses: Mesa 22 lavapipe lacks shaderUniform*ArrayDynamicIndexing)',
    },
    {
      api: 'opengles',
      flags: ['backend=opengles'],
      // Dawn's OpenGL ES backend offers only compatibility-mode adapters.
      options: { powerPreference: 'high-performance', featureLevel: 'compatibility' },
      precheck: async () =>
        (await findSharedLibrary('libEGL.so'))
          ? null
          : 'libEGL.so not found (Dawn opens this name; Debian packages libegl-dev and libegl-mesa0; run `pnpm webgpu:setup`)',
      noAdapter:
        'no adapter (no EGL driver: Debian package libegl-mesa0 and libgl1-mesa-dri give llvmpipe)',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Errors: the device's error events, attributed to the program that was running

/** What ran (or last ran) on the device: enough to name it in an error. */
interface ProgramRun {
  program: any;
  inputs: { shape: number[] }[];
  kernel: string | null;
  scope: string;
}

interface ActiveWebgpu {
  device: any;
  report: WebgpuAdapterReport;
  /** The first error; every later program and read throws it. */
  failure: Error | null;
  running: ProgramRun | null;
  last: ProgramRun | null;
  releasing: boolean;
  /** Set on `navigator` by us (Node), removed on release. */
  definedNavigator: 'navigator' | 'gpu' | null;
}

let active: ActiveWebgpu | null = null;
let currentKernel: string | null = null;

function describeRun(r: ProgramRun): string {
  const op = r.scope.replace(/__op$/, '') || '(no op)';
  const shader = r.program?.constructor?.name ?? 'unknown';
  const shapes = r.inputs.map((t) => `[${t.shape}]`).join(', ');
  return `op '${op}' (${r.kernel ? `kernel ${r.kernel}, ` : ''}shader ${shader}, inputs ${shapes || 'none'} → [${r.program?.outputShape ?? ''}])`;
}

function recordFailure(state: ActiveWebgpu, what: string, detail: string): void {
  if (state.failure) return;
  const lines = detail
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  state.failure = new Error(
    `webgpu: ${what}: ${lines.slice(0, 2).join(' ').slice(0, 500)}. Every result computed since is invalid; ` +
      `call initBackend('webgpu') again to start over.`,
  );
}

/**
 * Throws the first error the WebGPU device reported (naming the op, kernel and shader), if any.
 * Ops and reads do this already; call it where nothing is read. No-op when the webgpu backend is
 * not active.
 *
 * @example
 * optimizer.minimize(loss);
 * checkWebgpu();   // throws "webgpu: op 'pad' (kernel PadV2, shader PadProgram, …) failed: …"
 */
export function checkWebgpu(): void {
  if (active?.failure && tf.getBackend() === 'webgpu') throw active.failure;
}

/** Wraps every webgpu kernel so that errors can name the kernel that ran the failing program. */
function wrapKernels(): void {
  for (const config of tf.getKernelsForBackend('webgpu')) {
    const fn = config.kernelFunc as any;
    if (fn.__signWrapped) continue;
    const name = config.kernelName;
    const wrapped: any = (args: any) => {
      const outer = currentKernel;
      currentKernel = name;
      try {
        return fn(args);
      } finally {
        currentKernel = outer;
      }
    };
    wrapped.__signWrapped = true;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...config, kernelFunc: wrapped });
  }
}

/**
 * Dawn dispatches validation errors (an invalid shader, a binding over the limits) to
 * `onuncapturederror` synchronously, inside the call that caused them: the program that was
 * running is the culprit, and the op throws. Errors that arrive later (device loss; in browsers,
 * every error) are thrown by the next program or read, naming the last program that ran.
 */
function instrument(backend: any, state: ActiveWebgpu): void {
  const device = state.device;
  backend.hasReadSyncWarned = true; // our readSync error below says it better
  const run = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (
    program: any,
    inputs: any[],
    dtype: any,
    uniforms?: any,
    output?: any,
  ) => {
    if (state.failure) throw state.failure;
    const outer = state.running;
    const scope: string = (tf.engine() as any).state?.activeScope?.name ?? '';
    state.running = state.last = { program, inputs: inputs ?? [], kernel: currentKernel, scope };
    let out: unknown;
    try {
      out = run(program, inputs, dtype, uniforms, output);
    } finally {
      state.running = outer;
    }
    if (state.failure) throw state.failure;
    return out;
  };
  const read = backend.read.bind(backend);
  backend.read = async (dataId: object) => {
    if (state.failure) throw state.failure;
    const values = await read(dataId);
    if (state.failure) throw state.failure;
    return values;
  };
  const readSync = backend.readSync.bind(backend);
  backend.readSync = (dataId: object) => {
    if (state.failure) throw state.failure;
    try {
      return readSync(dataId);
    } catch (e) {
      if (e instanceof ReferenceError && /OffscreenCanvas/.test(e.message)) {
        const scope: string = (tf.engine() as any).state?.activeScope?.name ?? '';
        throw new Error(
          `webgpu: a synchronous read (dataSync/arraySync/bufferSync${scope ? `, in ${scope.replace(/__op$/, '')}` : ''}) of a tensor ` +
            `that lives on the GPU is not possible here (no OffscreenCanvas); read it with await tensor.data()`,
        );
      }
      throw e;
    }
  };
  device.onuncapturederror = (ev: any) => {
    const what = state.running
      ? `${describeRun(state.running)} failed`
      : `GPU error reported after ${state.last ? describeRun(state.last) : 'the first program'}`;
    recordFailure(
      state,
      what,
      `${ev?.error?.constructor?.name ?? 'GPUError'}: ${ev?.error?.message ?? ev}`,
    );
  };
  void device.lost.then((info: any) => {
    if (state.releasing) return;
    const after = state.last ? `, last program: ${describeRun(state.last)}` : '';
    recordFailure(
      state,
      `device lost (${info?.reason ?? 'unknown'}${after})`,
      info?.message || 'no message',
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Loading

function readInfo(adapter: any): {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
} {
  const info = adapter.info ?? {};
  return {
    vendor: String(info.vendor ?? ''),
    architecture: String(info.architecture ?? ''),
    device: String(info.device ?? ''),
    description: String(info.description ?? ''),
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
  };
}

/** A short name for an adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) · OpenGL ES 3.2 Mesa 22.3.6". */
export function describeAdapter(
  r: Pick<
    WebgpuAdapterReport,
    'vendor' | 'architecture' | 'device' | 'description' | 'api' | 'software'
  >,
): string {
  const parts = [r.vendor, r.architecture, r.device, r.description].filter((s) => s && s.trim());
  return `${parts.join(' · ') || 'unnamed adapter'} [${r.api}${r.software ? ', software' : ''}]`;
}

function setNavigatorGpu(gpu: any): ActiveWebgpu['definedNavigator'] {
  const g = globalThis as any;
  if (g.navigator?.gpu === gpu) return null;
  if (g.navigator == null) {
    Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return 'navigator';
  }
  // Node >= 21 has a navigator of its own: add gpu to it.
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  return 'gpu';
}

function unsetNavigatorGpu(how: ActiveWebgpu['definedNavigator']): void {
  const g = globalThis as any;
  if (how === 'navigator') delete g.navigator;
  else if (how === 'gpu' && g.navigator) delete g.navigator.gpu;
}

/**
 * Destroys the WebGPU device and forgets the backend (tf.removeBackend('webgpu')), so that a
 * later `initBackend('webgpu')` starts over and Node can exit. No-op when none is loaded.
 *
 * @example
 * await initBackend('webgpu');
 * // … train …
 * releaseWebgpu();
 */
export function releaseWebgpu(): void {
  const state = active;
  if (!state) return;
  state.releasing = true;
  active = null;
  if (tf.findBackend('webgpu') != null || tf.findBackendFactory('webgpu') != null)
    tf.removeBackend('webgpu');
  try {
    state.device.destroy();
  } catch {
    // already destroyed
  }
  unsetNavigatorGpu(state.definedNavigator);
}

/** The adapter of the loaded webgpu backend, or null when none is loaded. */
export function webgpuAdapter(): WebgpuAdapterReport | null {
  return active ? { ...active.report, limits: { ...active.report.limits } } : null;
}

async function requestDevice(
  adapter: any,
): Promise<{ device: any; limits: Record<WebgpuLimitName, number> }> {
  const requiredLimits: Record<string, number> = {};
  for (const k of WEBGPU_LIMITS)
    if (typeof adapter.limits?.[k] === 'number') requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits });
  const limits = {} as Record<WebgpuLimitName, number>;
  for (const k of WEBGPU_LIMITS) limits[k] = device.limits[k];
  return { device, limits };
}

/**
 * Loads the webgpu backend (Vulkan, then OpenGL ES in Node; the browser's `navigator.gpu`
 * elsewhere) and makes it the tfjs backend 'webgpu' (not yet active). `allowSoftware: false`
 * refuses CPU adapters (llvmpipe, lavapipe, SwiftShader) with a reason. Throws with every
 * step's reason when no adapter fits.
 */
export async function loadWebgpu(allowSoftware: boolean): Promise<WebgpuAdapterReport> {
  if (active) {
    if (
      !active.failure &&
      (allowSoftware || !active.report.software) &&
      tf.findBackendFactory('webgpu') != null
    ) {
      return webgpuAdapter()!;
    }
    const was = active.report;
    releaseWebgpu();
    if (!allowSoftware && was.software) {
      throw new Error(
        `only a software adapter: ${describeAdapter(was)} (slower than wasm; ask for 'webgpu' by name to use it)`,
      );
    }
  }
  const g = globalThis as any;
  const browserGpu = !isNode && g.navigator?.gpu ? g.navigator.gpu : null;
  let dawn: any = null;
  if (!browserGpu) {
    if (!isNode) throw new Error('this runtime has no navigator.gpu');
    try {
      dawn = await dynamicImport(SPEC.dawn);
    } catch (e) {
      throw new Error(
        `${SPEC.dawn} (Dawn for Node) is not installed or failed to load: ${errorText(e)}`,
      );
    }
    // GPUBufferUsage, GPUMapMode, … which tfjs-backend-webgpu reads as globals.
    for (const [k, v] of Object.entries(dawn.globals ?? {})) if (!(k in g)) g[k] = v;
  }
  let wg: any;
  try {
    wg = await dynamicImport(SPEC.backend);
  } catch (e) {
    throw new Error(`${SPEC.backend} is not installed: ${errorText(e)}`);
  }
  const WebGPUBackend = wg.WebGPUBackend ?? wg.default?.WebGPUBackend;
  if (typeof WebGPUBackend !== 'function')
    throw new Error(`${SPEC.backend} exports no WebGPUBackend`);

  const reasons: string[] = [];
  const candidates: Candidate[] = browserGpu
    ? [
        {
          api: 'browser',
          flags: [],
          options: { powerPreference: 'high-performance' },
          precheck: async () => null,
          noAdapter: 'no adapter',
        },
      ]
    : dawnCandidates();
  for (const c of candidates) {
    const name = c.api === 'opengles' ? 'OpenGL ES' : c.api === 'vulkan' ? 'Vulkan' : c.api;
    const why = await c.precheck();
    if (why) {
      reasons.push(`${name}: ${why}`);
      continue;
    }
    if (c.api === 'opengles' && process.env.EGL_PLATFORM == null) {
      // Mesa's EGL without a display server: render off-screen.
      process.env.EGL_PLATFORM = 'surfaceless';
    }
    let gpu: any;
    let adapter: any;
    try {
      gpu = browserGpu ?? dawn.create(c.flags);
      adapter = await gpu.requestAdapter(c.options);
    } catch (e) {
      reasons.push(`${name}: ${errorText(e)}`);
      continue;
    }
    if (!adapter) {
      reasons.push(`${name}: ${c.noAdapter}`);
      continue;
    }
    const info = readInfo(adapter);
    const software = isSoftwareAdapter(info);
    const featureLevel: WebgpuAdapterReport['featureLevel'] =
      c.options.featureLevel === 'compatibility' ? 'compatibility' : 'core';
    const partial = { api: c.api, ...info, software };
    if (software && !allowSoftware) {
      reasons.push(
        `${name}: only a software adapter, ${describeAdapter(partial)} (slower than wasm; ask for 'webgpu' by name to use it)`,
      );
      continue;
    }
    let device: any;
    let limits: Record<WebgpuLimitName, number>;
    try {
      ({ device, limits } = await requestDevice(adapter));
    } catch (e) {
      reasons.push(`${name}: requestDevice failed: ${errorText(e)}`);
      continue;
    }
    const report: WebgpuAdapterReport = {
      api: c.api,
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      software,
      featureLevel,
      limits,
    };
    const state: ActiveWebgpu = {
      device,
      report,
      failure: null,
      running: null,
      last: null,
      releasing: false,
      definedNavigator: browserGpu ? null : setNavigatorGpu(gpu),
    };
    // The package registers its own factory when navigator.gpu exists at import (browsers):
    // replace it by one that uses this device.
    if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
    wrapKernels();
    tf.registerBackend('webgpu', () => {
      const backend = new WebGPUBackend(device, adapter.info);
      instrument(backend, state);
      return backend;
    });
    active = state;
    return webgpuAdapter()!;
  }
  throw new Error(reasons.join('; '));
}
