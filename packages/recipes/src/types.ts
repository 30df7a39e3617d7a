/**
 * The recipe contract: what a model recipe declares (its modules, its losses as data with
 * per-part weights, its parameter groups) and the names the trainer uses to read them. A recipe
 * is one folder under `src/<type>/` exporting a {@link Recipe}, plus one line in `src/registry.ts`
 * (or `recipes.register(...)` from outside); the trainer never names one.
 */
import type { z } from 'zod';

/**
 * The parts of a model that a loss can reach, each updated by its own optimizer (the release's
 * `back_opt`, `dis_opt`, `gen_opt`):
 * - `backbone`: E and the SIM (the release's `back` holds both);
 * - `classifier`: D with its classification head C (shared layer, GAN head, C);
 * - `generator`: G.
 */
export type Part = 'backbone' | 'classifier' | 'generator';

/** Every part, in update order. */
export const PARTS: readonly Part[] = ['backbone', 'classifier', 'generator'];

/** What a model needs to know about its classes. */
export interface ClassInfo {
  /** All class names, index = class id. */
  classNames: string[];
  /** Seen object class ids (the background, which is trained as seen, is not listed here). */
  seen: number[];
  /** Unseen class ids, ascending. */
  unseen: number[];
  /** Id of the background class, or null when every class is an object class. */
  background: number | null;
  /** Class embedding matrix M, one row per class id, row-major [K, E]. */
  embeddings: Float32Array;
  /** E, the embedding width. */
  embeddingDim: number;
}

/**
 * The losses of a recipe as data: for each term, its weight on each part it can reach (0 = the
 * term does not update that part). An absent term is not computed. Which parts a term can reach
 * is fixed by the data flow ({@link LOSS_TERMS}); the release's separate per-optimizer losses
 * (`loss_B`, `loss_D`, `loss_G`) are the columns of this table.
 */
export interface LossSpec {
  /** Step 1: CE of C on the real features F (pseudo-label weights in self-training). */
  clsReal?: { backbone: number; classifier: number };
  /** Step 1: KL of the SIM's latent code to N(0, I), averaged over labelled pixels. */
  kl?: { backbone: number };
  /** Step 1: D's adversarial loss on detached real and generated features, L1(D(F), 1) + L1(D(G), 0). */
  advD?: { classifier: number };
  /** Step 1: CE of C on generated features of the labelled pixels. */
  clsFake?: { classifier: number; generator: number };
  /** Step 1: class-wise MMD between real and generated features (G's content loss), with its kernel widths. */
  mmd?: { generator: number; sigmas: number[] };
  /** Step 1: G's adversarial loss, L1(D(G), 1). */
  advG?: { generator: number };
  /** Step 2: CE of C on generated features of S ∪ U (real seen features may be mixed in). */
  clsTransfer?: { classifier: number; generator: number };
}

export type LossTerm = keyof LossSpec;

/** The parts each term can reach (the data flow; a weight on another part is a config error). */
export const LOSS_TERMS: { readonly [T in LossTerm]-?: { readonly parts: readonly Part[]; readonly step: 'step1' | 'step2' } } = {
  clsReal: { parts: ['backbone', 'classifier'], step: 'step1' },
  kl: { parts: ['backbone'], step: 'step1' },
  advD: { parts: ['classifier'], step: 'step1' },
  clsFake: { parts: ['classifier', 'generator'], step: 'step1' },
  mmd: { parts: ['generator'], step: 'step1' },
  advG: { parts: ['generator'], step: 'step1' },
  clsTransfer: { parts: ['classifier', 'generator'], step: 'step2' },
};

/**
 * The class prior of the transfer step (METHOD §4.2), from which the generated label maps are
 * drawn:
 * - `'cagnet'`: ∝ 1 + r·[c ∈ U] over the classes without background (CaGNet's `gen_unseen_rate`,
 *   r ≥ 0, unbounded; 9 in its VOC config);
 * - `'mixture'`: (1 − r)·uniform(all classes, background included) + r·uniform(U), r ∈ [0, 1].
 */
export type TransferPrior = { type: 'cagnet'; unseenRate: number } | { type: 'mixture'; unseenRate: number };

/**
 * A named set of parameters (by path prefix, and optionally suffix), updated by the optimizer of
 * `part`. A parameter belongs to the most specific group that matches it: the longest matching
 * prefix, then a group with a matching suffix before one without (so 'backbone.aspp.' with
 * suffix '.bias' takes the ASPP biases out of 'backbone.aspp.', which takes the ASPP out of
 * 'backbone.'). A group may be empty (e.g. 'aspp' with a backbone that has none).
 */
export interface ParameterGroupSpec {
  /** 'backbone', 'aspp', 'sim', 'classifier', 'gan', 'generator', … (keys of an optimizer's `lrMult` / `decayMult`). */
  name: string;
  part: Part;
  /** Parameter path prefixes of the model ('backbone.', 'disc.gan.', …). */
  prefixes: readonly string[];
  /** When set, the path must also end with one of these ('.bias'). */
  suffixes?: readonly string[];
}

/** The modules a recipe is made of, as data; `buildModel` turns it into a {@link GzsModel}. */
export interface ModuleSpec {
  /** E: a backbone of @sign/backbones' registry; `options.channels` is the feature width D. */
  backbone: { name: string; options: { channels: number; [key: string]: unknown } };
  /**
   * The SIM that produces F and the latent code z (null: no SIM, F = sigmoid(h), no latent).
   * `encodingModule: false` is CaGNet's contextual module alone (positional must be 'none').
   * `variant` (default 'paper'): METHOD §2's SIM, or the SIGN release's network types
   * ('release-v1', 'release-v2'; relative encoding and encoding module always, see @sign/sim).
   */
  latent: {
    variant?: 'paper' | 'release-v1' | 'release-v2';
    positional: 'relative' | 'absolute' | 'none';
    encodingModule: boolean;
    hidden: number;
    dilations: number[];
    /** 'release-v2' only: channels of the positional pool (default D). */
    positionalPoolChannels?: number;
  } | null;
  /** G: a generator of @sign/generator's registry, with its options (widths). */
  generator: { name: string; options: Record<string, unknown> };
  /** D/C; `ganHead: false` leaves out the GAN head (ZS3Net). */
  discriminator: { hidden: number; dropout: number; ganHead: boolean };
}

/** The keys every recipe's model config has (each recipe adds its own). */
export interface ModelConfigBase {
  type: string;
  backbone: { name: string; channels: number; [key: string]: unknown };
  losses: LossSpec;
  transferPrior: TransferPrior;
}

/**
 * A model recipe: data, no training code. The trainer reads `schema` (the `model` section of a
 * config, discriminated on `type`), builds `modules(config)` with `buildModel`, updates the
 * parameter groups with their parts' optimizers and computes `config.losses` (defaults:
 * {@link Recipe.losses}, the paper's weights).
 */
export interface Recipe<C extends ModelConfigBase = ModelConfigBase, S extends z.ZodObject = z.ZodObject> {
  /** Registry name, equal to the config's `model.type`. */
  readonly type: string;
  /** One line for docs and `--help`. */
  readonly description: string;
  /**
   * The zod schema of the `model` section: `type: z.literal(<type>)` plus the recipe's keys, strict
   * (unknown keys are errors), defaults = the paper's settings.
   */
  readonly schema: S;
  /** The paper's loss weights (the schema's defaults for `losses`). */
  readonly losses: LossSpec;
  /** The modules for a validated model config. */
  modules(config: C): ModuleSpec;
  /** Parameter groups; every parameter of the built model is in exactly one. */
  parameterGroups(config: C): ParameterGroupSpec[];
}
