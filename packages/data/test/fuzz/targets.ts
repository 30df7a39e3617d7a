/** What the fuzz child runs for the idx reader (see tooling/fuzz/child.ts). Variant 1 lowers maxBytes to 4 KiB. */
import { readIdxFile } from '../../src/node';

export const idx = async (path: string, variant: number) => {
  const { dims, data } = readIdxFile(path, variant === 1 ? { maxBytes: 4096 } : {});
  return { dims, bytes: data.length };
};

/**
 * Reads an idx file and reports the error (if any) with the child's peak resident memory, so a
 * test can show that a gzip bomb is stopped before it is inflated.
 */
export const idxPeakMemory = async (path: string) => {
  let error: string | undefined;
  try {
    readIdxFile(path);
  } catch (err) {
    error = (err as Error).message;
  }
  return { error, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
};
