// Interrupting a run and continuing it: a child `sign train` is killed (SIGKILL) right after its
// first checkpoint, resumed with --resume, stopped gracefully (SIGTERM → checkpoint, resume hint,
// exit 130), and resumed again to the end. Each resumption must start after the saved step.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFile, loadConfigFile } from '../src/configs';
import { main } from '../src/cli';
import { sink, tempDir } from './helpers';

const bin = resolve(__dirname, '../bin/sign.js');

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: any[];
  stderr: string;
}

/** Runs `sign <args> --json`; `onEvent` may return a signal to send to the child. */
function runSign(args: string[], onEvent?: (ev: any, all: any[]) => NodeJS.Signals | undefined): Promise<ChildRun> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [bin, ...args, '--json'], {
      env: { ...process.env, SIGN_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: any[] = [];
    let buf = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const ev = JSON.parse(line); // every stdout line is JSON in --json mode
        events.push(ev);
        const sig = onEvent?.(ev, events);
        if (sig && !sent) {
          sent = true;
          child.kill(sig);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => res({ code, signal, events, stderr }));
  });
}

const steps = (r: ChildRun) => r.events.filter((e) => e.event === 'step').map((e) => e.step as number);

describe('interrupt and --resume', () => {
  it('continues from the saved step, not from 0', async () => {
    const dir = tempDir('sign-resume-');
    const cfg = join(dir, 'tiny.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        base: 'quick',
        name: 'resume-test',
        data: { size: 32, trainCount: 16, testCount: 6 },
        schedule: { batchSize: 4, step1Iters: 10, transferIters: 6, alternateEvery: 3, selfTrainingIters: 4 },
        runtime: { checkpointEvery: 4 },
      }),
    );
    const out = join(dir, 'run');
    const args = ['train', '--config', cfg, '--out', out];

    // 1. killed hard right after the first checkpoint (step 4)
    const first = await runSign(args, (ev) => (ev.event === 'checkpoint' ? 'SIGKILL' : undefined));
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const saved1 = steps(first).filter((s) => s <= 4).pop();
    expect(saved1).toBe(4);
    expect(existsSync(join(out, 'checkpoints', 'last.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'report.json'))).toBe(false);

    // 2. resumed: starts at step 5; stopped gracefully after its next step
    const second = await runSign([...args, '--resume'], (ev) => (ev.event === 'step' && ev.step >= 6 ? 'SIGTERM' : undefined));
    expect(steps(second)[0]).toBe(saved1! + 1);
    expect(second.code, second.stderr).toBe(130);
    const stopped = second.events.find((e) => e.event === 'interrupted');
    expect(stopped).toBeDefined();
    expect(stopped.resume).toContain('--resume');
    expect(stopped.resume).toContain('train --config');
    expect(stopped.checkpoint).toContain('last.safetensors');
    const saved2 = stopped.step as number;
    expect(saved2).toBeGreaterThanOrEqual(6);
    expect(existsSync(join(out, 'report.json'))).toBe(false);

    // 3. resumed again: runs to the end and writes the report
    const third = await runSign([...args, '--resume']);
    expect(third.code, third.stderr).toBe(0);
    const s3 = steps(third);
    expect(s3[0]).toBe(saved2 + 1);
    expect(s3[s3.length - 1]).toBe(20);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.config.name).toBe('resume-test');
    expect(third.events.find((e) => e.event === 'report')).toBeDefined();
  }, 300_000);

  it('refuses --resume with a different config, naming the changed keys', async () => {
    const dir = tempDir('sign-resume2-');
    const cfgA = join(dir, 'a.json');
    writeFileSync(cfgA, JSON.stringify({ base: 'quick', name: 'x', seed: 1 }));
    const out = join(dir, 'run');
    // A run directory whose run.json records another config (as a started run leaves it).
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'run.json'), JSON.stringify({ config: { ...loadConfigFile(configFile('quick')), name: 'x', seed: 2 }, command: 'sign', elapsedBefore: 0 }));
    const e = sink();
    const code = await main(['train', '--config', cfgA, '--out', out, '--resume'], { stdout: sink(), stderr: e, handleSignals: false });
    expect(code).toBe(2);
    expect(e.text).toContain('--resume: the config differs');
    expect(e.text).toContain('seed');
  });
});
