// `sign add-class`: a tiny model trained without bag (`data.exclude`, as `sign demo
// --exclude-classes bag` does), bag added by name from the dataset's table, from a GloVe text file
// and as the random control; `sign eval` then scores bag as an unseen class and `sign predict`
// reads the new checkpoint. Bad input exits 2 and writes nothing.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { demoConfig } from '../src/configs';
import { sink, tempDir } from './helpers';

const dir = tempDir('sign-add-class-');
const cfg = join(dir, 'tiny.json');
const ckpt = join(dir, 'bagless', 'checkpoints', 'last.safetensors');

async function sign(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await main(args, { stdout, stderr, handleSignals: false });
  return { code, out: stdout.text, err: stderr.text };
}

/** A GloVe text file (100-d, like the tiny model's 'glove' embeddings) with the words given. */
function gloveFile(words: Record<string, number>): string {
  const path = join(dir, 'words.txt');
  const lines = Object.entries(words).map(([w, k]) => `${w} ${Array.from({ length: 100 }, (_, i) => ((i * k) % 7) / 7 - 0.4).join(' ')}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('sign add-class', () => {
  beforeAll(async () => {
    writeFileSync(
      cfg,
      JSON.stringify({
        base: 'quick',
        name: 'bagless',
        data: { size: 32, trainCount: 16, testCount: 6, embeddings: 'glove', exclude: ['bag'] },
        schedule: { batchSize: 4, step1Iters: 4, transferIters: 4, alternateEvery: 2, selfTrainingIters: 2 },
        runtime: { backend: 'wasm' },
      }),
    );
    const r = await sign(['train', '--config', cfg, '--out', join(dir, 'bagless'), '--json']);
    expect(r.code, r.err).toBe(0);
  }, 600_000);

  it("adds bag from the dataset's table; eval scores it as unseen, predict reads the checkpoint", async () => {
    const out = join(dir, 'with-bag.safetensors');
    const r = await sign(['add-class', 'bag', '--checkpoint', ckpt, '--out', out, '--steps', '5', '--backend', 'wasm', '--json']);
    expect(r.code, r.err).toBe(0);
    const ev = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(ev).toMatchObject({ event: 'add-class', out, class: 'bag', id: 10, classes: 11, source: 'glove (fashion-scenes dataset)', steps: 5 });

    const e = await sign(['eval', '--checkpoint', out, '--backend', 'wasm', '--json']);
    expect(e.code, e.err).toBe(0);
    const report = JSON.parse(e.out.trim().split('\n').find((l) => l.includes('"event":"report"'))!).report;
    expect(report.unseen).toEqual(['pullover', 'dress', 'sandal', 'bag']);
    expect(Object.keys(report.perClassIoU)).toContain('bag');

    const p = await sign(['predict', '--checkpoint', out, '--from-test', '1', '--out', join(dir, 'pred'), '--backend', 'wasm', '--json']);
    expect(p.code, p.err).toBe(0);
    expect(existsSync(join(dir, 'pred', 'predictions.json'))).toBe(true);
  }, 600_000);

  it('takes the embedding from a word-vector file (unknown words are errors unless --allow-missing) or draws the random control', async () => {
    const words = gloveFile({ bag: 3, tote: 5 });
    const a = await sign(['add-class', 'tote bag', '--checkpoint', ckpt, '--out', join(dir, 'tote.safetensors'), '--embedding-source', words, '--steps', '2', '--backend', 'wasm', '--json']);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out.trim()).source).toBe(`${words} (glove)`);

    const miss = join(dir, 'never.safetensors');
    const b = await sign(['add-class', 'duffel bag', '--checkpoint', ckpt, '--out', miss, '--embedding-source', words, '--backend', 'wasm']);
    expect(b.code).toBe(2);
    expect(b.err).toContain("'duffel'");
    expect(b.err).toContain('--allow-missing');
    expect(existsSync(miss)).toBe(false);
    const c = await sign(['add-class', 'duffel bag', '--checkpoint', ckpt, '--out', miss, '--embedding-source', words, '--allow-missing', '--steps', '2', '--backend', 'wasm']);
    expect(c.code, c.err).toBe(0);

    const d = await sign(['add-class', 'bag', '--checkpoint', ckpt, '--out', join(dir, 'random.safetensors'), '--control', 'random', '--steps', '2', '--backend', 'wasm', '--json']);
    expect(d.code, d.err).toBe(0);
    expect(JSON.parse(d.out.trim()).source).toBe('random unit vector (control, seed 1000)');
  }, 600_000);

  it('refuses bad input with exit 2, naming it, and writes nothing', async () => {
    const out = join(dir, 'bad.safetensors');
    const cases: [string[], string][] = [
      [['add-class', '--checkpoint', ckpt, '--out', out], 'give exactly one class name (got 0)'],
      [['add-class', 'coat', '--checkpoint', ckpt, '--out', out], "the model already has a class 'coat'"],
      [['add-class', 'bag', '--checkpoint', join(dir, 'nope.safetensors'), '--out', out], '--checkpoint: no such file'],
      [['add-class', 'bag', '--checkpoint', ckpt, '--out', out, '--embedding-source', 'both'], "the embedding of 'bag' from both (fashion-scenes dataset) has 119 values; the model's class embeddings have 100"],
      [['add-class', 'bag', '--checkpoint', ckpt, '--out', out, '--embedding-source', join(dir, 'missing.txt')], '--embedding-source: no such file'],
      [['add-class', 'scarf', '--checkpoint', ckpt, '--out', out], "the dataset's embeddings have no class 'scarf'"],
      [['add-class', 'bag', '--checkpoint', ckpt, '--out', out, '--train', 'all'], "--train: unknown value 'all'"],
    ];
    for (const [args, message] of cases) {
      const r = await sign([...args, '--backend', 'wasm']);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toContain(message);
      expect(existsSync(out)).toBe(false);
    }
  }, 600_000);

  it('sign demo --exclude-classes puts the classes in data.exclude; a class cannot be both excluded and unseen', () => {
    const c = demoConfig({ quick: true, 'exclude-classes': 'bag,Ankle-Boot' });
    expect((c.data as { exclude?: string[] }).exclude).toEqual(['bag', 'ankle boot']);
    expect(() => demoConfig({ quick: true, 'exclude-classes': 'dress' })).toThrow("--exclude-classes: 'dress' is also unseen");
    expect(() => demoConfig({ quick: true, 'exclude-classes': 'bags' })).toThrow("--exclude-classes: unknown class 'bags'");
  });
});
