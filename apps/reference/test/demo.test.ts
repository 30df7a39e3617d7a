// End to end, in-process: `sign demo --quick` trains, evaluates and writes the report; then
// `sign eval` and `sign predict` use its checkpoint. One quick run feeds all checks (~1-2 min).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FASHION_CLASSES } from '@sign/data';
import { makeFashionScenes } from '@sign/data/node';
import type { ExperimentConfig } from '@sign/trainer';
import { configFile, loadConfigFile } from '../src/configs';
import { main } from '../src/cli';
import { REPORT_KEYS, type Report } from '../src/report';
import { blank, encodePng, resizeGray } from '../src/image';
import { readPng, sink, tempDir } from './helpers';

const dir = tempDir('sign-demo-');
const out = join(dir, 'quick');
const unseen = ['coat', 'sandal', 'bag'];
const items = FASHION_CLASSES.slice(1);
let code: number;
let stdout: string;
let stderr: string;
let seconds: number;

beforeAll(async () => {
  const o = sink();
  const e = sink();
  const t0 = Date.now();
  code = await main(
    ['demo', '--quick', '--seed', '3', '--unseen', 'Coat,sandal,bag', '--layout', 'outfit', '--generator', 'sign',
      '--self-training', 'ast', '--embeddings', 'both', '--control', 'none', '--calibrate', '0', '--out', out],
    { stdout: o, stderr: e, handleSignals: false, invocation: 'sign' },
  );
  seconds = (Date.now() - t0) / 1000;
  stdout = o.text;
  stderr = e.text;
  console.log(`quick demo in-process: ${seconds.toFixed(1)} s`);
}, 600_000);

describe('sign demo --quick', () => {
  it('exits 0, prints the table on stdout and plain progress lines on stderr', () => {
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/mIoU seen\s+\d+\.\d/);
    expect(stdout).toMatch(/hIoU\s+\d+\.\d/);
    expect(stdout).toMatch(/coat\s+unseen/);
    expect(stderr).toMatch(/\[step1\] \d+\/\d+/);
    expect(stderr).toContain('backend: ');
  });

  it('report.json has exactly the documented keys, percentages in 0..100, the split, and echoes the flags', () => {
    const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    expect(Object.keys(r).sort()).toEqual([...REPORT_KEYS].sort());
    for (const k of ['mIoUSeen', 'mIoUUnseen', 'hIoU', 'mIoU', 'pixelAccuracy'] as const) {
      expect(typeof r[k], k).toBe('number');
      expect(r[k], k).toBeGreaterThanOrEqual(0);
      expect(r[k], k).toBeLessThanOrEqual(100);
    }
    // hIoU is the harmonic mean of the two (within the report's rounding)
    const h = r.mIoUSeen + r.mIoUUnseen > 0 ? (2 * r.mIoUSeen * r.mIoUUnseen) / (r.mIoUSeen + r.mIoUUnseen) : 0;
    expect(r.hIoU).toBeCloseTo(h, 2);
    // every item class (background too only when the config counts it)
    expect(Object.keys(r.perClassIoU).sort()).toEqual([...items].sort());
    for (const [name, v] of Object.entries(r.perClassIoU)) {
      expect(v === null || (typeof v === 'number' && v >= 0 && v <= 100), name).toBe(true);
    }
    expect([...r.unseen].sort()).toEqual([...unseen].sort());
    expect([...r.seen].filter((c) => c !== 'background').sort()).toEqual(items.filter((c) => !unseen.includes(c)).sort());
    expect(r.seen.some((c) => unseen.includes(c))).toBe(false);
    // mIoU(U) is the mean of the unseen classes' IoU
    const u = unseen.map((c) => r.perClassIoU[c] as number);
    expect(r.mIoUUnseen).toBeCloseTo(u.reduce((a, b) => a + b, 0) / u.length, 2);
    expect(typeof r.backend).toBe('string');
    expect(['wasm', 'cpu', 'tensorflow']).toContain(r.backend);
    expect(r.seconds).toBeGreaterThan(0);
    expect(r.seconds).toBeLessThanOrEqual(seconds + 1);
    const c = r.config as ExperimentConfig & { data: Record<string, unknown> };
    expect(c.seed).toBe(3);
    expect(c.data.unseen).toEqual(unseen);
    expect(c.data.layout).toBe('outfit');
    expect(c.model.type).toBe('sign');
    expect(c.selfTraining.type).toBe('ast');
    expect(c.data.embeddings).toBe('both');
    expect(c.eval.calibrate).toBe(0);
    expect(c.schedule).toEqual(loadConfigFile(configFile('quick')).schedule);
  });

  it('report.md holds the table and prediction images next to their ground truth, and the PNGs exist', () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| mIoU seen | mIoU unseen | hIoU | mIoU (all) | pixel accuracy |');
    const images = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(images).toContain('sample-0-truth.png');
    expect(images).toContain('sample-0-prediction.png');
    for (const f of images) {
      const png = readPng(join(out, f));
      expect(png.width).toBeGreaterThan(0);
    }
    const truth = readPng(join(out, 'sample-0-truth.png'));
    const pred = readPng(join(out, 'sample-0-prediction.png'));
    expect([pred.width, pred.height]).toEqual([truth.width, truth.height]);
    expect(existsSync(join(out, 'checkpoints', 'last.safetensors'))).toBe(true);
    // the ZSL protocol (unseen classes alone): a section in report.md and zsl.json beside it
    expect(md).toContain('## Unseen classes alone (ZSL protocol)');
    const z = JSON.parse(readFileSync(join(out, 'zsl.json'), 'utf8'));
    expect(Object.keys(z.perClassIoU).sort()).toEqual([...unseen].sort());
    expect(z.pixels).toBeGreaterThan(0);
    expect(z.pixelAccuracy).toBeGreaterThanOrEqual(0);
    expect(z.pixelAccuracy).toBeLessThanOrEqual(100);
    const present = Object.values(z.perClassIoU).filter((v): v is number => v !== null);
    expect(z.mIoU).toBeCloseTo(present.reduce((a, b) => a + b, 0) / present.length, 2);
    expect(md).toMatch(new RegExp(`\\| naming accuracy \\| ${z.pixelAccuracy.toFixed(1)} \\|`));
  });

  it('sign eval re-evaluates the checkpoint and --calibrate reaches the model', async () => {
    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const runEval = async (gamma: string, dest: string) => {
      const o = sink();
      const e = sink();
      const c = await main(['eval', '--checkpoint', ckpt, '--calibrate', gamma, '--out', dest, '--json'], { stdout: o, stderr: e, handleSignals: false });
      expect(c, e.text).toBe(0);
      const ev = o.text.trim().split('\n').map((l) => JSON.parse(l)).find((x) => x.event === 'report');
      return ev.report as Report;
    };
    // γ = 0 reproduces the demo's own evaluation
    const r0 = await runEval('0', join(dir, 'eval-0'));
    const demo = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
    expect(r0.mIoUSeen).toBeCloseTo(demo.mIoUSeen, 3);
    expect(r0.mIoUUnseen).toBeCloseTo(demo.mIoUUnseen, 3);
    expect(r0.perClassIoU).toEqual(demo.perClassIoU);
    // and the same ZSL numbers (calibration does not change the ranking among unseen classes)
    const zDemo = JSON.parse(readFileSync(join(out, 'zsl.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'eval-0', 'zsl.json'), 'utf8'))).toEqual(zDemo);
    // a huge γ pushes every pixel to an unseen class: no seen class is ever predicted
    const big = await runEval('1000', join(dir, 'eval-1000'));
    expect((big.config as ExperimentConfig).eval.calibrate).toBe(1000);
    expect(big.mIoUSeen).toBe(0);
    expect(big.hIoU).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'eval-1000', 'report.json'), 'utf8'));
    expect(Object.keys(written).sort()).toEqual([...REPORT_KEYS].sort());
    expect(written.mIoUSeen).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'eval-1000', 'zsl.json'), 'utf8'))).toEqual(zDemo);
  });

  it('sign predict writes masks and overlays at each image size, and panels with a legend', async () => {
    // A user image: a test scene drawn dark-on-light, 100×80 RGB (the model saw light items on black).
    const scene = makeFashionScenes({ split: 'test', count: 1, seed: 99, layout: 'outfit', size: 64 });
    const g = resizeGray(scene.images, 64, 64, 100, 80);
    const img = blank(100, 80);
    for (let i = 0; i < g.length; i++) {
      const v = Math.round(255 * (1 - g[i]));
      img.data.set([v, v, Math.round(v * 0.9), 255], 4 * i);
    }
    const userPng = join(dir, 'my photo.png');
    writeFileSync(userPng, encodePng(img));
    const pdir = join(dir, 'pred');
    const o = sink();
    const e = sink();
    const c = await main(['predict', '--checkpoint', join(out, 'checkpoints', 'last.safetensors'), userPng, '--from-test', '2', '--out', pdir], {
      stdout: o,
      stderr: e,
      handleSignals: false,
    });
    expect(c, e.text).toBe(0);
    const mask = readPng(join(pdir, 'my photo.mask.png'));
    const overlay = readPng(join(pdir, 'my photo.overlay.png'));
    expect([mask.width, mask.height]).toEqual([100, 80]);
    expect([overlay.width, overlay.height]).toEqual([100, 80]);
    const panel = readPng(join(pdir, 'my photo.panel.png'));
    expect(panel.width).toBeGreaterThan(3 * 100);
    for (const t of ['test-000', 'test-001']) {
      const m = readPng(join(pdir, `${t}.mask.png`));
      expect([m.width, m.height]).toEqual([64, 64]);
    }
    const summary = JSON.parse(readFileSync(join(pdir, 'predictions.json'), 'utf8'));
    expect(summary.images).toHaveLength(3);
    expect(summary.images[0].inverted).toBe(true);
    expect(summary.images[1].pixelAccuracy).toBeGreaterThan(0.5);
    const fractions = Object.values(summary.images[0].classes as Record<string, number>);
    expect(fractions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(o.text).toContain('my photo.panel.png');
    expect(existsSync(join(pdir, 'legend.png'))).toBe(true);
  });
});
