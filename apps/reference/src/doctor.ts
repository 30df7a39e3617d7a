/**
 * `sign doctor`: which backends load on this machine and why the others do not, the WebGPU
 * adapter and the device limits it was given, and a short parity test of every backend that
 * loads against the cpu backend (a strided and a dilated convolution, forward and backward).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  accelerationInfo,
  conv2d,
  dense,
  describeAdapter,
  initBackend,
  Rng,
  type BackendPreference,
  type WebgpuAdapterReport,
} from '@sign/core';
import { EXIT } from './errors.js';
import type { TextSink } from './progress.js';

type Backend = Exclude<BackendPreference, 'auto'>;
const PROBED: Backend[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendProbe {
  name: Backend;
  ok: boolean;
  /** why it did not load, or a note (the adapter, no SIMD) */
  detail?: string;
}

export interface ParityResult {
  backend: Backend;
  /** max |x − cpu| / max(1, max |cpu|) over the outputs and gradients */
  maxRelDiff: number;
  ok: boolean;
  ms: number;
}

export interface DoctorReport {
  node: string;
  platform: string;
  backends: BackendProbe[];
  /** what `--backend auto` picks here */
  auto: string;
  adapter: WebgpuAdapterReport | null;
  /** the wasm backend's matrix products and convolutions: native library (oneDNN, OpenBLAS) or why not; null when wasm does not load */
  native: { summary: string; detail: string } | null;
  parity: ParityResult[];
}

/** Parity tolerance: float32 results of the same small net on two backends. */
const PARITY_TOL = 1e-4;

/**
 * A small net with a stride-2 and a dilation-2 convolution and a dense layer; returns the output
 * and the gradients of Σ output⊙R for the input and every weight, read to the host.
 */
async function probeNet(): Promise<Float32Array[]> {
  const rng = new Rng(1234);
  const x = tf.tensor4d(rng.normalArray(2 * 12 * 11 * 3), [2, 12, 11, 3]);
  const k1 = tf.tensor4d(rng.normalArray(3 * 3 * 3 * 8, 0, 0.3), [3, 3, 3, 8]);
  const k2 = tf.tensor4d(rng.normalArray(3 * 3 * 8 * 8, 0, 0.2), [3, 3, 8, 8]);
  const w = tf.tensor2d(rng.normalArray(8 * 5, 0, 0.3), [8, 5]);
  const r = tf.tensor2d(rng.normalArray(2 * 6 * 6 * 5), [2 * 6 * 6, 5]);
  const net = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
    const h1 = tf.relu(conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, { strides: 2 }));
    const h2 = tf.relu(conv2d(h1, b as tf.Tensor4D, { dilations: 2 }));
    return dense(tf.reshape(h2, [-1, 8]) as tf.Tensor2D, c as tf.Tensor2D);
  };
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(net(a, b, c, d), r)) as tf.Scalar)([
    x,
    k1,
    k2,
    w,
  ]);
  const y = net(x, k1, k2, w);
  const out: Float32Array[] = [];
  for (const t of [y, ...grads]) out.push((await t.data()) as Float32Array);
  tf.dispose([x, k1, k2, w, r, y, ...grads]);
  return out;
}

/** A skipped backend's reason without the repeated prefixes and the resolver's paths. */
function shortReason(name: string, reason: string): string {
  let r = reason.replace(/^initBackend\('[^']*'\): no backend could be loaded \(/, '').replace(/\)$/, '');
  r = r.replace(new RegExp(`^${name}: `), '');
  const missing = r.match(/^(\S+) is not installed(?: or its native library failed to load)?: Cannot find (?:package|module)/);
  return missing ? `${missing[1]} is not installed` : r;
}

function relDiff(a: Float32Array[], ref: Float32Array[]): number {
  let worst = 0;
  ref.forEach((r, i) => {
    let scale = 1;
    for (const v of r) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < r.length; j++) {
      const d = Math.abs(a[i][j] - r[j]) / scale;
      if (!(d <= worst)) worst = d; // NaN sticks
    }
  });
  return worst;
}

/** Probes every backend, the adapter and parity; leaves the cpu backend active. */
export async function runDoctor(): Promise<DoctorReport> {
  const backends: BackendProbe[] = [];
  let adapter: WebgpuAdapterReport | null = null;
  let native: DoctorReport['native'] = null;
  for (const name of PROBED) {
    try {
      const r = await initBackend(name);
      if (r.backend === name) {
        backends.push({ name, ok: true, ...(r.attempts.at(-1)?.reason ? { detail: r.attempts.at(-1)!.reason } : {}) });
        if (r.adapter) adapter = r.adapter;
        if (name === 'wasm') {
          const a = accelerationInfo();
          native = { summary: a.summary, detail: a.detail };
        }
      } else {
        backends.push({ name, ok: false, detail: shortReason(name, r.attempts.find((a) => a.name === name)?.reason ?? `got ${r.backend}`) });
      }
    } catch (e) {
      backends.push({ name, ok: false, detail: shortReason(name, (e as Error).message) });
    }
  }
  const auto = (await initBackend('auto')).backend;
  await initBackend('cpu');
  const reference = await probeNet();
  const parity: ParityResult[] = [];
  for (const b of backends) {
    if (!b.ok || b.name === 'cpu') continue;
    await initBackend(b.name);
    const t0 = performance.now();
    const maxRelDiff = relDiff(await probeNet(), reference);
    parity.push({ backend: b.name, maxRelDiff, ok: maxRelDiff <= PARITY_TOL, ms: Math.round(performance.now() - t0) });
  }
  await initBackend('cpu');
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    backends,
    auto,
    adapter,
    native,
    parity,
  };
}

function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(n % 2 ** 30 ? 1 : 0)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(n % 2 ** 20 ? 1 : 0)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(0)} KiB`;
  return String(n);
}

export function formatDoctor(r: DoctorReport): string {
  const lines = [`sign doctor · node ${r.node} · ${r.platform}`, '', 'backends (in the order --backend auto tries them):'];
  for (const b of r.backends) lines.push(`  ${b.name.padEnd(15)} ${b.ok ? 'yes' : 'no '}  ${b.detail ?? ''}`.trimEnd());
  lines.push(`--backend auto picks: ${r.auto}`);
  if (r.adapter) {
    const a = r.adapter;
    lines.push('', `webgpu adapter: ${describeAdapter(a)}`, `  feature level ${a.featureLevel}${a.software ? '; software: --backend auto prefers wasm, --backend webgpu uses it' : ''}`);
    lines.push('  device limits (requested at the adapter maximum):');
    for (const [k, v] of Object.entries(a.limits)) lines.push(`    ${k.padEnd(36)} ${/Size$/.test(k) ? bytes(v) : v}`);
  } else {
    const why = r.backends.find((b) => b.name === 'webgpu')?.detail ?? '';
    lines.push('', `webgpu: no adapter${why ? ` (${why})` : ''}`);
    lines.push('  without a GPU: `pnpm webgpu:setup` installs Mesa (llvmpipe) through Debian packages; with one: its Vulkan or EGL driver');
  }
  if (r.native) lines.push('', `native products: ${r.native.summary}`, `  ${r.native.detail}`);
  lines.push('', 'parity against cpu (strided + dilated conv net, forward and backward):');
  if (r.parity.length === 0) lines.push('  no backend besides cpu loaded');
  for (const p of r.parity) {
    const note = p.backend === 'webgpu' ? ' (shaders compiled on first use)' : '';
    lines.push(`  ${p.backend.padEnd(15)} max rel diff ${p.maxRelDiff.toExponential(1)}  ${p.ok ? 'ok' : `FAILED (> ${PARITY_TOL})`}  ${p.ms} ms${note}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `sign doctor [--json]`: prints the report; exit 1 when a backend disagrees with cpu. */
export async function doctorCommand(json: boolean, stdout: TextSink): Promise<number> {
  const report = await runDoctor();
  stdout.write(json ? `${JSON.stringify(report)}\n` : formatDoctor(report));
  return report.parity.every((p) => p.ok) ? EXIT.ok : EXIT.failure;
}
