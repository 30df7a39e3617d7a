/**
 * Deliberately broken readers, one per outcome the harness must tell apart (its own test).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let live = 0;
export const liveTensors = (): number => live;

export const valid = async (path: string) => ({ bytes: readFileSync(path).length });
export const clearError = async (path: string) => {
  throw new Error(`reader: ${path}: not this format`);
};
export const typeError = async (path: string) => {
  throw new TypeError(`Cannot read properties of undefined (reading 'x') in ${path}`);
};
export const noPath = async () => {
  throw new Error('something went wrong');
};
export const systemError = async (path: string) => readFileSync(`${path}/not-there`);
export const abort = async () => process.abort();
export const hang = async () => new Promise(() => {});
export const leak = async () => {
  live++;
  return {};
};
/** Starts a long-lived grandchild, writes its pid next to the file, then hangs. */
export const hangWithChild = async (path: string) => {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(`${path}.pid`, String(child.pid));
  return new Promise(() => {});
};
