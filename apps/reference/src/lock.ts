/**
 * One run per output folder: `<out>/run.lock` holds the pid, host, start time and command of the
 * run that owns the folder. A second run on the same folder is refused (exit 2) naming the lock;
 * a lock whose process is gone (killed, machine restarted) is taken over with a message.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@sign/core/node';
import { UsageError } from './errors.js';

export const LOCK_FILE = 'run.lock';

interface LockInfo {
  pid: number;
  host: string;
  started: string;
  command: string;
}

function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof v === 'object' && v !== null && Number.isInteger(v.pid) ? v : undefined;
  } catch {
    return undefined;
  }
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new UsageError(`cannot create the lock ${path}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `<outDir>/run.lock` (the folder must exist) and returns the function that releases it
 * (also released when the process exits). Throws a UsageError naming the lock when a live
 * process holds it; takes over a stale one, saying so through `log`.
 *
 * @example
 * const release = acquireRunLock('runs/a', 'sign train …', console.error);
 * try { … } finally { release(); }
 */
export function acquireRunLock(outDir: string, command: string, log: (message: string) => void): () => void {
  const path = join(outDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  if (!tryCreate(path, info)) {
    const held = readLock(path);
    if (held && held.host !== info.host)
      throw new UsageError(`${outDir} is locked by a run on host ${held.host} (pid ${held.pid}, started ${held.started}): ${path}; use another --out, or delete the lock if that run is gone`);
    if (held && processAlive(held.pid))
      throw new UsageError(
        `${outDir} is in use by another run (pid ${held.pid}, started ${held.started}: ${held.command}); its lock is ${path}. Wait for it to finish, or use another --out`,
      );
    log(`taking over the stale lock ${path} (${held ? `pid ${held.pid}, started ${held.started}, is not running` : 'unreadable'})`);
    rmSync(path, { force: true });
    if (!tryCreate(path, info)) throw new UsageError(`${outDir} is in use by another run that took its lock ${path} just now; use another --out`);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    if (readLock(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return release;
}
