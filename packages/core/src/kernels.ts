import * as tf from '@tensorflow/tfjs-core';

/**
 * Custom tfjs kernels for the @sign packages ('SignMatMul', 'SignConv2D', 'SignDropout', …): defined
 * once with a kernel function per backend name and an optional gradient, registered for a backend
 * the first time they run on it. Registered gradients (rather than tf.customGrad) let tfjs ask
 * only for the gradients of the inputs that lead to what is being differentiated, and say which
 * tensors the backward pass keeps (`inputsToSave`, `outputsToSave`).
 *
 * @example
 * defineKernel({
 *   name: 'MyScale',
 *   kernelFunc: () => ({ inputs }) => tf.mul(inputs.x as tf.Tensor, 2),   // may call tfjs ops
 *   gradient: { gradFunc: (dy) => ({ x: () => tf.mul(dy as tf.Tensor, 2) }) },
 * });
 * const y = runKernel('MyScale', { x });
 */
export interface KernelDefinition {
  name: string;
  /** The kernel function for one backend (it may check the backend's capabilities). */
  kernelFunc: (backendName: string) => tf.KernelFunc;
  gradient?: Omit<tf.GradConfig, 'kernelName'>;
}

const definitions = new Map<string, KernelDefinition>();

/** Adds a kernel definition (idempotent by name). */
export function defineKernel(def: KernelDefinition): void {
  if (!definitions.has(def.name)) definitions.set(def.name, def);
}

/**
 * Runs a defined kernel on the active backend, registering it (and its gradient) first if needed.
 * Returns what the kernel function returns (a tensor, or an array for several outputs).
 */
export function runKernel<T extends tf.Tensor>(name: string, inputs: tf.NamedTensorMap, attrs: object = {}): T {
  const def = definitions.get(name);
  if (!def) throw new Error(`@sign/core: kernel '${name}' is not defined`);
  const backendName = tf.getBackend();
  if (!tf.getKernel(name, backendName)) tf.registerKernel({ kernelName: name, backendName, kernelFunc: def.kernelFunc(backendName) });
  if (def.gradient && !tf.getGradient(name)) tf.registerGradient({ kernelName: name, ...def.gradient });
  return tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as T;
}
