/** Prefixes the release puts before the backbone's own names (checkpoint; fixture summaries). */
const PREFIXES = ['back.scale.', 'back.'];

const BACKBONE_KEY =
  /^(layer1\.conv1|layer[2-5]\.block[1-9][0-9]*\.(reduce|conv3x3|increase|proj))\.(conv\.weight|bn\.(weight|bias|running_mean|running_var|num_batches_tracked))$/;
const ASPP_KEY = /^aspp\.stages\.c([0-9]+)\.(weight|bias)$/;

/**
 * Maps a state-dict key of the SIGN release onto the parameter path of
 * {@link DeepLabV2ResNet101}. The rule:
 *
 * 1. drop the prefix `back.scale.` (the release's checkpoints: `back` is the MSC wrapper,
 *    `scale` the DeepLab inside it) or `back.` (the fixtures' summaries); a bare key is taken
 *    as it is;
 * 2. a conv's `weight` becomes `kernel` (`….conv.weight` → `….conv.kernel`,
 *    `aspp.stages.cK.weight` → `aspp.stages.cK.kernel`); its layout changes from PyTorch's
 *    [out, in, kh, kw] to [kh, kw, in, out] (`fromTorchLayout` of @sign/core does that);
 * 3. BatchNorm: `bn.running_mean` → `bn.runningMean`, `bn.running_var` → `bn.runningVar`,
 *    `bn.weight` / `bn.bias` unchanged; `bn.num_batches_tracked` carries nothing (→ `null`);
 * 4. every other name segment is the same (`layer1.conv1`, `layer2.block1.reduce`, `proj`, …).
 *
 * Keys that are not the backbone's (the SIM's `positional*` / `contextual*` / `fc_*`, `dis.*`,
 * `gen.*`, …) give `undefined`. Use with `loadTorchStateDict` of @sign/core.
 *
 * @param key e.g. `'back.scale.layer3.block1.reduce.conv.weight'`
 * @returns the parameter path (`'layer3.block1.reduce.conv.kernel'`), `null` for
 *   `num_batches_tracked`, `undefined` for a key that is not the backbone's
 * @example
 * deeplabReleaseKey('back.scale.aspp.stages.c0.weight');            // 'aspp.stages.c0.kernel'
 * deeplabReleaseKey('back.layer1.conv1.bn.running_var');            // 'layer1.conv1.bn.runningVar'
 * deeplabReleaseKey('back.scale.contextual1.conv.weight');          // undefined
 * loadTorchStateDict(backbone, backboneTensors, deeplabReleaseKey);
 */
export function deeplabReleaseKey(key: string): string | null | undefined {
  const prefix = PREFIXES.find((p) => key.startsWith(p));
  const k = prefix ? key.slice(prefix.length) : key;
  const aspp = ASPP_KEY.exec(k);
  if (aspp) return `aspp.stages.c${aspp[1]}.${aspp[2] === 'weight' ? 'kernel' : 'bias'}`;
  const m = BACKBONE_KEY.exec(k);
  if (!m) return undefined;
  const tail = m[3];
  if (tail === 'bn.num_batches_tracked') return null;
  const mapped =
    tail === 'conv.weight'
      ? 'conv.kernel'
      : tail === 'bn.running_mean'
        ? 'bn.runningMean'
        : tail === 'bn.running_var'
          ? 'bn.runningVar'
          : tail;
  return `${m[1]}.${mapped}`;
}
