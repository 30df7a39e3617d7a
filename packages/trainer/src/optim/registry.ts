/**
 * Optimizers and learning-rate schedules as registry entries (`Registry.shared('optimizer')`,
 * `Registry.shared('lr-schedule')` of @sign/core): each entry is its config schema (discriminated
 * on `type`) plus a factory, so a config names them and a user adds one with `register`.
 */
import { Registry } from '@sign/core';
import { z } from 'zod';
import { Adam, SgdMomentum, type LrMultiplier, type Optimizer } from './optimizers';

/** A learning-rate schedule: `lr(step) = base · factor(step, total)` over the run's global steps. */
export interface LrScheduleDefinition<C extends { type: string } = { type: string }> {
  readonly type: string;
  readonly description: string;
  /** Strict zod object with `type: z.literal(<type>)` and the schedule's keys (with defaults). */
  readonly schema: z.ZodObject;
  /** The factor at 0-based `step` of `total` steps. */
  factor(config: C, step: number, total: number): number;
}

/** An optimizer type: its config schema and how to create one. */
export interface OptimizerDefinition<C extends { type: string } = { type: string }> {
  readonly type: string;
  readonly description: string;
  /**
   * Strict zod object with `type: z.literal(<type>)` and the optimizer's own keys; the common keys
   * (`lr`, `weightDecay`, `lrSchedule`, `lrMult`, `decayMult`) are added by the experiment schema.
   */
  readonly schema: z.ZodObject;
  /** `lrMult` / `decayMult`: the multipliers of a variable's learning rate and weight decay (1 when not given). */
  create(config: C & { lr: number; weightDecay: number }, lrMult: LrMultiplier, decayMult?: LrMultiplier): Optimizer;
}

// ------------------------------------------------------------------------------------------------
// Schedules

export const polySchema = z.strictObject({ type: z.literal('poly'), power: z.number().min(0).default(0.9) });
export const constantSchema = z.strictObject({ type: z.literal('constant') });
export const cosineSchema = z.strictObject({ type: z.literal('cosine'), minFactor: z.number().min(0).max(1).default(0) });

const poly: LrScheduleDefinition<{ type: 'poly'; power: number }> = {
  type: 'poly',
  description: 'base · (1 − step/total)^power (DeepLab, CaGNet)',
  schema: polySchema,
  factor: (c, step, total) => (total <= 0 ? 1 : Math.pow(Math.max(0, 1 - step / total), c.power)),
};

const constant: LrScheduleDefinition<{ type: 'constant' }> = {
  type: 'constant',
  description: 'base at every step',
  schema: constantSchema,
  factor: () => 1,
};

const cosine: LrScheduleDefinition<{ type: 'cosine'; minFactor: number }> = {
  type: 'cosine',
  description: 'base · (m + (1 − m)·(1 + cos(π·step/total))/2), m = minFactor',
  schema: cosineSchema,
  factor: (c, step, total) =>
    total <= 0 ? 1 : c.minFactor + ((1 - c.minFactor) * (1 + Math.cos((Math.PI * Math.min(step, total)) / total))) / 2,
};

/** The lr-schedule registry: 'poly', 'constant', 'cosine'. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const lrSchedules: Registry<LrScheduleDefinition<any>> = Registry.shared<LrScheduleDefinition<any>>('lr-schedule')
  .provide('poly', poly)
  .provide('constant', constant)
  .provide('cosine', cosine);

/**
 * The learning rate at a step: `base · factor`, the factor from the schedule registered under
 * `schedule.type` (multiplied last, so a factor of 1 gives `base` exactly).
 *
 * @example
 * scheduledLr(0.01, { type: 'poly', power: 0.9 }, 50, 100); // 0.01 · 0.5^0.9 ≈ 0.00536
 */
export function scheduledLr(base: number, schedule: { type: string }, step: number, total: number): number {
  return base * lrSchedules.get(schedule.type).factor(schedule, step, total);
}

// ------------------------------------------------------------------------------------------------
// Optimizers

const beta = z.number().min(0).lt(1);

export const sgdSchema = z.strictObject({ type: z.literal('sgd'), momentum: z.number().min(0).max(1).default(0.9) });

const sgd: OptimizerDefinition<{ type: 'sgd'; momentum: number }> = {
  type: 'sgd',
  description: 'SGD with heavy-ball momentum and L2 weight decay (the paper\'s backbone optimizer)',
  schema: sgdSchema,
  create: (c, lrMult, decayMult) => new SgdMomentum(c.lr, c.momentum, c.weightDecay, lrMult, decayMult),
};

const adamShape = {
  betas: z.tuple([beta, beta]).default([0.9, 0.999]),
  eps: z.number().positive().default(1e-8),
};

export const adamSchema = z.strictObject({ type: z.literal('adam'), ...adamShape });
export const adamwSchema = z.strictObject({ type: z.literal('adamw'), ...adamShape });

const adam: OptimizerDefinition<{ type: 'adam'; betas: [number, number]; eps: number }> = {
  type: 'adam',
  description: 'Adam with L2 weight decay added to the gradient (PyTorch Adam)',
  schema: adamSchema,
  create: (c, lrMult, decayMult) => new Adam(c.lr, c.betas[0], c.betas[1], c.eps, c.weightDecay, lrMult, false, decayMult),
};

const adamw: OptimizerDefinition<{ type: 'adamw'; betas: [number, number]; eps: number }> = {
  type: 'adamw',
  description: 'Adam with decoupled weight decay (AdamW)',
  schema: adamwSchema,
  create: (c, lrMult, decayMult) => new Adam(c.lr, c.betas[0], c.betas[1], c.eps, c.weightDecay, lrMult, true, decayMult),
};

/** The optimizer registry: 'sgd', 'adam', 'adamw'. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const optimizers: Registry<OptimizerDefinition<any>> = Registry.shared<OptimizerDefinition<any>>('optimizer')
  .provide('sgd', sgd)
  .provide('adam', adam)
  .provide('adamw', adamw);
