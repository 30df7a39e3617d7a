/** What the fuzz child runs for the idx reader (see tooling/fuzz/child.ts). Variant 1 lowers maxBytes to 4 KiB. */
import { readIdxFile } from '../../src/index';

export const idx = async (path: string, variant: number) => {
  const { dims, data } = readIdxFile(path, variant === 1 ? { maxBytes: 4096 } : {});
  return { dims, bytes: data.length };
};
