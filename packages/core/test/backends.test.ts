/**
 * The core ops on every backend, compared with the cpu backend: strided and dilated convolutions
 * forward and backward (every implementation), dense/matMul gradients and the chunked addN. On
 * webgpu also: the adapter report, and a shader that does not compile fails loudly, naming the op.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { addN, checkWebgpu, conv2d, initBackend, webgpuAdapter } from '../src/index';
import { expectMatchesCpu, expectNoLeaks, forEachBackend, skippedBackends } from '../src/testing';
import { CONV_CASES, CORE_CASES, convForwardBackward } from './backend-cases';

const TOL = 1e-4;

forEachBackend(['wasm', 'webgpu'], (backend) => {
  describe('ops match cpu', () => {
    for (const c of CORE_CASES) {
      it(`${c.name} within ${c.tol ?? TOL}`, async () => {
        const worst = await expectMatchesCpu(c.compute, c.tol ?? TOL);
        expect(Object.keys(worst).length).toBeGreaterThan(0);
      });
    }
    it('the strided gradient is not lost: dx of a stride-2 conv has non-zero entries between output positions', async () => {
      const { dx } = await convForwardBackward(CONV_CASES[0], 'native')();
      let nonZero = 0;
      for (let i = 0; i < dx.length; i++) if (Math.abs(dx[i]) > 1e-3) nonZero++;
      expect(nonZero).toBeGreaterThan(dx.length * 0.9);
    });
  });

  it('addN sums 1, 7, 9 and 16 tensors (chunks of at most 7 inputs) exactly, and leaks nothing', async () => {
    for (const count of [1, 7, 9, 16]) {
      const xs = Array.from({ length: count }, (_, i) => tf.fill([3, 5], i + 1));
      const s = await expectNoLeaks(() => addN(xs));
      const v = await s.data();
      expect(v.length).toBe(15);
      expect(Array.from(v).every((e) => e === (count * (count + 1)) / 2)).toBe(true);
      tf.dispose([...xs, s]);
    }
  });

  it('a strided conv step leaks nothing', async () => {
    const x = tf.ones([1, 8, 8, 2]) as tf.Tensor4D;
    const k = tf.variable(tf.ones([3, 3, 2, 2]));
    const g = await expectNoLeaks(() => tf.grad((kk: tf.Tensor) => tf.sum(conv2d(x, kk as tf.Tensor4D, { strides: 2, dilations: 1 })))(k));
    expect(g.shape).toEqual([3, 3, 2, 2]);
    tf.dispose([x, k, g]);
  });

  if (backend === 'webgpu') {
    describe('webgpu specifics', () => {
      it('reports the adapter and requests its limits (at least the 8 storage buffers per stage WebGPU guarantees)', async () => {
        const report = await initBackend('webgpu');
        expect(report.backend).toBe('webgpu');
        expect(report.adapter).toEqual(webgpuAdapter());
        const a = report.adapter!;
        expect(['vulkan', 'opengles', 'default', 'browser']).toContain(a.api);
        expect(a.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
        expect(a.limits.maxBufferSize).toBeGreaterThanOrEqual(256 * 1024 * 1024);
        expect(report.attempts.at(-1)).toMatchObject({ name: 'webgpu', ok: true });
        expect(report.attempts.at(-1)!.reason).toContain(a.api);
      });

      it('a synchronous read of a tensor on the GPU says to use await data()', async () => {
        const y = tf.square(tf.range(0, 4000));
        expect(() => y.dataSync()).toThrow(/synchronous read .* await tensor\.data\(\)/);
        expect((await y.data())[3]).toBe(9);
        y.dispose();
      });

      it("the old rank-6 pad (an invalid shader on webgpu) throws, naming the op and shader; it never reads back zeros", async () => {
        const x = tf.ones([1, 2, 1, 2, 1, 3]);
        expect(() => tf.pad(x, [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]])).toThrow(
          /webgpu: op 'pad' \(kernel PadV2, shader PadProgram, inputs \[1,2,1,2,1,3\].*cannot index type 'vec6'/,
        );
        // The backend stays failed until re-initialised: later ops and reads throw the same error.
        expect(() => checkWebgpu()).toThrow(/op 'pad'/);
        await expect((async () => tf.add(tf.tensor([1, 2]), 1).data())()).rejects.toThrow(/op 'pad'/);
        const again = await initBackend('webgpu');
        expect(again.backend).toBe('webgpu');
        expect(Array.from(await tf.add(tf.tensor([1, 2]), 1).data())).toEqual([2, 3]);
      });

      it('a test-only kernel with an invalid shader fails loudly, naming its op, kernel and shader', async () => {
        class BrokenProgram {
          outputShape: number[];
          shaderKey = 'signBrokenShader';
          dispatchLayout: { x: number[] };
          dispatch: [number, number, number];
          variableNames = ['x'];
          workgroupSize: [number, number, number] = [64, 1, 1];
          size = true;
          constructor(shape: number[]) {
            this.outputShape = shape;
            this.dispatchLayout = { x: shape.map((_, i) => i) };
            this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / 64), 1, 1];
          }
          getUserCode(): string {
            return `fn main(index : i32) { if (index < uniforms.size) { setOutputAtIndex(index, notDeclaredAnywhere); } }`;
          }
        }
        tf.registerKernel({
          kernelName: 'SignBrokenShader',
          backendName: 'webgpu',
          kernelFunc: ({ inputs, backend: b }) => (b as any).runWebGPUProgram(new BrokenProgram(inputs.x!.shape), [inputs.x], 'float32'),
        });
        const brokenOp = tf.op({ signBrokenOp_: (x: tf.Tensor) => tf.engine().runKernel('SignBrokenShader', { x }) as tf.Tensor });
        try {
          await initBackend('webgpu');
          expect(() => brokenOp(tf.ones([4, 4]))).toThrow(/webgpu: op 'signBrokenOp' \((kernel SignBrokenShader, )?shader BrokenProgram, inputs \[4,4\] → \[4,4\]\) failed: .*notDeclaredAnywhere/);
        } finally {
          tf.unregisterKernel('SignBrokenShader', 'webgpu');
        }
        expect((await initBackend('webgpu')).backend).toBe('webgpu');
      });
    });
  }
});

describe('initBackend with webgpu installed', () => {
  it.skipIf(skippedBackends().includes('webgpu'))(
    "'auto' takes a hardware adapter, and skips a software one (llvmpipe, lavapipe) saying why",
    async () => {
      const report = await initBackend('auto');
      const gpu = report.attempts.find((a) => a.name === 'webgpu');
      expect(gpu).toBeDefined();
      if (report.backend === 'webgpu') {
        expect(report.adapter?.software).toBe(false);
      } else {
        expect(gpu!.ok).toBe(false);
        expect(gpu!.reason).toMatch(/only a software adapter|not found|no adapter/);
        if (/only a software adapter/.test(gpu!.reason!)) {
          // …and asking for it by name takes it.
          const byName = await initBackend('webgpu');
          expect(byName.backend).toBe('webgpu');
          expect(byName.adapter?.software).toBe(true);
        }
      }
    },
  );
});
