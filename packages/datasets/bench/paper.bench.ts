/**
 * A paper dataset streamed with the release's preprocessing: how long opening a large
 * `pascal-voc12` tree takes (lists read, every file's existence checked, nothing decoded), and
 * that memory stays flat while training batches of 8 (normalise, warp to 513×513, scale 0.5–1.5,
 * centred pad, crop 368, flip) stream from more images than the decoded-sample cache holds.
 * Run from the repository root:
 *
 *   pnpm bench datasets                 # 800 images (240..500 px), 120 batches
 *   pnpm bench datasets -- 4000 300     # images in the tree, batches drawn
 *
 * Prints the write and open times, heap and RSS every 20 batches (after a GC when node runs
 * with --expose-gc), the growth from the first
 * report to the last, and samples per CPU second (the wall time depends on what else runs).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@sign/core';
import { PASCAL_VOC12_CLASSES, PASCAL_VOC12_PIPELINES, createDataModule } from '../src/index';
import { nodeIo } from '../src/node';
import { MemoryReports, runBench } from './memory';
import { writePaperTree } from '../src/testing';


async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 800);
  const batches = Number(process.argv[3] ?? 120);
  const dir = mkdtempSync(join(tmpdir(), 'sign-paper-bench-'));
  try {
    const t0 = performance.now();
    const tree = await writePaperTree(join(dir, 'voc'), 'pascal-voc12', { seed: 0, trainCount: count, testCount: 8, minSide: 240, maxSide: 500 });
    console.log(`wrote a pascal-voc12 tree of ${count} + 8 JPEG images (240..500 px) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const embeddingsFile = join(dir, 'embeddings.json');
    writeFileSync(embeddingsFile, JSON.stringify(Object.fromEntries(PASCAL_VOC12_CLASSES.map((c, i) => [c, [Math.cos(i), Math.sin(i), 1]]))));
    const tOpen = performance.now();
    const dm = await createDataModule(
      { type: 'pascal-voc12', root: tree.root, unseenSplit: 'cagnet', embeddingsFile, train: { pipeline: PASCAL_VOC12_PIPELINES.train } },
      { io: nodeIo, seed: 0 },
    );
    console.log(`open ${count + 8} listed samples (validate 'auto' → 'exists'): ${(performance.now() - tOpen).toFixed(0)} ms`);
    const memory = new MemoryReports();
    const tBatches = performance.now();
    const cpu0 = process.cpuUsage();
    for (let b = 1; b <= batches; b++) {
      const batch = await dm.trainBatch(8, new Rng(0).fork(`step-${b}`).fork('batch'));
      if (batch.height !== 368 || batch.width !== 368) throw new Error(`batch ${b}: ${batch.height}×${batch.width}, expected 368×368`);
      if (b % 20 === 0) {
        memory.record(`batch ${b}`);
      }
    }
    const secs = (performance.now() - tBatches) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSecs = (cpu.user + cpu.system) / 1e6;
    console.log(
      `${batches} batches of 8 at 368×368 in ${secs.toFixed(1)} s wall, ${cpuSecs.toFixed(1)} s CPU (${((batches * 8) / cpuSecs).toFixed(1)} samples per CPU second; decoded from disk unless cached)`,
    );
    memory.printGrowth('decoded-sample cache bound: 64 MiB');
    dm.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
