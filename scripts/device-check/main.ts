/**
 * The GPU device check, bundled by `scripts/device-check.sh prepare` into one file that runs on
 * a bare machine with only Node: the WebGPU adapter, the backend parity suites (the same case
 * lists as the vitest files: core ops, losses, SIM, a training step) against cpu, a provoked
 * shader error, and timed training steps of the demo-sized model on webgpu and wasm. Writes one
 * JSON file (--out) and prints a summary; exit 1 when webgpu did not load or a case failed.
 *
 *   node device-check.cjs --out result.json [--steps 5] [--skip-parity] [--time webgpu,wasm]
 *
 * --time lists the backends whose training step is timed (webgpu: --steps steps after the first;
 * the others at most 3).
 */
// Backends the bundle carries; `initBackend` imports them by name at run time, which
// scripts/device-check.sh answers with small shim packages that return these.
import * as cpuBackend from '@tensorflow/tfjs-backend-cpu';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import * as webgpuBackend from '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync } from 'node:child_process';
import { writeFileSync, renameSync } from 'node:fs';
import { initBackend, releaseWebgpu, Rng, type BackendReport } from '@sign/core';
import { expectMatchesCpu, type ParityCase } from '@sign/core/testing';
import { CORE_CASES } from '../../packages/core/test/backend-cases';
import { LOSS_CASES } from '../../packages/losses/test/backend-cases';
import { SIM_CASES } from '../../packages/sim/test/backend-cases';
import {
  DEMO_SIZES,
  ParityModel,
  TRAINING_CASES,
  parityBatch,
  parityOptimizers,
  parityStep,
} from '../../packages/trainer/test/parity-step';

(globalThis as any).__signDeviceModules = {
  '@tensorflow/tfjs-backend-cpu': cpuBackend,
  '@tensorflow/tfjs-backend-wasm': wasmBackend,
  '@tensorflow/tfjs-backend-webgpu': webgpuBackend,
};

interface CaseResult {
  suite: string;
  name: string;
  ok: boolean;
  ms: number;
  /** worst relative difference per output */
  worst?: Record<string, number>;
  error?: string;
}

interface StepTiming {
  backend: string;
  /** the first step (webgpu: shader compilation) */
  firstMs: number;
  stepsMs: number[];
  medianMs: number;
  losses: number[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function machine(): Record<string, unknown> {
  const info: Record<string, unknown> = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  try {
    info.nvidiaSmi = execFileSync(
      'nvidia-smi',
      ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    ).trim();
  } catch {
    info.nvidiaSmi = null;
  }
  for (const k of [
    'VK_DRIVER_FILES',
    'VK_ICD_FILENAMES',
    '__EGL_VENDOR_LIBRARY_FILENAMES',
    'EGL_PLATFORM',
    'LD_LIBRARY_PATH',
  ]) {
    if (process.env[k]) info[k] = process.env[k];
  }
  return info;
}

async function runCases(suite: string, cases: ParityCase[]): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    try {
      const worst = await expectMatchesCpu(c.compute, c.tol ?? 1e-4);
      out.push({ suite, name: c.name, ok: true, ms: Math.round(performance.now() - t0), worst });
    } catch (e) {
      out.push({
        suite,
        name: c.name,
        ok: false,
        ms: Math.round(performance.now() - t0),
        error: (e as Error).message.slice(0, 800),
      });
      // a failed device stays failed: start the next case on a fresh one
      await initBackend('webgpu');
    }
    const r = out.at(-1)!;
    console.log(
      `  ${r.ok ? 'ok  ' : 'FAIL'} ${suite}: ${r.name} (${r.ms} ms)${r.error ? ` — ${r.error}` : ''}`,
    );
  }
  return out;
}

/** A shader that cannot compile (tfjs' rank-6 pad) must throw naming the op, never read back zeros. */
async function provokedShaderError(): Promise<CaseResult> {
  const t0 = performance.now();
  let error = '';
  try {
    const y = tf.pad(tf.ones([1, 2, 1, 2, 1, 3]), [
      [0, 0],
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 1],
      [0, 0],
    ]);
    const v = await y.data();
    error = `no error: read back ${v.length} values, sum ${Array.from(v).reduce((a, b) => a + b, 0)}`;
  } catch (e) {
    const msg = (e as Error).message;
    if (!/op 'pad'/.test(msg)) error = `threw, but without naming the op: ${msg.slice(0, 300)}`;
  }
  await initBackend('webgpu');
  return {
    suite: 'errors',
    name: "rank-6 pad (invalid shader) throws naming op 'pad'",
    ok: error === '',
    ms: Math.round(performance.now() - t0),
    ...(error ? { error } : {}),
  };
}

async function timeSteps(backend: 'webgpu' | 'wasm' | 'cpu', steps: number): Promise<StepTiming> {
  await initBackend(backend);
  const rng = new Rng(1);
  const model = new ParityModel(DEMO_SIZES, rng.fork('model'));
  const opt = parityOptimizers();
  const batch = parityBatch(DEMO_SIZES, rng.fork('batch'));
  const times: number[] = [];
  const losses: number[] = [];
  try {
    for (let i = 0; i <= steps; i++) {
      const t0 = performance.now();
      const ls = parityStep(model, opt, batch, rng.fork(`step ${i}`));
      for (const l of ls) losses.push((await l.data())[0]);
      tf.dispose(ls);
      times.push(performance.now() - t0);
      console.log(`  ${backend} step ${i}: ${times[i].toFixed(0)} ms`);
    }
  } finally {
    model.dispose();
    opt.encDisc.dispose();
    opt.gen.dispose();
  }
  const rest = times.slice(1).sort((a, b) => a - b);
  return {
    backend,
    firstMs: Math.round(times[0]),
    stepsMs: times.slice(1).map(Math.round),
    medianMs: Math.round(rest[Math.floor(rest.length / 2)]),
    losses,
  };
}

async function main(): Promise<number> {
  const out = arg('out') ?? 'device-check.json';
  const steps = Number(arg('steps') ?? 5);
  const t0 = performance.now();
  const result: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    machine: machine(),
  };
  const save = () => {
    result.seconds = Math.round((performance.now() - t0) / 100) / 10;
    writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
    renameSync(`${out}.tmp`, out);
  };
  let ok = true;
  let report: BackendReport;
  try {
    report = await initBackend('webgpu');
  } catch (e) {
    result.error = `initBackend('webgpu') threw: ${(e as Error).message}`;
    save();
    return 1;
  }
  result.backend = {
    backend: report.backend,
    attempts: report.attempts,
    adapter: report.adapter ?? null,
  };
  console.log(
    `backend ${report.backend}: ${report.attempts.map((a) => `${a.name} ${a.ok ? 'ok' : 'no'}${a.reason ? ` (${a.reason})` : ''}`).join('; ')}`,
  );
  save();
  if (report.backend !== 'webgpu') {
    result.error = 'webgpu did not load';
    save();
    return 1;
  }
  if (!process.argv.includes('--skip-parity')) {
    console.log('parity against cpu:');
    const cases: CaseResult[] = [];
    for (const [suite, list] of [
      ['core', CORE_CASES],
      ['losses', LOSS_CASES],
      ['sim', SIM_CASES],
      ['training', TRAINING_CASES],
    ] as const) {
      cases.push(...(await runCases(suite, list)));
      result.parity = cases;
      save();
    }
    cases.push(await provokedShaderError());
    console.log(`  ${cases.at(-1)!.ok ? 'ok  ' : 'FAIL'} ${cases.at(-1)!.name}`);
    result.parity = cases;
    ok = cases.every((c) => c.ok);
    result.parityPassed = `${cases.filter((c) => c.ok).length}/${cases.length}`;
    save();
  }
  console.log(
    `training step of the demo-sized model (batch ${DEMO_SIZES.batch}, ${DEMO_SIZES.size}×${DEMO_SIZES.size}):`,
  );
  const timings: StepTiming[] = [];
  for (const b of (arg('time') ?? 'webgpu,wasm').split(',').filter(Boolean)) {
    if (b !== 'webgpu' && b !== 'wasm' && b !== 'cpu')
      throw new Error(`--time: unknown backend '${b}' (webgpu, wasm, cpu)`);
    timings.push(await timeSteps(b, b === 'webgpu' ? steps : Math.min(steps, 3)));
    result.steps = timings;
    save();
  }
  releaseWebgpu();
  result.ok = ok;
  save();
  for (const t of timings)
    console.log(`${t.backend}: first step ${t.firstMs} ms, then median ${t.medianMs} ms`);
  const parity = process.argv.includes('--skip-parity')
    ? 'parity skipped'
    : ok
      ? 'all parity cases passed'
      : 'SOME PARITY CASES FAILED';
  console.log(`wrote ${out} (${parity})`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
