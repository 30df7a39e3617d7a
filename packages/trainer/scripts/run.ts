// Runs runExperiment on a built-in config (argv[2]: 'demo' | 'quick') plus JSON overrides (argv[3]) and prints
// the wall time and metrics. npx tsx --tsconfig packages/trainer/scripts/tsconfig.json packages/trainer/scripts/run.ts quick
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CONFIG, QUICK_CONFIG, evaluateCheckpoint, mergeConfig, runExperiment } from '../src/index';

async function main() {
  const t0 = Date.now();
  const base = process.argv[2] === 'quick' ? QUICK_CONFIG : DEMO_CONFIG;
  const config = mergeConfig(base, JSON.parse(process.argv[3] ?? '{}'));
  const outDir = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'sign-run-'));
  const r = await runExperiment(config, {
    outDir,
    callbacks: { onLog: (m) => console.log(m), onStep: (e) => (e.step % 100 === 0 ? console.log(`${e.step}/${e.total} ${e.phase}/${e.update} t=${((Date.now() - t0) / 1000).toFixed(0)}s`) : undefined) },
  });
  const f = (v: number) => v.toFixed(1);
  console.log(`[${config.name}] S ${f(r.metrics.mIoUSeen)} U ${f(r.metrics.mIoUUnseen)} H ${f(r.metrics.hIoU)} mIoU ${f(r.metrics.mIoU)} acc ${f(r.metrics.pixelAccuracy)} | ${r.seconds.toFixed(0)} s (process ${((Date.now() - t0) / 1000).toFixed(0)} s, ${r.backend})`);
  console.log('   ', Object.entries(r.perClassIoU).map(([k, v]) => `${k}:${v.toFixed(0)}`).join(' '));
  for (const g of (process.env.GAMMAS ?? '').split(',').filter(Boolean).map(Number)) {
    const m = await evaluateCheckpoint(r.checkpoint, { calibrate: g });
    console.log(`  gamma ${g}: S ${f(m.mIoUSeen)} U ${f(m.mIoUUnseen)} H ${f(m.hIoU)}`);
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
