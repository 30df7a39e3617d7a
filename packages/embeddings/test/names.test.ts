import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASS_ALIASES, normalizeClassName } from '../src/index';

describe('normalizeClassName', () => {
  it.each([
    ['cow', ['cow']],
    ['potted_plant', ['potted', 'plant']],
    ['potted plant', ['potted', 'plant']],
    ['wall-concrete', ['wall', 'concrete']],
    ['T-shirt/top', ['t-shirt', 'top']],
    ['t-shirt/top', ['t-shirt', 'top']],
    ['Ankle boot', ['ankle', 'boot']],
    ['  Traffic   Light ', ['traffic', 'light']],
    ['tvmonitor', ['tv', 'monitor']],
    ['TVMonitor', ['tv', 'monitor']],
    ['pottedplant', ['potted', 'plant']],
    ['diningtable', ['dining', 'table']],
    ['x-ray', ['x-ray']],
    ['e-mail/post', ['e-mail', 'post']],
    ['sky-other-merged', ['sky', 'other', 'merged']],
    ['-wall-', ['wall']],
    ['dining table/table', ['dining', 'table']],
    ['mr. (smith)', ['mr', 'smith']],
    ['café', ['café']],
    ['hair drier', ['hair', 'drier']],
  ])('%s → %j', (name, words) => {
    expect(normalizeClassName(name)).toEqual(words);
  });

  it('uses explicit aliases instead of the defaults', () => {
    expect(normalizeClassName('tvmonitor', { aliases: {} })).toEqual(['tvmonitor']);
    expect(normalizeClassName('Building-Other', { aliases: { 'building-other': ['Building'] } })).toEqual(['building']);
    expect(normalizeClassName('tvmonitor', { aliases: { ...DEFAULT_CLASS_ALIASES, tvmonitor: ['television'] } })).toEqual([
      'television',
    ]);
  });

  it('refuses a name without a word', () => {
    expect(() => normalizeClassName('__/--')).toThrow(/class name '__\/--' contains no word/);
    expect(() => normalizeClassName('')).toThrow(/contains no word/);
  });
});
