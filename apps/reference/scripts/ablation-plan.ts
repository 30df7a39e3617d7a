/**
 * The ablation matrix (issues 4 and 8) and the aggregation into docs/RESULTS.md: the faithful
 * recipes (sign, cagnet, zs3net) with and without annealed self-training, the controls, the
 * paper's two ablations (the SIM's positional encoding; self-training that discards doubtful
 * pseudo labels vs AST), embedding sources, calibration. Pure functions (no processes, no files)
 * so that they are unit-tested; scripts/ablation.ts runs the plan.
 */

export type Budget = 'quick' | 'demo';

export interface TrainEntry {
  kind: 'train';
  /** Unique id; also the run directory name under runs/ablation/<budget>/. */
  id: string;
  /** Group (for --only and for the tables). */
  group: 'main' | 'supervised' | 'control' | 'embeddings' | 'temperature' | 'positional' | 'self-training';
  seed: number;
  /** Arguments after `sign` (without --out/--json). */
  args: string[];
  /** Labels for the tables. */
  labels: Record<string, string>;
}

export interface EvalEntry {
  kind: 'eval';
  id: string;
  group: 'calibration';
  seed: number;
  /** The training entry whose checkpoint is evaluated. */
  of: string;
  gamma: number;
  labels: Record<string, string>;
}

export type Entry = TrainEntry | EvalEntry;

export const RECIPES = ['zs3net', 'cagnet', 'sign'] as const;
/** The SIM's positional encodings besides SIGN's relative one (the main runs). */
export const POSITIONAL = ['absolute', 'none'] as const;
export const SELF_TRAINING = ['none', 'ast'] as const;
export const LAYOUTS = ['outfit', 'random'] as const;

export interface PlanOptions {
  budget: Budget;
  seeds: number[];
  /** Draws of the random-embedding control per seed. */
  controlDraws: number;
  gammas: number[];
  /** AST temperatures run for SIGN besides the default config's (`--temperature T`). */
  temperatures?: number[];
  /** The annealed AST temperature, from → to over self-training (`--temperature a --temperature-end b`). */
  anneal?: [number, number];
  /** CaGNet's p for the top-p self-training entries. */
  topP?: number;
}

export const DEFAULT_PLAN: PlanOptions = { budget: 'quick', seeds: [0, 1, 2], controlDraws: 3, gammas: [0.5, 1, 2], temperatures: [5], anneal: [5, 0], topP: 2 };

/** All entries: per seed, training runs first, then calibration evaluations of their checkpoints. */
export function buildPlan(opts: PlanOptions): Entry[] {
  const quick = opts.budget === 'quick' ? ['--quick'] : [];
  const out: Entry[] = [];
  for (const seed of opts.seeds) {
    const s = ['--seed', String(seed)];
    const train = (e: Omit<TrainEntry, 'kind' | 'seed'>) => out.push({ kind: 'train', seed, ...e });
    for (const layout of LAYOUTS)
      for (const recipe of RECIPES)
        for (const st of SELF_TRAINING)
          train({
            id: `${recipe}-${st}-${layout}-s${seed}`,
            group: 'main',
            args: ['demo', ...quick, ...s, '--recipe', recipe, '--self-training', st, '--layout', layout],
            labels: { recipe, selfTraining: st, layout },
          });
    for (const layout of LAYOUTS)
      train({
        id: `supervised-${layout}-s${seed}`,
        group: 'supervised',
        args: ['demo', ...quick, ...s, '--supervised', '--layout', layout],
        labels: { layout },
      });
    // controls of every recipe with AST: `controlDraws` random draws for SIGN, one for the baselines, and the permutation
    for (const recipe of RECIPES) {
      const r = recipe === 'sign' ? [] : ['--recipe', recipe];
      const tag = recipe === 'sign' ? '' : `${recipe}-`;
      for (let d = 1; d <= (recipe === 'sign' ? opts.controlDraws : Math.min(1, opts.controlDraws)); d++)
        train({
          id: `control-${tag}random-d${d}-s${seed}`,
          group: 'control',
          args: ['demo', ...quick, ...s, ...r, '--control', 'random', '--control-seed', String(d)],
          labels: { recipe, control: 'random', draw: String(d) },
        });
      train({
        id: `control-${tag}permuted-s${seed}`,
        group: 'control',
        args: ['demo', ...quick, ...s, ...r, '--control', 'permuted'],
        labels: { recipe, control: 'permuted' },
      });
    }
    // the paper's ablation of the positional encoding (sign recipe, AST; relative = the main run)
    for (const p of POSITIONAL)
      train({
        id: `sign-ast-pe-${p}-s${seed}`,
        group: 'positional',
        args: ['demo', ...quick, ...s, '--positional', p],
        labels: { positional: p },
      });
    // self-training that discards doubtful pseudo labels (CaGNet's top-p) vs AST that keeps and
    // re-weights them (T = 0: the main run; T fixed: the temperature entries; annealed)
    train({
      id: `sign-topp-s${seed}`,
      group: 'self-training',
      args: ['demo', ...quick, ...s, '--self-training', 'top-p', '--top-p', String(opts.topP ?? 2)],
      labels: { rule: 'top-p' },
    });
    if (opts.anneal)
      train({
        id: `sign-ast-anneal-s${seed}`,
        group: 'self-training',
        args: ['demo', ...quick, ...s, '--temperature', String(opts.anneal[0]), '--temperature-end', String(opts.anneal[1])],
        labels: { rule: 'ast-annealed', from: String(opts.anneal[0]), to: String(opts.anneal[1]) },
      });
    for (const t of opts.temperatures ?? [])
      train({
        id: `sign-ast-T${t}-outfit-s${seed}`,
        group: 'temperature',
        args: ['demo', ...quick, ...s, '--temperature', String(t)],
        labels: { temperature: String(t) },
      });
    for (const emb of ['glove', 'attributes'])
      train({
        id: `embeddings-${emb}-s${seed}`,
        group: 'embeddings',
        args: ['demo', ...quick, ...s, '--embeddings', emb],
        labels: { embeddings: emb },
      });
    for (const recipe of RECIPES)
      for (const st of SELF_TRAINING)
        for (const gamma of opts.gammas)
          out.push({
            kind: 'eval',
            id: `${recipe}-${st}-outfit-s${seed}/calibrate-${gamma}`,
            group: 'calibration',
            seed,
            of: `${recipe}-${st}-outfit-s${seed}`,
            gamma,
            labels: { recipe, selfTraining: st, gamma: String(gamma) },
          });
  }
  return out;
}

/**
 * `--only` filter: comma-separated tokens; an entry is kept when a token equals its group or
 * occurs in its id (`--only main`, `--only sign-ast`, `--only control,s0`). A calibration entry
 * also pulls in the training run it evaluates.
 */
export function filterPlan(plan: Entry[], only: string | undefined): Entry[] {
  if (!only) return plan;
  const tokens = only
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const hit = (e: Entry) => tokens.some((t) => e.group === t || e.id.includes(t));
  const keep = new Set(plan.filter(hit).map((e) => e.id));
  for (const e of plan) if (e.kind === 'eval' && keep.has(e.id)) keep.add(e.of);
  return plan.filter((e) => keep.has(e.id));
}

/** Chance level of the ZSL naming accuracy with k unseen classes: 100 / k percent. */
export function chance(unseenCount: number | undefined): string {
  return unseenCount ? `${(100 / unseenCount).toFixed(0)} %` : '100 / (number of unseen classes)';
}

/**
 * A config with the keys that cannot change a run's result removed, for comparing a cached
 * run's config with what its command produces now: the self-training settings of a supervised run
 * (its training images have no unlabelled pixels, so the pseudo labels are the labels) are reduced
 * to the rule's type. (Each self-training rule has only its own keys, so nothing else is unread.)
 */
export function relevantConfig<T>(config: T): T {
  const c = structuredClone(config) as any;
  const st = c?.selfTraining;
  if (!st || typeof st !== 'object') return c;
  if (c.data?.supervised === true) c.selfTraining = { type: st.type };
  return c;
}

/** The metrics the tables aggregate. */
export interface Metrics {
  mIoUSeen: number;
  mIoUUnseen: number;
  hIoU: number;
  seconds?: number;
  backend?: string;
  /** ZSL protocol (unseen classes alone): pixel accuracy of naming the unseen classes, percent. */
  zslAccuracy?: number;
  /** ZSL protocol: mIoU over the unseen classes, percent. */
  zslMIoU?: number;
}

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function stat(values: number[]): Stat {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

export function fmt(s: Stat): string {
  if (s.n === 0) return '–';
  return s.n > 1 ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : `${s.mean.toFixed(1)}`;
}

/** The command line of an entry, as run (`sign` = `node apps/reference/bin/sign.js`). */
export function commandOf(e: Entry, runDir: (id: string) => string): string {
  if (e.kind === 'train') return ['sign', ...e.args, '--out', runDir(e.id)].join(' ');
  return ['sign', 'eval', '--checkpoint', `${runDir(e.of)}/checkpoints/last.safetensors`, '--calibrate', String(e.gamma), '--out', runDir(e.id)].join(' ');
}

export interface ResultsInput {
  budget: Budget;
  plan: Entry[];
  /** id → metrics of the finished entries. */
  results: Map<string, Metrics>;
  /** id → error message of failed entries. */
  failures: Map<string, string>;
  runDir: (id: string) => string;
  machine: string;
  date: string;
  /** The ablation's own arguments, as typed (for the header). */
  argv?: string[];
  /** The AST temperature of the default config (the main runs' row in the temperature table). */
  defaultTemperature?: number;
  /** Unseen classes of the runs' split (for the chance level of the ZSL naming accuracy). */
  unseenCount?: number;
  /** The code version(s) that produced the finished entries (git commits). */
  code?: string;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function aggregate(ids: string[], results: Map<string, Metrics>) {
  const ms = ids.map((id) => results.get(id)).filter((m): m is Metrics => m !== undefined);
  return {
    s: stat(ms.map((m) => m.mIoUSeen)),
    u: stat(ms.map((m) => m.mIoUUnseen)),
    h: stat(ms.map((m) => m.hIoU)),
    za: stat(ms.map((m) => m.zslAccuracy).filter((v): v is number => typeof v === 'number')),
    n: ms.length,
    of: ids.length,
  };
}

/** docs/RESULTS.md from whatever has finished so far (missing entries are counted, not guessed). */
export function resultsMarkdown(inp: ResultsInput): string {
  const { plan, results } = inp;
  const train = plan.filter((e): e is TrainEntry => e.kind === 'train');
  const evals = plan.filter((e): e is EvalEntry => e.kind === 'eval');
  const seeds = [...new Set(plan.map((e) => e.seed))].sort((a, b) => a - b);
  const ids = (pred: (e: TrainEntry) => boolean) => train.filter(pred).map((e) => e.id);
  const lines: string[] = [];
  const done = plan.filter((e) => results.has(e.id)).length;
  lines.push('# Results on fashion-scenes', '');
  lines.push(
    `Generated by \`pnpm ablation ${(inp.argv ?? ['--budget', inp.budget]).join(' ')}\` (apps/reference/scripts/ablation.ts) on ${inp.date}; ${inp.machine}${inp.code ? `; code at ${inp.code}` : ''}. ` +
      `Seeds ${seeds.join(', ')}; ${done} of ${plan.length} entries finished${inp.failures.size ? `, ${inp.failures.size} failed` : ''}. ` +
      'Values are mean ± sample standard deviation over seeds (n = finished runs) of mIoU over seen classes (S), ' +
      'unseen classes (U) and their harmonic mean (H), in percent, background excluded. ' +
      `Budget \`${inp.budget}\` = ${inp.budget === 'quick' ? 'configs/quick.json (`sign demo --quick`)' : 'configs/demo.json (`sign demo`)'}.`,
    '',
  );

  const header = ['mIoU(S)', 'mIoU(U)', 'hIoU', 'n'];
  const metricCells = (a: ReturnType<typeof aggregate>) => [fmt(a.s), fmt(a.u), fmt(a.h), `${a.n}/${a.of}`];

  lines.push('## Recipes, with and without annealed self-training', '');
  lines.push(
    'The faithful recipes (@sign/recipes): *zs3net* (GMMN, MMD only with σ {2, 5, 10, 20, 40, 80}, no SIM, no adversarial term), ' +
      '*cagnet* (the contextual module alone: no positional encoding, no encoding module), *sign* (the SIM with the relative ' +
      'positional encoding). Same backbone, data, schedule and optimizers (the demo\'s: apps/reference/configs/).',
    '',
  );
  lines.push(row(['layout', 'recipe', 'self-training', ...header]));
  lines.push(row(['---', '---', '---', '---:', '---:', '---:', '---:']));
  for (const layout of LAYOUTS)
    for (const recipe of RECIPES)
      for (const st of SELF_TRAINING) {
        const a = aggregate(
          ids((e) => e.group === 'main' && e.labels.recipe === recipe && e.labels.selfTraining === st && e.labels.layout === layout),
          results,
        );
        lines.push(row([layout, recipe, st, ...metricCells(a)]));
      }
  lines.push('');

  lines.push('## Fully supervised upper bound', '');
  lines.push('Unseen classes labelled in training (same split for the metrics): what the zero-shot models could reach at best.', '');
  lines.push(row(['layout', ...header]));
  lines.push(row(['---', '---:', '---:', '---:', '---:']));
  for (const layout of LAYOUTS) lines.push(row([layout, ...metricCells(aggregate(ids((e) => e.group === 'supervised' && e.labels.layout === layout), results))]));
  lines.push('');

  lines.push('## Controls: is the zero-shot transfer real?', '');
  lines.push(
    'Each recipe with annealed self-training, outfit layout. *random*: the unseen classes\' embeddings replaced by random vectors ' +
      '(for SIGN several draws per seed, pooled); *permuted*: the unseen classes\' embeddings permuted among themselves. ' +
      'If mIoU(U) of the real embeddings is not clearly above both, the model is not using the embeddings. ' +
      '*Naming acc.* is the ZSL protocol on the same checkpoints: only the unseen classes compete and only unseen pixels count, ' +
      `i.e. how often the model gives an unseen object the right unseen name, apart from its seen-class bias (chance ≈ ${chance(inp.unseenCount)}).`,
    '',
  );
  const ctrlHeader = ['mIoU(S)', 'mIoU(U)', 'hIoU', 'naming acc.', 'n'];
  const ctrlCells = (a: ReturnType<typeof aggregate>) => [fmt(a.s), fmt(a.u), fmt(a.h), fmt(a.za), `${a.n}/${a.of}`];
  lines.push(row(['recipe', 'unseen embeddings', ...ctrlHeader]));
  lines.push(row(['---', '---', '---:', '---:', '---:', '---:', '---:']));
  const mainIds = (recipe: string) => ids((e) => e.group === 'main' && e.labels.recipe === recipe && e.labels.selfTraining === 'ast' && e.labels.layout === 'outfit');
  const controlIds = (recipe: string, control: string) => ids((e) => e.group === 'control' && e.labels.recipe === recipe && e.labels.control === control);
  const realIds = mainIds('sign');
  const real = aggregate(realIds, results);
  for (const recipe of [...RECIPES].reverse()) {
    lines.push(row([recipe, 'real (both sources)', ...ctrlCells(recipe === 'sign' ? real : aggregate(mainIds(recipe), results))]));
    lines.push(row([recipe, 'random vectors', ...ctrlCells(aggregate(controlIds(recipe, 'random'), results))]));
    lines.push(row([recipe, 'permuted', ...ctrlCells(aggregate(controlIds(recipe, 'permuted'), results))]));
  }
  lines.push('');
  lines.push('SIGN per seed (mIoU(U) / naming acc.; the random draws in order):', '');
  lines.push(row(['seed', 'real', 'random draws', 'permuted']));
  lines.push(row(['---', '---', '---', '---']));
  const pair = (m: Metrics | undefined) =>
    m ? `${m.mIoUUnseen.toFixed(1)} / ${typeof m.zslAccuracy === 'number' ? m.zslAccuracy.toFixed(0) : '–'}` : '–';
  for (const seed of seeds) {
    const realM = results.get(realIds.find((id) => train.find((e) => e.id === id)?.seed === seed) ?? '');
    const draws = train.filter((e) => e.seed === seed && e.group === 'control' && e.labels.recipe === 'sign' && e.labels.control === 'random');
    const perm = train.find((e) => e.seed === seed && e.group === 'control' && e.labels.recipe === 'sign' && e.labels.control === 'permuted');
    lines.push(row([String(seed), pair(realM), draws.map((e) => pair(results.get(e.id))).join(', ') || '–', pair(perm && results.get(perm.id))]));
  }
  lines.push('');

  const temps = [...new Set(train.filter((e) => e.group === 'temperature').map((e) => Number(e.labels.temperature)))];
  if (temps.length > 0) {
    lines.push('## AST temperature', '');
    lines.push(
      'SIGN with annealed self-training, outfit layout, at several temperatures T of the pseudo-label weights ' +
        'exp(T·(p − p_max)) (METHOD §4; T = 0 gives every pseudo label weight 1, as the public SIGN code effectively does). ' +
        `The default config's row${inp.defaultTemperature !== undefined ? ` (T = ${inp.defaultTemperature})` : ''} is the same runs as above.`,
      '',
    );
    lines.push(row(['T', ...ctrlHeader]));
    lines.push(row(['---', '---:', '---:', '---:', '---:', '---:']));
    const rowsT: [number | undefined, ReturnType<typeof aggregate>][] = [[inp.defaultTemperature, real]];
    for (const t of temps) rowsT.push([t, aggregate(ids((e) => e.group === 'temperature' && Number(e.labels.temperature) === t), results)]);
    rowsT.sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity));
    for (const [t, a] of rowsT) lines.push(row([`${t ?? 'default'}${t === inp.defaultTemperature ? ' (default)' : ''}`, ...ctrlCells(a)]));
    lines.push('');
  }

  const pe = POSITIONAL.map((p) => [p, aggregate(ids((e) => e.group === 'positional' && e.labels.positional === p), results)] as const);
  if (pe.some(([, a]) => a.of > 0)) {
    lines.push('## The SIM\'s positional encoding (the paper\'s first ablation)', '');
    lines.push(
      'The sign recipe with annealed self-training, outfit layout, with the relative positional encoding (SIGN; the runs above), ' +
        'the absolute one (positions 0…W−1, 0…H−1) and none (the encoding module sees sigmoid(h) alone).',
      '',
    );
    lines.push(row(['positional encoding', ...ctrlHeader]));
    lines.push(row(['---', '---:', '---:', '---:', '---:', '---:']));
    lines.push(row(['relative (SIGN)', ...ctrlCells(real)]));
    for (const [p, a] of pe) lines.push(row([p, ...ctrlCells(a)]));
    lines.push('');
  }

  const stIds = (rule: string) => ids((e) => e.group === 'self-training' && e.labels.rule === rule);
  if (train.some((e) => e.group === 'self-training')) {
    const anneal = train.find((e) => e.group === 'self-training' && e.labels.rule === 'ast-annealed');
    lines.push('## Self-training: discard doubtful pseudo labels, or keep and re-weight them (the paper\'s second ablation)', '');
    lines.push(
      'The sign recipe, outfit layout. *top-p* is CaGNet\'s rule: a pixel keeps a pseudo label only where an unseen class is among the ' +
        'teacher\'s top p classes; the others are discarded. *AST* keeps every pseudo label with weight exp(T·(p − p_max)) per image: ' +
        'T = 0 weighs all 1, a fixed T trusts the confident pixels more, and the annealed T goes linearly over the self-training stage.',
      '',
    );
    lines.push(row(['self-training', ...ctrlHeader]));
    lines.push(row(['---', '---:', '---:', '---:', '---:', '---:']));
    lines.push(row(['none', ...ctrlCells(aggregate(ids((e) => e.group === 'main' && e.labels.recipe === 'sign' && e.labels.selfTraining === 'none' && e.labels.layout === 'outfit'), results))]));
    lines.push(row(['top-p (discard)', ...ctrlCells(aggregate(stIds('top-p'), results))]));
    lines.push(row([`AST, T = ${inp.defaultTemperature ?? 'default'}`, ...ctrlCells(real)]));
    for (const t of temps) lines.push(row([`AST, T = ${t}`, ...ctrlCells(aggregate(ids((e) => e.group === 'temperature' && Number(e.labels.temperature) === t), results))]));
    if (anneal) lines.push(row([`AST, T ${anneal.labels.from} → ${anneal.labels.to} (annealed)`, ...ctrlCells(aggregate(stIds('ast-annealed'), results))]));
    lines.push('');
  }

  lines.push('## Embedding sources', '');
  lines.push('SIGN with annealed self-training, outfit layout; *both* is the same run as in the tables above.', '');
  lines.push(row(['embeddings', ...header]));
  lines.push(row(['---', '---:', '---:', '---:', '---:']));
  lines.push(row(['glove (word vectors)', ...metricCells(aggregate(ids((e) => e.group === 'embeddings' && e.labels.embeddings === 'glove'), results))]));
  lines.push(row(['attributes', ...metricCells(aggregate(ids((e) => e.group === 'embeddings' && e.labels.embeddings === 'attributes'), results))]));
  lines.push(row(['both (default)', ...metricCells(real)]));
  lines.push('');

  const gammas = [...new Set(evals.map((e) => e.gamma))].sort((a, b) => a - b);
  if (gammas.length > 0) {
    lines.push('## Calibrated stacking (seen-class bias)', '');
    lines.push(
      'The same checkpoints (outfit layout) evaluated with γ subtracted from the seen classes\' log-probabilities ' +
        '(`sign eval --calibrate γ`); γ = 0 is the paper\'s protocol. Cells: mIoU(S) / mIoU(U) / hIoU, means over seeds.',
      '',
    );
    lines.push(row(['recipe', 'self-training', ...['0', ...gammas.map(String)].map((g) => `γ = ${g}`)]));
    lines.push(row(['---', '---', ...['0', ...gammas].map(() => '---:')]));
    const cell = (a: ReturnType<typeof aggregate>) =>
      a.n === 0 ? '–' : `${a.s.mean.toFixed(1)} / ${a.u.mean.toFixed(1)} / ${a.h.mean.toFixed(1)}`;
    for (const recipe of RECIPES)
      for (const st of SELF_TRAINING) {
        const base = aggregate(ids((e) => e.group === 'main' && e.labels.recipe === recipe && e.labels.selfTraining === st && e.labels.layout === 'outfit'), results);
        const cells = gammas.map((g) =>
          cell(
            aggregate(
              evals.filter((e) => e.labels.recipe === recipe && e.labels.selfTraining === st && e.gamma === g).map((e) => e.id),
              results,
            ),
          ),
        );
        lines.push(row([recipe, st, cell(base), ...cells]));
      }
    lines.push('');
  }

  lines.push('## What the numbers say', '');
  lines.push(...observations(inp), '');

  if (inp.failures.size > 0) {
    lines.push('## Failed entries', '');
    for (const [id, msg] of inp.failures) lines.push(`- \`${id}\`: ${msg.replace(/\s+/g, ' ').slice(0, 300)}`);
    lines.push('');
  }

  const secs = train.map((e) => results.get(e.id)?.seconds).filter((s): s is number => typeof s === 'number');
  const backends = [...new Set([...results.values()].map((m) => m.backend).filter(Boolean))];
  // a measurement of its own (scripts/add-class.ts writes it), linked so that regenerating this file keeps it
  lines.push('## Adding a class by name after training', '', 'Bag left out of training altogether, then added by its name (`sign add-class`), against a random-embedding control: [ADD-CLASS.md](ADD-CLASS.md).', '');
  lines.push('## How these numbers were produced', '');
  lines.push(
    `Each training run is one \`sign\` command (\`sign\` = \`node apps/reference/bin/sign.js\`); its report.json is cached in ` +
      `\`${inp.runDir('<id>')}/\` and reused when the ablation is rerun (\`pnpm ablation --budget ${inp.budget}\` resumes). ` +
      `Backend${backends.length > 1 ? 's' : ''}: ${backends.join(', ') || 'n/a'}; ` +
      `mean time per training run: ${secs.length ? (secs.reduce((a, b) => a + b, 0) / secs.length).toFixed(0) : '–'} s.`,
    '',
  );
  lines.push('<details><summary>All commands</summary>', '', '```sh');
  for (const e of plan) lines.push(`${commandOf(e, inp.runDir)}${results.has(e.id) ? '' : inp.failures.has(e.id) ? '   # failed' : '   # not run yet'}`);
  lines.push('```', '', '</details>', '');
  return lines.join('\n');
}

/**
 * "<control> <mean ± std>, …: <verdict>" comparing the real embeddings' metric with the controls
 * that have runs: clearly above when the intervals mean ± std are apart; from single runs only
 * "above"/"not above". Undefined when the real runs or every control are missing.
 */
function versusControls(real: Stat, controls: [string, Stat][]): string | undefined {
  const present = controls.filter(([, c]) => c.n > 0);
  if (real.n === 0 || present.length === 0) return undefined;
  const parts = present.map(([name, c]) => `${name} ${fmt(c)}`);
  const clear = real.mean - real.std > Math.max(...present.map(([, c]) => c.mean + c.std));
  const single = real.n < 2 || present.some(([, c]) => c.n < 2);
  return (
    `${parts.join(', ')}: ` +
    (single
      ? `${clear ? 'above' : 'not above'} the controls, but from single runs (no spread measured yet).`
      : clear
        ? 'clearly above the controls (mean ± std intervals apart).'
        : 'NOT clearly above the controls (the intervals mean ± std overlap).')
  );
}

/**
 * "above it" / "below it" / "within one standard deviation of it" for a − b, or the single-run
 * wording when either has one run, with the difference.
 */
export function differenceVerdict(a: Stat, b: Stat): string {
  const d = a.mean - b.mean;
  const pooled = Math.max(a.std, b.std);
  const single = a.n < 2 || b.n < 2;
  const verdict = single
    ? `${d > 0 ? 'above' : d < 0 ? 'below' : 'equal to'} it in a single seed (no spread measured yet)`
    : Math.abs(d) <= pooled
      ? 'within one standard deviation of it'
      : `${d > 0 ? 'above' : 'below'} it`;
  return `${verdict} (Δ ${d >= 0 ? '+' : ''}${d.toFixed(1)})`;
}

/** Plain statements computed from the tables (no hand-written conclusions). */
export function observations(inp: ResultsInput): string[] {
  const { plan, results } = inp;
  const train = plan.filter((e): e is TrainEntry => e.kind === 'train');
  const agg = (pred: (e: TrainEntry) => boolean) => aggregate(train.filter(pred).map((e) => e.id), results);
  const out: string[] = [];
  const main = (recipe: string, st: string, layout = 'outfit') =>
    agg((e) => e.group === 'main' && e.labels.recipe === recipe && e.labels.selfTraining === st && e.labels.layout === layout);
  for (const layout of LAYOUTS) {
    const sign = main('sign', 'ast', layout);
    const baselines = (['zs3net', 'cagnet'] as const).map((g) => ({ g, a: main(g, 'ast', layout) })).filter((x) => x.a.n > 0);
    if (sign.n > 0 && baselines.length > 0) {
      const best = baselines.reduce((a, b) => (b.a.h.mean > a.a.h.mean ? b : a));
      out.push(
        `- ${layout} layout, with AST: SIGN hIoU ${fmt(sign.h)} vs the best baseline (${best.g}) ${fmt(best.a.h)}: SIGN is ${differenceVerdict(sign.h, best.a.h)}.`,
      );
    }
    for (const recipe of RECIPES) {
      const none = main(recipe, 'none', layout);
      const ast = main(recipe, 'ast', layout);
      if (none.n > 0 && ast.n > 0) {
        const d = ast.u.mean - none.u.mean;
        out.push(`- ${layout}, ${recipe}: AST changes mIoU(U) by ${d >= 0 ? '+' : ''}${d.toFixed(1)} (${none.u.mean.toFixed(1)} → ${ast.u.mean.toFixed(1)}).`);
      }
    }
  }
  const real = main('sign', 'ast');
  const rnd = agg((e) => e.group === 'control' && e.labels.recipe === 'sign' && e.labels.control === 'random');
  const perm = agg((e) => e.group === 'control' && e.labels.recipe === 'sign' && e.labels.control === 'permuted');
  const uLine = versusControls(real.u, [['random', rnd.u], ['permuted', perm.u]]);
  if (uLine) out.push(`- Controls: mIoU(U) with the real embeddings ${fmt(real.u)} vs ${uLine}`);
  const zLine = versusControls(real.za, [['random', rnd.za], ['permuted', perm.za]]);
  if (zLine) out.push(`- Unseen classes alone (ZSL naming accuracy, chance ≈ ${chance(inp.unseenCount)}): real ${fmt(real.za)} vs ${zLine}`);
  const pe = POSITIONAL.map((p) => [p, agg((e) => e.group === 'positional' && e.labels.positional === p)] as const).filter(([, a]) => a.n > 0);
  for (const [p, a] of pe)
    if (real.n > 0) out.push(`- Positional encoding (sign + AST, outfit): relative hIoU ${fmt(real.h)} vs ${p} ${fmt(a.h)}: relative is ${differenceVerdict(real.h, a.h)}.`);
  const topp = agg((e) => e.group === 'self-training' && e.labels.rule === 'top-p');
  if (real.n > 0 && topp.n > 0)
    out.push(`- Self-training (sign, outfit): AST (keep and re-weight, T = ${inp.defaultTemperature ?? 'default'}) mIoU(U) ${fmt(real.u)} vs top-p (discard) ${fmt(topp.u)}: AST is ${differenceVerdict(real.u, topp.u)}.`);
  const anneal = agg((e) => e.group === 'self-training' && e.labels.rule === 'ast-annealed');
  if (real.n > 0 && anneal.n > 0)
    out.push(`- Self-training (sign, outfit): AST with T = ${inp.defaultTemperature ?? 'default'} mIoU(U) ${fmt(real.u)} vs annealed T ${fmt(anneal.u)}: T = ${inp.defaultTemperature ?? 'default'} is ${differenceVerdict(real.u, anneal.u)}.`);
  if (real.n > 0) {
    const goal = real.u.mean >= 20 && real.h.mean >= 30;
    out.push(
      `- Goal of the issue (mIoU(U) ≥ 20 and hIoU ≥ 30 with the default embeddings, SIGN + AST, outfit): ${goal ? 'met' : 'not met'} (mIoU(U) ${real.u.mean.toFixed(1)}, hIoU ${real.h.mean.toFixed(1)}).`,
    );
  }
  if (out.length === 0) out.push('- Not enough finished runs to compare yet.');
  return out;
}
