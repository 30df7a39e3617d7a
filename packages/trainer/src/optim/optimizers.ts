import * as tf from '@tensorflow/tfjs-core';

/**
 * Small optimizers with explicit, checkpointable state (the slots are named after the
 * variables, so a checkpoint stores them as `opt.<part>.<variable>.<slot>`).
 *
 * tfjs' own optimizers keep their state keyed by internal variable names and cannot change the
 * learning rate of momentum/Adam between steps; the trainer needs both (lr schedules, resume,
 * per-group learning-rate multipliers).
 */
export interface Optimizer {
  /** Base learning rate used by the next `apply` (a schedule sets it every step). */
  lr: number;
  /** Applies one update. `grads` maps a variable name to its gradient (disposed by the caller). */
  apply(vars: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void;
  /** Slot tensors by `<variable>.<slot>` (the optimizer's own tensors; do not dispose). */
  state(): Record<string, tf.Tensor>;
  /** Scalars to store in checkpoint metadata (e.g. Adam's step count). */
  scalars(): Record<string, number>;
  /** Replaces the state with copies of `tensors` and the given scalars. */
  load(tensors: Record<string, tf.Tensor>, scalars: Record<string, number>): void;
  dispose(): void;
}

/** Per-variable multiplier (the variable's parameter group's `lrMult` or `decayMult`; 1 by default). */
export type LrMultiplier = (variable: string) => number;

const one: LrMultiplier = () => 1;

function setSlot(slots: Map<string, tf.Variable>, key: string, value: tf.Tensor): void {
  const v = slots.get(key);
  if (v) v.assign(value);
  else slots.set(key, tf.variable(value, false));
}

function loadSlots(slots: Map<string, tf.Variable>, tensors: Record<string, tf.Tensor>): void {
  for (const v of slots.values()) v.dispose();
  slots.clear();
  for (const [k, t] of Object.entries(tensors)) slots.set(k, tf.variable(t.clone(), false));
}

/**
 * SGD with (heavy-ball, PyTorch-style) momentum and L2 weight decay:
 * `g' = g + wd·d·θ; v = μ·v + g'; θ = θ − lr·m·v` (m, d: the variable's lr and decay multipliers).
 *
 * @example
 * const opt = new SgdMomentum(0.01, 0.9, 5e-4);
 * opt.apply(model.partVariables('backbone'), grads);
 */
export class SgdMomentum implements Optimizer {
  private readonly slots = new Map<string, tf.Variable>();
  constructor(
    public lr: number,
    readonly momentum: number,
    readonly weightDecay: number,
    readonly lrMult: LrMultiplier = one,
    readonly decayMult: LrMultiplier = one,
  ) {}

  apply(vars: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const p = vars.get(name);
        if (!p || !g) continue;
        const wd = this.weightDecay * this.decayMult(name);
        const gd = wd > 0 ? tf.add(g, tf.mul(p, wd)) : g;
        const key = `${name}.momentum`;
        const prev = this.slots.get(key);
        const v = prev ? tf.add(tf.mul(prev, this.momentum), gd) : gd;
        setSlot(this.slots, key, v);
        p.assign(tf.sub(p, tf.mul(v, this.lr * this.lrMult(name))));
      }
    });
  }

  state(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.slots);
  }
  scalars(): Record<string, number> {
    return {};
  }
  load(tensors: Record<string, tf.Tensor>): void {
    loadSlots(this.slots, tensors);
  }
  dispose(): void {
    loadSlots(this.slots, {});
  }
}

/**
 * Adam (Kingma & Ba), bias-corrected. `decoupled: false`: L2 weight decay added to the gradient
 * (PyTorch's Adam); `decoupled: true`: AdamW, `θ = θ − lr·m·wd·θ` before the Adam step.
 *
 * @example
 * const opt = new Adam(1e-3, 0.5, 0.999);
 * opt.apply(model.partVariables('generator'), grads);
 */
export class Adam implements Optimizer {
  private readonly slots = new Map<string, tf.Variable>();
  private t = 0;
  constructor(
    public lr: number,
    readonly beta1 = 0.5,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
    readonly weightDecay = 0,
    readonly lrMult: LrMultiplier = one,
    readonly decoupled = false,
    readonly decayMult: LrMultiplier = one,
  ) {}

  apply(vars: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.t += 1;
    const c1 = 1 - Math.pow(this.beta1, this.t);
    const c2 = 1 - Math.pow(this.beta2, this.t);
    tf.tidy(() => {
      for (let [name, g] of Object.entries(grads)) {
        const p = vars.get(name);
        if (!p || !g) continue;
        const lr = this.lr * this.lrMult(name);
        const stepSize = (lr * Math.sqrt(c2)) / c1;
        let theta: tf.Tensor = p;
        const wd = this.weightDecay * this.decayMult(name);
        if (wd > 0) {
          if (this.decoupled) theta = tf.mul(p, 1 - lr * wd);
          else g = tf.add(g, tf.mul(p, wd));
        }
        const mk = `${name}.m`;
        const vk = `${name}.v`;
        const m0 = this.slots.get(mk);
        const v0 = this.slots.get(vk);
        const m = m0 ? tf.add(tf.mul(m0, this.beta1), tf.mul(g, 1 - this.beta1)) : tf.mul(g, 1 - this.beta1);
        const sq = tf.square(g);
        const v = v0 ? tf.add(tf.mul(v0, this.beta2), tf.mul(sq, 1 - this.beta2)) : tf.mul(sq, 1 - this.beta2);
        setSlot(this.slots, mk, m);
        setSlot(this.slots, vk, v);
        p.assign(tf.sub(theta, tf.mul(tf.div(m, tf.add(tf.sqrt(v), this.eps * Math.sqrt(c2))), stepSize)));
      }
    });
  }

  state(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.slots);
  }
  scalars(): Record<string, number> {
    return { t: this.t };
  }
  load(tensors: Record<string, tf.Tensor>, scalars: Record<string, number>): void {
    loadSlots(this.slots, tensors);
    this.t = scalars.t ?? 0;
  }
  dispose(): void {
    loadSlots(this.slots, {});
  }
}
