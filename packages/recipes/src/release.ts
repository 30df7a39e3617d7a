/**
 * The SIGN release's trained checkpoints as {@link GzsModel}s: the network's structure read from
 * the state dict's keys and shapes, its keys mapped onto the model's parameter paths (one
 * mapping per part, each living beside the module it fills), and its classifier rows and class
 * embeddings put in the order of a dataset's class ids.
 *
 * The release's checkpoint (`torch.save({ state_dict, back_opt, dis_opt, gen_opt })`) holds, in
 * `state_dict`: `back.scale.*` (DeepLabv2-ResNet101 and its SIM), `dis.*` (D/C), `gen.mlp.*` (G),
 * `Em_vis.weight` (the seen classes' embeddings padded with zero rows to 256) and
 * `Em_all.weight` (the embeddings of every test class, [K, E]). Its classifier `dis.cls` has
 * K + 1 rows: row i is the i-th class of `seen_cls.npy` followed by `novel_cls.npy` (CaGNet's
 * split files; `get_split` builds its `cls_map_test` from them), and the last row belongs to no
 * class of the split (the release asserts `out_dim_cls = K + 1`; it is never a training target).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadTorchStateDict, type TorchLoadReport } from '@sign/core';
import { deeplabReleaseKey } from '@sign/backbones';
import { releaseGeneratorKey, releaseHeadKey } from '@sign/generator';
import { releaseSimConfigFromKeys, releaseSimKey } from '@sign/sim';
import type { GzsModel } from './model';
import type { SignModelConfig } from './sign/index';
import type { ClassInfo } from './types';

/** One state-dict entry: its key and PyTorch shape. */
export interface ReleaseEntry {
  name: string;
  shape: readonly number[];
}

/** What a release state dict says about its network (everything `releaseModelConfig` needs). */
export interface ReleaseStructure {
  backbone: { inChannels: number; width: number; blocks: number[]; channels: number; asppStages: number };
  sim: { variant: 'release-v1' | 'release-v2'; hidden: number; positionalPoolChannels?: number };
  /** D/C: hidden width (`dis.fc`), classifier rows (`dis.cls`), whether it has the GAN head (`dis.pred`). */
  discriminator: { hidden: number; classifierRows: number; ganHead: boolean };
  /** G's hidden widths (`gen.mlp.<i>.conv`), or null when the dict has no generator. */
  generator: { hidden: number[] } | null;
  /** `Em_all.weight`: K test classes × E. */
  embeddings: { classes: number; dim: number };
}

const PREFIX = 'back.scale.';

/** Whether a state dict is the SIGN release's (its keys under `back.scale.`, `dis.`, `Em_all`). */
export function isReleaseStateDict(names: readonly string[]): boolean {
  return names.some((n) => n.startsWith(PREFIX)) && names.includes('dis.cls.weight') && names.includes('Em_all.weight');
}

/**
 * Reads the network's structure from a release state dict (PyTorch shapes): the backbone's stem
 * width, input channels, blocks per layer and ASPP width D; the SIM variant (from
 * `releaseSimConfigFromKeys`); D/C's widths; G's hidden widths; the class embeddings' shape.
 * Throws, naming `source` and the key, when something the release always has is missing.
 *
 * @example
 * const s = releaseStructure(entries, 'voc12.pth');
 * s.backbone.blocks;   // [3, 4, 23, 3]
 * s.sim.variant;       // 'release-v1'
 */
export function releaseStructure(entries: readonly ReleaseEntry[], source = 'state dict'): ReleaseStructure {
  const byName = new Map(entries.map((e) => [e.name, e.shape] as const));
  const need = (name: string, rank: number): readonly number[] => {
    const s = byName.get(name);
    if (!s) throw new Error(`${source}: not a SIGN release checkpoint: no '${name}' in its state_dict`);
    if (s.length !== rank) throw new Error(`${source}: '${name}' has shape [${s.join(', ')}], expected ${rank} dimensions`);
    return s;
  };
  const stem = need(`${PREFIX}layer1.conv1.conv.weight`, 4);
  const blocks = [2, 3, 4, 5].map((k) => {
    let n = 0;
    const re = new RegExp(`^${PREFIX.replace(/\./g, '\\.')}layer${k}\\.block([0-9]+)\\.`);
    for (const e of entries) {
      const m = re.exec(e.name);
      if (m) n = Math.max(n, Number(m[1]));
    }
    if (n === 0) throw new Error(`${source}: not a SIGN release checkpoint: no '${PREFIX}layer${k}.block1.*' in its state_dict`);
    return n;
  });
  let asppStages = 0;
  while (byName.has(`${PREFIX}aspp.stages.c${asppStages}.weight`)) asppStages++;
  const aspp = need(`${PREFIX}aspp.stages.c0.weight`, 4);
  const sim = releaseSimConfigFromKeys(entries.filter((e) => e.name.startsWith(PREFIX)) as { name: string; shape: number[] }[]);
  const fc = need('dis.fc.conv.weight', 4);
  const cls = need('dis.cls.weight', 4);
  const emb = need('Em_all.weight', 2);
  const hidden: number[] = [];
  while (byName.has(`gen.mlp.${hidden.length}.conv.weight`)) hidden.push(byName.get(`gen.mlp.${hidden.length}.conv.weight`)![0]);
  if (hidden.length > 0) need(`gen.mlp.${hidden.length}.weight`, 4);
  return {
    backbone: { inChannels: stem[1], width: stem[0], blocks, channels: aspp[0], asppStages },
    sim: {
      variant: sim.variant,
      hidden: sim.hidden ?? 256,
      ...(sim.variant === 'release-v2' ? { positionalPoolChannels: sim.positionalPoolChannels ?? sim.channels } : {}),
    },
    discriminator: { hidden: fc[0], classifierRows: cls[0], ganHead: byName.has('dis.pred.weight') },
    generator: hidden.length > 0 ? { hidden } : null,
    embeddings: { classes: emb[0], dim: emb[1] },
  };
}

/**
 * The 'sign' recipe's model config for a release checkpoint: `base` (e.g. a preset's) with the
 * structure of the file written over it: backbone `deeplabv2-resnet101` (replacing `base`'s) with the file's stem
 * width, blocks and D (`init: 'zeros'`: the weights are loaded right after), the SIM variant it
 * holds (relative encoding), D/C's hidden width and G's hidden widths. Losses, the transfer
 * prior and dropouts stay `base`'s.
 *
 * @example
 * const model = releaseModelConfig(preset.model, releaseStructure(entries, file));
 * model.sim.variant; // 'release-v1'
 */
export function releaseModelConfig(base: SignModelConfig, s: ReleaseStructure): SignModelConfig {
  if (base.type !== 'sign') throw new Error(`a SIGN release checkpoint needs a 'sign' model config, got model.type '${base.type}'`);
  if (s.backbone.asppStages !== 4)
    throw new Error(`a SIGN release checkpoint has 4 ASPP stages (dilations 6, 12, 18, 24), this one has ${s.backbone.asppStages}`);
  const gen = s.generator
    ? {
        ...base.generator,
        hidden: s.generator.hidden,
        ...(base.generator.dropout && base.generator.dropout.length !== s.generator.hidden.length ? { dropout: undefined } : {}),
      }
    : base.generator;
  return {
    ...base,
    backbone: {
      name: 'deeplabv2-resnet101',
      channels: s.backbone.channels,
      inChannels: s.backbone.inChannels,
      width: s.backbone.width,
      blocks: s.backbone.blocks,
      init: 'zeros',
    },
    sim: {
      ...base.sim,
      positional: 'relative',
      variant: s.sim.variant,
      hidden: s.sim.hidden,
      dilations: [1, 2, 5],
      ...(s.sim.positionalPoolChannels !== undefined ? { positionalPoolChannels: s.sim.positionalPoolChannels } : {}),
    },
    discriminator: { ...base.discriminator, hidden: s.discriminator.hidden },
    generator: JSON.parse(JSON.stringify(gen)),
  };
}

/**
 * For each class id of a dataset, the row of the release's classifier (and of `Em_all`, when
 * the row is < K) that belongs to it: the seen ids ascending, then the unseen ids ascending, are
 * rows 0..K−1 (the order of CaGNet's `seen_cls.npy` / `novel_cls.npy`); the one class that is in
 * neither (VOC's background, Context's 'unlabel', both left out of the release's training and
 * scoring) takes the extra row K. Errors name the counts when the file and the dataset disagree.
 *
 * @param rows the classifier's rows (`dis.cls.weight` [rows, hidden, 1, 1])
 * @param k the rows of `Em_all.weight` (the split's classes)
 * @returns `rowOf[c]` for every class id c, and the ids without a row of their own (`[]` or the one extra)
 * @example
 * releaseClassRows({ classNames: voc21, seen: [1..15], unseen: [16..20], background: 0 }, 21, 20).rowOf;
 * // [20, 0, 1, …, 19]
 */
export function releaseClassRows(
  classes: Pick<ClassInfo, 'classNames' | 'seen' | 'unseen' | 'background'>,
  rows: number,
  k: number,
  source = 'checkpoint',
): { rowOf: number[]; others: number[] } {
  const order = [...[...classes.seen].sort((a, b) => a - b), ...[...classes.unseen].sort((a, b) => a - b)];
  const n = classes.classNames.length;
  const others = [...Array(n).keys()].filter((c) => !order.includes(c));
  const what = `the dataset has ${order.length} seen + unseen classes (${classes.seen.length} + ${classes.unseen.length}) and ${others.length} other (${others.map((c) => classes.classNames[c]).join(', ') || 'none'})`;
  if (k !== order.length) throw new Error(`${source}: Em_all.weight holds ${k} class embeddings, but ${what}`);
  const rowOf = new Array<number>(n).fill(-1);
  order.forEach((c, i) => (rowOf[c] = i));
  if (rows === k + 1) {
    if (others.length > 1) throw new Error(`${source}: dis.cls has ${rows} rows (K + 1, K = ${k}), but ${what}: which one takes the extra row?`);
    if (others.length === 1) rowOf[others[0]] = k;
  } else if (rows !== k || others.length > 0) {
    throw new Error(`${source}: dis.cls has ${rows} rows, expected ${k + 1} (K + 1) or ${k}; ${what}`);
  }
  return { rowOf, others };
}

/**
 * The class embeddings of a release checkpoint in the order of a dataset's class ids: row c =
 * `Em_all` row `rowOf[c]`; a class without a row of its own there (the background) gets zeros.
 *
 * @param emAll `Em_all.weight` [K, E] (host values, row-major)
 * @returns Float32Array [classNames.length · E]
 * @example
 * const embeddings = releaseClassEmbeddings(emAll, 600, rowOf); // [21·600]
 */
export function releaseClassEmbeddings(emAll: Float32Array, dim: number, rowOf: readonly number[]): Float32Array {
  const k = emAll.length / dim;
  const out = new Float32Array(rowOf.length * dim);
  rowOf.forEach((r, c) => {
    if (r >= 0 && r < k) out.set(emAll.subarray(r * dim, (r + 1) * dim), c * dim);
  });
  return out;
}

/**
 * Maps a key of the release's state dict onto the parameter path of a {@link GzsModel}:
 * `back.scale.*` → `backbone.*` (`deeplabReleaseKey`) or `sim.*` (`releaseSimKey`), `dis.*` →
 * `disc.*` (`releaseHeadKey`), `gen.mlp.*` → `generator.*` (`releaseGeneratorKey`);
 * `Em_vis.weight`, `Em_all.weight` and BatchNorm's `num_batches_tracked` carry no parameter
 * (`null`: the class embeddings are M, read by {@link releaseClassEmbeddings}). Anything else
 * gives `undefined`.
 *
 * @param generatorHidden G's hidden layer count (5 in the release)
 * @example
 * releaseModelKey('back.scale.layer1.conv1.conv.weight', 5); // 'backbone.layer1.conv1.conv.kernel'
 * releaseModelKey('dis.cls.bias', 5);                        // 'disc.classifier.bias'
 * releaseModelKey('Em_all.weight', 5);                       // null
 */
export function releaseModelKey(key: string, generatorHidden: number): string | null | undefined {
  if (key === 'Em_vis.weight' || key === 'Em_all.weight') return null;
  if (key.startsWith(PREFIX)) {
    const b = deeplabReleaseKey(key);
    if (b !== undefined) return b === null ? null : `backbone.${b}`;
    const s = releaseSimKey(key);
    return s === undefined ? undefined : `sim.${s}`;
  }
  if (key.startsWith('dis.')) {
    const d = releaseHeadKey(key);
    return d === undefined ? undefined : `disc.${d}`;
  }
  if (key.startsWith('gen.')) {
    const g = releaseGeneratorKey(key, generatorHidden);
    return g === undefined ? undefined : `generator.${g}`;
  }
  return undefined;
}

/**
 * Loads a release state dict (tensors in PyTorch's layout) into a model built with
 * {@link releaseModelConfig}: the classifier's rows are first put in the order of the model's
 * class ids (`rowOf`, from {@link releaseClassRows}; a dropped extra row is left out), then every
 * key goes through {@link releaseModelKey} and `loadTorchStateDict` (strict: every parameter
 * gets exactly one key, an unknown key is an error naming it). The input tensors are not disposed.
 *
 * @example
 * const { rowOf } = releaseClassRows(model.classes, s.discriminator.classifierRows, s.embeddings.classes, file);
 * loadReleaseStateDict(model, tensors, rowOf, file);
 */
export function loadReleaseStateDict(
  model: GzsModel,
  tensors: Record<string, tf.Tensor>,
  rowOf: readonly number[],
  source = 'checkpoint',
): TorchLoadReport {
  const genHidden = (model.spec.generator.options.hidden as number[] | undefined)?.length ?? 5;
  const idx = tf.tensor1d(Int32Array.from(rowOf), 'int32');
  const reordered: Record<string, tf.Tensor> = {};
  try {
    for (const key of ['dis.cls.weight', 'dis.cls.bias']) {
      const t = tensors[key];
      if (!t) throw new Error(`${source}: no '${key}' in its state_dict`);
      reordered[key] = tf.gather(t, idx, 0);
    }
    const dict = { ...tensors, ...reordered };
    try {
      return loadTorchStateDict(model, dict, (k) => releaseModelKey(k, genHidden));
    } catch (e) {
      throw new Error(`${source}: ${(e as Error).message}`);
    }
  } finally {
    idx.dispose();
    tf.dispose(Object.values(reordered));
  }
}
