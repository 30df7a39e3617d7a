/**
 * Adding a class to a trained model by name (issue 13): the class's embedding row joins M, its
 * features come from the trained generator G with z from the latent prior N(0, I), and the
 * classifier is retrained for a few hundred steps on generated features of every class: METHOD
 * §4.2's step 2 with G frozen and no real pixels. Seconds; no data needed. Browser-safe.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@sign/core';
import type { ClassInfo, GzsModel } from '@sign/recipes';
import type { ExperimentConfig } from './config/schema';
import { trainedModel, type AddedClass, type TrainedModel } from './inference';
import { createModel } from './checkpoint';
import { createOptimizers } from './optim/create';
import { transferPrior } from '@sign/recipes';
import type { Optimizer } from './optim/optimizers';
import { pixelListCrossEntropy, sampleFromPrior } from './updates';

/** Options of {@link addClass}. */
export interface AddClassOptions {
  /** Classifier steps on generated features (default 200). */
  steps?: number;
  /** Generated pixels per step, drawn from the config's transfer prior (default: the config's `schedule.transferPixels`). */
  pixels?: number;
  /** Learning rate of the classifier's optimizer (default: the config's `optimizers.classifier.lr`). */
  lr?: number;
  /** Seed of the new class's initial weights, the prior draws, z and dropout (default: the config's seed). */
  seed?: number;
  /** Where the embedding came from, recorded in `added` (default 'given'). */
  source?: string;
  /**
   * What is retrained (default 'head'): 'head' = C's output layer (every class's column);
   * 'new-class' = only the new class's column of it (the other classes' scores stay exactly as
   * trained); 'classifier' = D/C's shared layer and output layer.
   */
  train?: 'head' | 'new-class' | 'classifier';
  /**
   * Called after each step with the step (1-based) and the classifier's loss, read asynchronously.
   * A returned promise is awaited before the next step (a page can let the browser paint and
   * take input: `() => new Promise((r) => setTimeout(r))`).
   */
  onStep?: (step: number, loss: number) => void | Promise<void>;
}

/** The variables `train` updates, by model path, and a gradient mask per variable (1 where it may change). */
function trainedVariables(net: GzsModel, train: NonNullable<AddClassOptions['train']>): { vars: Map<string, tf.Variable>; masks: Map<string, tf.Tensor> } {
  const all = net.partVariables('classifier');
  const vars = new Map<string, tf.Variable>();
  const masks = new Map<string, tf.Tensor>();
  for (const [k, v] of all) {
    if (HEAD.includes(k) || (train === 'classifier' && k.startsWith('disc.shared.'))) vars.set(k, v);
  }
  if (train === 'new-class') {
    const K = net.numClasses;
    for (const [k, v] of vars) {
      const m = new Float32Array(v.size);
      for (let i = K - 1; i < v.size; i += K) m[i] = 1; // the last column of [hidden, K], the last entry of [K]
      masks.set(k, tf.tensor(m, v.shape));
    }
  }
  return { vars, masks };
}

/**
 * One classifier step on generated features: class ids from the prior, G's features (z ~ N(0, I),
 * G as in training, frozen), C's cross-entropy, the gradients of `vars` (masked) applied.
 */
function generatedStep(net: GzsModel, opt: Optimizer, vars: Map<string, tf.Variable>, masks: Map<string, tf.Tensor>, prior: Float64Array, pixels: number, rng: Rng): tf.Scalar {
  const labels = tf.tensor1d(sampleFromPrior(prior, pixels, rng.fork('prior-labels')), 'int32');
  const pathOf = new Map<string, string>();
  for (const [k, v] of vars) pathOf.set(v.name, k);
  let grads: tf.NamedTensorMap = {};
  try {
    const fake = net.generate(labels, undefined, { training: true, rng: rng.fork('g') });
    try {
      const r = tf.variableGrads(() => pixelListCrossEntropy(net.disc.apply(fake, { training: true, rng: rng.fork('c') }).logits, labels), [...vars.values()]);
      grads = r.grads;
      const byPath: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(grads)) {
        const k = pathOf.get(name)!;
        const m = masks.get(k);
        byPath[k] = m ? tf.mul(g, m) : g;
      }
      opt.apply(vars, byPath);
      for (const [k, g] of Object.entries(byPath)) if (masks.has(k)) g.dispose();
      return r.value;
    } finally {
      fake.dispose();
    }
  } finally {
    labels.dispose();
    tf.dispose(Object.values(grads));
  }
}

/** The classifier's output layer (C's logits), whose last axis grows by one class. */
const HEAD = ['disc.classifier.kernel', 'disc.classifier.bias'];

/**
 * The config of a model with class `name` added: when the data config excluded it
 * (`data.exclude`), it moves from `exclude` to `unseen`, so that evaluating the new model on the
 * data it records scores the class as unseen.
 */
function configWith(config: ExperimentConfig, name: string): ExperimentConfig {
  const data = config.data as ExperimentConfig['data'] & { exclude?: string[]; unseen: string[] };
  if (!data.exclude?.includes(name)) return config;
  const exclude = data.exclude.filter((n) => n !== name);
  const { exclude: _drop, ...rest } = data;
  return { ...config, data: { ...rest, ...(exclude.length > 0 ? { exclude } : {}), unseen: [...data.unseen, name] } };
}

function checkInputs(model: TrainedModel, name: string, embedding: Float32Array | number[], opts: AddClassOptions): Float32Array {
  if (!model || !model.net) throw new Error('addClass: expected a TrainedModel (from loadModel or addClass)');
  if (typeof name !== 'string' || name.trim() === '') throw new Error(`addClass: the class name must be a non-empty string, got ${JSON.stringify(name)}`);
  const c = model.net.classes;
  if (c.classNames.includes(name)) throw new Error(`addClass: the model already has a class '${name}' (id ${c.classNames.indexOf(name)})`);
  if (c.classNames.length >= 255) throw new Error(`addClass: the model has ${c.classNames.length} classes; 255 is the most (255 is the ignore label)`);
  if (!(embedding instanceof Float32Array) && !Array.isArray(embedding))
    throw new Error(`addClass: the embedding of '${name}' must be a Float32Array or an array of numbers`);
  const vec = Float32Array.from(embedding);
  if (vec.length !== c.embeddingDim)
    throw new Error(`addClass: the embedding of '${name}' has ${vec.length} values; the model's class embeddings have ${c.embeddingDim} (use the source it was trained with)`);
  const bad = vec.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new Error(`addClass: the embedding of '${name}' has a non-finite value at index ${bad}`);
  for (const [key, min] of [['steps', 1], ['pixels', 1]] as const) {
    const v = opts[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new Error(`addClass: ${key} must be an integer >= ${min}, got ${String(v)}`);
  }
  if (opts.lr !== undefined && !(opts.lr > 0 && Number.isFinite(opts.lr))) throw new Error(`addClass: lr must be a positive number, got ${String(opts.lr)}`);
  return vec;
}

/** The trained weights in a network with one class more: C's output layer gets the new network's fresh column for the class. */
function transplant(from: GzsModel, to: GzsModel): void {
  const state = from.stateDict();
  const fresh = to.stateDict();
  const made: tf.Tensor[] = [];
  const dict: Record<string, tf.Tensor> = {};
  try {
    for (const [k, v] of Object.entries(state)) {
      if (!HEAD.includes(k)) {
        dict[k] = v;
        continue;
      }
      const axis = v.rank - 1;
      const K = v.shape[axis]!;
      const begin = v.shape.map((_, i) => (i === axis ? K : 0));
      const size = v.shape.map((d, i) => (i === axis ? 1 : d));
      const t = tf.tidy(() => tf.concat([v, tf.slice(fresh[k]!, begin, size)], axis));
      made.push(t);
      dict[k] = t;
    }
    to.loadStateDict(dict);
  } finally {
    tf.dispose(made);
  }
}

/**
 * Adds class `name` to a trained model: a new model (the input is left untouched; dispose both)
 * whose class table has the class appended (id K, unseen: calibrated stacking treats it as the
 * other unseen classes), whose embedding row is `embedding`, and whose classifier was retrained
 * on generated features of all classes: `steps` steps of C's cross-entropy on G's features
 * (class ids drawn from the config's transfer prior with the class as unseen, z ~ N(0, I), G
 * frozen), starting from the trained classifier with a fresh output column for the class; `train`
 * says which of its weights move (default: the output layer). Every other weight is copied. When the model's data config excluded the class (`data.exclude`), the new config
 * lists it as unseen instead, so that evaluating the new model scores it. The result records
 * the addition in `added`.
 *
 * @param embedding the class's row of M [E] (E = the model's embedding width), built the way the
 *   model's embeddings were (e.g. with @sign/embeddings from the same word vectors)
 * @example
 * const model = await loadModel('runs/bagless/checkpoints/last.safetensors'); // 10 classes, no 'bag'
 * const withBag = await addClass(model, 'bag', fashionEmbeddings('both', { includeBackground: true }).vector('bag'));
 * withBag.classNames.at(-1); // 'bag'
 * model.dispose();
 */
export async function addClass(model: TrainedModel, name: string, embedding: Float32Array | number[], opts: AddClassOptions = {}): Promise<TrainedModel> {
  const vec = checkInputs(model, name, embedding, opts);
  const t0 = Date.now();
  const net = model.net;
  const c = net.classes;
  const K = net.numClasses;
  const E = c.embeddingDim;
  const config = configWith(model.config, name);
  const seed = opts.seed ?? config.seed;
  const steps = opts.steps ?? 200;
  const pixels = opts.pixels ?? config.schedule.transferPixels;
  const train = opts.train ?? 'head';
  if (!['head', 'new-class', 'classifier'].includes(train)) throw new Error(`addClass: train must be 'head', 'new-class' or 'classifier', got '${String(train)}'`);
  const embeddings = new Float32Array((K + 1) * E);
  embeddings.set(c.embeddings);
  embeddings.set(vec, K * E);
  const classes: ClassInfo = { classNames: [...c.classNames, name], seen: [...c.seen], unseen: [...c.unseen, K], background: c.background, embeddings, embeddingDim: E };
  const rng = new Rng(seed).fork(`add-class/${name}`);
  const bigger = createModel(config, classes, net.channels, rng.fork('init'));
  const optimizers = createOptimizers(config, bigger);
  try {
    transplant(net, bigger);
    optimizers.classifier.lr = opts.lr ?? config.optimizers.classifier.lr;
    bigger.train();
    const { vars, masks } = trainedVariables(bigger, train);
    const prior = transferPrior(config.model.transferPrior, classes);
    try {
      for (let s = 0; s < steps; s++) {
        const loss = generatedStep(bigger, optimizers.classifier, vars, masks, prior, pixels, rng.fork(`step-${s}`));
        try {
          if (opts.onStep) await opts.onStep(s + 1, (await loss.data())[0]!);
        } finally {
          loss.dispose();
        }
      }
    } finally {
      tf.dispose([...masks.values()]);
    }
    bigger.eval();
  } catch (err) {
    bigger.dispose();
    throw err;
  } finally {
    for (const o of Object.values(optimizers)) o.dispose();
  }
  const added: AddedClass = { name, id: K, source: opts.source ?? 'given', train, steps, pixels, seed, seconds: (Date.now() - t0) / 1000 };
  return trainedModel(bigger, { config, dataset: model.dataset, added: [...model.added, added] });
}
