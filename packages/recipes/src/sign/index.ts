/**
 * SIGN (Cheng et al., ICCV 2021; METHOD §2): backbone E, the SIM (residual encoding module with
 * the relative positional encoding, then the reparameterization module giving z), the
 * latent-conditioned MLP generator G fed `concat(w, stopgrad(z))`, and D/C with its GAN head.
 * Losses: the CaGNet VOC config that SIGN inherits. `sim.positional` 'absolute' and 'none' are
 * the paper's ablation of the positional encoding (the encoding module stays).
 */
import { z } from 'zod';
import { CAGNET_LOSSES, backboneSchema, discriminatorSchema, lossesSchema, mlpGeneratorSchema, simShape, transferPriorSchema } from '../schema';
import type { ModelConfigBase, ParameterGroupSpec, Recipe } from '../types';

/** The `model` section schema of the 'sign' recipe. */
export const signSchema = z.strictObject({
  type: z.literal('sign'),
  backbone: backboneSchema,
  sim: z
    .strictObject({
      /** METHOD §2's SIM ('paper', for training) or the SIGN release's network types 1 and 2 / 2.1 (to run its checkpoints; a release checkpoint sets it from its keys). */
      variant: z.enum(['paper', 'release-v1', 'release-v2']).default('paper'),
      positional: z.enum(['relative', 'absolute', 'none']).default('relative'),
      ...simShape,
      /** 'release-v2' only: channels of the positional pool (D for type 2.1, 128 for type 2); default D. */
      positionalPoolChannels: z.int().min(1).optional(),
    })
    .refine((s) => s.variant === 'paper' || s.positional === 'relative', {
      message: "the release's SIM variants have the relative positional encoding (positional: 'relative')",
      path: ['positional'],
    })
    .prefault({}),
  generator: mlpGeneratorSchema,
  discriminator: discriminatorSchema,
  losses: lossesSchema(CAGNET_LOSSES),
  transferPrior: transferPriorSchema,
});

/** The `model` section of a SIGN config (defaults filled). */
export type SignModelConfig = z.output<typeof signSchema> & ModelConfigBase;

/**
 * Groups of a model with a SIM and a GAN head (SIGN, CaGNet). 'aspp' and 'asppBias' are the
 * ASPP's kernels and biases of a DeepLab backbone (empty with other backbones): the release trains
 * them with 10× and 20× the backbone's learning rate, the SIM with 5× (see the presets).
 */
export const SIM_GAN_GROUPS: readonly ParameterGroupSpec[] = [
  { name: 'backbone', part: 'backbone', prefixes: ['backbone.'] },
  { name: 'aspp', part: 'backbone', prefixes: ['backbone.aspp.'] },
  { name: 'asppBias', part: 'backbone', prefixes: ['backbone.aspp.'], suffixes: ['.bias'] },
  { name: 'sim', part: 'backbone', prefixes: ['sim.'] },
  { name: 'classifier', part: 'classifier', prefixes: ['disc.shared.', 'disc.classifier.'] },
  { name: 'gan', part: 'classifier', prefixes: ['disc.gan.'] },
  { name: 'generator', part: 'generator', prefixes: ['generator.'] },
];

export const sign: Recipe<SignModelConfig, typeof signSchema> = {
  type: 'sign',
  description: 'SIGN: SIM with positional encoding (relative; absolute/none for the ablation), latent-conditioned G, D/C with GAN head',
  schema: signSchema,
  losses: CAGNET_LOSSES,
  modules(c) {
    const { name, ...options } = c.backbone;
    return {
      backbone: { name, options },
      latent: {
        variant: c.sim.variant,
        positional: c.sim.positional,
        encodingModule: true,
        hidden: c.sim.hidden,
        dilations: c.sim.dilations,
        ...(c.sim.positionalPoolChannels !== undefined ? { positionalPoolChannels: c.sim.positionalPoolChannels } : {}),
      },
      generator: { name: 'sign', options: { ...c.generator, latentSource: c.sim.positional } },
      discriminator: { ...c.discriminator, ganHead: true },
    };
  },
  parameterGroups: () => [...SIM_GAN_GROUPS],
};
