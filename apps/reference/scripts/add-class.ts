/**
 * The add-class measurement (issue 13): per seed, `sign demo --exclude-classes bag` (bag absent
 * altogether: not a class of the model, its pixels ignored), then `sign add-class bag` from the
 * model's own embedding table and, as the control, `sign add-class bag --control random` (a
 * random unit vector), each followed by `sign eval` of the new checkpoint, which scores bag as an
 * unseen class next to pullover, dress and sandal. Writes docs/ADD-CLASS.md (linked from
 * docs/RESULTS.md) and caches every report in <runs>/add-class.json.
 *
 *   tsx --tsconfig apps/reference/tsconfig.source.json apps/reference/scripts/add-class.ts
 *       [--runs runs/add-class] [--seeds 0,1,2] [--train head|new-class|classifier] [--steps 200]
 *       [--out docs/ADD-CLASS.md] [--report-only] [--note <text for the document>]
 *
 * The commands run in this process through the CLI's `main` (the same code as `sign …`), one
 * after the other. A bagless model that is already trained (its report.json exists) is reused.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { main } from '../src/cli';
import type { Report } from '../src/report';
import { addClassMarkdown, type AddClassRun } from './add-class-report';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: 'runs/add-class' },
    seeds: { type: 'string', default: '0,1,2' },
    train: { type: 'string', default: 'head' },
    steps: { type: 'string', default: '200' },
    out: { type: 'string', default: join(repo, 'docs', 'ADD-CLASS.md') },
    'report-only': { type: 'boolean', default: false },
    note: { type: 'string' },
  },
});
const runs = resolve(values.runs!);
const seeds = values.seeds!.split(',').map(Number);
const cacheFile = join(runs, 'add-class.json');
mkdirSync(runs, { recursive: true });
const cache: Record<string, AddClassRun> = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};

/** Runs `sign <args> --json` in this process; returns the JSON events printed (fails on a non-zero exit). */
async function sign(args: string[]): Promise<Record<string, any>[]> {
  let out = '';
  let err = '';
  const code = await main([...args, '--json'], {
    stdout: { isTTY: false, write: (s: string) => ((out += s), true) } as never,
    stderr: { isTTY: false, write: (s: string) => ((err += s), true) } as never,
    handleSignals: false,
    invocation: 'sign',
  });
  if (code !== 0) throw new Error(`sign ${args.join(' ')}: exit ${code}\n${err}`);
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

const reportOf = (events: Record<string, any>[]): Report => events.find((e) => e.event === 'report')!.report as Report;

if (!values['report-only']) {
  for (const seed of seeds) {
    const dir = join(runs, `bagless-s${seed}`);
    const ckpt = join(dir, 'checkpoints', 'last.safetensors');
    if (!existsSync(join(dir, 'report.json'))) {
      console.log(`seed ${seed}: sign demo --exclude-classes bag --seed ${seed} --out ${dir}`);
      await sign(['demo', '--exclude-classes', 'bag', '--seed', String(seed), '--out', dir]);
    }
    const trained = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    for (const embedding of ['real', 'random'] as const) {
      const key = `s${seed}-${embedding}-${values.train}-${values.steps}`;
      if (cache[key]) continue;
      const out = join(runs, `${key}.safetensors`);
      const args = ['add-class', 'bag', '--checkpoint', ckpt, '--out', out, '--train', values.train!, '--steps', values.steps!];
      if (embedding === 'random') args.push('--control', 'random');
      console.log(`seed ${seed}: sign ${args.join(' ')}`);
      const added = (await sign(args)).find((e) => e.event === 'add-class')!;
      const after = reportOf(await sign(['eval', '--checkpoint', out]));
      cache[key] = { seed, embedding, train: values.train!, steps: Number(values.steps), addSeconds: added.seconds, source: added.source, before: trained, after, command: `sign ${args.join(' ')}` };
      writeFileSync(cacheFile, `${JSON.stringify(cache, null, 1)}\n`);
      console.log(`  bag IoU ${after.perClassIoU.bag?.toFixed(1)} · mIoU seen ${after.mIoUSeen.toFixed(1)} (before ${trained.mIoUSeen.toFixed(1)}) · ${added.seconds.toFixed(1)} s`);
    }
  }
}

writeFileSync(values.out!, addClassMarkdown(Object.values(cache), { date: new Date().toISOString().slice(0, 10), runs: values.runs!, ...(values.note ? { note: values.note } : {}) }));
console.log(`wrote ${values.out}`);
