/**
 * The folder dataset's costs: how long opening takes (headers only, and with every file decoded),
 * and that memory stays flat while training batches stream from a larger folder. Run from the
 * repository root:
 *
 *   pnpm bench datasets                 # 48 + 16 images (open) and 1500 images (memory)
 *   pnpm bench datasets -- 3000 400     # images in the large folder, batches drawn
 *
 * Prints open times, then heap and RSS every 50 batches of 8 (random scale, 64×64 crops, flip)
 * and the growth from the first report to the last.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@sign/core';
import { createDataModule } from '../src/index';
import { nodeIo } from '../src/node';
import { MemoryReports, runBench } from './memory';
import { writeShapesFolder } from '../src/testing';


async function timeOpen(root: string, validate: 'headers' | 'full', unseen: string[]): Promise<number> {
  const t = performance.now();
  const dm = await createDataModule({ type: 'folder', root, unseen, validate }, { io: nodeIo, seed: 0 });
  const ms = performance.now() - t;
  dm.dispose();
  return ms;
}

async function main(): Promise<void> {
  const bigCount = Number(process.argv[2] ?? 1500);
  const batches = Number(process.argv[3] ?? 300);
  const dir = mkdtempSync(join(tmpdir(), 'sign-folder-bench-'));
  try {
    const small = await writeShapesFolder(join(dir, 'small'), { seed: 0, trainCount: 48, valCount: 16 });
    await timeOpen(small.root, 'headers', small.unseen); // warm-up (sharp, module loading)
    for (const validate of ['headers', 'full'] as const) {
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await timeOpen(small.root, validate, small.unseen));
      runs.sort((a, b) => a - b);
      console.log(`open 64 images (${validate}): median ${runs[2]!.toFixed(0)} ms (min ${runs[0]!.toFixed(0)}, max ${runs[4]!.toFixed(0)})`);
    }

    const t0 = performance.now();
    const big = await writeShapesFolder(join(dir, 'big'), { seed: 1, trainCount: bigCount, valCount: 8, minSide: 160, maxSide: 320 });
    console.log(`wrote ${bigCount} training images of 160..320 px in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const tOpen = performance.now();
    const dm = await createDataModule(
      { type: 'folder', root: big.root, unseen: big.unseen, train: { pipeline: [{ type: 'randomScale', min: 0.5, max: 1.5 }, { type: 'randomCrop', height: 64, width: 64 }, { type: 'flip' }] } },
      { io: nodeIo, seed: 0 },
    );
    console.log(`open ${bigCount + 8} images (auto → headers): ${(performance.now() - tOpen).toFixed(0)} ms`);
    const memory = new MemoryReports();
    const tBatches = performance.now();
    for (let b = 1; b <= batches; b++) {
      await dm.trainBatch(8, new Rng(0).fork(`step-${b}`).fork('batch'));
      if (b % 50 === 0) {
        memory.record(`batch ${b}`);
      }
    }
    const secs = (performance.now() - tBatches) / 1000;
    console.log(`${batches} batches of 8 in ${secs.toFixed(1)} s (${((batches * 8) / secs).toFixed(0)} samples/s, decoded from disk unless cached)`);
    memory.printGrowth('decoded-sample cache bound: 64 MiB');
    dm.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
