/** What the datasets benches share: memory reports while batches stream, and the entry point. */

const MiB = 1024 * 1024;

/** Bytes as MiB with one decimal. */
export const mb = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

/** Heap and RSS at each report, to print the growth from the first to the last. */
export class MemoryReports {
  private readonly reports: { label: string; heap: number; rss: number }[] = [];

  /** Collects garbage when node runs with --expose-gc, then prints and keeps heap, RSS and array buffers. */
  record(label: string): void {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    this.reports.push({ label, heap: m.heapUsed, rss: m.rss });
    console.log(`${label}: heap ${mb(m.heapUsed)}, rss ${mb(m.rss)}, arrayBuffers ${mb(m.arrayBuffers)}`);
  }

  /** Prints the growth from the first report to the last. */
  printGrowth(note: string): void {
    const first = this.reports[0];
    const last = this.reports[this.reports.length - 1];
    if (!first || !last) return;
    console.log(`growth from ${first.label} to ${last.label}: heap ${mb(last.heap - first.heap)}, rss ${mb(last.rss - first.rss)} (${note})`);
  }
}

/** Runs a bench's main, exiting non-zero on failure. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
