/**
 * Builds the release network of a fixture (backbone, SIM variant, classifier head) from the
 * fixture's weight rule, through the same key mappings and layout conversion a checkpoint uses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng, loadTorchStateDict } from '@sign/core';
import { DeepLabV2ResNet101, deeplabReleaseKey } from '@sign/backbones';
import { Discriminator, releaseHeadKey } from '@sign/generator';
import { klDivergence } from '@sign/losses';
import {
  type ReleasePositionalLatent,
  ReleaseSpatialInformationModule,
  type SimOutput,
  releaseSimConfigFromKeys,
  releaseSimKey,
} from '../../src/index';
import { type ReleaseFixture, ruleValues } from './fixture';

/** Lets the event loop run (vitest's worker answers its RPC) between long synchronous stages. */
export const tick = () => new Promise<void>((r) => setImmediate(r));

/**
 * Waits a moment before a long synchronous stage, so that vitest's pending RPC calls (task
 * updates) complete first: one still in flight when the event loop is blocked for more than its
 * 60 s timer fails the run, which happens on a loaded machine with the cpu backend.
 */
export const settle = () => new Promise<void>((r) => setTimeout(r, 1000));

/**
 * Loads the state-dict entries that `mapKey` knows into `module`, one tensor at a time (the
 * backbone's 87M weights never exist twice; the event loop runs between tensors), then checks
 * that every parameter got exactly one key: the mapping is one-to-one. Returns the number of
 * tensors loaded.
 */
export async function loadFromRule(
  module: import('@sign/core').Module,
  fx: ReleaseFixture,
  mapKey: (key: string) => string | null | undefined,
): Promise<number> {
  const paths: string[] = [];
  for (const [k, e] of fx.state_dict.entries()) {
    const path = mapKey(e.name);
    if (path === undefined || path === null) continue;
    const t = tf.tensor(ruleValues(e.name, e.shape, k, fx.phase)!, e.shape);
    try {
      loadTorchStateDict(module, { [e.name]: t }, mapKey, { strict: false });
    } finally {
      t.dispose();
    }
    paths.push(path);
    await tick();
  }
  const params = [...module.namedParameters().keys()].sort();
  const got = [...paths].sort();
  if (JSON.stringify(params) !== JSON.stringify(got)) {
    const missing = params.filter((p) => !got.includes(p));
    const extra = got.filter((p) => !params.includes(p));
    throw new Error(
      `loadFromRule(${fx.file}): not one-to-one; parameters without a key: ${missing.join(', ')}; keys without a parameter: ${extra.join(', ')}`,
    );
  }
  return paths.length;
}

/** The fixture's backbone (identical in both fixtures: the backbone's entries come first). */
export async function buildBackbone(fx: ReleaseFixture): Promise<DeepLabV2ResNet101> {
  const bb = new DeepLabV2ResNet101(new Rng(0), { init: 'zeros' });
  await loadFromRule(bb, fx, deeplabReleaseKey);
  return bb;
}

/** The fixture's SIM (variant detected from its keys) and classifier head. */
export async function buildSimAndHead(
  fx: ReleaseFixture,
): Promise<{ sim: ReleaseSpatialInformationModule; head: Discriminator }> {
  const sim = new ReleaseSpatialInformationModule(new Rng(0), {
    ...releaseSimConfigFromKeys(fx.state_dict),
    init: 'zeros',
  });
  await loadFromRule(sim, fx, releaseSimKey);
  const cls = fx.state_dict.find((e) => e.name === 'dis.cls.weight')!;
  const head = new Discriminator(new Rng(0), {
    featureDim: sim.channels,
    hidden: cls.shape[1],
    numClasses: cls.shape[0],
  });
  await loadFromRule(head, fx, releaseHeadKey);
  return { sim, head };
}

/** What one fixture's SIM + head gave (host copies; NHWC). */
export interface SimRun {
  afterPositional: Float32Array;
  /** only with `stages: 'all'` */
  latent?: Float32Array;
  afterContextual?: Float32Array;
  feature?: Float32Array;
  logits?: Float32Array;
  /** the release's KL: mean over pixels **and** channels of the per-pixel KL sum */
  kldContextual?: number;
  kldPositional?: number;
  /** per-pixel argmax of the logits, NHW order */
  argmax?: Int32Array;
}

/**
 * Runs the fixture's SIM (test path: z = mu) and head on the ASPP output `h` [1,H,W,D]:
 * `'all'` stages through `sim.apply`, `'split'` (the same stages one module at a time through
 * `positionalModule` / `contextualModule`, yielding to the event loop in between: the cpu
 * backend needs tens of seconds per module), or the positional module alone. Frees everything
 * it made.
 */
export async function runSimAndHead(
  fx: ReleaseFixture,
  h: tf.Tensor4D,
  stages: 'all' | 'split' | 'positional',
): Promise<SimRun> {
  const { sim, head } = await buildSimAndHead(fx);
  sim.eval();
  await settle();
  const made: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (made.push(t), t);
  try {
    let hPrime: tf.Tensor4D;
    let positional: ReleasePositionalLatent | undefined;
    let rest: Omit<SimOutput, 'hPrime'>;
    if (stages === 'all') {
      const out = sim.apply(h, { noise: 'zero' });
      made.push(...Object.values(out).filter((t): t is tf.Tensor => t instanceof tf.Tensor));
      if (out.positional) made.push(...Object.values(out.positional));
      ({ hPrime, positional } = out);
      rest = out;
    } else {
      const p = sim.positionalModule(h, { noise: 'zero' });
      hPrime = keep(p.hPrime);
      positional = p.positional;
      if (positional) made.push(...Object.values(positional));
      if (stages === 'positional') return { afterPositional: hPrime.dataSync() as Float32Array };
      await settle();
      rest = sim.contextualModule(hPrime, { noise: 'zero' });
      made.push(...Object.values(rest));
      await settle();
    }
    const { logits, gan } = head.applyMap(rest.feature, { training: false, rng: new Rng(0) });
    made.push(logits, ...(gan ? [gan] : []));
    const d = sim.channels;
    return tf.tidy(() => ({
      afterPositional: hPrime.dataSync() as Float32Array,
      latent: rest.latent.dataSync() as Float32Array,
      afterContextual: tf
        .add(hPrime, tf.mul(hPrime, tf.sigmoid(rest.latent)))
        .dataSync() as Float32Array,
      feature: rest.feature.dataSync() as Float32Array,
      logits: logits.dataSync() as Float32Array,
      kldContextual: klDivergence(rest.mu, rest.logvar).dataSync()[0] / d,
      kldPositional: positional ? klDivergence(positional.mu, positional.logvar).dataSync()[0] / d : 0,
      argmax: tf.argMax(logits, 3).dataSync() as Int32Array,
    }));
  } finally {
    tf.dispose(made);
    sim.dispose();
    head.dispose();
  }
}
