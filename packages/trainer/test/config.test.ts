import { describe, expect, it } from 'vitest';
import {
  DEMO_CONFIG,
  QUICK_CONFIG,
  configJsonSchema,
  mergeConfig,
  validateConfig,
  type ExperimentConfig,
} from '../src/index';

const known = {
  classNames: ['background', 't-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'],
  generators: ['sign', 'cagnet', 'gmmn'],
  backbones: ['small'],
};

describe('validateConfig', () => {
  it('accepts the built-in configs', () => {
    expect(validateConfig(DEMO_CONFIG, known).errors).toEqual([]);
    expect(validateConfig(QUICK_CONFIG, known).errors).toEqual([]);
    expect(validateConfig(DEMO_CONFIG).errors).toEqual([]); // against the live registries
    expect(DEMO_CONFIG.data.unseen).toEqual(['pullover', 'dress', 'sandal']);
  });

  it('names an unknown key by its path, with a suggestion', () => {
    const bad = mergeConfig(DEMO_CONFIG, { schedule: { lr: { backbon: 0.1 } } } as Record<string, unknown>);
    const { config, errors } = validateConfig(bad, known);
    expect(config).toBeUndefined();
    expect(errors).toEqual(["schedule.lr.backbon: unknown key (did you mean 'backbone'?)"]);
  });

  it('names a wrong type by its path', () => {
    const bad = mergeConfig(DEMO_CONFIG, { schedule: { lr: { backbone: '0.1' } } } as Record<string, unknown>);
    expect(validateConfig(bad, known).errors).toEqual(['schedule.lr.backbone: expected number, got string']);
    const bad2 = mergeConfig(DEMO_CONFIG, { seed: 1.5, eval: { countBackground: 'no' } } as Record<string, unknown>);
    expect(validateConfig(bad2, known).errors).toEqual([
      'seed: expected integer, got 1.5',
      'eval.countBackground: expected boolean, got string',
    ]);
  });

  it('names a missing key and bad enum values', () => {
    const c = structuredClone(DEMO_CONFIG) as Partial<ExperimentConfig>;
    delete c.seed;
    expect(validateConfig(c, known).errors).toEqual(['seed: missing required key']);
    const e = mergeConfig(DEMO_CONFIG, { selfTraining: { mode: 'asT' } } as Record<string, unknown>);
    expect(validateConfig(e, known).errors).toEqual(["selfTraining.mode: unknown value 'asT' (valid: none, ast, top-p)"]);
  });

  it('names unknown classes, generators and backbones and lists the valid ones', () => {
    const c = mergeConfig(DEMO_CONFIG, {
      data: { unseen: ['pullover', 'jumper'] },
      model: { generator: { name: 'gan' }, backbone: { name: 'resnet' } },
    });
    const { errors } = validateConfig(c, known);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBe(
      "data.unseen[1]: unknown class 'jumper' (valid: t-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot)",
    );
    expect(errors[1]).toBe("model.generator.name: unknown generator 'gan' (valid: sign, cagnet, gmmn)");
    expect(errors[2]).toBe("model.backbone.name: unknown backbone 'resnet' (valid: small)");
    expect(validateConfig(mergeConfig(DEMO_CONFIG, { data: { unseen: ['background'] } }), known).errors[0]).toMatch(
      /data.unseen\[0\]: unknown class 'background'/,
    );
  });

  it('keeps backbone-specific keys (open object) and rejects a non-object root', () => {
    const c = mergeConfig(DEMO_CONFIG, { model: { backbone: { outputStride: 2 } } });
    expect(validateConfig(c, known).errors).toEqual([]);
    expect(validateConfig(42, known).errors).toEqual(['(root): expected object, got number']);
  });
});

describe('mergeConfig', () => {
  it('merges objects deeply, replaces arrays, and does not alias the base', () => {
    const c = mergeConfig(DEMO_CONFIG, { data: { unseen: ['coat', 'bag'] }, schedule: { lr: { backbone: 0.5 } } });
    expect(c.data.unseen).toEqual(['coat', 'bag']);
    expect(c.schedule.lr).toEqual({ ...DEMO_CONFIG.schedule.lr, backbone: 0.5 });
    expect(c.data.layout).toBe(DEMO_CONFIG.data.layout);
    c.model.sim.dilations.push(9);
    expect(DEMO_CONFIG.model.sim.dilations).not.toContain(9);
  });
});

describe('configJsonSchema', () => {
  it('matches the snapshot (update it deliberately when the config changes)', () => {
    expect(configJsonSchema()).toMatchSnapshot();
  });
  it('lists every key of DEMO_CONFIG and requires the non-optional ones', () => {
    const schema = configJsonSchema() as { properties: Record<string, any>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(DEMO_CONFIG).sort());
    expect(schema.required).toContain('schedule');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties.schedule.properties.lossWeights.properties).sort()).toEqual(
      Object.keys(DEMO_CONFIG.schedule.lossWeights).sort(),
    );
    expect(schema.properties.data.required).not.toContain('controlSeed');
  });
});
