import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DIR, configFile, datasetConfigFile, demoConfig, loadConfigFile, recipeNames, resolveUnseen, trainConfig } from '../src/configs';

const DEMO_CONFIG = loadConfigFile(configFile('demo'));
const QUICK_CONFIG = loadConfigFile(configFile('quick'));
import { UsageError } from '../src/errors';
import {
  drawText,
  blank,
  encodePng,
  legendImage,
  overlayImage,
  pixelImage,
  resizeGray,
  resizeLabels,
  CLASS_COLORS,
} from '../src/image';
import { toChannels } from '@sign/trainer';
import { createReporter, formatDuration } from '../src/progress';
import { REPORT_KEYS, buildReport, formatTable } from '../src/report';
import { diffPaths } from '../src/run';
import { decodePng, sink, tempDir } from './helpers';

describe('progress reporter', () => {
  it('plain mode prints a line per phase change, the last step, and otherwise at most every plainEveryMs', () => {
    let t = 0;
    const err = sink(false);
    const out = sink(false);
    const r = createReporter({ mode: 'plain', stdout: out, stderr: err, plainEveryMs: 1000, now: () => t });
    for (let s = 1; s <= 10; s++) {
      t = s * 300; // a step every 0.3 s
      r.step({ phase: 'step1', step: s, total: 10, losses: { clsReal: 0.5 } });
    }
    r.step({ phase: 'transfer', step: 11, total: 20, losses: { mmd: 0.25 } });
    const lines = err.text.trim().split('\n');
    // step 1 (new phase), then whenever >= 1 s passed (steps 5 and 9), step 10 (last of phase), step 11 (new phase)
    expect(lines.map((l) => l.match(/\] (\d+)\//)?.[1])).toEqual(['1', '5', '9', '10', '11']);
    expect(lines[1]).toContain('[step1] 5/10 (50%) clsReal=0.500');
    // 4 steps in 1.2 s → 3.3 it/s, 5 steps left → ETA 2s
    expect(lines[1]).toContain('3.3 it/s · ETA 2s');
    expect(out.text).toBe('');
  });

  it('with a --max-steps cap, progress and ETA count to the cap, and the line says the schedule total', () => {
    let t = 0;
    const err = sink(false);
    const out = sink(false);
    const r = createReporter({ mode: 'plain', stdout: out, stderr: err, plainEveryMs: 1000, now: () => t });
    for (let s = 1; s <= 4; s++) {
      t = s * 500;
      r.step({ phase: 'step1', step: s, total: 60000, until: 6, losses: { clsReal: 0.5 } });
    }
    const lines = err.text.trim().split('\n');
    // steps 1 and 3 (1 s later): 2 steps in 1 s → 2 it/s, 3 steps left of 6 → ETA 2s (not the 59997 of the schedule)
    expect(lines[1]).toBe('[step1] 3/6 (of 60000) (50%) clsReal=0.500 · 2.0 it/s · ETA 2s');
    const json = sink(false);
    createReporter({ mode: 'json', stdout: json, stderr: sink(), now: () => 0, rss: () => 123 }).step({ phase: 'step1', step: 1, total: 60000, until: 6, losses: {} });
    expect(JSON.parse(json.text)).toMatchObject({ step: 1, total: 60000, until: 6, rss: 123 });
  });

  it('json mode writes one parseable event per line on stdout and nothing on stderr', () => {
    const err = sink(false);
    const out = sink(false);
    const r = createReporter({ mode: 'json', stdout: out, stderr: err, now: () => 5 });
    r.step({ phase: 'step1', step: 1, total: 2, losses: { a: 1 } });
    r.evaluation({ step: 2, metrics: { mIoUSeen: 50, mIoUUnseen: 20, hIoU: 28.57 } });
    r.checkpoint('x/last.safetensors');
    r.log('hello');
    const events = out.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(['step', 'eval', 'checkpoint', 'log']);
    expect(events[0]).toMatchObject({ phase: 'step1', step: 1, total: 2, losses: { a: 1 } });
    expect(r.lastCheckpoint).toBe('x/last.safetensors');
    expect(err.text).toBe('');
  });

  it('tty mode redraws one bar in place on stderr and keeps log lines above it', () => {
    let t = 0;
    const err = sink(true);
    const r = createReporter({ mode: 'tty', stdout: sink(), stderr: err, now: () => t });
    r.step({ phase: 'step1', step: 1, total: 4, losses: { l: 1 } });
    t = 1000;
    r.step({ phase: 'step1', step: 2, total: 4, losses: { l: 0.5 } });
    r.log('note');
    r.finish();
    expect(err.text).toContain('\r\x1b[2Kstep1');
    expect(err.text).toContain('2/4  50%');
    expect(err.text).toContain('note\n');
    expect(err.text.endsWith('\n')).toBe(true);
  });

  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(NaN)).toBe('?');
  });
});

describe('image helpers', () => {
  it('PNG round trip keeps every byte', () => {
    const img = blank(3, 2, [10, 20, 30]);
    img.data.set([255, 0, 0, 255], 0);
    img.data.set([0, 0, 255, 128], 4);
    const back = decodePng(encodePng(img));
    expect(back.width).toBe(3);
    expect(back.height).toBe(2);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
  });

  it('channel conversion for the model: grey replicated to RGB, RGB to grey with Rec.601 weights', () => {
    expect(Array.from(toChannels(Uint8Array.from([7, 200]), 1, 3))).toEqual([7, 7, 7, 200, 200, 200]);
    expect(Array.from(toChannels(Uint8Array.from([255, 0, 0, 10, 20, 30]), 3, 1))).toEqual([Math.round(0.299 * 255), Math.round(0.299 * 10 + 0.587 * 20 + 0.114 * 30)]);
    const same = Uint8Array.from([1, 2, 3]);
    expect(toChannels(same, 3, 3)).toBe(same);
    const rgb = pixelImage(Uint8Array.from([1, 2, 3, 4, 5, 6]), 3, 2, 1);
    expect(Array.from(rgb.data)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
    const grey = pixelImage(Uint8Array.from([9, 8]), 1, 2, 1);
    expect(Array.from(grey.data)).toEqual([9, 9, 9, 255, 8, 8, 8, 255]);
  });

  it('overlays tint every class but the background and ignored pixels', () => {
    const base = pixelImage(Uint8Array.from([0, 0, 0]), 1, 3, 1);
    const o = overlayImage(base, [0, 2, 255], 0);
    expect(Array.from(o.data.slice(0, 4))).toEqual([0, 0, 0, 255]);
    expect(Array.from(o.data.slice(8, 12))).toEqual([0, 0, 0, 255]);
    const c = CLASS_COLORS[2];
    expect(Array.from(o.data.slice(4, 7))).toEqual(c.map((v) => Math.round(0.45 * 0.35 * 255 + 0.55 * v)));
    // a dataset without background: class 0 is tinted too
    expect(Array.from(overlayImage(base, [0, 0, 0], null).data.slice(0, 3))).not.toEqual([0, 0, 0]);
  });

  it('bilinear resize: identity, 2x upsampling with aligned pixel centres, and 4x shrink = area mean', () => {
    const src = Float32Array.from([0, 1, 2, 3]);
    expect(Array.from(resizeGray(src, 2, 2, 2, 2))).toEqual([0, 1, 2, 3]);
    const up = resizeGray(Float32Array.from([0, 1]), 2, 1, 4, 1);
    // centres at x = -0.25, 0.25, 0.75, 1.25 (clamped): 0, 0.25, 0.75, 1
    expect(Array.from(up)).toEqual([0, 0.25, 0.75, 1]);
    const big = new Float32Array(16).map((_, i) => i);
    const down = resizeGray(big, 4, 4, 1, 1);
    expect(down[0]).toBeCloseTo(7.5, 6);
  });

  it('nearest resize of labels keeps ids', () => {
    const l = Uint8Array.from([1, 2, 3, 4]);
    expect(Array.from(resizeLabels(l, 2, 2, 4, 4))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(Array.from(resizeLabels(resizeLabels(l, 2, 2, 4, 4), 4, 4, 2, 2))).toEqual([1, 2, 3, 4]);
  });

  it('draws text pixels and a legend with one swatch colour per class', () => {
    const img = blank(20, 10);
    drawText(img, 'I', 0, 0, [0, 0, 0]);
    // 'I' top row is 01110: pixels 1..3 black, 0 and 4 white
    const px = (x: number, y: number) => img.data[4 * (y * 20 + x)];
    expect([px(0, 0), px(1, 0), px(2, 0), px(3, 0), px(4, 0)]).toEqual([255, 0, 0, 0, 255]);
    const legend = legendImage(
      [
        { label: 1, name: 'a' },
        { label: 2, name: 'b' },
      ],
      400,
    );
    const colors = new Set<string>();
    for (let i = 0; i < legend.width * legend.height; i++) colors.add(Array.from(legend.data.subarray(4 * i, 4 * i + 3)).join(','));
    expect(colors.has(CLASS_COLORS[1].join(','))).toBe(true);
    expect(colors.has(CLASS_COLORS[2].join(','))).toBe(true);
    expect(colors.has(CLASS_COLORS[3].join(','))).toBe(false);
  });
});

describe('configs from flags and files', () => {
  it('resolves class names loosely and canonicalises them', () => {
    expect(resolveUnseen('Ankle_Boot, t-shirt/top,bag')).toEqual(['ankle boot', 't-shirt/top', 'bag']);
    expect(() => resolveUnseen('pullover,jumper')).toThrow(/--unseen: unknown class 'jumper' \(valid: 't-shirt\/top', .* or 'ankle boot'\)/);
    expect(() => resolveUnseen('background')).toThrow(/background is always seen/);
    expect(() => resolveUnseen('bag,bag')).toThrow(/listed twice/);
  });

  it('demo flags land in the config (the report echoes it)', () => {
    const c = demoConfig({
      quick: true,
      unseen: 'coat,bag,sneaker',
      seed: '7',
      layout: 'random',
      generator: 'gmmn',
      'self-training': 'top-p',
      backend: 'cpu',
      control: 'random',
      'control-seed': '3',
      embeddings: 'attributes',
      calibrate: '0.5',
    });
    expect(c.name).toBe(QUICK_CONFIG.name);
    expect(c.data.unseen).toEqual(['coat', 'bag', 'sneaker']);
    expect(c.seed).toBe(7);
    expect(c.data.layout).toBe('random');
    expect(c.model.type).toBe('zs3net');
    expect(c.selfTraining).toEqual({ type: 'top-p', topP: 2, rule: 'rank' });
    expect(c.runtime.backend).toBe('cpu');
    expect(c.data.control).toBe('random');
    expect(c.data.controlSeed).toBe(3);
    expect(c.data.embeddings).toBe('attributes');
    expect(c.eval.calibrate).toBe(0.5);
    expect(c.schedule).toEqual(QUICK_CONFIG.schedule);
    expect(demoConfig({})).toEqual(DEMO_CONFIG);
  });

  it("sign train --dataset: the app's experiment file for the dataset where it ships one (folder), else base file + recipe + schedule", () => {
    const data = { root: '/data/shapes', unseen: ['yellow', 'cyan'] };
    for (const quick of [true, false]) {
      const file = join(CONFIG_DIR, quick ? 'folder-quick.json' : 'folder.json');
      expect(datasetConfigFile('folder', quick)).toBe(file);
      expect(trainConfig({ dataset: 'folder', 'data-root': data.root, unseen: 'yellow,cyan', quick })).toEqual(loadConfigFile(file, { data }));
    }
    expect(datasetConfigFile('fashion-scenes', true)).toBeUndefined();
    expect(datasetConfigFile('../demo', false)).toBeUndefined(); // not a dataset name: never a path
    const fashion = trainConfig({ dataset: 'fashion-scenes', quick: true });
    expect(fashion.name).toBe('fashion-scenes-quick');
    expect(fashion.schedule).toEqual(QUICK_CONFIG.schedule);
  });

  it('sign train: --control and --control-seed set data.control and data.controlSeed, as in sign demo', () => {
    const flags = { dataset: 'folder', 'data-root': '/data/shapes', unseen: 'yellow,cyan', quick: true };
    expect(trainConfig({ ...flags, control: 'random', 'control-seed': '4' }).data).toMatchObject({ type: 'folder', root: '/data/shapes', unseen: ['yellow', 'cyan'], control: 'random', controlSeed: 4 });
    expect(trainConfig({ ...flags, control: 'permuted' }).data).toMatchObject({ control: 'permuted' });
    expect((trainConfig(flags).data as { control?: string }).control).toBeUndefined();
    expect(() => trainConfig({ ...flags, 'control-seed': '4' })).toThrow('--control-seed: only meaningful with --control random|permuted');
    expect(() => trainConfig({ ...flags, control: 'shuffled' })).toThrow(/--control: unknown value 'shuffled'/);
  });

  it('--supervised sets data.supervised (off by default)', () => {
    expect(demoConfig({ quick: true, supervised: true }).data.supervised).toBe(true);
    expect(demoConfig({ quick: true }).data.supervised).toBeUndefined();
  });

  it('--temperature sets the AST temperature; it needs AST and a number >= 0', () => {
    expect(demoConfig({ temperature: '2.5' }).selfTraining).toEqual({ type: 'ast', temperature: 2.5 });
    expect(demoConfig({ temperature: '0', 'self-training': 'ast', 'temperature-end': '5' }).selfTraining).toEqual({ type: 'ast', temperature: 0, temperatureEnd: 5 });
    expect(demoConfig({ 'self-training': 'top-p', 'top-p': '3' }).selfTraining).toEqual({ type: 'top-p', topP: 3, rule: 'rank' });
    expect(() => demoConfig({ 'top-p': '3' })).toThrow(/--top-p: only meaningful with --self-training top-p/);
    expect(() => demoConfig({ temperature: '-1' })).toThrow(/--temperature: must be a number >= 0, got -1/);
    expect(() => demoConfig({ temperature: '1', 'self-training': 'top-p' })).toThrow(/--temperature: only meaningful with --self-training ast/);
    expect(() => demoConfig({ temperature: 'hot' })).toThrow(/--temperature: expected a number/);
  });

  it('--recipe (or --generator) picks the base model file; sign/cagnet keep the MLP widths, zs3net has ZS3Net\'s single hidden layer', () => {
    expect(recipeNames()).toEqual(['sign', 'cagnet', 'zs3net']);
    const cagnet = demoConfig({ generator: 'cagnet' });
    expect(cagnet.model.type).toBe('cagnet');
    expect(cagnet.model.generator).toEqual(DEMO_CONFIG.model.generator);
    expect(demoConfig({ recipe: 'cagnet' })).toEqual(cagnet);
    expect(demoConfig({ generator: 'sign' })).toEqual(DEMO_CONFIG);
    const zs = demoConfig({ generator: 'gmmn' });
    expect(zs.model.type).toBe('zs3net');
    expect(zs.model.generator).toEqual({ hidden: [256], dropout: [0.5] });
    expect(demoConfig({ recipe: 'zs3net' })).toEqual(zs);
    expect(demoConfig({ positional: 'absolute' }).model).toMatchObject({ type: 'sign', sim: { positional: 'absolute' } });
    expect(() => demoConfig({ recipe: 'zs3net', positional: 'none' })).toThrow(/--positional: only the sign recipe/);
    expect(() => demoConfig({ recipe: 'cagnet', generator: 'gmmn' })).toThrow(/give one of them/);
    expect(() => demoConfig({ recipe: 'deeplab' })).toThrow(/--recipe: unknown recipe 'deeplab' \(valid: 'sign', 'cagnet' or 'zs3net'\)/);
  });

  it('rejects bad flag values naming the flag and the valid values', () => {
    const fails = (flags: Record<string, string>, re: RegExp) => {
      expect(() => demoConfig(flags)).toThrow(UsageError);
      expect(() => demoConfig(flags)).toThrow(re);
    };
    fails({ generator: 'gan' }, /--generator: unknown generator 'gan' \(valid: .*'sign'/);
    fails({ layout: 'grid' }, /--layout: unknown value 'grid' \(valid: 'outfit' or 'random'\)/);
    fails({ seed: '1.5' }, /--seed: expected an integer/);
    fails({ calibrate: 'x' }, /--calibrate: expected a number/);
    fails({ 'self-training': 'yes' }, /--self-training: unknown value 'yes'/);
    fails({ backend: 'gpu' }, /--backend: unknown value 'gpu'/);
  });

  it('config files: base + overrides, and a misspelt key fails naming its path', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ base: 'quick', seed: 4, schedule: { step1Iters: 5 } }));
    const c = loadConfigFile(good);
    expect(c.seed).toBe(4);
    expect(c.schedule.step1Iters).toBe(5);
    expect(c.schedule.transferIters).toBe(QUICK_CONFIG.schedule.transferIters);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ base: 'demo', schedule: { stepOneIters: 5 } }));
    expect(() => loadConfigFile(bad)).toThrow(/schedule\.stepOneIters: unknown key/);

    const badBase = join(dir, 'base.json');
    writeFileSync(badBase, JSON.stringify({ base: 'fast' }));
    expect(() => loadConfigFile(badBase)).toThrow(/base: unknown base config 'fast' \(valid: 'demo' or 'quick'\)/);

    const notJson = join(dir, 'x.json');
    writeFileSync(notJson, '{ seed: 1 }');
    expect(() => loadConfigFile(notJson)).toThrow(/x\.json: not valid JSON/);
  });
});

describe('report', () => {
  const report = buildReport({
    metrics: { mIoUSeen: 60.123456, mIoUUnseen: 30, hIoU: 40.0824, mIoU: 51, pixelAccuracy: 90 },
    perClassIoU: { background: 95, coat: 60, bag: NaN },
    seen: ['coat'],
    unseen: ['bag'],
    backend: 'wasm',
    seconds: 12.345,
    config: { name: 'x' },
  });

  it('has exactly the documented keys, rounded values, null for undefined IoU', () => {
    expect(Object.keys(report)).toEqual([...REPORT_KEYS]);
    expect(report.mIoUSeen).toBe(60.1235);
    expect(report.seconds).toBe(12.3);
    expect(report.perClassIoU).toEqual({ background: 95, coat: 60, bag: null });
  });

  it('formats a table with every metric and class', () => {
    const t = formatTable(report);
    expect(t).toMatch(/mIoU seen\s+60\.1/);
    expect(t).toMatch(/hIoU\s+40\.1/);
    expect(t).toMatch(/bag\s+unseen\s+–/);
    expect(t).toContain('backend wasm');
  });

  it('diffPaths names the changed config keys', () => {
    expect(diffPaths({ a: 1, b: { c: [1], d: 2 } }, { a: 1, b: { c: [2], d: 2, e: 1 } })).toEqual(['b.c', 'b.e']);
  });
});

describe('README', () => {
  it('documents every flag of every command', async () => {
    const { readFileSync } = await import('node:fs');
    const { DEMO_OPTIONS, TRAIN_OPTIONS, EVAL_OPTIONS, PREDICT_OPTIONS } = await import('../src/args');
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    for (const opts of [DEMO_OPTIONS, TRAIN_OPTIONS, EVAL_OPTIONS, PREDICT_OPTIONS])
      for (const flag of Object.keys(opts)) if (flag !== 'help') expect(readme, `--${flag}`).toContain(`--${flag}`);
  });
});

describe('help and version', () => {
  it('sign --help, sign help demo, sign demo --help, sign --version exit 0 without work', async () => {
    const { main } = await import('../src/cli');
    const run = async (argv: string[]) => {
      const o = sink();
      const e = sink();
      const code = await main(argv, { stdout: o, stderr: e, handleSignals: false });
      return { code, out: o.text, err: e.text };
    };
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toContain('sign demo [flags]');
    const demo = await run(['help', 'demo']);
    expect(demo.out).toContain('--self-training none|ast|top-p');
    expect((await run(['demo', '--help'])).out).toBe(demo.out);
    expect((await run(['predict', '-h'])).out).toContain('--from-test');
    const v = await run(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
