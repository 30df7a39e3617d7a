import type { ClassInfo, TransferPrior } from './types';

/**
 * The class prior of the transfer step (METHOD §4.2), probabilities per class id [K]:
 * - `'cagnet'`: ∝ 1 + r·[c ∈ U] over the classes without background (background gets 0; a
 *   dataset without background uses every class), CaGNet's `gen_unseen_rate` r;
 * - `'mixture'`: (1 − r)/K on every class (background included) + r/|U| on each unseen class.
 *
 * @example
 * transferPrior({ type: 'cagnet', unseenRate: 9 }, { classNames: ['bg', 'a', 'b'], unseen: [2], background: 0 });
 * // [0, 0.0909…, 0.9090…] (1 : 10)
 */
export function transferPrior(
  prior: TransferPrior,
  classes: Pick<ClassInfo, 'classNames' | 'unseen' | 'background'>,
): Float64Array {
  const K = classes.classNames.length;
  const r = prior.unseenRate;
  if (!(r >= 0)) throw new Error(`transferPrior: unseenRate must be >= 0, got ${r}`);
  if (prior.type === 'mixture') {
    if (r > 1) throw new Error(`transferPrior 'mixture': unseenRate must be <= 1, got ${r}`);
    const p = new Float64Array(K).fill((1 - r) / K);
    for (const u of classes.unseen) p[u] += r / classes.unseen.length;
    return p;
  }
  if (prior.type !== 'cagnet') throw new Error(`transferPrior: unknown type '${String((prior as { type: unknown }).type)}' (valid: cagnet, mixture)`);
  const p = new Float64Array(K);
  let total = 0;
  for (let c = 0; c < K; c++) {
    if (c === classes.background) continue;
    p[c] = 1 + (classes.unseen.includes(c) ? r : 0);
    total += p[c];
  }
  for (let c = 0; c < K; c++) p[c] /= total;
  return p;
}
