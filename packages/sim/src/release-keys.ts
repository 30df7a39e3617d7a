import type { ReleaseSimConfig } from './release-sim';

const PREFIXES = ['back.scale.', 'back.'];

/** Release module name → parameter path prefix of {@link ReleaseSpatialInformationModule}. */
const MODULES: Record<string, string> = {
  positional1: 'positional.branch1',
  positional2: 'positional.branch2',
  positional3: 'positional.branch3',
  fc_2: 'positional.gate',
  positionalpool: 'positional.pool',
  positionallocalmu: 'positionalLatent.mu',
  positionallocalsigma: 'positionalLatent.logvar',
  contextual1: 'contextual.branch1',
  contextual2: 'contextual.branch2',
  contextual3: 'contextual.branch3',
  fc_1: 'contextual.gate',
  contextualpool: 'contextual.pool',
  contextuallocalmu: 'contextualLatent.mu',
  contextuallocalsigma: 'contextualLatent.logvar',
};

/**
 * Maps a state-dict key of the SIGN release onto the parameter path of
 * {@link ReleaseSpatialInformationModule}. The rule: drop the prefix `back.scale.` (checkpoints)
 * or `back.` (the fixtures' summaries); the release's module name maps by the table below and
 * its `conv.weight` becomes `kernel` (layout [out, in, kh, kw] → [kh, kw, in, out], or [in, out]
 * for the 1×1 pool; `fromTorchLayout` of @sign/core does that):
 *
 * | release | here |
 * |---|---|
 * | `positional1..3` | `positional.branch1..3` |
 * | `fc_2` | `positional.gate` |
 * | `positionalpool` | `positional.pool` |
 * | `positionallocalmu` / `positionallocalsigma` | `positionalLatent.mu` / `.logvar` |
 * | `contextual1..3` | `contextual.branch1..3` |
 * | `fc_1` | `contextual.gate` |
 * | `contextualpool` | `contextual.pool` |
 * | `contextuallocalmu` / `contextuallocalsigma` | `contextualLatent.mu` / `.logvar` |
 *
 * Other keys (the backbone's `layer*` / `aspp.*`, `dis.*`, `gen.*`, …) give `undefined`.
 *
 * @example
 * releaseSimKey('back.scale.fc_1.conv.weight');                  // 'contextual.gate.kernel'
 * releaseSimKey('back.scale.positionallocalsigma.conv.weight');  // 'positionalLatent.logvar.kernel'
 * releaseSimKey('back.scale.layer1.conv1.conv.weight');          // undefined
 */
export function releaseSimKey(key: string): string | undefined {
  const prefix = PREFIXES.find((p) => key.startsWith(p));
  const k = prefix ? key.slice(prefix.length) : key;
  const m = /^([A-Za-z0-9_]+)\.conv\.weight$/.exec(k);
  const path = m ? MODULES[m[1]] : undefined;
  return path ? `${path}.kernel` : undefined;
}

/**
 * The {@link ReleaseSimConfig} that a release state dict describes, from its keys and shapes:
 * `positionallocalmu` present → `'release-v2'` (its input channels give
 * `positionalPoolChannels`: D for network type 2.1, 128 for type 2), absent → `'release-v1'`;
 * D and the branch width from `contextualpool` / `contextual1`. Throws, naming the key, when
 * the keys are not a release SIM's.
 *
 * @param entries `{ name, shape }` of every state-dict entry (PyTorch shapes)
 * @example
 * releaseSimConfigFromKeys(entries);   // { variant: 'release-v2', channels: 600, hidden: 256, positionalPoolChannels: 600 }
 */
export function releaseSimConfigFromKeys(
  entries: { name: string; shape: readonly number[] }[],
): ReleaseSimConfig {
  const where = '@sign/sim releaseSimConfigFromKeys';
  const byModule = new Map<string, readonly number[]>();
  for (const e of entries) {
    const prefix = PREFIXES.find((p) => e.name.startsWith(p));
    const m = /^([A-Za-z0-9_]+)\.conv\.weight$/.exec(prefix ? e.name.slice(prefix.length) : e.name);
    if (m && m[1] in MODULES) byModule.set(m[1], e.shape);
  }
  const need = (name: string): readonly number[] => {
    const s = byModule.get(name);
    if (!s)
      throw new Error(
        `${where}: no '${name}.conv.weight' among the keys: not a SIGN release SIM (positional + contextual modules)`,
      );
    return s;
  };
  const channels = need('contextualpool')[0];
  const hidden = need('contextual1')[0];
  need('positionalpool');
  const mu = byModule.get('positionallocalmu');
  if (!mu) return { variant: 'release-v1', channels, hidden };
  return { variant: 'release-v2', channels, hidden, positionalPoolChannels: mu[1] };
}
