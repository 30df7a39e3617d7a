/**
 * The experiment config schema (zod 4). One schema gives the TypeScript type (`z.infer`), the
 * validation (`validateConfig`) and the JSON schema (`configJsonSchema`). The parts that plug-ins
 * define come from their registries and are discriminated unions on `type`: `data` (datasets),
 * `model` (recipes), each optimizer and its `lrSchedule`, `selfTraining`.
 */
import { z } from 'zod';
import { builtinModelSchema, recipes } from '@sign/recipes';
import { dataConfigSchema, type DataConfig } from '@sign/datasets';
import {
  adamSchema,
  adamwSchema,
  constantSchema,
  cosineSchema,
  lrSchedules,
  optimizers,
  polySchema,
  sgdSchema,
} from '../optim/registry';
import { astSchema, noneSchema, selfTrainingRules, topPSchema } from '../self-training';

/** Backend names understood by `@sign/core`'s `initBackend`. */
export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKENDS)[number];

function union(schemas: readonly z.ZodObject[]): z.ZodType {
  if (schemas.length === 0) throw new Error('config schema: a registry is empty');
  return z.discriminatedUnion('type', schemas as unknown as [z.ZodObject, ...z.ZodObject[]]);
}

/**
 * Upper bounds of the sizes and counts of an experiment config (the README's table): a value
 * above one is an error naming the key, before anything is built. Far above every paper setting
 * (batch 8–16, 20k–100k iterations, 64–2048 pixels), low enough that no bound value can make a
 * run allocate without limit or never end.
 */
export const CONFIG_LIMITS = {
  /** schedule.batchSize */
  batchSize: 1024,
  /** each of schedule.step1Iters, transferIters, selfTrainingIters, alternateEvery; eval.every; runtime.checkpointEvery */
  iterations: 10_000_000,
  /** schedule.pixelsPerClass and schedule.transferPixels */
  pixels: 1_000_000,
  /** seed (and data.controlSeed): 2^32 − 1 */
  seed: 4_294_967_295,
  /** characters of `name` */
  nameLength: 200,
  /**
   * optimizers.<part>.lr: far above any learning rate that trains (the papers use 2.5e-4 to
   * 1e-2); 1e6 used to run to the end with hIoU 0 and exit 0, its weights finite but useless.
   */
  lr: 10,
  /** each optimizers.<part>.lrMult value (the papers use 10 for new heads) */
  lrMult: 1000,
} as const;

const iterations = () => z.int().min(0).max(CONFIG_LIMITS.iterations);

/** The steps of the three stages and what each step samples. */
export const scheduleSchema = z.strictObject({
  batchSize: z.int().min(1).max(CONFIG_LIMITS.batchSize),
  /** Iterations of step 1 alone (feature/SIM phase, METHOD §4.1). */
  step1Iters: iterations(),
  /** Iterations of the transfer stage (step 1 and step 2 alternating every `alternateEvery`). */
  transferIters: iterations(),
  alternateEvery: iterations().min(1),
  /** Iterations of self-training (same alternation, teacher pseudo labels); skipped with selfTraining 'none'. */
  selfTrainingIters: iterations(),
  /** Batch size of the self-training stage (default `batchSize`; the SIGN release uses 4). Its augmentation: `data.selfTraining`. */
  selfTrainingBatchSize: z.int().min(1).max(CONFIG_LIMITS.batchSize).optional(),
  /** Step 1: pixels per class (class-balanced sample) fed to G, D and the MMD. */
  pixelsPerClass: z.int().min(1).max(CONFIG_LIMITS.pixels),
  /** Generated pixels per step-2 iteration. */
  transferPixels: z.int().min(1).max(CONFIG_LIMITS.pixels),
  /** Real labelled pixels mixed into each step-2 iteration, as a fraction of transferPixels (0 = none). */
  transferMixReal: z.number().min(0).max(4),
});

/** Evaluation settings. */
export const evalSchema = z
  .strictObject({
    /** Evaluate every this many steps (0: only at the end). */
    every: iterations().default(0),
    /** Calibrated stacking: γ subtracted from the logits of every class that is not unseen. */
    calibrate: z.number().default(0),
    /** Count the background class in the metrics (ZS3Net's protocol) instead of excluding it (CaGNet/SIGN). */
    countBackground: z.boolean().default(false),
    /**
     * 'standard': the network on each test image as the test pipeline gives it, logits upsampled
     * bilinearly to the label's size. 'release' (the SIGN release's and CaGNet's): the normalised
     * image warped to `inputSize`×`inputSize` (bilinear), argmax of C on the feature grid, scored
     * against the label map nearest-resized to that grid; the standard protocol is computed from
     * the same network run beside it (logits to the label's size).
     */
    protocol: z.enum(['standard', 'release']).default('standard'),
    /** The release protocol's network input side (the release warps every test image to 513×513). */
    inputSize: z.int().min(1).default(513),
  })
  .prefault({});

export const runtimeSchema = z
  .strictObject({
    backend: z.enum(BACKENDS).default('auto'),
    /** Write the checkpoint every this many steps (0: only at the end and on abort). */
    checkpointEvery: iterations().default(100),
  })
  .prefault({});

/** The keys every optimizer has, with its lr schedule from `schedules`. */
function optimizerCommon<S extends z.ZodType>(schedules: S) {
  return {
    lr: z.number().min(0).max(CONFIG_LIMITS.lr),
    weightDecay: z.number().min(0).default(0),
    lrSchedule: schedules.prefault({ type: 'constant' } as z.input<S>),
    /** Learning-rate multiplier per parameter group of the recipe (e.g. 10 for a new head). */
    lrMult: z.record(z.string(), z.number().min(0).max(CONFIG_LIMITS.lrMult)).default({}),
    /** Weight-decay multiplier per parameter group (e.g. 0 for the ASPP biases, as the SIGN release). */
    decayMult: z.record(z.string(), z.number().min(0).max(CONFIG_LIMITS.lrMult)).default({}),
    /**
     * Clip this part's gradient to this global L2 norm before each update (PyTorch's
     * `clip_grad_norm_`, over all of the part's variables); absent: no clipping.
     */
    clipGradNorm: z.number().positive().optional(),
  };
}

/** Builds the experiment schema from its plug-in parts (unions over the registries, or the built-ins). */
export function buildExperimentSchema<D extends z.ZodType, M extends z.ZodType, O extends z.ZodType, S extends z.ZodType>(p: {
  data: D;
  model: M;
  optimizer: O;
  selfTraining: S;
}) {
  return z.strictObject({
    /** Free-form run name (reports, default output folder). */
    name: z.string().min(1).max(CONFIG_LIMITS.nameLength),
    /** Seed for everything: data, init, dropout, noise, batch order. */
    seed: z.int().min(0).max(CONFIG_LIMITS.seed),
    data: p.data,
    model: p.model,
    schedule: scheduleSchema,
    /** One optimizer per part of the model (see @sign/recipes' `Part`). */
    optimizers: z.strictObject({ backbone: p.optimizer, classifier: p.optimizer, generator: p.optimizer }),
    selfTraining: p.selfTraining,
    eval: evalSchema,
    runtime: runtimeSchema,
  });
}

const registered = <T>(r: { names(): string[]; get(n: string): T }): T[] => r.names().map((n) => r.get(n));

/**
 * The experiment schema over everything registered now (recipes, datasets, optimizers,
 * schedules, self-training rules), so plug-ins registered by the user validate too.
 */
export function experimentSchema() {
  const common = optimizerCommon(union(registered(lrSchedules).map((d) => d.schema)));
  return buildExperimentSchema({
    data: dataConfigSchema(),
    model: union(registered(recipes).map((r) => r.schema)),
    optimizer: union(registered(optimizers).map((d) => d.schema.extend(common))),
    selfTraining: union(registered(selfTrainingRules).map((r) => r.schema)),
  });
}

/** The schema of the built-in plug-ins, for the static type. */
const staticCommon = optimizerCommon(z.discriminatedUnion('type', [polySchema, constantSchema, cosineSchema]));
const builtinSchema = buildExperimentSchema({
  data: z.custom<DataConfig>(),
  model: builtinModelSchema,
  optimizer: z.discriminatedUnion('type', [sgdSchema.extend(staticCommon), adamSchema.extend(staticCommon), adamwSchema.extend(staticCommon)]),
  selfTraining: z.discriminatedUnion('type', [noneSchema, astSchema, topPSchema]),
});

/** A validated experiment config (defaults filled in). */
export type ExperimentConfig = z.output<typeof builtinSchema>;
/** An experiment config as written (defaults may be left out). */
export type ExperimentConfigInput = z.input<typeof builtinSchema>;
export type ModelConfig = ExperimentConfig['model'];
export type OptimizerConfig = ExperimentConfig['optimizers']['backbone'];
export type SelfTrainingConfig = ExperimentConfig['selfTraining'];

/**
 * The JSON schema (draft 2020-12) of the input config over everything registered now, generated
 * from the same zod schema that validates (a snapshot test keeps it honest).
 *
 * @example
 * writeFileSync('config.schema.json', JSON.stringify(configJsonSchema(), null, 2));
 */
export function configJsonSchema(): Record<string, unknown> {
  return { title: 'ExperimentConfig', ...z.toJSONSchema(experimentSchema(), { io: 'input', unrepresentable: 'any' }) };
}
