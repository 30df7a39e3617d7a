/** Config of the `'deeplabv2-resnet101'` backbone; every key is optional. */
export interface DeepLabV2Config {
  /** Image channels C (default 3: BGR, mean-subtracted, as the release's loader gives them). */
  inChannels?: number;
  /** D, the channels of the ASPP output (default 600: the embedding width of METHOD §2). */
  channels?: number;
  /**
   * Bottleneck blocks of layer2…layer5 (default [3, 4, 23, 3]: ResNet-101; [3, 4, 6, 3] is
   * ResNet-50). Tests use [1, 1, 1, 1].
   */
  blocks?: number[];
  /**
   * Channels of the stem (default 64). Layer k ∈ 2…5 has `width·2^(k−2)` channels inside its
   * bottlenecks and 4× that at its output (ResNet's 64/256, …, 512/2048 at the default).
   */
  width?: number;
  /** Dilations (= paddings) of the four parallel 3×3 ASPP convs (default [6, 12, 18, 24]). */
  asppDilations?: number[];
  /** eps of every frozen BatchNorm (default 1e-5). */
  bnEps?: number;
  /**
   * `'pytorch'` (default): the release's init (PyTorch's default for the convs, N(0, 0.01²)
   * kernels and zero biases for the ASPP, BatchNorm weight 1 / bias 0 / mean 0 / var 1);
   * `'zeros'`: conv weights zero (BatchNorm as above), for weights that are loaded right
   * after (skips drawing 87M random numbers, seconds).
   */
  init?: 'pytorch' | 'zeros';
}

/** The defaults of {@link DeepLabV2Config}: the network of the SIGN release. */
export const DEEPLABV2_DEFAULTS: Readonly<Required<DeepLabV2Config>> = Object.freeze({
  inChannels: 3,
  channels: 600,
  blocks: [3, 4, 23, 3],
  width: 64,
  asppDilations: [6, 12, 18, 24],
  bnEps: 1e-5,
  init: 'pytorch',
});

const isPositiveInt = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1;

/**
 * Checks a config and fills in the defaults. Unknown keys and bad values throw, naming the key.
 *
 * @example
 * resolveDeepLabV2Config({ blocks: [3, 4, 6, 3] }).channels;   // 600 (a ResNet-50 trunk, the rest default)
 */
export function resolveDeepLabV2Config(cfg: unknown = {}): Required<DeepLabV2Config> {
  const where = "backbone 'deeplabv2-resnet101'";
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw new Error(
      `${where}: config must be an object, got ${cfg === null ? 'null' : Array.isArray(cfg) ? 'an array' : typeof cfg}`,
    );
  }
  const known = Object.keys(DEEPLABV2_DEFAULTS);
  for (const key of Object.keys(cfg)) {
    if (!known.includes(key))
      throw new Error(`${where}: unknown config key '${key}' (known: ${known.join(', ')})`);
  }
  const c = { ...DEEPLABV2_DEFAULTS, ...(cfg as DeepLabV2Config) };
  for (const key of ['inChannels', 'channels', 'width'] as const) {
    if (!isPositiveInt(c[key]))
      throw new Error(`${where}: ${key} must be a positive integer, got ${JSON.stringify(c[key])}`);
  }
  if (!Array.isArray(c.blocks) || c.blocks.length !== 4 || !c.blocks.every(isPositiveInt)) {
    throw new Error(
      `${where}: blocks must be four positive integers (layer2…layer5), got ${JSON.stringify(c.blocks)}`,
    );
  }
  if (
    !Array.isArray(c.asppDilations) ||
    c.asppDilations.length === 0 ||
    !c.asppDilations.every(isPositiveInt)
  ) {
    throw new Error(
      `${where}: asppDilations must be a non-empty array of positive integers, got ${JSON.stringify(c.asppDilations)}`,
    );
  }
  if (!(typeof c.bnEps === 'number' && Number.isFinite(c.bnEps) && c.bnEps >= 0)) {
    throw new Error(
      `${where}: bnEps must be a non-negative number, got ${JSON.stringify(c.bnEps)}`,
    );
  }
  if (c.init !== 'pytorch' && c.init !== 'zeros') {
    throw new Error(`${where}: init must be 'pytorch' or 'zeros', got ${JSON.stringify(c.init)}`);
  }
  return { ...c, blocks: [...c.blocks], asppDilations: [...c.asppDilations] };
}
