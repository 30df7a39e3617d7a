// Your own images, end to end through the CLI: a generated folder dataset (coloured shapes on
// textured backgrounds, RGB and grey, PNG and JPEG, mixed sizes; 4 seen and 2 unseen classes)
// trains with `sign train --dataset folder … --quick`, evaluates with `sign eval` (also after the
// folder moved) and segments images of any size with `sign predict`; bad input fails before any
// training with exit code 2, naming the file or class, and leaves no report.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeShapesFolder } from '@sign/datasets/testing';
import { main } from '../src/cli';
import { REPORT_KEYS, type Report } from '../src/report';
import { readPng, sink, tempDir } from './helpers';

const dir = tempDir('sign-folder-');
const out = join(dir, 'run');
let root: string;
let unseen: string[];
let code: number;
let stderr: string;

async function sign(argv: string[]) {
  const o = sink();
  const e = sink();
  const c = await main(argv, { stdout: o, stderr: e, handleSignals: false, invocation: 'sign' });
  return { code: c, stdout: o.text, stderr: e.text };
}

const report = (d: string) => JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')) as Report;

beforeAll(async () => {
  ({ root, unseen } = await writeShapesFolder(join(dir, 'shapes'), { seed: 1, greyCount: 4 }));
  const r = await sign(['train', '--dataset', 'folder', '--data-root', root, '--unseen', unseen.join(','), '--quick', '--out', out]);
  code = r.code;
  stderr = r.stderr;
}, 900_000);

describe('sign train --dataset folder', () => {
  it('trains on the folder (3 channels) and writes report.json with its 11 keys', () => {
    expect(code, stderr).toBe(0);
    const r = report(out);
    expect(Object.keys(r).sort()).toEqual([...REPORT_KEYS].sort());
    expect(r.unseen).toEqual(['blue circle', 'green triangle']);
    expect(r.seen).toEqual(['red circle', 'green square', 'blue triangle', 'red square']);
    expect(Object.keys(r.perClassIoU).sort()).toEqual([...r.seen, ...r.unseen].sort());
    const config = r.config as { data: { type: string; root: string }; name: string };
    expect(config.data).toMatchObject({ type: 'folder', root });
    expect(config.name).toBe('folder-quick');
  });

  it('sign eval reproduces the metrics from the checkpoint (it records dataset, classes and config), also from a moved folder', async () => {
    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const a = await sign(['eval', '--checkpoint', ckpt, '--out', join(dir, 'eval')]);
    expect(a.code, a.stderr).toBe(0);
    const e = report(join(dir, 'eval'));
    expect(Object.keys(e).sort()).toEqual([...REPORT_KEYS].sort());
    expect(e.hIoU).toBeCloseTo(report(out).hIoU, 3);
    expect(e.perClassIoU).toEqual(report(out).perClassIoU);
    const moved = join(dir, 'moved');
    cpSync(root, moved, { recursive: true });
    const b = await sign(['eval', '--checkpoint', ckpt, '--data-root', moved, '--out', join(dir, 'eval-moved')]);
    expect(b.code, b.stderr).toBe(0);
    expect(report(join(dir, 'eval-moved')).perClassIoU).toEqual(e.perClassIoU);
    const c = await sign(['eval', '--checkpoint', ckpt, '--data-root', join(dir, 'nowhere'), '--out', join(dir, 'eval-bad')]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(join(dir, 'nowhere'));
    expect(existsSync(join(dir, 'eval-bad', 'report.json'))).toBe(false);
  });

  it('sign predict segments RGB and grey images of any size, and test samples', async () => {
    const images = ['0001.png', '0002.jpg'].map((f) => join(root, 'images', 'val', f));
    const grey = join(root, 'images', 'train', '0000.png'); // greyCount: the first training images are grey PNGs
    const pdir = join(dir, 'pred');
    const p = await sign(['predict', '--checkpoint', join(out, 'checkpoints', 'last.safetensors'), ...images, grey, '--from-test', '1', '--out', pdir]);
    expect(p.code, p.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(pdir, 'predictions.json'), 'utf8'));
    expect(summary.images).toHaveLength(4);
    for (const im of summary.images) {
      const mask = readPng(im.mask);
      expect([mask.width, mask.height]).toEqual([im.width, im.height]);
      expect(Object.values(im.classes as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      expect(im.inverted).toBe(false);
    }
    expect(new Set(summary.images.map((im: { width: number }) => im.width)).size).toBeGreaterThan(1); // mixed sizes
    expect(summary.images[3].pixelAccuracy).toBeGreaterThanOrEqual(0);
  });
});

describe('bad input fails before any training: exit code 2, the culprit named, no report', () => {
  const fails = async (argv: string[], pattern: RegExp | string, outDir: string) => {
    const r = await sign([...argv, '--out', outDir]);
    expect(r.code, r.stderr).toBe(2);
    if (typeof pattern === 'string') expect(r.stderr).toContain(pattern);
    else expect(r.stderr).toMatch(pattern);
    expect(existsSync(join(outDir, 'report.json'))).toBe(false);
    expect(existsSync(join(outDir, 'checkpoints'))).toBe(false);
  };

  it('an unknown class, a missing root, an image without its label', async () => {
    await fails(['train', '--dataset', 'folder', '--data-root', root, '--unseen', 'blue circel', '--quick'], "data.unseen: unknown class 'blue circel' (did you mean 'blue circle'?)", join(dir, 'e1'));
    await fails(['train', '--dataset', 'folder', '--unseen', unseen.join(','), '--quick'], /data\.root: missing/, join(dir, 'e2'));
    const broken = join(dir, 'broken');
    cpSync(root, broken, { recursive: true });
    rmSync(join(broken, 'labels', 'train', '0003.png'));
    await fails(['train', '--dataset', 'folder', '--data-root', broken, '--unseen', unseen.join(','), '--quick'], join('images', 'train', '0003'), join(dir, 'e3'));
    await fails(['train', '--dataset', 'nope', '--quick'], "--dataset: no base config for dataset 'nope'", join(dir, 'e4'));
  });
});
