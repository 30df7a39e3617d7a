import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` (text as UTF-8, or bytes) to `path` so that a reader never sees a half-written
 * file: the bytes go to a temporary file in the same folder (created if missing), which is
 * flushed and then renamed over `path` (a rename within one file system is atomic). On any error
 * the temporary file is removed and the error names `path`.
 *
 * Node only, hence its own entry point (`@sign/core/node`): the main `@sign/core` entry stays
 * free of `node:` imports.
 *
 * @example
 * import { writeFileAtomic } from '@sign/core/node';
 * writeFileAtomic('runs/a/report.json', JSON.stringify(report) + '\n');
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        /* already failing; keep the first error */
      }
    }
    rmSync(tmp, { force: true });
    throw new Error(`could not write ${path}: ${(err as Error).message}`);
  }
}
