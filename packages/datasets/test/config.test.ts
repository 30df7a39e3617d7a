import { Registry } from '@sign/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dataConfigSchema, datasets, validateDataConfig, type DatasetDefinition } from '../src/index';
import { toyDataset } from './toy';

function registry(): Registry<DatasetDefinition> {
  const r = new Registry<DatasetDefinition>('dataset');
  r.register('toy', toyDataset as unknown as DatasetDefinition);
  r.register('other', { type: 'other', description: 'another', schema: z.object({ root: z.string() }), open: async () => { throw new Error('not opened in this test'); } });
  return r;
}

describe('validateDataConfig', () => {
  const opts = { registry: registry() };
  it('accepts a valid section and fills in the dataset schema defaults', () => {
    const { config, errors } = validateDataConfig({ type: 'toy', unseen: ['cat'], train: { pipeline: [{ type: 'flip' }] } }, opts);
    expect(errors).toEqual([]);
    expect(config).toEqual({ type: 'toy', unseen: ['cat'], train: { pipeline: [{ type: 'flip' }] }, trainCount: 10, valCount: 3, withEmbeddings: true });
  });
  it('names the key path of every problem, with "did you mean" for unknown keys', () => {
    const { config, errors } = validateDataConfig({ type: 'toy', unseen: 'cat', trainCuont: 4, valCount: -1, contrl: 'random', train: { pipeline: [{ type: 'randomCrop', height: 8, widht: 8 }] } }, opts);
    expect(config).toBeUndefined();
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^data\.unseen: .*expected array/),
        expect.stringMatching(/^data\.trainCuont: unknown key \(did you mean 'trainCount'\?\)/),
        expect.stringMatching(/^data\.contrl: unknown key \(did you mean 'control'\?\)/),
        expect.stringMatching(/^data\.valCount: .*>=0/),
        expect.stringMatching(/^data\.train\.pipeline\[0\]\.widht: unknown key \(did you mean 'width'\?\)/),
        'data.train.pipeline[0].width: missing (expected number)',
      ]),
    );
    expect(errors.length).toBe(6);
  });
  it('unknown dataset types and transform types name the known ones', () => {
    expect(validateDataConfig({ type: 'tyo', unseen: [] }, opts).errors).toEqual(["data.type: unknown dataset 'tyo' (did you mean 'toy'?); known: toy, other"]);
    expect(validateDataConfig({ unseen: [] }, opts).errors).toEqual(['data.type: missing; one of toy, other']);
    expect(validateDataConfig({ type: 'toy', unseen: [], test: { pipeline: [{ type: 'resise', longSide: 5 }] } }, opts).errors).toEqual([
      'data.test.pipeline[0].type: unknown value "resise" (did you mean \'resize\'?); known: resize, randomScale, randomCrop, randomScaleCrop, flip, pad, normalize',
    ]);
    expect(validateDataConfig([1], opts).errors).toEqual(["data: expected an object with a 'type' key"]);
    expect(validateDataConfig({ type: 'other', unseen: [] }, { ...opts, prefix: 'x.data' }).errors).toEqual(['x.data.root: missing (expected string)']);
  });
  it('refuses a dataset schema that redefines a common key', () => {
    const r = registry();
    r.register('bad', { type: 'bad', description: '', schema: z.object({ unseen: z.number() }), open: async () => { throw new Error('no'); } });
    expect(() => dataConfigSchema(r)).toThrow(/dataset 'bad': its schema redefines the common key 'unseen'/);
  });
  it('uses the shared registry by default', () => {
    expect(validateDataConfig({ type: 'nope', unseen: [] }).errors[0]).toBe(`data.type: ${datasets.unknownMessage('nope')}`);
  });
});

describe('the JSON schema', () => {
  it('is generated from the same schema (snapshot)', () => {
    expect(z.toJSONSchema(dataConfigSchema(registry()))).toMatchSnapshot();
  });
  it("has the built-in folder dataset's keys (snapshot)", () => {
    const schema = z.toJSONSchema(dataConfigSchema(), { io: 'input' }) as { oneOf: { properties: Record<string, unknown>; required: string[] }[] };
    const folder = schema.oneOf.find((o) => (o.properties.type as { const?: string }).const === 'folder')!;
    expect(folder.required).toEqual(['type', 'root']); // keys with defaults are optional in config files; unseen or unseenSplit is checked after parsing
    expect({ root: folder.properties.root, channels: folder.properties.channels, normalization: folder.properties.normalization, validate: folder.properties.validate }).toMatchSnapshot();
  });
});
