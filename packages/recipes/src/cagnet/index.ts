/**
 * CaGNet (Gu et al., ACM MM 2020; METHOD §6): SIGN's pipeline without the positional encoding
 * and without the residual encoding module: the latent code comes from the contextual
 * (reparameterization) module alone, applied to sigmoid(h), and F = sigmoid(h + h·sigmoid(z)).
 * Losses and transfer prior: its VOC config.
 */
import { z } from 'zod';
import { CAGNET_LOSSES, backboneSchema, discriminatorSchema, lossesSchema, mlpGeneratorSchema, simShape, transferPriorSchema } from '../schema';
import { SIM_GAN_GROUPS } from '../sign/index';
import type { ModelConfigBase, Recipe } from '../types';

/** The `model` section schema of the 'cagnet' recipe. */
export const cagnetSchema = z.strictObject({
  type: z.literal('cagnet'),
  backbone: backboneSchema,
  /** The contextual module's widths (no positional encoding, no encoding module). */
  sim: z.strictObject(simShape).prefault({}),
  generator: mlpGeneratorSchema,
  discriminator: discriminatorSchema,
  losses: lossesSchema(CAGNET_LOSSES),
  transferPrior: transferPriorSchema,
});

/** The `model` section of a CaGNet config (defaults filled). */
export type CagnetModelConfig = z.output<typeof cagnetSchema> & ModelConfigBase;

export const cagnet: Recipe<CagnetModelConfig, typeof cagnetSchema> = {
  type: 'cagnet',
  description: 'CaGNet: contextual module alone (no positional encoding, no encoding module), latent-conditioned G, D/C with GAN head',
  schema: cagnetSchema,
  losses: CAGNET_LOSSES,
  modules(c) {
    const { name, ...options } = c.backbone;
    return {
      backbone: { name, options },
      latent: { positional: 'none', encodingModule: false, hidden: c.sim.hidden, dilations: c.sim.dilations },
      generator: { name: 'cagnet', options: { ...c.generator } },
      discriminator: { ...c.discriminator, ganHead: true },
    };
  },
  parameterGroups: () => [...SIM_GAN_GROUPS],
};
