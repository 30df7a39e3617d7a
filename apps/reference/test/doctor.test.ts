import { describe, expect, it } from 'vitest';
import { skippedBackends } from '@sign/core/testing';
import { main } from '../src/cli';
import { formatDoctor, type DoctorReport } from '../src/doctor';
import { sink } from './helpers';

async function run(argv: string[]) {
  const stdout = sink(false);
  const stderr = sink(false);
  const code = await main(argv, { stdout, stderr, handleSignals: false, invocation: 'sign' });
  return { code, out: stdout.text, err: stderr.text };
}

describe('sign doctor', () => {
  it('--json: every backend probed in auto order, cpu and wasm load, and both agree with cpu', async () => {
    const { code, out } = await run(['doctor', '--json']);
    expect(code).toBe(0);
    const r = JSON.parse(out) as DoctorReport;
    expect(r.backends.map((b) => b.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    expect(r.backends.find((b) => b.name === 'cpu')?.ok).toBe(true);
    expect(r.backends.find((b) => b.name === 'wasm')?.ok).toBe(true);
    for (const b of r.backends.filter((x) => !x.ok)) expect(b.detail).toMatch(/\S/);
    // the wasm backend's products: a native library named, or the reason there is none
    expect(r.native?.summary).toMatch(/^wasm( \+ (oneDNN|OpenBLAS) \(\S+, \d+ threads?\))?/);
    expect(r.native?.detail).toMatch(/\S/);
    const wasm = r.parity.find((p) => p.backend === 'wasm')!;
    expect(wasm.ok).toBe(true);
    expect(wasm.maxRelDiff).toBeLessThan(1e-4);
    expect(r.parity.map((p) => p.backend).sort()).toEqual(r.backends.filter((b) => b.ok && b.name !== 'cpu').map((b) => b.name).sort());
    const gpu = r.backends.find((b) => b.name === 'webgpu')!;
    if (!skippedBackends().includes('webgpu')) {
      // CI installs Mesa (pnpm webgpu:setup): webgpu loads, on llvmpipe at least.
      expect(gpu.ok).toBe(true);
      expect(r.adapter?.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
      expect(r.parity.find((p) => p.backend === 'webgpu')?.ok).toBe(true);
      if (r.adapter?.software) expect(r.auto).not.toBe('webgpu');
    }
  });

  it('prints the backends, the adapter with its limits, and the parity lines', () => {
    const report: DoctorReport = {
      node: 'v20.0.0',
      platform: 'linux x64',
      backends: [
        { name: 'tensorflow-gpu', ok: false, detail: '@tensorflow/tfjs-node-gpu is not installed' },
        { name: 'webgpu', ok: true, detail: 'NVIDIA H200 [vulkan]' },
        { name: 'tensorflow', ok: false, detail: '@tensorflow/tfjs-node is not installed' },
        { name: 'wasm', ok: true },
        { name: 'cpu', ok: true },
      ],
      auto: 'webgpu',
      adapter: {
        api: 'vulkan',
        vendor: 'nvidia',
        architecture: 'hopper',
        device: 'NVIDIA H200',
        description: '',
        software: false,
        featureLevel: 'core',
        limits: {
          maxStorageBuffersPerShaderStage: 16,
          maxStorageBufferBindingSize: 2 ** 31,
          maxBufferSize: 1.5 * 2 ** 30,
          maxComputeWorkgroupStorageSize: 48 * 1024,
          maxComputeInvocationsPerWorkgroup: 1024,
          maxComputeWorkgroupSizeX: 1024,
          maxComputeWorkgroupSizeY: 1024,
          maxComputeWorkgroupSizeZ: 64,
          maxComputeWorkgroupsPerDimension: 65535,
        },
      },
      native: { summary: 'wasm + oneDNN (libdnnl.so.2, 2 threads)', detail: 'libdnnl.so.2: oneDNN 2.6.3 (cpu runtime OpenMP)' },
      parity: [
        { backend: 'webgpu', maxRelDiff: 3e-7, ok: true, ms: 850 },
        { backend: 'wasm', maxRelDiff: 2e-3, ok: false, ms: 40 },
      ],
    };
    const text = formatDoctor(report);
    expect(text).toContain('  tensorflow-gpu  no   @tensorflow/tfjs-node-gpu is not installed\n');
    expect(text).toContain('--backend auto picks: webgpu\n');
    expect(text).toContain('\nnative products: wasm + oneDNN (libdnnl.so.2, 2 threads)\n  libdnnl.so.2: oneDNN 2.6.3 (cpu runtime OpenMP)\n');
    expect(text).toContain('webgpu adapter: nvidia · hopper · NVIDIA H200 [vulkan]\n');
    expect(text).toContain('    maxStorageBufferBindingSize          2 GiB\n');
    expect(text).toContain('    maxBufferSize                        1.5 GiB\n');
    expect(text).toContain('    maxComputeWorkgroupStorageSize       48 KiB\n');
    expect(text).toContain('  webgpu          max rel diff 3.0e-7  ok  850 ms');
    expect(text).toContain('  wasm            max rel diff 2.0e-3  FAILED (> 0.0001)  40 ms\n');
  });

  it('refuses unknown flags with exit 2', async () => {
    const { code, err } = await run(['doctor', '--gpu']);
    expect(code).toBe(2);
    expect(err).toMatch(/sign doctor: Unknown option '--gpu'.*valid flags: --json, --help/);
  });
});
