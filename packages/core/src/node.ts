import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export { saveCheckpoint, loadCheckpoint } from './checkpoint-files';

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

/**
 * The temporary files that {@link writeFileAtomic} (`.<name>.<pid>.<time>.<random>.tmp`) and
 * `saveCheckpoint` (`<name>.tmp-<pid>-<random>`) leave in `dir` when their process is killed
 * mid-write, removed when that process is no longer running (on this machine). Returns the
 * removed paths. Call it where the caller owns `dir` (e.g. holding a run's lock).
 *
 * @example
 * import { removeStrayTempFiles } from '@sign/core/node';
 * for (const f of removeStrayTempFiles('runs/a/checkpoints')) console.log(`removed ${f}`);
 */
export function removeStrayTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^\..+\.(\d+)\.\d+\.[0-9a-z]+\.tmp$/.exec(name) ?? /^.+\.tmp-(\d+)-[0-9a-z]+$/.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      rmSync(path, { force: true });
      removed.push(path);
    } catch {
      /* gone meanwhile */
    }
  }
  return removed;
}

/**
 * Whether a process with this id runs on this machine (`kill(pid, 0)`: permission denied means
 * it exists). Never true for ids ≤ 0.
 *
 * @example
 * processAlive(process.pid) // true
 */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'is a directory, not a file';
  if (st.isFIFO()) return 'is a FIFO (named pipe), not a regular file';
  if (st.isSocket()) return 'is a socket, not a regular file';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'is a device, not a regular file';
  return 'is not a regular file';
}

/**
 * The size in bytes of the regular file at `path` (symbolic links followed). Throws when the path
 * cannot be read or is a directory, a FIFO, a socket or a device: readers call it before opening
 * a file, since reading a FIFO blocks for ever and `/dev/zero` never ends. The error's message
 * is the reason alone (the fs message, or e.g. `is a directory, not a file`): callers put it
 * after their own prefix that names the file.
 *
 * @example
 * import { regularFileSize } from '@sign/core/node';
 * const bytes = regularFileSize('data/train-images-idx3-ubyte.gz');
 */
export function regularFileSize(path: string): number {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    throw new Error((err as Error).message);
  }
  if (!st.isFile()) throw new Error(kindOf(st));
  return st.size;
}

/**
 * Opens the regular file at `path` for reading and returns the handle with the file's size
 * (checked as {@link regularFileSize} does, before the file is opened, and again on the open
 * handle). The caller closes the handle. Errors carry the reason alone, as for regularFileSize.
 *
 * @example
 * import { openRegularFile } from '@sign/core/node';
 * const { handle, size } = await openRegularFile('vectors.bin');
 * try { ... } finally { await handle.close(); }
 */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error(kindOf(st));
    handle = await open(path, 'r');
  } catch (err) {
    throw new Error((err as Error).message);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(kindOf(st));
    return { handle, size: st.size };
  } catch (err) {
    await handle.close().catch(() => {});
    throw new Error((err as Error).message);
  }
}
