/**
 * Pipelines as data: a `TransformConfig[]` (validated by {@link transformConfigSchema},
 * discriminated on `type`) becomes one {@link Transform} with {@link buildPipeline}.
 */
import { z } from 'zod';
import type { Normalization } from '../types';
import { compose, flip, normalize, pad, randomCrop, randomScale, randomScaleCrop, resizeLongSide, resizeTo, type Transform } from './transforms';

/**
 * Upper bounds of a pipeline's sizes: a side (longSide, height, width) of at most 8192 pixels, a
 * scale factor of at most 16. A value above is a config error naming the key.
 */
export const TRANSFORM_LIMITS = { side: 8192, scale: 16 } as const;

const side = z.number().int().positive().max(TRANSFORM_LIMITS.side);
const factor = () => z.number().positive().max(TRANSFORM_LIMITS.scale);

/** The zod schema of one transform config (strict objects, discriminated on `type`). */
export const transformConfigSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      type: z.literal('resize'),
      longSide: side.optional().describe('length of the longer side after resizing (aspect ratio kept)'),
      rounding: z.enum(['round', 'floor']).optional().describe("with longSide: the shorter side ⌊side·s + 0.5⌋ ('round', default) or ⌊longSide·shorter/longer⌋ ('floor', the SIGN release's loader)"),
      height: side.optional().describe('with width: resize to exactly height×width (aspect ratio not kept; the SIGN release warps to 513×513)'),
      width: side.optional(),
    })
    .refine((t) => (t.longSide !== undefined) !== (t.height !== undefined || t.width !== undefined), { message: 'give either longSide, or height and width', path: ['longSide'] })
    .refine((t) => (t.height === undefined) === (t.width === undefined), { message: 'height and width go together', path: ['width'] })
    .refine((t) => t.rounding === undefined || t.longSide !== undefined, { message: 'rounding applies to longSide only', path: ['rounding'] })
    .describe('resize so that the longer side is longSide, or to height×width (image bilinear, labels nearest, as OpenCV)'),
  z
    .strictObject({ type: z.literal('randomScale'), min: factor(), max: factor() })
    .refine((t) => t.min <= t.max, { message: 'min must not exceed max', path: ['max'] })
    .describe('rescale by a factor drawn uniformly from [min, max]'),
  z.strictObject({ type: z.literal('randomCrop'), height: side, width: side }).describe('a random height×width window, padding first (image 0, labels ignore) when smaller'),
  z
    .strictObject({ type: z.literal('randomScaleCrop'), min: factor(), max: factor(), height: side, width: side })
    .refine((t) => t.min <= t.max, { message: 'min must not exceed max', path: ['max'] })
    .describe("the SIGN release's step: rescale by f ~ U[min, max], pad centred to max(size before scaling, crop) (image 0, labels ignore), random height×width window"),
  z.strictObject({ type: z.literal('flip'), probability: z.number().min(0).max(1).optional().describe('default 0.5') }).describe('horizontal flip'),
  z.strictObject({ type: z.literal('pad'), height: side, width: side }).describe('pad bottom/right to at least height×width (image 0, labels ignore)'),
  z.strictObject({ type: z.literal('normalize') }).describe("the dataset's normalization; added at the end of a pipeline that has none"),
]);

/** A transform config, as written in a pipeline (`data.train.pipeline`). */
export type TransformConfig = z.infer<typeof transformConfigSchema>;

/** The names of the transform types, for messages. */
export const TRANSFORM_TYPES = ['resize', 'randomScale', 'randomCrop', 'randomScaleCrop', 'flip', 'pad', 'normalize'] as const;

/** What {@link buildPipeline} needs from the dataset. */
export interface PipelineContext {
  normalization: Normalization;
  /** Label value of padded pixels (255). */
  ignoreIndex: number;
}

/**
 * One transform from a pipeline config, in order. A pipeline without a `normalize` step gets one
 * at the end (model input is always normalised). Padding fills 0 in the space it runs in: after
 * `normalize` that is 0 of the normalised input (the SIGN release normalises first, so its
 * padding is the mean colour); before it, black. Geometric steps work on uint8 and float32
 * images alike (float32 resizing as OpenCV's on CV_32F).
 *
 * @example
 * const t = buildPipeline([{ type: 'randomScale', min: 0.5, max: 2 }, { type: 'randomCrop', height: 64, width: 64 }, { type: 'flip' }], meta);
 * const out = t(sample, rng); // 64×64, Float32Array image
 */
export function buildPipeline(configs: readonly TransformConfig[], ctx: PipelineContext): Transform {
  const parsed = z.array(transformConfigSchema).safeParse(configs);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`pipeline${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
  }
  const steps = parsed.data.map((t): Transform => {
    switch (t.type) {
      case 'resize':
        return t.longSide !== undefined ? resizeLongSide(t.longSide, t.rounding ?? 'round') : resizeTo(t.height!, t.width!);
      case 'randomScale':
        return randomScale(t.min, t.max);
      case 'randomCrop':
        return randomCrop(t.height, t.width, ctx.ignoreIndex);
      case 'randomScaleCrop':
        return randomScaleCrop(t.min, t.max, t.height, t.width, ctx.ignoreIndex);
      case 'flip':
        return flip(t.probability ?? 0.5);
      case 'pad':
        return pad(t.height, t.width, ctx.ignoreIndex);
      case 'normalize':
        return normalize(ctx.normalization);
    }
  });
  if (!parsed.data.some((t) => t.type === 'normalize')) steps.push(normalize(ctx.normalization));
  return compose(steps);
}
