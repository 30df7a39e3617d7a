import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backboneRegistry } from '@sign/backbones';
import { datasets } from '@sign/datasets';
import { CAGNET_LOSSES, ZS3NET_SIGMAS } from '@sign/recipes';
import { ConfigError, configJsonSchema, mergeConfig, validateConfig, type ExperimentConfigInput } from '../src/index';
import { composeConfigFile, loadConfigFile } from '../src/node';
import { TINY } from './tiny'; // (registers fashion-scenes)

const errorsOf = (over: Record<string, unknown>) => validateConfig(mergeConfig(TINY, over)).errors;

describe('validateConfig', () => {
  it('accepts a complete config and fills the defaults (the recipe\'s paper settings)', () => {
    const { config, errors } = validateConfig(TINY);
    expect(errors).toEqual([]);
    expect(config!.optimizers.classifier).toEqual({ type: 'adam', lr: 0.01, betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0, lrSchedule: { type: 'constant' }, lrMult: {}, decayMult: {} });
    // a model section without losses gets the CaGNet/SIGN paper weights
    const { losses: _l, transferPrior: _p, ...model } = TINY.model as Record<string, unknown>;
    const paper = validateConfig({ ...TINY, model }).config!;
    expect(paper.model.losses).toEqual(CAGNET_LOSSES);
    expect(paper.model.losses.clsReal).toEqual({ backbone: 0.5, classifier: 1 });
    expect(paper.model.transferPrior).toEqual({ type: 'cagnet', unseenRate: 9 });
    // a term given in part keeps the other part's default
    const partial = validateConfig(mergeConfig({ ...TINY, model }, { model: { losses: { clsReal: { backbone: 0.25 } } } })).config!;
    expect(partial.model.losses.clsReal).toEqual({ backbone: 0.25, classifier: 1 });
    // zs3net: ZS3Net's kernel widths, no adversarial or KL term
    const zs = validateConfig({ ...TINY, model: { type: 'zs3net', backbone: { name: 'small', channels: 8 } } }).config!;
    expect(zs.model.type === 'zs3net' && zs.model.losses.mmd).toEqual({ generator: 50, sigmas: ZS3NET_SIGMAS });
    expect(Object.keys(zs.model.losses).sort()).toEqual(['clsFake', 'clsReal', 'clsTransfer', 'mmd']);
  });

  it('names an unknown key by its path, with a suggestion', () => {
    expect(errorsOf({ schedule: { batchsize: 2 } })).toEqual(["schedule.batchsize: unknown key (did you mean 'batchSize'?)"]);
    expect(errorsOf({ seeed: 1 })).toEqual(["seeed: unknown key (did you mean 'seed'?)"]);
    expect(errorsOf({ optimizers: { backbone: { lrr: 1 } } })).toEqual(["optimizers.backbone.lrr: unknown key (did you mean 'lr'?)"]);
    expect(errorsOf({ model: { losses: { klx: { backbone: 1 } } } })).toEqual(["model.losses.klx: unknown key (did you mean 'kl'?)"]);
    // a part a term cannot reach: the GAN terms never reach the backbone
    expect(errorsOf({ model: { losses: { advD: { backbone: 1 } } } })).toEqual(["model.losses.advD.backbone: unknown key"]);
    // zs3net has no adversarial term, no KL and no SIM
    const zs = { ...TINY, model: { type: 'zs3net', backbone: { name: 'small', channels: 8 }, sim: { hidden: 4 }, losses: { advG: { generator: 1 } } } };
    expect(validateConfig(zs).errors).toEqual(['model.losses.advG: unknown key', 'model.sim: unknown key']);
  });

  it('names wrong types, missing keys and bad values by their path', () => {
    expect(errorsOf({ optimizers: { backbone: { lr: '0.1' } } })).toEqual(['optimizers.backbone.lr: expected number, got string']);
    expect(errorsOf({ seed: 1.5, eval: { countBackground: 'no' } })).toEqual(['seed: expected integer, got 1.5', 'eval.countBackground: expected boolean, got string']);
    const { seed: _s, ...noSeed } = TINY;
    expect(validateConfig(noSeed).errors).toEqual(['seed: missing required key']);
    expect(errorsOf({ schedule: { batchSize: 0 } })).toEqual(['schedule.batchSize: must be >= 1, got 0']);
    expect(errorsOf({ data: { layout: 'grid' } })).toEqual(["data.layout: unknown value 'grid' (valid: outfit, random)"]);
    expect(errorsOf({ model: { sim: { dilations: [] } } })).toEqual(['model.sim.dilations: expected at least 1 item(s), got 0']);
    expect(validateConfig(42).errors).toEqual(['(root): expected object, got number']);
  });

  it('names unknown plug-ins with the registry\'s message, and checks their own keys', () => {
    expect(errorsOf({ model: { type: 'sgin' } })).toEqual(["model.type: unknown recipe 'sgin' (did you mean 'sign'?); known: sign, cagnet, zs3net"]);
    expect(errorsOf({ selfTraining: { type: 'asT' } })).toEqual(["selfTraining.type: unknown self-training 'asT' (did you mean 'ast'?); known: none, ast, top-p"]);
    expect(errorsOf({ optimizers: { generator: { type: 'adamm' } } })).toEqual([
      "optimizers.generator.type: unknown optimizer 'adamm' (did you mean 'adam'?); known: sgd, adam, adamw",
    ]);
    expect(errorsOf({ optimizers: { backbone: { lrSchedule: { type: 'step' } } } })).toEqual([
      "optimizers.backbone.lrSchedule.type: unknown lr-schedule 'step'; known: poly, constant, cosine",
    ]);
    expect(errorsOf({ model: { backbone: { name: 'resnet' } } })).toEqual([`model.backbone.name: unknown backbone 'resnet'; known: ${backboneRegistry.names().join(', ')}`]);
    expect(backboneRegistry.names()).toContain('small');
    expect(errorsOf({ selfTraining: { _delete_: true, type: 'top-p', topP: 1.5 } })).toEqual([
      "selfTraining.topP: with rule 'rank', topP is a number of ranks (an integer >= 1), got 1.5",
    ]);
    expect(errorsOf({ data: { type: 'fashion-scene' } })).toEqual([
      `data.type: unknown dataset 'fashion-scene' (did you mean 'fashion-scenes'?); known: ${datasets.names().join(', ')}`,
    ]);
  });

  it('checks across sections: lrMult and decayMult name the recipe\'s parameter groups, the dataset sets the channels, self-training needs a teacher', () => {
    expect(validateConfig(mergeConfig(TINY, { optimizers: { backbone: { lrMult: { sim: 10 } } } })).errors).toEqual([]);
    expect(errorsOf({ optimizers: { backbone: { lrMult: { simm: 10, gan: 2 }, decayMult: { aspBias: 0 } } } })).toEqual([
      "optimizers.backbone.lrMult.simm: not a parameter group of the backbone in recipe 'sign' (did you mean 'sim'?); groups: backbone, aspp, asppBias, sim",
      "optimizers.backbone.lrMult.gan: not a parameter group of the backbone in recipe 'sign'; groups: backbone, aspp, asppBias, sim",
      "optimizers.backbone.decayMult.aspBias: not a parameter group of the backbone in recipe 'sign' (did you mean 'asppBias'?); groups: backbone, aspp, asppBias, sim",
    ]);
    expect(validateConfig(mergeConfig(TINY, { model: { sim: { variant: 'release-v1', positional: 'none' } } })).errors).toEqual([
      "model.sim.positional: the release's SIM variants have the relative positional encoding (positional: 'relative')",
    ]);
    expect(errorsOf({ model: { backbone: { inChannels: 3 } } })).toEqual(['model.backbone.inChannels: set by the dataset (its images\' channels); remove the key']);
    expect(errorsOf({ schedule: { step1Iters: 0, transferIters: 0 } })).toEqual(['schedule: self-training needs a trained teacher (step1Iters + transferIters > 0)']);
  });
});

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sign-config-'));
  const write = (name: string, v: unknown) => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof v === 'string' ? v : JSON.stringify(v));
  };
  const { data, model, schedule, optimizers, selfTraining, ...rest } = TINY as ExperimentConfigInput & Record<string, unknown>;

  it('compose from _base_ files in order, the file\'s own keys last; _delete_ replaces an object', () => {
    write('_base_/datasets/d.json', { data });
    write('_base_/models/m.json', { model });
    write('_base_/schedules/s.json', { schedule, optimizers, selfTraining, eval: rest.eval, runtime: rest.runtime });
    write('_base_/schedules/s2.json', { _base_: './s.json', schedule: { step1Iters: 7 } });
    write('exp/a.json', {
      _base_: ['../_base_/datasets/d.json', '../_base_/models/m.json', '../_base_/schedules/s2.json'],
      name: 'a',
      seed: 3,
      schedule: { batchSize: 4 },
      selfTraining: { _delete_: true, type: 'top-p', topP: 2 },
    });
    const c = loadConfigFile(join(dir, 'exp/a.json'));
    expect(c.name).toBe('a');
    expect(c.seed).toBe(3);
    expect(c.schedule.step1Iters).toBe(7);
    expect(c.schedule.batchSize).toBe(4);
    expect(c.schedule.transferIters).toBe(4);
    expect(c.selfTraining).toEqual({ type: 'top-p', topP: 2, rule: 'rank' });
    expect(c.model).toEqual(validateConfig(TINY).config!.model);
  });

  it('errors name the file: unreadable, bad JSON, a missing base, a cycle, an invalid key', () => {
    write('bad.json', '{ "seed": ');
    write('missing-base.json', { _base_: ['nope.json'] });
    write('cycle-a.json', { _base_: 'cycle-b.json' });
    write('cycle-b.json', { _base_: 'cycle-a.json' });
    write('typo.json', { ...TINY, seeed: 1 });
    const fail = (f: string) => {
      try {
        loadConfigFile(join(dir, f));
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(fail('absent.json')).toMatch(/absent\.json: cannot read .*absent\.json: ENOENT$/);
    expect(fail('bad.json')).toMatch(/bad\.json: not valid JSON \(/);
    expect(fail('missing-base.json')).toMatch(/missing-base\.json: cannot read .*nope\.json \(a _base_ of .*missing-base\.json\): ENOENT$/);
    expect(fail('cycle-a.json')).toMatch(/_base_: cycle .*cycle-a\.json → .*cycle-b\.json → .*cycle-a\.json/);
    expect(fail('typo.json')).toBe(`${join(dir, 'typo.json')}: invalid config\n  - seeed: unknown key (did you mean 'seed'?)`);
    expect(composeConfigFile(join(dir, 'typo.json')).seeed).toBe(1); // composing does not validate
  });
});

describe('mergeConfig', () => {
  it('merges objects deeply, replaces arrays, and does not alias the base', () => {
    const c = mergeConfig(TINY, { data: { unseen: ['coat', 'bag'] }, optimizers: { backbone: { lr: 0.5 } } }) as typeof TINY & Record<string, any>;
    expect(c.data.unseen).toEqual(['coat', 'bag']);
    expect(c.optimizers.backbone).toEqual({ ...TINY.optimizers.backbone, lr: 0.5 });
    expect(c.data.layout).toBe('outfit');
    (c.model as any).sim.dilations.push(9);
    expect((TINY.model as any).sim.dilations).not.toContain(9);
  });
});

describe('configJsonSchema', () => {
  it('matches the snapshot (update it deliberately when the config changes)', () => {
    // the data section is the datasets' own (a union over the registry, snapshot-tested by
    // @sign/datasets); here: one member per registered dataset, and everything else in full
    const { properties, ...rest } = configJsonSchema() as { properties: Record<string, any> };
    const { data, ...own } = properties;
    expect(data.oneOf.map((m: any) => m.properties.type.const)).toEqual(datasets.names());
    expect({ ...rest, properties: own }).toMatchSnapshot();
  });
  it('is the schema of the input: every top-level key, unions on type, defaults documented', () => {
    const s = configJsonSchema() as { properties: Record<string, any>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(s.properties).sort()).toEqual(['data', 'eval', 'model', 'name', 'optimizers', 'runtime', 'schedule', 'seed', 'selfTraining']);
    expect(s.required).toEqual(['name', 'seed', 'data', 'model', 'schedule', 'optimizers', 'selfTraining']);
    expect(s.additionalProperties).toBe(false);
    const models = s.properties.model.oneOf as { properties: { type: { const: string } } }[];
    expect(models.map((m) => m.properties.type.const)).toEqual(['sign', 'cagnet', 'zs3net']);
    const sign = models[0] as any;
    expect(sign.properties.losses.properties.clsReal.properties.backbone.default).toBe(0.5);
  });
});
