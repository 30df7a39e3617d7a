import * as tf from '@tensorflow/tfjs-core';
import { hostIo } from './host-kernels';
import { defineKernel, runKernel } from './kernels';
import { assertRank } from './util';

/**
 * Inverted dropout with the mask of a seed (attrs `seed`, `rate`, `scale`): y = x·m, where m is
 * the mask `new Rng(seed).fillDropoutMask(…, rate, scale)`. On wasm and cpu the mask is drawn
 * while writing y straight into the output (no mask array, no upload); elsewhere it is drawn on
 * the host and applied with one multiplication (the same numbers: x·fround(scale) or x·0, each
 * one float32 product). Nothing is saved for the gradient, which is the same kernel applied to
 * dy (the mask is drawn again from the seed: ~1 ns an element, against holding a mask of x's
 * size until the backward pass).
 */
defineKernel({
  name: 'SignDropout',
  kernelFunc: (backendName) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { seed, rate, scale } = args.attrs as unknown as { seed: number; rate: number; scale: number };
    const io = x.dtype === 'float32' ? hostIo(args.backend, backendName) : null;
    if (io) {
      const out = io.alloc([...x.shape]);
      new Rng(seed).dropoutInto(io.view(x), io.view(out), rate, scale); // views after the allocation
      return out;
    }
    const mask = new Rng(seed).fillDropoutMask(new Float32Array(tf.util.sizeFromShape(x.shape)), rate, scale);
    return tf.tidy(() => tf.mul(x as tf.Tensor, tf.tensor(mask, x.shape, 'float32')));
  },
  gradient: {
    inputsToSave: [],
    gradFunc: (dy, _saved, attrs) => ({ x: () => runKernel('SignDropout', { x: dy as tf.Tensor }, attrs) }),
  },
});

/** 32-bit FNV-1a hash of a string, followed by a murmur3 finaliser (good avalanche). */
function hashString(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** splitmix32: expands one 32-bit seed into well-mixed words for the generator state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/**
 * A small, fast, seeded pseudo-random generator (sfc32, 128-bit state) for everything random in
 * @sign: parameter init, dropout masks, noise, data. Same seed → same stream, on every platform.
 *
 * `fork(label)` derives an independent generator from this generator's *seed key* and the label
 * (not from its current position), so `rng.fork('init')` is the same stream no matter how many
 * numbers were drawn from `rng` before.
 *
 * @example
 * const rng = new Rng(42);
 * const init = rng.fork('init'), data = rng.fork('data');
 * init.uniform();   // in [0, 1)
 * data.int(10);     // integer in [0, 10)
 */
export class Rng {
  /** The 32-bit key this generator was seeded from (the seed, or a hash of parent key + label). */
  readonly key: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new Error(`Rng: seed must be a finite number, got ${String(seed)}`);
    }
    // Fold the (possibly > 32-bit or fractional) seed into 32 bits deterministically.
    const hi = Math.floor(seed / 4294967296);
    this.key = fmix32((seed >>> 0) ^ Math.imul(hi >>> 0, 0x9e3779b1) ^ (Math.round((seed % 1) * 1e9) >>> 0));
    const st = { s: this.key };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A new generator whose stream depends only on this generator's key and `label`. */
  fork(label: string): Rng {
    if (typeof label !== 'string') throw new Error(`Rng.fork: label must be a string, got ${typeof label}`);
    return new Rng(hashString(label, this.key));
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal N(0, 1) via the Box–Muller transform (the second value is cached). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, maxExclusive) (unbiased, by rejection). */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 4294967296) {
      throw new Error(`Rng.int: maxExclusive must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    const limit = 4294967296 - (4294967296 % maxExclusive);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % maxExclusive;
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** Float32Array of `n` draws from U(lo, hi). */
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    return this.fillUniform(new Float32Array(n), lo, hi);
  }

  /** Float32Array of `n` draws from N(mean, std²). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    return this.fillNormal(new Float32Array(n), mean, std);
  }

  /**
   * Fills `out` with draws of U(lo, hi): the numbers `uniform()` would return one by one, in a
   * loop that keeps the generator's state in locals (about 5 ns a number). The generator step is
   * written out here, in fillNormal and in dropoutInto on purpose: one shared loop (a mode flag, or raw
   * draws in blocks) measured 1.3–1.7× slower on 17.8M draws, a generator step's dropout masks.
   */
  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    let { a, b, c, d } = this;
    const span = hi - lo;
    for (let i = 0; i < out.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[i] = lo + span * ((t >>> 0) / 4294967296);
    }
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    return out;
  }

  /**
   * Fills `out` with draws of N(mean, std²): the numbers `normal()` would return one by one (the
   * generator kept in locals, as in fillUniform).
   */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = mean + std * this.spare;
      this.spare = null;
    }
    let { a, b, c, d } = this;
    const twoPi = 2 * Math.PI;
    for (; i + 1 < n; i += 2) {
      let u = 0;
      while (u === 0) {
        const t = (((a + b) | 0) + d) | 0;
        d = (d + 1) | 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) | 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) | 0;
        u = (t >>> 0) / 4294967296;
      }
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      const v = (t >>> 0) / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = mean + std * (r * Math.cos(twoPi * v));
      out[i + 1] = mean + std * (r * Math.sin(twoPi * v));
    }
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    if (i < n) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Fills `out` with an inverted-dropout mask: `scale` where the next 32-bit draw u is
   * ≥ 2·⌊rate·2³¹⌋ (probability 1 − rate, the rate rounded down to a multiple of 2⁻³¹), else 0.
   * Branch-free: the comparison is done on the draws' top 31 bits.
   */
  fillDropoutMask(out: Float32Array, rate: number, scale: number): Float32Array {
    if (!(rate >= 0 && rate < 1)) throw new Error(`Rng.fillDropoutMask: rate must be in [0, 1), got ${rate}`);
    return this.dropoutInto(out.fill(1), out, rate, scale); // 1·m = m
  }

  /**
   * out[i] = x[i]·m[i] for the mask m that {@link fillDropoutMask} would write (same draws, same
   * rule), without the mask: out[i] is x[i]·fround(scale) or x[i]·0, the float32 product that
   * multiplying by the mask gives. `out` may be `x`.
   */
  dropoutInto(x: Float32Array, out: Float32Array, rate: number, scale: number): Float32Array {
    if (!(rate >= 0 && rate < 1)) throw new Error(`Rng.dropoutInto: rate must be in [0, 1), got ${rate}`);
    if (out.length !== x.length) throw new Error(`Rng.dropoutInto: out has ${out.length} elements, x ${x.length}`);
    let { a, b, c, d } = this;
    // keep ⟺ u ≥ 2·k ⟺ ⌊u/2⌋ ≥ k; compared as signed 31-bit values (u ^ 2³¹ orders like u).
    const k = Math.floor(rate * 2147483648);
    const kSigned = k - 1073741824;
    const s = Math.fround(scale);
    for (let i = 0; i < x.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[i] = x[i] * (s * (1 + ((((t ^ -2147483648) >> 1) - kSigned) >> 31)));
    }
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
    return out;
  }

  /** An integer seed in [0, 2^31) for tf.randomNormal / tf.randomUniform / tf.dropout. */
  tfSeed(): number {
    return this.nextUint32() >>> 1;
  }
}

/**
 * Inverted dropout: in training, zeroes each element with probability `rate` and scales the rest
 * by 1/(1−rate); in eval (or with rate 0) returns `x` unchanged. The mask is that of a generator
 * seeded with one 32-bit draw of `rng` (so `rng` advances by one draw per call): a seed gives the
 * same mask on every backend (the 'SignDropout' kernel above).
 *
 * @param x any shape
 * @example
 * const y = dropout(h, 0.5, rng, module.training);
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng, training: boolean): T {
  if (!(x instanceof tf.Tensor)) assertRank(x, 0, 'dropout', 'x');
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) {
    throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  }
  if (!(rng instanceof Rng)) throw new Error('dropout: rng must be an Rng');
  if (!training || rate === 0) return x;
  return runKernel<T>('SignDropout', { x }, { seed: rng.nextUint32(), rate, scale: 1 / (1 - rate) });
}

/**
 * Draws of a generator seeded with `seed` (attrs `shape`, `seed`, `dist`, `a`, `b`): N(a, b²)
 * for dist 'normal', U(a, b) for 'uniform'. On wasm and cpu they are written straight into the
 * output's memory; elsewhere drawn into a host array and uploaded. The same numbers either way.
 */
defineKernel({
  name: 'SignRandom',
  kernelFunc: (backendName) => (args) => {
    const { shape, seed, dist, a, b } = args.attrs as unknown as { shape: number[]; seed: number; dist: 'normal' | 'uniform'; a: number; b: number };
    const fill = (out: Float32Array) => (dist === 'normal' ? new Rng(seed).fillNormal(out, a, b) : new Rng(seed).fillUniform(out, a, b));
    const io = hostIo(args.backend, backendName);
    if (io) {
      const out = io.alloc([...shape]);
      fill(io.view(out));
      return out;
    }
    return tf.tensor(fill(new Float32Array(tf.util.sizeFromShape(shape))), shape, 'float32');
  },
});

/**
 * A tensor of N(mean, std²) draws made by a generator seeded with one 32-bit draw of `rng` (a
 * seed gives the same numbers on every backend; on wasm and cpu they are written straight into
 * the tensor's memory). tfjs' own `tf.randomNormal` draws on the host too, by a slower generator;
 * no tfjs 4 backend draws random numbers itself.
 *
 * @param shape any shape
 * @example
 * const eps = randomNormal([2, 41, 41, 600], rng.fork('eps'));
 */
export function randomNormal(shape: number[], rng: Rng, mean = 0, std = 1): tf.Tensor {
  if (!(rng instanceof Rng)) throw new Error('randomNormal: rng must be an Rng');
  return runKernel('SignRandom', {}, { shape: [...shape], seed: rng.nextUint32(), dist: 'normal', a: mean, b: std });
}

/**
 * A tensor of U(lo, hi) draws, like {@link randomNormal}.
 *
 * @example
 * const u = randomUniform([4096, 600], rng.fork('noise'));   // in [0, 1)
 */
export function randomUniform(shape: number[], rng: Rng, lo = 0, hi = 1): tf.Tensor {
  if (!(rng instanceof Rng)) throw new Error('randomUniform: rng must be an Rng');
  return runKernel('SignRandom', {}, { shape: [...shape], seed: rng.nextUint32(), dist: 'uniform', a: lo, b: hi });
}
