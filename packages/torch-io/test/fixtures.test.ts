import { readdirSync } from 'node:fs';
import { initBackend } from '@sign/core';
import { beforeAll, describe as group, expect, it } from 'vitest';
import { PyDict, TorchTensor, namedTensors, parsePth, type PyValue } from '../src';
import { FIXTURES, describe, expected, fixture } from './helpers';

/** Fixtures whose recorded torch.load result (the .json beside them) the reader must reproduce. */
beforeAll(async () => {
  await initBackend('cpu'); // toTfTensor decodes float16 / bfloat16 for the comparison
});

const RECORDED = readdirSync(FIXTURES)
  .filter((n) => n.endsWith('.json'))
  .map((n) => n.slice(0, -'.json'.length));

group('.pth files written by PyTorch give what torch.load gives', () => {
  it('has the recorded fixtures', () => {
    expect(RECORDED.sort()).toEqual(
      ['containers', 'containers-protocol1', 'containers-protocol4', 'dtypes', 'legacy', 'legacy-state-dict', 'plain-state-dict', 'release-checkpoint', 'shared-strided', 'storages', 'tied-parameters'].sort(),
    );
  });
  for (const name of RECORDED) {
    it(name, () => {
      const pth = parsePth(fixture(`${name}.pth`), { source: `${name}.pth` });
      expect(pth.format).toBe(name.startsWith('legacy') ? 'legacy' : 'zip');
      expect(describe(pth.value)).toEqual(expected(name));
    });
  }
  // Re-written by Python's zipfile: big-endian storages with a 'byteorder' record, a 'little'
  // record, and deflated entries; each must read exactly as dtypes.pth does.
  for (const variant of ['dtypes-big-endian', 'dtypes-little-endian', 'dtypes-deflated']) {
    it(variant, () => {
      const pth = parsePth(fixture(`${variant}.pth`), { source: variant });
      expect(pth.byteOrder).toBe(variant === 'dtypes-big-endian' ? 'big' : 'little');
      expect(describe(pth.value)).toEqual(expected('dtypes'));
    });
  }
});

group('structure', () => {
  it('reads the SIGN release checkpoint structure: state_dict keys as saved, optimizer states beside them', () => {
    const pth = parsePth(fixture('release-checkpoint.pth'), { source: 'release-checkpoint.pth' });
    const root = pth.value as PyDict;
    expect([...root.keys()]).toEqual(['state_dict', 'optimizer_back', 'optimizer_dis', 'optimizer_gen', 'iter', 'best_miou']);
    const { tensors, others } = namedTensors(root.get('state_dict')!);
    expect(others).toEqual([]);
    for (const key of [
      'back.scale.layer1.conv1.conv.weight',
      'back.scale.layer1.conv1.bn.num_batches_tracked',
      'back.scale.aspp.stages.c0.weight',
      'back.scale.positional1.conv.weight',
      'dis.fc.conv.weight',
      'dis.cls.weight',
      'gen.mlp.0.conv.weight',
      'Em_vis.weight',
      'Em_all.weight',
    ]) {
      expect(tensors[key], key).toBeInstanceOf(TorchTensor);
    }
    expect(tensors['back.scale.layer1.conv1.conv.weight'].shape).toEqual([4, 3, 3, 3]);
    expect(tensors['back.scale.layer1.conv1.bn.num_batches_tracked'].shape).toEqual([]);
    expect(tensors['Em_all.weight'].shape).toEqual([4, 3]);
    // Adam's state: int keys (parameter indices), a 0-d 'step' tensor, exp_avg / exp_avg_sq.
    const adam = namedTensors(root.get('optimizer_gen')!);
    expect(Object.keys(adam.tensors).filter((k) => k.startsWith('state.0.'))).toEqual(['state.0.step', 'state.0.exp_avg', 'state.0.exp_avg_sq']);
    expect(adam.others).toContain('param_groups.0.lr');
    // The state dict's _metadata (an OrderedDict attribute set through BUILD) is kept aside.
    expect((root.get('state_dict') as PyDict).attributes?.get('_metadata')).toBeInstanceOf(PyDict);
  });

  it('materialises strided views row-major and shares contiguous ones with their storage', () => {
    const pth = parsePth(fixture('shared-strided.pth'), { source: 'shared-strided.pth' });
    const d = pth.value as PyDict;
    const t = (k: string) => d.get(k) as TorchTensor;
    expect(pth.storages).toBe(4); // base, expanded's 3 values, the half and the long aranges
    expect(Array.from(t('transposed').data as Float32Array).slice(0, 6)).toEqual([0, 6, 12, 18, 1, 7]);
    expect(Array.from(t('slice').data as Float32Array)).toEqual([6, 8, 10, 12, 14, 16]);
    expect(Array.from(t('expanded').data as Float32Array)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(t('same_again')).toBe(t('base')); // one object, as pickle's memo says
    // contiguous runs are views of the storage: same buffer
    expect(t('offset_flat').data.buffer).toBe(t('base').data.buffer);
    expect(Array.from(t('offset_flat').data as Float32Array)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(t('transposed').data.buffer).not.toBe(t('base').data.buffer);
  });

  it('tied parameters are one tensor', () => {
    const d = parsePth(fixture('tied-parameters.pth')).value as PyDict;
    expect(d.get('a.weight')).toBe(d.get('b.weight'));
    expect((d.get('a.weight') as TorchTensor).parameter).toBe(true);
  });

  it('names tensors by their dotted paths through lists, tuples and int keys', () => {
    const d = parsePth(fixture('containers.pth')).value as PyValue;
    const { tensors, others } = namedTensors(d);
    expect(Object.keys(tensors)).toEqual(['tensor_in_list.0', 'tensor_in_list.1.0']);
    expect(others).toContain('int_keys.-5');
    expect(others).toContain('nested.0.1.1.0');
    expect(others).toContain('tuple_keys.(1, 2)');
  });
});
