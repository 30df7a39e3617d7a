// Bad input fails at once (before any training), exit code 2, a message that names the culprit
// and lists the valid values, and nothing written to the output directory.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { sink, tempDir } from './helpers';

async function run(argv: string[]) {
  const stdout = sink();
  const stderr = sink();
  const t0 = Date.now();
  const code = await main(argv, { stdout, stderr, handleSignals: false, invocation: 'sign' });
  return { code, stdout: stdout.text, stderr: stderr.text, ms: Date.now() - t0 };
}

describe('sign: errors fail fast, name the problem, leave no report', () => {
  const dir = tempDir();

  it('a misspelt config key', async () => {
    const cfg = join(dir, 'typo.json');
    writeFileSync(cfg, JSON.stringify({ base: 'quick', schedule: { batchSzie: 4 } }));
    const out = join(dir, 'typo-out');
    const r = await run(['train', '--config', cfg, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('schedule.batchSzie: unknown key');
    expect(r.stderr).toContain("did you mean 'batchSize'");
    expect(r.stderr).toContain(cfg);
    expect(existsSync(out)).toBe(false);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a wrong type in a config names the key and the expected type', async () => {
    const cfg = join(dir, 'type.json');
    writeFileSync(cfg, JSON.stringify({ base: 'demo', seed: 'one' }));
    const r = await run(['train', '--config', cfg, '--out', join(dir, 'type-out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/seed: expected integer, got string/);
    expect(existsSync(join(dir, 'type-out'))).toBe(false);
  });

  it('an unknown class in --unseen', async () => {
    const out = join(dir, 'class-out');
    const r = await run(['demo', '--quick', '--unseen', 'pullover,jumper', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--unseen: unknown class 'jumper'");
    expect(r.stderr).toContain("'ankle boot'");
    expect(existsSync(out)).toBe(false);
  });

  it('an unknown generator, by flag and in a config file', async () => {
    const out = join(dir, 'gen-out');
    const r = await run(['demo', '--quick', '--generator', 'stylegan', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--generator: unknown generator 'stylegan' \(valid: .*'sign'.*\)/);
    expect(r.stderr).toContain("'cagnet'");
    expect(r.stderr).toContain("'gmmn'");
    expect(existsSync(out)).toBe(false);

    const cfg = join(dir, 'gen.json');
    writeFileSync(cfg, JSON.stringify({ base: 'quick', model: { type: 'stylegan' } }));
    const r2 = await run(['train', '--config', cfg, '--out', out]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("model.type: unknown recipe 'stylegan'; known: sign, cagnet, zs3net");
    expect(existsSync(out)).toBe(false);
  });

  it('an unknown flag, a bad flag value, a missing checkpoint, an unknown command', async () => {
    const r = await run(['demo', '--unsen', 'bag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--unsen'.*valid flags: .*--unseen/);
    const r2 = await run(['demo', '--self-training', 'always']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("--self-training: unknown value 'always' (valid: 'none', 'ast' or 'top-p')");
    const r3 = await run(['eval', '--checkpoint', join(dir, 'nope.safetensors')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('--checkpoint: no such file');
    const r4 = await run(['fit']);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain("unknown command 'fit'");
  });

  it('--json reports the error as a JSON line on stdout too', async () => {
    const r = await run(['demo', '--json', '--generator', 'x', '--out', join(dir, 'j')]);
    expect(r.code).toBe(2);
    const ev = JSON.parse(r.stdout.trim());
    expect(ev).toMatchObject({ event: 'error', kind: 'usage' });
    expect(ev.message).toContain("unknown generator 'x'");
  });
});
