import * as tf from '@tensorflow/tfjs-core';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variables registered with `param(..., { frozen: true })`: never trainable, whatever setTrainable says. */
const FROZEN = new WeakSet<tf.Variable>();

/**
 * Base class of every trainable part: owns named parameters (tf.Variable) and child modules, and
 * exposes them under stable dotted paths ('encoder.branch1.kernel'), PyTorch-style.
 *
 * @example
 * class Mlp extends Module {
 *   fc1 = this.child('fc1', new Linear(rng, { inFeatures: 4, outFeatures: 8 }));
 *   fc2 = this.child('fc2', new Linear(rng, { inFeatures: 8, outFeatures: 2 }));
 *   apply(x: tf.Tensor2D) { return tf.tidy(() => this.fc2.apply(tf.relu(this.fc1.apply(x)))); }
 * }
 * const m = new Mlp();
 * [...m.namedParameters().keys()];   // ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias']
 */
export abstract class Module {
  /** Training mode (dropout active) when true; set with train() / eval(). */
  training = true;
  private readonly params = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();
  private disposed = false;

  /**
   * Registers a parameter. Takes ownership of `init` (it is disposed after being copied into the
   * variable). Names are single path segments: letters, digits, '_'.
   *
   * `frozen: true` registers what PyTorch calls a buffer (e.g. a frozen BatchNorm's running
   * statistics): part of `namedParameters()` / `stateDict()` / `loadStateDict()`, but never
   * trainable, also after `setTrainable(true)`.
   */
  protected param(name: string, init: tf.Tensor, opts: { trainable?: boolean; frozen?: boolean } = {}): tf.Variable {
    this.checkName(name, 'param');
    if (!(init instanceof tf.Tensor)) {
      throw new Error(`${this.constructor.name}.param('${name}'): init must be a tf.Tensor`);
    }
    if (opts.frozen && opts.trainable) {
      throw new Error(`${this.constructor.name}.param('${name}'): a frozen parameter cannot be trainable`);
    }
    const v = tf.variable(init, opts.frozen ? false : (opts.trainable ?? true));
    init.dispose();
    if (opts.frozen) FROZEN.add(v);
    this.params.set(name, v);
    return v;
  }

  /** Registers a child module under `name`; its parameters appear as `name.<path>`. */
  protected child<M extends Module>(name: string, m: M): M {
    this.checkName(name, 'child');
    if (!(m instanceof Module)) throw new Error(`${this.constructor.name}.child('${name}'): not a Module`);
    this.children.set(name, m);
    m.train(this.training);
    return m;
  }

  private checkName(name: string, what: string): void {
    if (this.disposed) throw new Error(`${this.constructor.name}.${what}('${name}'): module was disposed`);
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new Error(`${this.constructor.name}.${what}: invalid name '${String(name)}' (letters, digits, '_'; no dots)`);
    }
    if (this.params.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}.${what}: name '${name}' is already used`);
    }
  }

  /** Every parameter under its dotted path, in registration order (own parameters, then children's). */
  namedParameters(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    this.collect('', out);
    return out;
  }

  private collect(prefix: string, out: Map<string, tf.Variable>): void {
    for (const [n, v] of this.params) out.set(prefix + n, v);
    for (const [n, c] of this.children) c.collect(`${prefix}${n}.`, out);
  }

  /** Child modules by name (direct children only). */
  namedChildren(): Map<string, Module> {
    return new Map(this.children);
  }

  /** The variables an optimizer should update (trainable ones only). */
  trainableVariables(): tf.Variable[] {
    return [...this.namedParameters().values()].filter((v) => v.trainable);
  }

  /**
   * Freezes (false) or unfreezes (true) every parameter of this module and its children, except
   * those registered as `frozen`, which stay non-trainable.
   */
  setTrainable(trainable: boolean): void {
    for (const v of this.namedParameters().values()) v.trainable = trainable && !FROZEN.has(v);
  }

  /** Sets training mode on this module and all children; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  /** Evaluation mode (dropout off); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Number of scalar parameters (optionally only trainable ones). */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const v of this.namedParameters().values()) if (!opts.trainableOnly || v.trainable) n += v.size;
    return n;
  }

  /** The parameters by dotted path: the variables themselves, not copies. */
  stateDict(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.namedParameters());
  }

  /**
   * Copies values into the parameters. With `strict` (default) every parameter must be present and
   * no extra keys allowed; shapes must always match. Everything is checked before anything is
   * written, so a failed load changes nothing.
   */
  loadStateDict(dict: Record<string, tf.Tensor>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const where = `${this.constructor.name}.loadStateDict`;
    const params = this.namedParameters();
    const missing = [...params.keys()].filter((k) => !(k in dict));
    const extra = Object.keys(dict).filter((k) => !params.has(k));
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
    if (strict && extra.length) problems.push(`unexpected keys: ${extra.join(', ')}`);
    for (const [k, v] of params) {
      const t = dict[k];
      if (t === undefined) continue;
      if (!(t instanceof tf.Tensor)) {
        problems.push(`'${k}' is not a tensor`);
      } else if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        problems.push(`shape mismatch for '${k}': checkpoint [${t.shape}] vs parameter [${v.shape}]`);
      }
    }
    if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
    for (const [k, v] of params) {
      const t = dict[k];
      if (t === undefined) continue;
      tf.tidy(() => v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype)));
    }
  }

  /** Frees every variable of this module and its children. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const c of this.children.values()) c.dispose();
    this.params.clear();
    this.children.clear();
    this.disposed = true;
  }
}
