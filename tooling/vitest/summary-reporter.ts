import type { Reporter, File, Task } from 'vitest';

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own
 * summary, so that tools which read a run's last line see the counts whatever the runner.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: File[] = []) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (t: Task) => {
      if (t.type === 'suite') {
        for (const c of t.tasks) walk(c);
        return;
      }
      const state = t.result?.state;
      if (state === 'pass') passed++;
      else if (state === 'fail') failed++;
      else skipped++;
    };
    for (const f of files) {
      if (f.result?.state === 'fail' && f.tasks.length === 0) failed++; // a file that failed to load
      for (const t of f.tasks) walk(t);
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
