// TEMPORARY: @sign/core's checkpoint functions are not exported yet; resolve them at call time.
import * as core from '@sign/core';
import type * as tf from '@tensorflow/tfjs-core';
type Core = {
  saveCheckpoint(path: string, tensors: Record<string, tf.Tensor>, metadata?: Record<string, unknown>): Promise<void>;
  loadCheckpoint(path: string): Promise<{ tensors: Record<string, tf.Tensor>; metadata: Record<string, unknown> }>;
};
export const saveCheckpoint: Core['saveCheckpoint'] = (p, t, m) => (core as unknown as Core).saveCheckpoint(p, t, m);
export const loadCheckpoint: Core['loadCheckpoint'] = (p) => (core as unknown as Core).loadCheckpoint(p);
