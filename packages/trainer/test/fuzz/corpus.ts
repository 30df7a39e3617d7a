/**
 * Corpus generators for the config loader's fuzz suite: valid config files (inline, or composed
 * from the reference app's `_base_` files by absolute path) as JSON text, and hostile ones that
 * know the format: `__proto__`/`constructor`/`prototype` keys anywhere, huge, negative, fractional
 * and infinite numbers at any numeric key, deep nesting, huge strings, and `_base_` entries that
 * name special paths, cycles, long chains, polluted or non-object base files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';

const BASE = resolve(__dirname, '../../../../apps/reference/configs/_base_');
const enc = (text: string) => new TextEncoder().encode(text);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const schedule = fc.record({
  batchSize: fc.integer({ min: 1, max: 4 }),
  step1Iters: fc.integer({ min: 0, max: 3 }),
  transferIters: fc.integer({ min: 0, max: 3 }),
  alternateEvery: fc.integer({ min: 1, max: 2 }),
  selfTrainingIters: fc.integer({ min: 0, max: 2 }),
  pixelsPerClass: fc.integer({ min: 1, max: 64 }),
  transferPixels: fc.integer({ min: 1, max: 64 }),
  transferMixReal: fc.double({ min: 0, max: 4, noNaN: true }),
});

/** A complete config with every section written out (the trainer's TINY shape). */
const inline: fc.Arbitrary<Json> = fc
  .record({
    seed: fc.integer({ min: 0, max: 1000 }),
    size: fc.constantFrom(32, 48, 64),
    recipe: fc.constantFrom('sign', 'cagnet', 'zs3net'),
    schedule,
    lr: fc.double({ min: 1e-5, max: 1e-1, noNaN: true }),
    st: fc.constantFrom<{ [k: string]: Json }>({ type: 'none' }, { type: 'ast', temperature: 0 }, { type: 'top-p', topP: 2 }),
    clip: fc.option(fc.double({ min: 0.1, max: 10, noNaN: true }), { nil: undefined }),
  })
  .map(({ seed, size, recipe, schedule, lr, st, clip }) => ({
    name: `fuzz-${seed}`,
    seed,
    data: { type: 'fashion-scenes', size, trainCount: 4, testCount: 2, unseen: ['pullover', 'dress'] },
    model: { type: recipe, backbone: { name: 'small', channels: 8, width: 4, headChannels: 8, convsPerStage: 1 } },
    schedule,
    optimizers: {
      backbone: { type: 'adam', lr, betas: [0.9, 0.999] },
      classifier: { type: 'sgd', lr, momentum: 0.9, ...(clip !== undefined ? { clipGradNorm: clip } : {}) },
      generator: { type: 'adamw', lr, weightDecay: 0.01 },
    },
    selfTraining: st,
    eval: { every: 0, calibrate: 0 },
    runtime: { backend: 'cpu', checkpointEvery: 10 },
  }));

/** A small experiment file on the app's base files (absolute paths), with overrides. */
const composed: fc.Arbitrary<Json> = fc
  .record({
    recipe: fc.constantFrom('sign', 'cagnet', 'zs3net'),
    scheduleFile: fc.constantFrom('demo', 'quick'),
    seed: fc.integer({ min: 0, max: 1000 }),
    batchSize: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
    unseen: fc.subarray(['pullover', 'dress', 'sandal', 'coat', 'bag'], { minLength: 1, maxLength: 3 }),
  })
  .map(({ recipe, scheduleFile, seed, batchSize, unseen }) => ({
    _base_: [join(BASE, 'datasets/fashion-scenes.json'), join(BASE, `models/${recipe}.json`), join(BASE, `schedules/${scheduleFile}.json`)],
    name: `composed-${seed}`,
    seed,
    data: { unseen },
    ...(batchSize !== undefined ? { schedule: { batchSize } } : {}),
  }));

const configObject = fc.oneof(inline, composed);

/** Valid config files (JSON text, pretty or compact). */
export function configFiles(): fc.Arbitrary<Uint8Array> {
  return fc.tuple(configObject, fc.boolean()).map(([c, pretty]) => enc(JSON.stringify(c, null, pretty ? 2 : undefined)));
}

/** The paths to every object (and every number) in a JSON value. */
function paths(v: Json, at: (string | number)[] = [], out: { objects: (string | number)[][]; numbers: (string | number)[][] } = { objects: [], numbers: [] }) {
  if (typeof v === 'number') out.numbers.push(at);
  else if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') {
    out.objects.push(at);
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  }
  return out;
}

const get = (v: Json, path: (string | number)[]) => path.reduce<Json>((o, k) => (o as Record<string | number, Json>)[k], v);

/** Valid configs with a forbidden key (as an own property, so JSON.stringify writes it) somewhere. */
export function forbiddenKeyConfigs(): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(configObject, fc.nat(), fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.constantFrom<Json>({ seed: 7 }, { batchSize: 3 }, 1, 'x', null))
    .map(([c, pick, key, payload]) => {
      const objects = paths(c).objects;
      const target = get(c, objects[pick % objects.length]) as Record<string, Json>;
      Object.defineProperty(target, key, { value: payload, enumerable: true, configurable: true, writable: true });
      return enc(JSON.stringify(c));
    });
}

const HUGE = ['1e308', '-1e308', '1e999', '-1e999', '9007199254740993', '1e5', '1e9', '-1', '0.5', '0', '-0', '4294967296'];

/** Valid configs with one number replaced by a huge, negative, fractional or infinite one (as JSON text). */
export function hugeValueConfigs(): fc.Arbitrary<Uint8Array> {
  return fc.tuple(configObject, fc.nat(), fc.constantFrom(...HUGE)).map(([c, pick, value]) => {
    const numbers = paths(c).numbers;
    if (numbers.length === 0) return enc(JSON.stringify(c));
    const path = numbers[pick % numbers.length];
    const parent = get(c, path.slice(0, -1)) as Record<string | number, Json>;
    parent[path[path.length - 1]] = '__HUGE__';
    return enc(JSON.stringify(c).replace('"__HUGE__"', value));
  });
}

/** Objects or arrays nested 20 to 100,000 deep, and strings up to 900 KB. */
export function deepAndLongConfigs(): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(20, 33, 200, 5_000, 100_000), fc.boolean()).map(([n, arrays]) => enc(arrays ? `{"name":${'['.repeat(n)}1${']'.repeat(n)}}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
    fc.constantFrom(1_000, 900_000).map((n) => enc(JSON.stringify({ name: 'x'.repeat(n), seed: 0 }))),
  );
}

let fixtures: string | undefined;
/** Base files the hostile `_base_` entries name (made once per process, removed at exit). */
function baseFixtures(): string {
  if (fixtures) return fixtures;
  const dir = mkdtempSync(join(tmpdir(), 'sign fuzz ü config-bases-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'cycle-a.json'), JSON.stringify({ _base_: 'cycle-b.json' }));
  writeFileSync(join(dir, 'cycle-b.json'), JSON.stringify({ _base_: 'cycle-a.json' }));
  writeFileSync(join(dir, 'self.json'), JSON.stringify({ _base_: 'self.json' }));
  for (let i = 0; i < 40; i++) writeFileSync(join(dir, `chain-${i}.json`), JSON.stringify(i === 39 ? { seed: 1 } : { _base_: `chain-${i + 1}.json` }));
  writeFileSync(join(dir, 'polluted.json'), '{"schedule": {"__proto__": {"batchSize": 3}}, "seed": 1}');
  writeFileSync(join(dir, 'array.json'), '[1, 2, 3]');
  writeFileSync(join(dir, 'not-json.json'), 'name = "x"');
  writeFileSync(join(dir, 'bom.json'), '\uFEFF{"seed": 1}');
  mkdirSync(join(dir, 'a-folder.json'));
  spawnSync('mkfifo', [join(dir, 'fifo.json')]);
  fixtures = dir;
  return dir;
}

/** Configs whose `_base_` names special paths, cycles, a 40-file chain, polluted, non-object or repeated bases. */
export function hostileBases(): fc.Arbitrary<Uint8Array> {
  const entry = fc.constantFrom(
    '/dev/zero',
    '.',
    '..',
    '',
    '/nonexistent/base.json',
    'cycle-a.json',
    'self.json',
    'chain-0.json',
    'polluted.json',
    'array.json',
    'not-json.json',
    'bom.json',
    'a-folder.json',
    'fifo.json',
    'x\u0000y.json',
    join(BASE, 'models/sign.json'),
  );
  return fc
    .tuple(configObject, fc.oneof(entry.map((e) => [e]), fc.array(entry, { minLength: 2, maxLength: 4 }), fc.constantFrom(500, 2_000).map((n) => Array<string>(n).fill(join(BASE, 'schedules/quick.json')))), fc.boolean())
    .map(([c, bases, asString]) => {
      const dir = baseFixtures();
      const named = bases.map((b) => (b.startsWith('/') || b === '' ? b : join(dir, b)));
      const own = c as Record<string, Json>;
      return enc(JSON.stringify({ ...own, _base_: asString && named.length === 1 ? named[0] : [...((own._base_ as string[] | undefined) ?? []), ...named] }));
    });
}
