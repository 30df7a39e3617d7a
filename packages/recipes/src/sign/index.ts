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
    .strictObject({ positional: z.enum(['relative', 'absolute', 'none']).default('relative'), ...simShape })
    .prefault({}),
  generator: mlpGeneratorSchema,
  discriminator: discriminatorSchema,
  losses: lossesSchema(CAGNET_LOSSES),
  transferPrior: transferPriorSchema,
});

/** The `model` section of a SIGN config (defaults filled). */
export type SignModelConfig = z.output<typeof signSchema> & ModelConfigBase;

/** Groups of a model with a SIM and a GAN head (SIGN, CaGNet). */
export const SIM_GAN_GROUPS: readonly ParameterGroupSpec[] = [
  { name: 'backbone', part: 'backbone', prefixes: ['backbone.'] },
  { name: 'sim', part: 'backbone', prefixes: ['sim.'] },
  { name: 'classifier', part: 'classifier', prefixes: ['disc.shared.', 'disc.classifier.'] },
  { name: 'gan', part: 'classifier', prefixes: ['disc.gan.'] },
  { name: 'generator', part: 'generator', prefixes: ['generator.'] },
];

export const sign: Recipe<SignModelConfig> = {
  type: 'sign',
  description: 'SIGN: SIM with positional encoding (relative; absolute/none for the ablation), latent-conditioned G, D/C with GAN head',
  schema: signSchema,
  losses: CAGNET_LOSSES,
  modules(c) {
    const { name, ...options } = c.backbone;
    return {
      backbone: { name, options },
      latent: { positional: c.sim.positional, encodingModule: true, hidden: c.sim.hidden, dilations: c.sim.dilations },
      generator: { name: 'sign', options: { ...c.generator, latentSource: c.sim.positional } },
      discriminator: { ...c.discriminator, ganHead: true },
    };
  },
  parameterGroups: () => [...SIM_GAN_GROUPS],
};
