/**
 * Self-training rules as registry entries (`Registry.shared('self-training')`): how a frozen
 * teacher's class probabilities become the student's targets on the ignored pixels. A rule is
 * its config schema (discriminated on `type`) plus `targets`; 'none' has no self-training stage.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { Registry } from '@sign/core';
import { annealedSelfTrainingTargets, topPPseudoLabelsAsync, type SelfTrainingTargets } from '@sign/losses';
import { z } from 'zod';

/** Where in the self-training stage a step is: `offset` of `iters` steps (0-based). */
export interface StageProgress {
  offset: number;
  iters: number;
}

export interface SelfTrainingRule<C extends { type: string } = { type: string }> {
  readonly type: string;
  readonly description: string;
  /** Strict zod object with `type: z.literal(<type>)` and the rule's keys. */
  readonly schema: z.ZodObject;
  /** False for 'none': no teacher, no self-training stage. */
  readonly usesTeacher: boolean;
  /**
   * Targets for the student: probs [N, h, w, K] of the teacher, labels [N, h, w] int32 (ignore
   * where unlabelled) → `{ labels, weights }` [N, h, w] (the caller disposes them). Labelled
   * pixels keep their label and weight 1.
   */
  targets(
    config: C,
    probs: tf.Tensor4D,
    labels: tf.Tensor3D,
    unseen: number[],
    progress: StageProgress,
  ): Promise<SelfTrainingTargets>;
}

export const noneSchema = z.strictObject({ type: z.literal('none') });

const none: SelfTrainingRule<{ type: 'none' }> = {
  type: 'none',
  description: 'no self-training stage',
  schema: noneSchema,
  usesTeacher: false,
  targets: () => Promise.reject(new Error("self-training 'none' has no targets")),
};

/** The AST temperature at a step: T, or linear from T to `temperatureEnd` over the stage. */
export function astTemperature(c: { temperature: number; temperatureEnd?: number }, p: StageProgress): number {
  if (c.temperatureEnd === undefined) return c.temperature;
  const iters = Math.max(1, p.iters - 1);
  return c.temperature + ((c.temperatureEnd - c.temperature) * p.offset) / iters;
}

export const astSchema = z.strictObject({
    type: z.literal('ast'),
    /** T ≥ 0 (METHOD §4.4); 0 gives every pseudo label weight 1. */
    temperature: z.number().min(0),
    /** When set, T goes linearly from `temperature` to this over the self-training stage. */
    temperatureEnd: z.number().min(0).optional(),
  });

const ast: SelfTrainingRule<{ type: 'ast'; temperature: number; temperatureEnd?: number }> = {
  type: 'ast',
  description: 'annealed self-training (SIGN): every ignored pixel gets its best unseen class, weight exp(T·(p − p_max)) per image',
  schema: astSchema,
  usesTeacher: true,
  targets: async (c, probs, labels, unseen, progress) =>
    annealedSelfTrainingTargets(probs, labels, unseen, { temperature: astTemperature(c, progress) }),
};

export const topPSchema = z.strictObject({
    type: z.literal('top-p'),
    /** rule 'rank': an integer ≥ 1 (ranks); 'percentPerClass': a share in (0, 1]. */
    topP: z.number().positive(),
    rule: z.enum(['rank', 'percentPerClass']).default('rank'),
  }).superRefine((v, ctx) => {
    if (v.rule === 'rank' && !Number.isInteger(v.topP))
      ctx.addIssue({ code: 'custom', path: ['topP'], input: v.topP, message: `with rule 'rank', topP is a number of ranks (an integer >= 1), got ${v.topP}` });
    if (v.rule === 'percentPerClass' && v.topP > 1)
      ctx.addIssue({ code: 'custom', path: ['topP'], input: v.topP, message: `with rule 'percentPerClass', topP is a share in (0, 1], got ${v.topP}` });
  });

const topP: SelfTrainingRule<{ type: 'top-p'; topP: number; rule: 'rank' | 'percentPerClass' }> = {
  type: 'top-p',
  description: "CaGNet's self-training: keep a pseudo label only where an unseen class is in the teacher's top p; discard the rest",
  schema: topPSchema,
  usesTeacher: true,
  targets: (c, probs, labels, unseen) => topPPseudoLabelsAsync(probs, labels, unseen, { topP: c.topP, rule: c.rule }),
};

/** The self-training registry: 'none', 'ast', 'top-p'. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const selfTrainingRules: Registry<SelfTrainingRule<any>> = Registry.shared<SelfTrainingRule<any>>('self-training')
  .provide('none', none)
  .provide('ast', ast)
  .provide('top-p', topP);
