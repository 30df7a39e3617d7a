import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN, buildPlan, commandOf, filterPlan, relevantConfig, resultsMarkdown, stat, type Metrics } from '../scripts/ablation-plan';

describe('ablation plan', () => {
  const plan = buildPlan(DEFAULT_PLAN);

  it('covers the matrix of the issue: per seed 12 main runs, 2 supervised, 3+1 controls, 1 temperature, 2 embedding runs, 6×3 calibrations', () => {
    expect(plan.length).toBe(3 * (12 + 2 + 4 + 1 + 2 + 18));
    const t = plan.find((e) => e.id === 'sign-ast-T5-outfit-s1');
    expect(t && t.kind === 'train' && t.args).toEqual(['demo', '--quick', '--seed', '1', '--temperature', '5']);
    expect(buildPlan({ ...DEFAULT_PLAN, temperatures: [] }).some((e) => e.group === 'temperature')).toBe(false);
    expect(new Set(plan.map((e) => e.id)).size).toBe(plan.length);
    const s0 = plan.filter((e) => e.seed === 0);
    expect(s0.filter((e) => e.group === 'main').map((e) => e.id)).toContain('sign-ast-outfit-s0');
    expect(s0.filter((e) => e.group === 'main').length).toBe(12);
    const main = s0.find((e) => e.id === 'cagnet-none-random-s0');
    expect(main && main.kind === 'train' && main.args).toEqual(['demo', '--quick', '--seed', '0', '--generator', 'cagnet', '--self-training', 'none', '--layout', 'random']);
    const demo = buildPlan({ ...DEFAULT_PLAN, budget: 'demo' }).find((e) => e.id === 'cagnet-none-random-s0');
    expect(demo && demo.kind === 'train' && demo.args.includes('--quick')).toBe(false);
  });

  it('--only filters by group or id part, and pulls in the runs that calibrations evaluate', () => {
    expect(filterPlan(plan, 'control').every((e) => e.group === 'control')).toBe(true);
    expect(filterPlan(plan, 'control').length).toBe(12);
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
    const c = plan.find((x) => x.id === 'gmmn-ast-outfit-s2/calibrate-0.5')!;
    expect(commandOf(c, dir)).toBe(
      'sign eval --checkpoint runs/ablation/quick/gmmn-ast-outfit-s2/checkpoints/last.safetensors --calibrate 0.5 --out runs/ablation/quick/gmmn-ast-outfit-s2/calibrate-0.5',
    );
  });

  it('relevantConfig drops the self-training keys a run never reads, and nothing else', () => {
    const base = { data: { supervised: false }, selfTraining: { mode: 'ast', temperature: 5, topP: 2 }, seed: 1 };
    expect(relevantConfig(base)).toEqual({ data: { supervised: false }, selfTraining: { mode: 'ast', temperature: 5 }, seed: 1 });
    expect(relevantConfig({ ...base, selfTraining: { mode: 'none', temperature: 5, temperatureEnd: 1, topP: 2 } }).selfTraining).toEqual({ mode: 'none' });
    expect(relevantConfig({ ...base, selfTraining: { mode: 'top-p', temperature: 5, topP: 2 } }).selfTraining).toEqual({ mode: 'top-p', topP: 2 });
    expect(relevantConfig({ ...base, data: { supervised: true } }).selfTraining).toEqual({ mode: 'ast' });
    // a 'none' run with another temperature default compares equal; an 'ast' run does not
    const none = (t: number) => relevantConfig({ ...base, selfTraining: { mode: 'none', temperature: t, topP: 2 } });
    expect(none(5)).toEqual(none(0));
    expect(relevantConfig({ ...base, selfTraining: { mode: 'ast', temperature: 0, topP: 2 } })).not.toEqual(relevantConfig(base));
    expect(base.selfTraining.topP).toBe(2); // the input is not modified
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
    put('gmmn-ast-outfit-s0', 58, 10, 17);
    put('gmmn-ast-outfit-s1', 58, 10, 19);
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
    expect(md).toContain('| outfit | sign | ast | 61.0 ± 1.4 | 32.0 ± 2.8 | 42.0 ± 2.8 | 2/3 |');
    expect(md).toContain('| outfit | gmmn | ast | 58.0 ± 0.0 | 10.0 ± 0.0 | 18.0 ± 1.4 | 2/3 |');
    expect(md).toContain('| outfit | cagnet | ast | – | – | – | 0/3 |');
    expect(md).toContain('| random vectors | 60.0 ± 0.0 | 3.0 ± 1.4 | 5.5 ± 2.1 | 35.0 ± 7.1 | 2/9 |');
    expect(md).toContain('| real (both sources) | 61.0 ± 1.4 | 32.0 ± 2.8 | 42.0 ± 2.8 | 85.0 ± 7.1 | 2/3 |');
    expect(md).toContain('| permuted | 60.0 ± 0.0 | 7.0 ± 1.4 | 11.0 ± 1.4 | 11.0 ± 1.4 | 2/3 |');
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
    expect(md).toContain('Goal of the issue (mIoU(U) ≥ 20 and hIoU ≥ 30 with the default embeddings, SIGN + AST, outfit): met');
    expect(md).toContain('`cagnet-ast-outfit-s0`: boom');
    expect(md).toContain('sign demo --quick --seed 0 --generator sign --self-training ast --layout outfit --out runs/ablation/quick/sign-ast-outfit-s0\n');
    expect(md).toContain('--out runs/ablation/quick/sign-none-outfit-s0   # not run yet');
  });

  it('single runs are never called "clearly" different', () => {
    const results = new Map<string, Metrics>([
      ['sign-ast-outfit-s0', { mIoUSeen: 60, mIoUUnseen: 30, hIoU: 40, zslAccuracy: 80 }],
      ['gmmn-ast-outfit-s0', { mIoUSeen: 60, mIoUUnseen: 10, hIoU: 17 }],
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
