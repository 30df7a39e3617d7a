import { describe, expect, it } from 'vitest';
import { addClassMarkdown, clearlyAbove, type AddClassRun } from '../scripts/add-class-report';
import type { Report } from '../src/report';

function report(seen: number, iou: Record<string, number>, unseen: string[]): Report {
  return { mIoUSeen: seen, mIoUUnseen: 0, hIoU: 10, mIoU: 0, pixelAccuracy: 0, perClassIoU: iou, seen: ['coat'], unseen, backend: 'wasm', seconds: 600, config: {} };
}

function run(seed: number, embedding: 'real' | 'random', bag: number): AddClassRun {
  return {
    seed,
    embedding,
    train: 'head',
    steps: 200,
    addSeconds: 2,
    source: embedding,
    before: report(40, { coat: 40, pullover: 30, dress: 20, sandal: 10 }, ['pullover', 'dress', 'sandal']),
    after: report(38, { coat: 38, pullover: 27, dress: 20, sandal: 10, bag }, ['pullover', 'dress', 'sandal', 'bag']),
    command: `sign add-class bag --seed ${seed}${embedding === 'random' ? ' --control random' : ''}`,
  };
}

describe('the add-class report', () => {
  it('clearlyAbove: above in every seed and by more than both spreads together', () => {
    expect(clearlyAbove([30, 32, 34], [5, 6, 7])).toBe(true);
    expect(clearlyAbove([30, 4, 34], [5, 6, 7])).toBe(false); // one seed below
    expect(clearlyAbove([9, 12, 39], [5, 6, 7])).toBe(false); // above in every seed, but Δ 14 < spreads 16.5 + 1
    expect(clearlyAbove([30], [5])).toBe(false); // one seed is no evidence
  });

  it('tables the means over seeds, per seed, and says whether the embedding beats the control', () => {
    const md = addClassMarkdown([run(0, 'real', 30), run(0, 'random', 5), run(1, 'real', 32), run(1, 'random', 6), run(2, 'real', 34), run(2, 'random', 7)], { date: '2026-12-01', runs: 'runs/add-class' });
    expect(md).toContain('## Retraining `--train head`, 200 steps');
    expect(md).toContain('| its embedding (GloVe + attributes) | 32.0 ± 2.0 | 20.0 ± 0.0 → 19.0 ± 0.0 | 40.0 ± 0.0 → 38.0 ± 0.0 | 10.0 ± 0.0 | 2.0 ± 0.0 | 3 |');
    expect(md).toContain('| a random unit vector (control) | 6.0 ± 1.0 |');
    expect(md).toContain('| 1 | 32.0 | 6.0 | 40.0 | 38.0 | 600 |');
    expect(md).toContain("Against the random-embedding control, bag's IoU with its embedding is above it (Δ +26.0); clearly above it");
    expect(md).toContain('mIoU seen by -2.0 ± 0.0');
    expect(md).toContain('sign add-class bag --seed 2 --control random');
    const one = addClassMarkdown([run(0, 'real', 30), run(0, 'random', 5)], { date: '2026-12-01', runs: 'r', note: 'Measured under load.' });
    expect(one).toContain('Measured under load.');
    expect(one).toContain('one seed cannot say whether it is clearly above it');
  });
});
