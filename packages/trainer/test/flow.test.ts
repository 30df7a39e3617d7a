// Which parameters each update changes: the parameter groups of the model are snapshotted around
// every update and compared, for the data flow METHOD §4 prescribes (step 2 leaves E and the SIM
// alone, G's losses reach neither, the GAN terms never reach the backbone, z enters G detached).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@sign/core';
import { expectNoLeaks } from '@sign/core/testing';
import { classwiseMmdLoss } from '@sign/losses';
import type { GzsModel, LossSpec } from '@sign/recipes';
import {
  SgdMomentum,
  classInfo,
  createModel,
  createOptimizers,
  hostBatch,
  scaleGradient,
  step1Update,
  transferUpdate,
  type ExperimentConfig,
  type HostBatch,
  type Optimizers,
} from '../src/index';
import { openData, tinyConfig } from './tiny';

type Snapshot = Map<string, Float32Array[]>;

function snapshot(model: GzsModel): Snapshot {
  const out: Snapshot = new Map();
  for (const [name, g] of model.groups) out.set(name, [...g.variables.values()].map((v) => v.dataSync().slice() as Float32Array));
  return out;
}

/** The groups whose parameters differ between two snapshots. */
function changed(a: Snapshot, b: Snapshot): string[] {
  return [...a.keys()].filter((k) => a.get(k)!.some((t, i) => t.some((v, j) => v !== b.get(k)![i][j])));
}

const NO_LOSSES: Required<LossSpec> = {
  clsReal: { backbone: 0, classifier: 0 },
  kl: { backbone: 0 },
  advD: { classifier: 0 },
  clsFake: { classifier: 0, generator: 0 },
  mmd: { generator: 0, sigmas: [2, 5, 10, 20, 40, 60] },
  advG: { generator: 0 },
  clsTransfer: { classifier: 0, generator: 0 },
};

describe('parameter flow (wasm, sign recipe, tiny)', () => {
  let config: ExperimentConfig;
  let model: GzsModel;
  let opts: Optimizers;
  let batch: HostBatch;
  const settings = (losses: LossSpec, over: Partial<{ transferMixReal: number }> = {}) => ({
    losses,
    pixelsPerClass: 8,
    transferPixels: 32,
    transferPrior: config.model.transferPrior,
    transferMixReal: over.transferMixReal ?? 0.5,
  });
  const run = (f: () => Record<string, tf.Scalar>): { changed: string[]; losses: string[] } => {
    const before = snapshot(model);
    const l = f();
    const keys = Object.keys(l).sort();
    tf.dispose(Object.values(l));
    return { changed: changed(before, snapshot(model)), losses: keys };
  };

  beforeAll(async () => {
    await initBackend('wasm');
    config = tinyConfig();
    const dm = await openData(config.data, config.seed);
    model = createModel(config, classInfo(dm), dm.meta.channels, new Rng(1));
    opts = createOptimizers(config, model);
    batch = hostBatch(await dm.trainBatch(2, new Rng(3)), model);
  });

  it('the groups partition the parameters', () => {
    expect([...model.groups.keys()]).toEqual(['backbone', 'aspp', 'asppBias', 'sim', 'classifier', 'gan', 'generator']);
    expect(model.groups.get('aspp')!.variables.size + model.groups.get('asppBias')!.variables.size).toBe(0); // the small backbone has no ASPP
    const n = [...model.groups.values()].reduce((a, g) => a + g.variables.size, 0);
    expect(n).toBe(model.namedParameters().size);
  });

  it('step 1 with every term updates every group', () => {
    const r = run(() => step1Update(model, opts, batch, new Rng(4), settings(config.model.losses)));
    expect(r.changed).toEqual(['backbone', 'sim', 'classifier', 'gan', 'generator']);
    expect(r.losses).toEqual(['advD', 'advG', 'clsReal', 'kl', 'mmd']);
  });

  it("step 2 leaves the backbone and the SIM untouched (also with real features mixed in); G only with clsTransfer's generator weight", () => {
    const onlyC = { ...NO_LOSSES, clsTransfer: { classifier: 1, generator: 0 } };
    expect(run(() => transferUpdate(model, opts, batch, new Rng(5), settings(onlyC))).changed).toEqual(['classifier']);
    const withG = { ...NO_LOSSES, clsTransfer: { classifier: 1, generator: 1 } };
    expect(run(() => transferUpdate(model, opts, batch, new Rng(6), settings(withG))).changed).toEqual(['classifier', 'generator']);
    expect(run(() => transferUpdate(model, opts, batch, new Rng(7), settings(withG, { transferMixReal: 0 }))).changed).toEqual(['classifier', 'generator']);
    const onlyG = { ...NO_LOSSES, clsTransfer: { classifier: 0, generator: 1 } };
    expect(run(() => transferUpdate(model, opts, batch, new Rng(8), settings(onlyG))).changed).toEqual(['generator']);
  });

  it("G's losses (MMD, its adversarial term, C on fakes) never reach the SIM or the backbone, nor D", () => {
    const gOnly = { ...NO_LOSSES, mmd: { generator: 50, sigmas: [2, 5, 10] }, advG: { generator: 1 }, clsFake: { classifier: 0, generator: 1 } };
    const r = run(() => step1Update(model, opts, batch, new Rng(9), settings(gOnly)));
    expect(r.changed).toEqual(['generator']);
    expect(r.losses).toEqual(['advG', 'clsFakeG', 'mmd']);
  });

  it('the GAN terms never reach the backbone or the SIM', () => {
    const gan = { ...NO_LOSSES, advD: { classifier: 1 }, advG: { generator: 1 } };
    const r = run(() => step1Update(model, opts, batch, new Rng(10), settings(gan)));
    expect(r.changed).toEqual(['classifier', 'gan', 'generator']);
    expect(r.losses).toEqual(['advD', 'advG']);
    // the real-feature terms do reach them (so the snapshot can tell)
    const real = { ...NO_LOSSES, clsReal: { backbone: 1, classifier: 0 }, kl: { backbone: 1 } };
    expect(run(() => step1Update(model, opts, batch, new Rng(11), settings(real))).changed).toEqual(['backbone', 'sim']);
  });

  it('z enters G detached: with z taken inside the tape the MMD would reach the SIM, in the update it does not', () => {
    const simVars = [...model.groups.get('sim')!.variables.values()];
    const genVars = [...model.groups.get('generator')!.variables.values()];
    const images = tf.tensor4d(batch.images, [batch.n, batch.height, batch.width, batch.channels]);
    const labels = Int32Array.from(batch.labels.map((l) => (l === 255 ? 0 : l)));
    const lab = tf.tensor1d(labels, 'int32');
    const mmdOf = (detach: boolean) =>
      tf.variableGrads(() => {
        const out = model.features(images, { training: true, rng: new Rng(12) });
        const D = model.featureDim;
        const z = tf.reshape(out.latent!, [-1, D]) as tf.Tensor2D;
        const real = tf.reshape(out.feature, [-1, D]) as tf.Tensor2D;
        const fake = model.generate(lab, detach ? scaleGradient(z, 0) : z, { training: true, rng: new Rng(13) });
        return classwiseMmdLoss(scaleGradient(real, 0), fake, labels);
      }, [...simVars, ...genVars]);
    const norm = (g: tf.NamedTensorMap, vars: tf.Variable[]) => vars.reduce((a, v) => a + (g[v.name] ? tf.norm(g[v.name]).dataSync()[0] : 0), 0);
    const attached = mmdOf(false);
    const detached = mmdOf(true);
    expect(norm(attached.grads, simVars)).toBeGreaterThan(1e-6);
    expect(norm(detached.grads, simVars)).toBe(0);
    expect(norm(detached.grads, genVars)).toBeGreaterThan(1e-6);
    tf.dispose([images, lab, attached.value, detached.value, ...Object.values(attached.grads), ...Object.values(detached.grads)]);
  });

  it('per-part weights: clsReal 0.5 on the backbone halves its gradient and leaves the classifier\'s (plain SGD)', async () => {
    const delta = (w: { backbone: number; classifier: number }) => {
      const fresh = createModel(config, model.classes, model.channels, new Rng(21));
      const sgd: Optimizers = { backbone: new SgdMomentum(0.5, 0, 0), classifier: new SgdMomentum(0.5, 0, 0), generator: new SgdMomentum(0.5, 0, 0) };
      const before = snapshot(fresh);
      const l = step1Update(fresh, sgd, batch, new Rng(22), settings({ ...NO_LOSSES, clsReal: w }));
      tf.dispose(Object.values(l));
      const after = snapshot(fresh);
      const d = (g: string) => before.get(g)!.flatMap((t, i) => Array.from(t, (v, j) => after.get(g)![i][j] - v));
      const out = { backbone: d('backbone'), sim: d('sim'), classifier: d('classifier') };
      fresh.dispose();
      Object.values(sgd).forEach((o) => o.dispose());
      return out;
    };
    const full = delta({ backbone: 1, classifier: 1 });
    const half = delta({ backbone: 0.5, classifier: 1 });
    const noC = delta({ backbone: 1, classifier: 0 });
    expect(Math.max(...full.backbone.map(Math.abs))).toBeGreaterThan(1e-6);
    for (const g of ['backbone', 'sim'] as const) half[g].forEach((v, i) => expect(v).toBeCloseTo(full[g][i] / 2, 6));
    expect(half.classifier).toEqual(full.classifier);
    for (const g of ['backbone', 'sim'] as const) expect(noC[g]).toEqual(full[g]);
    expect(noC.classifier.every((v) => v === 0)).toBe(true);
  });

  it('the updates leak no tensors and return their losses', async () => {
    step1Update(model, opts, batch, new Rng(30), settings(config.model.losses));
    const l1 = await expectNoLeaks(() => {
      const l = step1Update(model, opts, batch, new Rng(31), settings(config.model.losses));
      const keys = Object.keys(l);
      tf.dispose(Object.values(l));
      return keys;
    });
    expect(l1.sort()).toEqual(['advD', 'advG', 'clsReal', 'kl', 'mmd']);
    const l2 = await expectNoLeaks(() => {
      const l = transferUpdate(model, opts, batch, new Rng(32), settings(config.model.losses));
      const keys = Object.keys(l);
      tf.dispose(Object.values(l));
      return keys;
    });
    expect(l2).toEqual(['clsTransfer']);
  });
});

describe.each(['cagnet', 'zs3net'] as const)('parameter flow of %s (wasm, tiny)', (type) => {
  it('its groups, and which a full step 1 and a step 2 update', async () => {
    await initBackend('wasm');
    const base = tinyConfig();
    const config = tinyConfig({
      model:
        type === 'cagnet'
          ? { _delete_: true, type, backbone: base.model.backbone, sim: { hidden: 4 }, generator: { hidden: [8] }, discriminator: { hidden: 8 } }
          : { _delete_: true, type, backbone: base.model.backbone, generator: { hidden: [8] }, discriminator: { hidden: 8 } },
    });
    const dm = await openData(config.data, config.seed);
    const model = createModel(config, classInfo(dm), 1, new Rng(1));
    const opts = createOptimizers(config, model);
    const batch = hostBatch(await dm.trainBatch(2, new Rng(3)), model);
    const s = { losses: config.model.losses, pixelsPerClass: 8, transferPixels: 32, transferPrior: config.model.transferPrior, transferMixReal: 0.5 };
    const b1 = snapshot(model);
    const l1 = step1Update(model, opts, batch, new Rng(4), s);
    const a1 = snapshot(model);
    const l2 = transferUpdate(model, opts, batch, new Rng(5), s);
    const a2 = snapshot(model);
    if (type === 'cagnet') {
      expect([...model.groups.keys()]).toEqual(['backbone', 'aspp', 'asppBias', 'sim', 'classifier', 'gan', 'generator']);
      expect([...model.groups.get('sim')!.variables.keys()].some((k) => k.startsWith('sim.encoder.'))).toBe(false); // no encoding module
      expect(changed(b1, a1)).toEqual(['backbone', 'sim', 'classifier', 'gan', 'generator']);
      expect(Object.keys(l1).sort()).toEqual(['advD', 'advG', 'clsReal', 'kl', 'mmd']);
    } else {
      expect([...model.groups.keys()]).toEqual(['backbone', 'classifier', 'generator']);
      expect([...model.namedParameters().keys()].some((k) => k.startsWith('disc.gan.') || k.startsWith('sim.'))).toBe(false);
      expect(changed(b1, a1)).toEqual(['backbone', 'classifier', 'generator']);
      expect(Object.keys(l1).sort()).toEqual(['clsReal', 'mmd']); // MMD only for G: no adversarial term, no KL
    }
    // the paper's transfer step: C and G through C's loss (clsTransfer 1 / 1); E and the SIM untouched
    expect(changed(a1, a2)).toEqual(['classifier', 'generator']);
    tf.dispose([...Object.values(l1), ...Object.values(l2)]);
    model.dispose();
    Object.values(opts).forEach((o) => o.dispose());
    dm.dispose();
  });
});
