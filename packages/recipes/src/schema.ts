/**
 * zod building blocks shared by the recipes' `model` schemas: the backbone section, D/C, the
 * SIM, the loss table with per-part weights, and the transfer prior. Defaults are the papers'.
 */
import { z } from 'zod';
import { LOSS_TERMS, type LossSpec, type LossTerm } from './types';

const weight = z.number().min(0);
const rate = z.number().min(0).lt(1);

/**
 * Upper bounds of a model section's sizes (the trainer README's table): a value above one is a
 * config error naming the key. Far above the papers' widths (D = 600, 1024/256 hidden units).
 */
export const MODEL_LIMITS = {
  /** model.backbone.channels (D), and every number among the backbone's own keys (width, headChannels, …) */
  channels: 4096,
  /** model.discriminator.hidden, model.sim.hidden, every width of model.generator.hidden */
  hidden: 16384,
  /** each dilation of model.sim.dilations */
  dilation: 64,
  /** items of any list in a model section (dilations, generator widths, dropouts, MMD sigmas) */
  listLength: 16,
} as const;

const width = () => z.int().min(1).max(MODEL_LIMITS.hidden);

/**
 * `model.backbone`: a registry name and the feature width D; backbone-specific keys pass through
 * to its factory, except `pretrained` and `pretrainedInput`, which the trainer reads.
 */
export const backboneSchema = z.looseObject({
  name: z.string().min(1),
  /** D: channels of the backbone output (also the SIM's latent width). */
  channels: z.int().min(1).max(MODEL_LIMITS.channels),
  /**
   * A file of pretrained weights (ImageNet ResNet-101 `.pth`: torchvision's or a Caffe-converted
   * DeepLab's names) loaded into the backbone before training starts (not when resuming); read by
   * the trainer through the backbone's `loadPretrained`.
   */
  pretrained: z.string().min(1).max(4096).optional(),
  /** The input those weights were trained on, when not their naming's usual one ('torchvision': RGB, ImageNet mean/std; 'caffe': BGR minus the mean pixel). */
  pretrainedInput: z.enum(['torchvision', 'caffe']).optional(),
});

/** Keys of `model.backbone` that are the trainer's, not the backbone factory's. */
export const TRAINER_BACKBONE_KEYS: readonly string[] = ['pretrained', 'pretrainedInput'];

/** `model.discriminator`: D/C widths (METHOD §2: 1024, dropout 0.5). */
export const discriminatorSchema = z
  .strictObject({ hidden: width().default(1024), dropout: rate.default(0.5) })
  .prefault({});

/** `model.sim` keys shared by SIGN and CaGNet (METHOD §2: 256 channels, dilations 1, 2, 5). */
export const simShape = {
  hidden: width().default(256),
  dilations: z.array(z.int().min(1).max(MODEL_LIMITS.dilation)).min(1).max(MODEL_LIMITS.listLength).default([1, 2, 5]),
};

/** `model.generator` of the latent-conditioned MLP (SIGN, CaGNet): widths (default METHOD §2's). */
export const mlpGeneratorSchema = z
  .strictObject({
    hidden: z.array(width()).min(1).max(MODEL_LIMITS.listLength).optional(),
    dropout: z.array(rate).min(1).max(MODEL_LIMITS.listLength).optional(),
  })
  .prefault({});

/**
 * The `losses` table of a recipe: one entry per term the recipe computes, each a strict object
 * with a weight per part it can reach (defaults: `defaults`, the paper's). A term the recipe does
 * not have is an unknown key; a part the term cannot reach too.
 */
export function lossesSchema(defaults: LossSpec) {
  const shape: Record<string, z.ZodType> = {};
  for (const term of Object.keys(defaults) as LossTerm[]) {
    const d = defaults[term] as Record<string, number | number[]>;
    const fields: Record<string, z.ZodType> = {};
    for (const part of LOSS_TERMS[term].parts) {
      if (!(part in d)) throw new Error(`lossesSchema: default of '${term}' has no weight for '${part}'`);
      fields[part] = weight.default(d[part] as number);
    }
    if (term === 'mmd') fields.sigmas = z.array(z.number().positive()).min(1).max(MODEL_LIMITS.listLength).default(d.sigmas as number[]);
    shape[term] = z.strictObject(fields).prefault({});
  }
  return z.strictObject(shape).prefault({});
}

/** CaGNet's `gen_unseen_rate` in its VOC config. */
export const CAGNET_UNSEEN_RATE = 9;

/** `model.transferPrior` (see {@link TransferPrior}); default CaGNet's. */
export const transferPriorSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('cagnet'), unseenRate: z.number().min(0).default(CAGNET_UNSEEN_RATE) }),
    z.strictObject({ type: z.literal('mixture'), unseenRate: z.number().min(0).max(1).default(0.5) }),
  ])
  .prefault({ type: 'cagnet' });

/** The MMD kernel widths of METHOD §3 (SIGN, CaGNet). */
export const SIGN_SIGMAS: readonly number[] = [2, 5, 10, 20, 40, 60];
/** ZS3Net's (METHOD §6). */
export const ZS3NET_SIGMAS: readonly number[] = [2, 5, 10, 20, 40, 80];

/**
 * The loss weights of the CaGNet VOC config that SIGN inherits (METHOD §3): real CE 0.5 on the
 * backbone and 1 on the classifier, KL 100, MMD 50, adversarial 1, fake CE 0 in step 1, and in
 * the transfer step C's CE 1 with G trained through it (as the release does).
 */
export const CAGNET_LOSSES: Required<LossSpec> = {
  clsReal: { backbone: 0.5, classifier: 1 },
  kl: { backbone: 100 },
  advD: { classifier: 1 },
  clsFake: { classifier: 0, generator: 0 },
  mmd: { generator: 50, sigmas: [...SIGN_SIGMAS] },
  advG: { generator: 1 },
  clsTransfer: { classifier: 1, generator: 1 },
};
