import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '../../../tooling/vitest/readme';

describe('README example', () => {
  it('runs and prints what its comments say', async () => {
    const { code, lines, promised } = await runReadmeExample(resolve(__dirname, '..'));
    expect(code).toContain("from '@sign/metrics'");
    // the values the README promises, which the hand computation gives:
    // CaGNet/SIGN: IoU1 = 1, IoU2 = 1/2, IoU3 = 1/3 → 75, 33.33, hIoU 46.15
    // ZS3Net: + IoU0 = 1/2 → seen (1/2 + 1 + 1/2)/3 = 66.67, hIoU 44.44
    expect(lines).toEqual(['75.00 33.33 46.15', '66.67 33.33 44.44']);
    expect(promised).toEqual(lines);
  });
});
