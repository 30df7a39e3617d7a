/**
 * ZS3Net (Bucher et al., NeurIPS 2019; METHOD §6): the GMMN generator on concat(w, U(0, 1) noise)
 * (one hidden layer of 256, dropout 0.5), trained with the class-wise MMD alone, kernel widths
 * σ ∈ {2, 5, 10, 20, 40, 80}; no SIM (F = sigmoid(h), no latent code), no adversarial term and no
 * GAN head.
 */
import { z } from 'zod';
import { MODEL_LIMITS, ZS3NET_SIGMAS, backboneSchema, discriminatorSchema, lossesSchema, transferPriorSchema } from '../schema';
import type { LossSpec, ModelConfigBase, Recipe } from '../types';

/** MMD only for G; the classifier and backbone terms as in the shared pipeline. */
const ZS3NET_LOSSES: LossSpec = {
  clsReal: { backbone: 0.5, classifier: 1 },
  clsFake: { classifier: 0, generator: 0 },
  mmd: { generator: 50, sigmas: [...ZS3NET_SIGMAS] },
  clsTransfer: { classifier: 1, generator: 1 },
};

/** The `model` section schema of the 'zs3net' recipe. */
export const zs3netSchema = z.strictObject({
  type: z.literal('zs3net'),
  backbone: backboneSchema,
  generator: z
    .strictObject({
      hidden: z.tuple([z.int().min(1).max(MODEL_LIMITS.hidden)]).default([256]),
      dropout: z.tuple([z.number().min(0).lt(1)]).default([0.5]),
    })
    .prefault({}),
  discriminator: discriminatorSchema,
  losses: lossesSchema(ZS3NET_LOSSES),
  transferPrior: transferPriorSchema,
});

/** The `model` section of a ZS3Net config (defaults filled). */
export type Zs3netModelConfig = z.output<typeof zs3netSchema> & ModelConfigBase;

export const zs3net: Recipe<Zs3netModelConfig, typeof zs3netSchema> = {
  type: 'zs3net',
  description: 'ZS3Net: GMMN generator (MMD only, σ 2…80), no SIM, no adversarial term, no GAN head',
  schema: zs3netSchema,
  losses: ZS3NET_LOSSES,
  modules(c) {
    const { name, ...options } = c.backbone;
    return {
      backbone: { name, options },
      latent: null,
      generator: { name: 'gmmn', options: { hidden: [...c.generator.hidden], dropout: [...c.generator.dropout] } },
      discriminator: { ...c.discriminator, ganHead: false },
    };
  },
  parameterGroups: () => [
    { name: 'backbone', part: 'backbone', prefixes: ['backbone.'] },
    { name: 'classifier', part: 'classifier', prefixes: ['disc.'] },
    { name: 'generator', part: 'generator', prefixes: ['generator.'] },
  ],
};
