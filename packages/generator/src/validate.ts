import type * as tf from '@tensorflow/tfjs-core';
import type { GeneratorConfig, GeneratorInput } from './types';

export function checkPositiveInt(where: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`@sign/generator ${where}: ${key} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

export function checkRate(where: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new Error(`@sign/generator ${where}: ${key} must be a number in [0, 1), got ${String(v)}`);
  }
  return v;
}

export function checkBaseConfig(where: string, cfg: GeneratorConfig): void {
  if (cfg === null || typeof cfg !== 'object') {
    throw new Error(`@sign/generator ${where}: config must be an object`);
  }
  checkPositiveInt(where, 'embeddingDim', cfg.embeddingDim);
  checkPositiveInt(where, 'featureDim', cfg.featureDim);
}

/** Checks ranks and widths of a generator input; returns P. */
export function checkInput(
  where: string,
  input: GeneratorInput,
  embeddingDim: number,
  latentDim: number | null,
): number {
  const e = input?.embeddings as tf.Tensor | undefined;
  if (!e || e.rank !== 2 || e.shape[1] !== embeddingDim) {
    throw new Error(
      `@sign/generator ${where}.generate: expected embeddings of shape [P, ${embeddingDim}], got ${e ? `[${e.shape.join(', ')}]` : String(e)}`,
    );
  }
  if (latentDim !== null) {
    const z = input.latent as tf.Tensor | undefined;
    if (!z) {
      throw new Error(`@sign/generator ${where}.generate: this generator needs input.latent of shape [P, ${latentDim}]`);
    }
    if (z.rank !== 2 || z.shape[1] !== latentDim || z.shape[0] !== e.shape[0]) {
      throw new Error(
        `@sign/generator ${where}.generate: expected latent of shape [${e.shape[0]}, ${latentDim}], got [${z.shape.join(', ')}]`,
      );
    }
  }
  return e.shape[0];
}
