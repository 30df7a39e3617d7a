/**
 * State-dict keys of the SIGN release's classifier head (`dis`: its `Discriminator`) and generator
 * (`gen`: its `Generator`) onto the parameter paths of {@link Discriminator} and the latent MLP
 * generator (`createGenerator('sign', …)`). Layouts: the release's 1×1 convs [out, in, 1, 1]
 * become `Linear` kernels [in, out] through @sign/core's `fromTorchLayout` / `loadTorchStateDict`.
 */

const HEAD: Readonly<Record<string, string>> = Object.freeze({
  'dis.fc.conv.weight': 'shared.kernel',
  'dis.fc.conv.bias': 'shared.bias',
  'dis.pred.weight': 'gan.kernel',
  'dis.pred.bias': 'gan.bias',
  'dis.cls.weight': 'classifier.kernel',
  'dis.cls.bias': 'classifier.bias',
});

/**
 * Maps a key of the release's classifier head onto the parameter path of {@link Discriminator}:
 * `dis.fc.conv` (1×1 conv + ReLU, D → hidden) → `shared`, `dis.pred` (the GAN head) → `gan`,
 * `dis.cls` (the classifier C) → `classifier`; `weight` → `kernel`, `bias` → `bias`. Other keys
 * give `undefined`.
 *
 * @example
 * releaseHeadKey('dis.cls.weight');   // 'classifier.kernel'
 * releaseHeadKey('dis.fc.conv.bias'); // 'shared.bias'
 * releaseHeadKey('gen.mlp.0.conv.weight'); // undefined
 */
export function releaseHeadKey(key: string): string | undefined {
  return HEAD[key];
}

const GEN_HIDDEN = /^gen\.mlp\.([0-9]+)\.conv\.(weight|bias)$/;
const GEN_OUT = /^gen\.mlp\.([0-9]+)\.(weight|bias)$/;

/**
 * Maps a key of the release's generator onto the parameter path of the latent MLP generator:
 * its hidden layers `gen.mlp.<i>.conv` (1×1 conv + LeakyReLU + dropout, `Conv2dBlock`) →
 * `layer<i+1>`, its last plain 1×1 conv `gen.mlp.<k>` → `out` (k = the number of hidden layers,
 * `hidden`, 5 in the release); `weight` → `kernel`. Both take `concat(embedding, latent)` in that
 * order. Other keys give `undefined`.
 *
 * @param hidden the number of hidden layers (the index of the output conv)
 * @example
 * releaseGeneratorKey('gen.mlp.0.conv.weight', 5); // 'layer1.kernel'
 * releaseGeneratorKey('gen.mlp.5.bias', 5);        // 'out.bias'
 */
export function releaseGeneratorKey(key: string, hidden: number): string | undefined {
  const param = (w: string) => (w === 'weight' ? 'kernel' : 'bias');
  const h = GEN_HIDDEN.exec(key);
  if (h) return Number(h[1]) < hidden ? `layer${Number(h[1]) + 1}.${param(h[2])}` : undefined;
  const o = GEN_OUT.exec(key);
  if (o) return Number(o[1]) === hidden ? `out.${param(o[2])}` : undefined;
  return undefined;
}
