import * as tf from '@tensorflow/tfjs-core';
import { loadTorchStateDict, type Module } from '@sign/core';
import type { InputNormalization, PretrainedOptions, PretrainedReport, PretrainedWeightsInput } from '../backbone';

/**
 * How ImageNet-pretrained ResNet-101 weights are named, in the three forms that exist for this
 * network (see the package README, "Pretrained weights"):
 *
 * - `'torchvision'`: `torchvision.models.resnet101().state_dict()`: `conv1.weight`, `bn1.*`,
 *   `layer1.0.conv1.weight` … `layer4.2.bn3.*`, `layerK.0.downsample.0.weight` (the projection's
 *   conv) and `.downsample.1.*` (its BatchNorm), `fc.*` (the ImageNet classifier);
 * - `'pytorch-deeplab-resnet'`: the same module names under `Scale.` (the PyTorch port of the
 *   Caffe DeepLab whose `MS_DeepLab_resnet_pretrained_COCO_init.pth` many segmentation codes start
 *   from), the ASPP as `Scale.layer5.conv2d_list.K.*`;
 * - `'deeplab-pytorch'`: the names of the port the SIGN release and CaGNet build on (its
 *   `convert.py` writes them from the DeepLab caffemodels, e.g. the `init` model that becomes
 *   `deeplabv2_resnet101_init.pth`): `layer1.conv1.conv.weight`, `layer1.conv1.bn.*`,
 *   `layerK.blockN.{reduce,conv3x3,increase,proj}.{conv.weight,bn.*}`, `aspp.stages.cK.*`, under
 *   `scale.` (its multi-scale wrapper), `back.scale.` (the release's model) or no prefix.
 */
export type PretrainedNaming = 'torchvision' | 'pytorch-deeplab-resnet' | 'deeplab-pytorch';

/**
 * The input each kind of weights was trained on, in the terms of @sign/datasets' `normalize`
 * (`(pixel[src(c)]·scale − mean[c]) / std[c]`, pixels decoded as RGB, `src(c) = 2 − c` for 'bgr').
 */
export const PRETRAINED_INPUTS: Readonly<Record<PretrainedWeightsInput, InputNormalization>> = Object.freeze({
  /** torchvision's ImageNet models: RGB in [0, 1], minus the ImageNet mean, over its std. */
  torchvision: Object.freeze({ order: 'rgb' as const, scale: 1 / 255, mean: Object.freeze([0.485, 0.456, 0.406]), std: Object.freeze([0.229, 0.224, 0.225]) }),
  /** Caffe's ResNets (DeepLab's): BGR in [0, 255] minus the mean pixel. */
  caffe: Object.freeze({ order: 'bgr' as const, scale: 1, mean: Object.freeze([104.008, 116.669, 122.675]), std: Object.freeze([1, 1, 1]) }),
});

const BN_TORCH = ['weight', 'bias', 'running_mean', 'running_var'] as const;
const BN_OURS: Record<string, string> = { weight: 'weight', bias: 'bias', running_mean: 'runningMean', running_var: 'runningVar' };
const BN_BACK: Record<string, string> = { weight: 'weight', bias: 'bias', runningMean: 'running_mean', runningVar: 'running_var' };
const CONVS = ['reduce', 'conv3x3', 'increase'] as const;
const INT = '(0|[1-9][0-9]*)';

/** torchvision-style key (prefix removed) → our path; null: a head's or a counter; undefined: unknown. */
function resnetKey(key: string, head: RegExp): string | null | undefined {
  if (head.test(key)) return null;
  const counter = /^(.*)\.num_batches_tracked$/.exec(key);
  if (counter) return resnetKey(`${counter[1]}.weight`, head) === undefined ? undefined : null;
  let m = /^(conv1|bn1)\.(weight|bias|running_mean|running_var)$/.exec(key);
  if (m) {
    if (m[1] === 'conv1') return m[2] === 'weight' ? 'layer1.conv1.conv.kernel' : undefined;
    return `layer1.conv1.bn.${BN_OURS[m[2]]}`;
  }
  m = new RegExp(`^layer([1-4])\\.${INT}\\.(conv([1-3])|bn([1-3])|downsample\\.0|downsample\\.1)\\.(weight|bias|running_mean|running_var)$`).exec(key);
  if (!m) return undefined;
  const block = `layer${Number(m[1]) + 1}.block${Number(m[2]) + 1}`;
  const param = m[6];
  if (m[4] !== undefined) return param === 'weight' ? `${block}.${CONVS[Number(m[4]) - 1]}.conv.kernel` : undefined;
  if (m[5] !== undefined) return `${block}.${CONVS[Number(m[5]) - 1]}.bn.${BN_OURS[param]}`;
  if (m[3] === 'downsample.0') return param === 'weight' ? `${block}.proj.conv.kernel` : undefined;
  return `${block}.proj.bn.${BN_OURS[param]}`;
}

/** Our path → the torchvision-style key (no prefix). */
function resnetKeyOf(path: string): string {
  if (path === 'layer1.conv1.conv.kernel') return 'conv1.weight';
  let m = /^layer1\.conv1\.bn\.(\w+)$/.exec(path);
  if (m) return `bn1.${BN_BACK[m[1]]}`;
  m = /^layer([2-5])\.block([0-9]+)\.(reduce|conv3x3|increase|proj)\.(conv\.kernel|bn\.(\w+))$/.exec(path);
  if (!m) return path;
  const at = `layer${Number(m[1]) - 1}.${Number(m[2]) - 1}`;
  if (m[3] === 'proj') return m[5] === undefined ? `${at}.downsample.0.weight` : `${at}.downsample.1.${BN_BACK[m[5]]}`;
  const j = CONVS.indexOf(m[3] as (typeof CONVS)[number]) + 1;
  return m[5] === undefined ? `${at}.conv${j}.weight` : `${at}.bn${j}.${BN_BACK[m[5]]}`;
}

const DEEPLAB_KEY = new RegExp(
  `^(layer1\\.conv1|layer[2-5]\\.block[1-9][0-9]*\\.(reduce|conv3x3|increase|proj))\\.(conv\\.weight|bn\\.(weight|bias|running_mean|running_var|num_batches_tracked))$`,
);

/** deeplab-pytorch key (prefix removed) → our path; its ASPP (a head here) → null. */
function deeplabKey(key: string): string | null | undefined {
  if (/^aspp\.stages\.c[0-9]+\.(weight|bias)$/.test(key)) return null;
  const m = DEEPLAB_KEY.exec(key);
  if (!m) return undefined;
  if (m[3] === 'bn.num_batches_tracked') return null;
  if (m[3] === 'conv.weight') return `${m[1]}.conv.kernel`;
  return `${m[1]}.bn.${BN_OURS[m[4]]}`;
}

/** Our path → the deeplab-pytorch key (no prefix). */
function deeplabKeyOf(path: string): string {
  return path.replace(/\.kernel$/, '.weight').replace(/\.runningMean$/, '.running_mean').replace(/\.runningVar$/, '.running_var');
}

/** What {@link detectPretrainedNaming} found in a state dict's keys. */
export interface DetectedNaming {
  naming: PretrainedNaming;
  /** What every key of the trunk starts with: '', 'scale.', 'back.scale.', 'Scale.', 'module.', … */
  prefix: string;
  /** The input these weights were trained on: torchvision's, or Caffe's for both DeepLab ports. */
  input: PretrainedWeightsInput;
  /** A key → the parameter path of {@link DeepLabV2ResNet101} it fills (`null`: a head's or a counter, ignored; `undefined`: unknown). */
  mapKey: (key: string) => string | null | undefined;
  /** A parameter path → the key this naming gives it (for messages). */
  keyOf: (path: string) => string;
}

/**
 * Tells the naming of an ImageNet-pretrained ResNet state dict from its keys (see
 * {@link PretrainedNaming}) by its stem conv: `…layer1.conv1.conv.weight` → deeplab-pytorch;
 * `Scale.conv1.weight` → pytorch-deeplab-resnet; `conv1.weight` (with `bn1.weight` beside it, and
 * any prefix ending in '.') → torchvision. Throws, naming `source` and the first keys, when no key
 * fits.
 *
 * @example
 * detectPretrainedNaming(['conv1.weight', 'bn1.weight', …, 'fc.bias']).naming;     // 'torchvision'
 * detectPretrainedNaming(['scale.layer1.conv1.conv.weight', …]).prefix;            // 'scale.'
 */
export function detectPretrainedNaming(keys: readonly string[], source = 'state dict'): DetectedNaming {
  const under = (prefix: string, f: (k: string) => string | null | undefined) => (key: string) =>
    key.startsWith(prefix) ? f(key.slice(prefix.length)) : undefined;
  const stem = 'layer1.conv1.conv.weight';
  const deeplab = keys.find((k) => k === stem || k.endsWith(`.${stem}`));
  if (deeplab !== undefined) {
    const prefix = deeplab.slice(0, deeplab.length - stem.length);
    return { naming: 'deeplab-pytorch', prefix, input: 'caffe', mapKey: under(prefix, deeplabKey), keyOf: (p) => prefix + deeplabKeyOf(p) };
  }
  const set = new Set(keys);
  const stems = keys
    .filter((k) => k === 'conv1.weight' || (k.endsWith('.conv1.weight') && !/layer[0-9]+\.[0-9]+\.conv1\.weight$/.test(k)))
    .map((k) => k.slice(0, k.length - 'conv1.weight'.length))
    .filter((prefix) => set.has(`${prefix}bn1.weight`))
    .sort((a, b) => a.length - b.length);
  if (stems.length > 0) {
    const prefix = stems[0];
    if (prefix === 'Scale.') {
      const head = /^layer5\.conv2d_list\.[0-9]+\.(weight|bias)$/;
      return { naming: 'pytorch-deeplab-resnet', prefix, input: 'caffe', mapKey: under(prefix, (k) => resnetKey(k, head)), keyOf: (p) => prefix + resnetKeyOf(p) };
    }
    const head = /^fc\.(weight|bias)$/;
    return { naming: 'torchvision', prefix, input: 'torchvision', mapKey: under(prefix, (k) => resnetKey(k, head)), keyOf: (p) => prefix + resnetKeyOf(p) };
  }
  const first = keys.slice(0, 4).map((k) => `'${k}'`).join(', ');
  throw new Error(
    `${source}: not ResNet weights that deeplabv2-resnet101 reads: no stem key 'conv1.weight' with 'bn1.weight' (torchvision), ` +
      `'Scale.conv1.weight' (pytorch-deeplab-resnet) or 'layer1.conv1.conv.weight' (deeplab-pytorch, the SIGN release; also under 'scale.' or 'back.scale.'); ` +
      `its first keys: ${first || '(none)'}`,
  );
}

function checkNormalization(n: InputNormalization, what: string): void {
  const channels = n.order === 'grey' ? 1 : 3;
  const ok =
    (n.order === 'rgb' || n.order === 'bgr' || n.order === 'grey') &&
    Number.isFinite(n.scale) &&
    n.scale > 0 &&
    n.mean.length === channels &&
    n.std.length === channels &&
    n.mean.every(Number.isFinite) &&
    n.std.every((s) => Number.isFinite(s) && s > 0);
  if (!ok) throw new Error(`${what}: expected { order: 'rgb' | 'bgr' | 'grey', scale > 0, mean and std of ${channels} finite numbers (std > 0) }, got ${JSON.stringify(n)}`);
}

/**
 * Rewrites the stem of weights trained on input `from` for a model fed input `to` (both in the
 * terms of @sign/datasets' `normalize`): for each colour j, the weights saw
 * `u = (p·s_w − m_w) / σ_w` and the model gets `x = (p·s_d − m_d) / σ_d` of the same pixel p, so
 * `u = a·x + b` with `a = s_w·σ_d / (s_d·σ_w)` and `b = (s_w·m_d / s_d − m_w) / σ_w`. The stem
 * kernel's input channel for j is moved to where the model has j (RGB ↔ BGR) and multiplied by
 * a; the constant b, summed over the kernel, is taken out of the following BatchNorm's running
 * mean. The result is exact wherever the 7×7 window lies inside the image; at the border the
 * zero padding stands for a different pixel value than it did in training (at most a few grey
 * levels for torchvision → Caffe input). Identical inputs change nothing.
 *
 * Shapes: `kernel [kh, kw, C, O]` (ours), `runningMean [O]`; returns new tensors (the caller
 * disposes them).
 *
 * @example
 * const { kernel, runningMean } = adaptStemToInput(k, rm, PRETRAINED_INPUTS.torchvision, CAFFE_BGR_NORMALIZATION);
 */
export function adaptStemToInput(
  kernel: tf.Tensor4D,
  runningMean: tf.Tensor1D,
  from: InputNormalization,
  to: InputNormalization,
): { kernel: tf.Tensor4D; runningMean: tf.Tensor1D } {
  checkNormalization(from, 'adaptStemToInput: the weights’ input');
  checkNormalization(to, 'adaptStemToInput: the model’s input');
  const channels = kernel.shape[2];
  if ((from.order === 'grey') !== (to.order === 'grey') || channels !== (to.order === 'grey' ? 1 : 3))
    throw new Error(
      `adaptStemToInput: the weights' stem reads ${channels} channel(s) of ${from.order} input; the model's input is ${to.order} (${to.order === 'grey' ? 1 : 3} channel(s))`,
    );
  if (runningMean.shape[0] !== kernel.shape[3]) throw new Error(`adaptStemToInput: runningMean has ${runningMean.shape[0]} values, the kernel ${kernel.shape[3]} outputs`);
  const src = (order: string, c: number) => (order === 'bgr' ? 2 - c : c); // channel c → colour j (and back: an involution)
  const gather: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let cd = 0; cd < channels; cd++) {
    const j = src(to.order, cd);
    const cw = src(from.order, j);
    gather.push(cw);
    a.push((from.scale * to.std[cd]) / (to.scale * from.std[cw]));
    b.push(((from.scale * to.mean[cd]) / to.scale - from.mean[cw]) / from.std[cw]);
  }
  return tf.tidy(() => {
    const moved = tf.gather(kernel, tf.tensor1d(gather, 'int32'), 2); // [kh, kw, C, O], channel cd = the weights' channel for the same colour
    const shift = tf.sum(tf.mul(moved, tf.tensor4d(b, [1, 1, channels, 1])), [0, 1, 2]); // Σ b · W over the window
    return {
      kernel: tf.mul(moved, tf.tensor4d(a, [1, 1, channels, 1])) as tf.Tensor4D,
      runningMean: tf.sub(runningMean, shift) as tf.Tensor1D,
    };
  });
}

/**
 * Loads ImageNet-pretrained ResNet weights (tensors in PyTorch's layout, keyed as in the file)
 * into the trunk of a {@link DeepLabV2ResNet101}: the naming is detected
 * ({@link detectPretrainedNaming}); every trunk parameter must get a key, and every key must be
 * a trunk parameter, a head (torchvision's `fc`, the DeepLab ports' ASPP: ignored, it has other
 * outputs than this ASPP) or BatchNorm's `num_batches_tracked`; otherwise nothing is written and
 * the error names the file, the naming and the keys (unknown ones as they are, missing ones as
 * this naming would spell them). Shapes must fit the backbone's config (width, blocks). The ASPP
 * stays as it was initialised. With `opts.input` (how the model's images are normalised), the
 * stem is rewritten for it when the weights were trained on another input
 * ({@link adaptStemToInput}; the weights' input is `opts.weightsInput`, by default the naming's).
 * The input tensors are not disposed.
 */
export function loadPretrainedResNet(backbone: Module, weights: Record<string, tf.Tensor>, opts: PretrainedOptions = {}): PretrainedReport {
  const source = opts.source ?? 'pretrained weights';
  if (opts.input) checkNormalization(opts.input, `${source}: the model's input normalisation`);
  const keys = Object.keys(weights);
  const d = detectPretrainedNaming(keys, source);
  const what = `${source} (${d.naming} names${d.prefix ? ` under '${d.prefix}'` : ''})`;
  const params = backbone.namedParameters();
  const trunk = [...params.keys()].filter((p) => !p.startsWith('aspp.'));
  const unknown: string[] = [];
  const ignored: string[] = [];
  const covered = new Set<string>();
  for (const key of keys) {
    const path = d.mapKey(key);
    if (path === null) ignored.push(key);
    else if (path === undefined || !params.has(path) || path.startsWith('aspp.')) unknown.push(key);
    else covered.add(path);
  }
  const missing = trunk.filter((p) => !covered.has(p));
  const problems: string[] = [];
  if (unknown.length) problems.push(`unknown key${unknown.length > 1 ? 's' : ''} ${list(unknown)}`);
  if (missing.length) problems.push(`no key ${list(missing.map((p) => `${d.keyOf(p)}`))} (${missing.length} of the backbone's ${trunk.length} trunk tensors)`);
  if (problems.length) throw new Error(`${what}: ${problems.join('; ')}`);
  const input = opts.weightsInput ?? d.input;
  let report;
  try {
    report = loadTorchStateDict(backbone, weights, (k) => (ignored.includes(k) ? null : d.mapKey(k)), { strict: false });
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  let adapted = false;
  if (opts.input) {
    const from = PRETRAINED_INPUTS[input];
    const to = opts.input;
    const same = from.order === to.order && from.scale === to.scale && from.mean.every((v, i) => v === to.mean[i]) && from.std.every((v, i) => v === to.std[i]);
    if (!same) {
      const k = params.get('layer1.conv1.conv.kernel')!;
      const rm = params.get('layer1.conv1.bn.runningMean')!;
      let out;
      try {
        out = adaptStemToInput(k as tf.Tensor4D, rm as tf.Tensor1D, from, to);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
      k.assign(out.kernel);
      rm.assign(out.runningMean);
      tf.dispose([out.kernel, out.runningMean]);
      adapted = true;
    }
  }
  return {
    naming: d.naming,
    prefix: d.prefix,
    weightsInput: input,
    adapted,
    loaded: report.loaded.length,
    ignored,
    initialised: [...params.keys()].filter((p) => p.startsWith('aspp.')),
  };
}

function list(keys: string[], max = 8): string {
  const shown = keys.slice(0, max).map((k) => `'${k}'`).join(', ');
  return keys.length > max ? `${shown} and ${keys.length - max} more` : shown;
}
