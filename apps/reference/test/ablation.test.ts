import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, buildPlan, commandOf, filterPlan, relevantConfig, resultsMarkdown, stat, type Metrics } from '../scripts/ablation-plan';

describe('ablation plan', () => {
  const plan = buildPlan(DEFAULT_PLAN);

  it('covers the matrix: per seed 12 main runs (3 recipes × 2 × 2 layouts), 2 supervised, 4+2+2 controls, 1 temperature, 2 positional encodings, 2 self-training rules, 2 embedding runs, 6×3 calibrations', () => {
    expect(plan.length).toBe(3 * (12 + 2 + 8 + 1 + 2 + 2 + 2 + 18));
    const t = plan.find((e) => e.id === 'sign-ast-T5-outfit-s1');
    expect(t && t.kind === 'train' && t.args).toEqual(['demo', '--quick', '--seed', '1', '--temperature', '5']);
    expect(buildPlan({ ...DEFAULT_PLAN, temperatures: [] }).some((e) => e.group === 'temperature')).toBe(false);
    expect(new Set(plan.map((e) => e.id)).size).toBe(plan.length);
    const s0 = plan.filter((e) => e.seed === 0);
    expect(s0.filter((e) => e.group === 'main').map((e) => e.id)).toContain('sign-ast-outfit-s0');
    expect(s0.filter((e) => e.group === 'main').length).toBe(12);
    const main = s0.find((e) => e.id === 'cagnet-none-random-s0');
    expect(main && main.kind === 'train' && main.args).toEqual(['demo', '--quick', '--seed', '0', '--recipe', 'cagnet', '--self-training', 'none', '--layout', 'random']);
    expect(s0.filter((e) => e.group === 'main').map((e) => e.id).filter((id) => id.endsWith('-outfit-s0'))).toEqual([
      'zs3net-none-outfit-s0', 'zs3net-ast-outfit-s0', 'cagnet-none-outfit-s0', 'cagnet-ast-outfit-s0', 'sign-none-outfit-s0', 'sign-ast-outfit-s0',
    ]);
    const byId = (id: string) => {
      const e = plan.find((x) => x.id === id);
      return e && e.kind === 'train' ? e.args : undefined;
    };
    expect(byId('sign-ast-pe-absolute-s2')).toEqual(['demo', '--quick', '--seed', '2', '--positional', 'absolute']);
    expect(byId('sign-ast-pe-none-s2')).toEqual(['demo', '--quick', '--seed', '2', '--positional', 'none']);
    expect(byId('sign-topp-s1')).toEqual(['demo', '--quick', '--seed', '1', '--self-training', 'top-p', '--top-p', '2']);
    expect(byId('sign-ast-anneal-s1')).toEqual(['demo', '--quick', '--seed', '1', '--temperature', '5', '--temperature-end', '0']);
    expect(byId('control-zs3net-permuted-s0')).toEqual(['demo', '--quick', '--seed', '0', '--recipe', 'zs3net', '--control', 'permuted']);
    expect(byId('control-cagnet-random-d1-s0')).toEqual(['demo', '--quick', '--seed', '0', '--recipe', 'cagnet', '--control', 'random', '--control-seed', '1']);
    expect(byId('control-random-d3-s0')).toEqual(['demo', '--quick', '--seed', '0', '--control', 'random', '--control-seed', '3']);
    const demo = buildPlan({ ...DEFAULT_PLAN, budget: 'demo' }).find((e) => e.id === 'cagnet-none-random-s0');
    expect(demo && demo.kind === 'train' && demo.args.includes('--quick')).toBe(false);
  });

  it('--only filters by group or id part, and pulls in the runs that calibrations evaluate', () => {
    expect(filterPlan(plan, 'control').every((e) => e.group === 'control')).toBe(true);
    expect(filterPlan(plan, 'control').length).toBe(24);
    expect(filterPlan(plan, 'positional').length).toBe(6);
    expect(filterPlan(plan, 'self-training').length).toBe(6);
    expect(filterPlan(plan, 'sign-ast-outfit-s0').map((e) => e.id)).toEqual([
      'sign-ast-outfit-s0',
      'sign-ast-outfit-s0/calibrate-0.5',
      'sign-ast-outfit-s0/calibrate-1',
      'sign-ast-outfit-s0/calibrate-2',
    ]);
    const cal = filterPlan(plan, 'calibrate-1');
    expect(cal.filter((e) => e.kind === 'train').length).toBe(18); // 6 runs per seed evaluated
    expect(filterPlan(plan, undefined)).toBe(plan);
  });

  it('commands are the exact sign invocations', () => {
    const dir = (id: string) => `runs/ablation/quick/${id}`;
    const e = plan.find((x) => x.id === 'control-random-d2-s1')!;
    expect(commandOf(e, dir)).toBe('sign demo --quick --seed 1 --control random --control-seed 2 --out runs/ablation/quick/control-random-d2-s1');
    const c = plan.find((x) => x.id === 'zs3net-ast-outfit-s2/calibrate-0.5')!;
    expect(commandOf(c, dir)).toBe(
      'sign eval --checkpoint runs/ablation/quick/zs3net-ast-outfit-s2/checkpoints/last.safetensors --calibrate 0.5 --out runs/ablation/quick/zs3net-ast-outfit-s2/calibrate-0.5',
    );
  });

  it('relevantConfig reduces the self-training of a supervised run to its type, and changes nothing else', () => {
    const base = { data: { supervised: false }, selfTraining: { type: 'ast', temperature: 5 }, seed: 1 };
    expect(relevantConfig(base)).toEqual(base);
    expect(relevantConfig({ ...base, data: { supervised: true } }).selfTraining).toEqual({ type: 'ast' });
    // a supervised run with another temperature compares equal; an unsupervised one does not
    const sup = (t: number) => relevantConfig({ ...base, data: { supervised: true }, selfTraining: { type: 'ast', temperature: t } });
    expect(sup(5)).toEqual(sup(0));
    expect(relevantConfig({ ...base, selfTraining: { type: 'ast', temperature: 0 } })).not.toEqual(relevantConfig(base));
    expect(base.selfTraining.temperature).toBe(5); // the input is not modified
  });

  it('mean and sample std', () => {
    const s = stat([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(stat([7]).std).toBe(0);
    expect(stat([]).n).toBe(0);
  });

  it('RESULTS.md aggregates finished runs, counts missing ones and compares with the controls', () => {
    const results = new Map<string, Metrics>();
    const put = (id: string, s: number, u: number, h: number) => results.set(id, { mIoUSeen: s, mIoUUnseen: u, hIoU: h, seconds: 60, backend: 'wasm' });
    put('sign-ast-outfit-s0', 60, 30, 40);
    put('sign-ast-outfit-s1', 62, 34, 44);
    put('zs3net-ast-outfit-s0', 58, 10, 17);
    put('zs3net-ast-outfit-s1', 58, 10, 19);
    put('control-zs3net-permuted-s0', 58, 9, 15);
    put('sign-ast-pe-absolute-s0', 61, 20, 30);
    put('sign-ast-pe-absolute-s1', 61, 22, 32);
    put('sign-topp-s0', 62, 12, 20);
    put('sign-topp-s1', 62, 14, 22);
    put('sign-ast-anneal-s0', 62, 25, 35);
    put('sign-none-outfit-s0', 64, 5, 9);
    put('control-permuted-s1', 60, 8, 12);
    put('control-random-d1-s0', 60, 2, 4);
    put('control-random-d2-s0', 60, 4, 7);
    put('control-permuted-s0', 60, 6, 10);
    put('sign-ast-outfit-s0/calibrate-1', 50, 40, 44.4);
    put('sign-ast-T5-outfit-s0', 62, 10, 17.2);
    // ZSL naming accuracies: real 80 and 90, random draws 30 and 40, permuted 10 and 12
    const zsl = { 'sign-ast-outfit-s0': 80, 'sign-ast-outfit-s1': 90, 'control-random-d1-s0': 30, 'control-random-d2-s0': 40, 'control-permuted-s0': 10, 'control-permuted-s1': 12 };
    for (const [id, a] of Object.entries(zsl)) results.get(id)!.zslAccuracy = a;
    const md = resultsMarkdown({
      budget: 'quick',
      plan,
      results,
      failures: new Map([['cagnet-ast-outfit-s0', 'boom']]),
      runDir: (id) => `runs/ablation/quick/${id}`,
      machine: 'test machine',
      date: '2026-01-01',
      argv: ['--budget', 'quick', '--only', 'main'],
      unseenCount: 3,
      defaultTemperature: 1,
    });
    expect(md).toContain('Generated by `pnpm ablation --budget quick --only main`');
    expect(md).toContain('## Recipes, with and without annealed self-training');
    expect(md).toContain('| outfit | sign | ast | 61.0 ± 1.4 | 32.0 ± 2.8 | 42.0 ± 2.8 | 2/3 |');
    expect(md).toContain('| outfit | zs3net | ast | 58.0 ± 0.0 | 10.0 ± 0.0 | 18.0 ± 1.4 | 2/3 |');
    expect(md).toContain('| outfit | cagnet | ast | – | – | – | 0/3 |');
    expect(md).toContain('| sign | random vectors | 60.0 ± 0.0 | 3.0 ± 1.4 | 5.5 ± 2.1 | 35.0 ± 7.1 | 2/9 |');
    expect(md).toContain('| sign | real (both sources) | 61.0 ± 1.4 | 32.0 ± 2.8 | 42.0 ± 2.8 | 85.0 ± 7.1 | 2/3 |');
    expect(md).toContain('| sign | permuted | 60.0 ± 0.0 | 7.0 ± 1.4 | 11.0 ± 1.4 | 11.0 ± 1.4 | 2/3 |');
    expect(md).toContain('| zs3net | permuted | 58.0 | 9.0 | 15.0 | – | 1/3 |');
    // the paper's two ablations
    expect(md).toContain("## The SIM's positional encoding (the paper's first ablation)");
    expect(md).toMatch(/\| relative \(SIGN\) \| 61\.0 ± 1\.4 \| 32\.0 ± 2\.8 \| 42\.0 ± 2\.8 \| 85\.0 ± 7\.1 \| 2\/3 \|\n\| absolute \| 61\.0 ± 0\.0 \| 21\.0 ± 1\.4 \| 31\.0 ± 1\.4 \| – \| 2\/3 \|\n\| none \| – \| – \| – \| – \| 0\/3 \|/);
    expect(md).toContain('## Self-training: discard doubtful pseudo labels, or keep and re-weight them');
    expect(md).toContain('| none | 64.0 | 5.0 | 9.0 | – | 1/3 |');
    expect(md).toContain('| top-p (discard) | 62.0 ± 0.0 | 13.0 ± 1.4 | 21.0 ± 1.4 | – | 2/3 |');
    expect(md).toContain('| AST, T = 1 | 61.0 ± 1.4 | 32.0 ± 2.8 | 42.0 ± 2.8 | 85.0 ± 7.1 | 2/3 |');
    expect(md).toContain('| AST, T = 5 | 62.0 | 10.0 | 17.2 | – | 1/3 |');
    expect(md).toContain('| AST, T 5 → 0 (annealed) | 62.0 | 25.0 | 35.0 | – | 1/3 |');
    expect(md).toContain('- Positional encoding (sign + AST, outfit): relative hIoU 42.0 ± 2.8 vs absolute 31.0 ± 1.4: relative is above it (Δ +11.0).');
    expect(md).toContain('AST (keep and re-weight, T = 1) mIoU(U) 32.0 ± 2.8 vs top-p (discard) 13.0 ± 1.4: AST is above it (Δ +19.0).');
    expect(md).toContain('vs annealed T 25.0: T = 1 is above it in a single seed (no spread measured yet) (Δ +7.0).');
    // the per-seed table: mIoU(U) / naming accuracy, draws in order
    expect(md).toContain('| 0 | 30.0 / 80 | 2.0 / 30, 4.0 / 40, – | 6.0 / 10 |');
    expect(md).toContain('| 1 | 34.0 / 90 | –, –, – | 8.0 / 12 |');
    expect(md).toContain('chance ≈ 33 %');
    // the temperature table: the default row is the main runs, sorted by T
    expect(md).toContain('## AST temperature');
    expect(md).toMatch(/\| 1 \(default\) \| 61\.0 ± 1\.4 \| 32\.0 ± 2\.8 \| 42\.0 ± 2\.8 \| 85\.0 ± 7\.1 \| 2\/3 \|\n\| 5 \| 62\.0 \| 10\.0 \| 17\.2 \| – \| 1\/3 \|/);
    expect(md).toContain('ZSL naming accuracy, chance ≈ 33 %): real 85.0 ± 7.1 vs random 35.0 ± 7.1, permuted 11.0 ± 1.4: clearly above');
    // calibration row: γ = 0 (the main runs), 0.5 (none yet), 1 (seed 0 only), 2 (none yet)
    expect(md).toContain('| sign | ast | 61.0 / 32.0 / 42.0 | – | 50.0 / 40.0 / 44.4 | – |');
    expect(md).toContain('clearly above the controls');
    expect(md).toContain('SIGN is above it (Δ +24.0)');
    expect(md).toContain('| sign | ast | 61.0 / 32.0 / 42.0 | – | 50.0 / 40.0 / 44.4 | – |');
    expect(md).toContain('Goal of the issue (mIoU(U) ≥ 20 and hIoU ≥ 30 with the default embeddings, SIGN + AST, outfit): met');
    expect(md).toContain('`cagnet-ast-outfit-s0`: boom');
    expect(md).toContain('sign demo --quick --seed 0 --recipe sign --self-training ast --layout outfit --out runs/ablation/quick/sign-ast-outfit-s0\n');
    expect(md).toContain('--out runs/ablation/quick/sign-none-outfit-s1   # not run yet');
  });

  it('single runs are never called "clearly" different', () => {
    const results = new Map<string, Metrics>([
      ['sign-ast-outfit-s0', { mIoUSeen: 60, mIoUUnseen: 30, hIoU: 40, zslAccuracy: 80 }],
      ['zs3net-ast-outfit-s0', { mIoUSeen: 60, mIoUUnseen: 10, hIoU: 17 }],
      ['control-permuted-s0', { mIoUSeen: 60, mIoUUnseen: 5, hIoU: 8, zslAccuracy: 10 }],
    ]);
    const md = resultsMarkdown({ budget: 'quick', plan, results, failures: new Map(), runDir: (id) => id, machine: 'm', date: 'd' });
    expect(md).toContain('SIGN is above it in a single seed (no spread measured yet)');
    expect(md).toContain('above the controls, but from single runs');
    // the same rule for the ZSL naming accuracy
    expect(md).toContain('real 80.0 vs permuted 10.0: above the controls, but from single runs');
    expect(md).not.toContain('clearly above the controls');
  });
});
