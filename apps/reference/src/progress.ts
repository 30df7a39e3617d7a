/**
 * Progress output for long runs, in three modes:
 * - `tty`: one progress bar on stderr, redrawn in place (phase, step/total, losses, speed, ETA);
 * - `plain`: throttled log lines on stderr (for CI logs and files);
 * - `json`: one JSON object per line on stdout (`{"event":"step",...}`) for machines.
 */

export type ProgressMode = 'tty' | 'plain' | 'json';

export interface StepEvent {
  phase: string;
  step: number;
  total: number;
  /** Where this invocation stops (`--max-steps`), when before `total`: progress and ETA count to it. */
  until?: number;
  losses: Record<string, number>;
}

export interface EvalEvent {
  step: number;
  metrics: { mIoUSeen: number; mIoUUnseen: number; hIoU: number; mIoU?: number; pixelAccuracy?: number };
}

/** The writable side the reporter needs (process.stdout/stderr or a test buffer). */
export interface TextSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ReporterOptions {
  mode: ProgressMode;
  stdout: TextSink;
  stderr: TextSink;
  /** Minimum time between two plain log lines for steps of the same phase (ms). */
  plainEveryMs?: number;
  /** Minimum time between two redraws of the bar (ms). */
  ttyEveryMs?: number;
  now?: () => number;
  /** Resident set size in bytes, reported with each JSON step event (default: the process's). */
  rss?: () => number;
}

export interface Reporter {
  readonly mode: ProgressMode;
  step(e: StepEvent): void;
  evaluation(e: EvalEvent): void;
  checkpoint(path: string): void;
  /** A human message: a line on stderr, or `{"event":"log"}` in json mode. */
  log(message: string): void;
  /** A machine event: written only in json mode. */
  event(name: string, data: Record<string, unknown>): void;
  /** Removes the bar (if any) so that the next output starts on a clean line. */
  finish(): void;
  /** The last checkpoint path reported by the trainer, if any. */
  readonly lastCheckpoint: string | undefined;
  /** The last step event, if any. */
  readonly lastStep: StepEvent | undefined;
}

/** Picks the mode: `--json` wins, then a terminal on stderr gets bars, anything else log lines. */
export function chooseMode(json: boolean, stderr: TextSink): ProgressMode {
  if (json) return 'json';
  return stderr.isTTY ? 'tty' : 'plain';
}

/** `75` → `1m15s`, `3725` → `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Three significant digits, no exponent for ordinary loss values. */
export function formatLoss(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toPrecision(3);
}

function formatLosses(losses: Record<string, number>, sep: string): string {
  return Object.entries(losses)
    .map(([k, v]) => `${k}${sep}${formatLoss(v)}`)
    .join(' ');
}

export function createReporter(opts: ReporterOptions): Reporter {
  const now = opts.now ?? (() => Date.now());
  const rss = opts.rss ?? (() => process.memoryUsage.rss());
  const plainEveryMs = opts.plainEveryMs ?? 10_000;
  const ttyEveryMs = opts.ttyEveryMs ?? 100;
  const { mode, stdout, stderr } = opts;

  let phase: string | undefined;
  let phaseStartTime = 0;
  let phaseStartStep = 0;
  let lastPrint = -Infinity;
  let barShown = false;
  let barText = '';
  let lastCheckpoint: string | undefined;
  let lastStep: StepEvent | undefined;

  const json = (obj: Record<string, unknown>) => stdout.write(`${JSON.stringify(obj)}\n`);

  function rate(e: StepEvent, t: number): number {
    const dt = (t - phaseStartTime) / 1000;
    const ds = e.step - phaseStartStep;
    return dt > 0 && ds > 0 ? ds / dt : NaN;
  }

  function describe(e: StepEvent, t: number, withBar: boolean): string {
    const r = rate(e, t);
    const end = e.until ?? e.total;
    const eta = Number.isFinite(r) ? formatDuration((end - e.step) / r) : '?';
    const pct = end > 0 ? Math.floor((100 * e.step) / end) : 0;
    const of = end < e.total ? ` (of ${e.total})` : '';
    const speed = Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r.toFixed(1)} it/s` : '– it/s';
    const losses = formatLosses(e.losses, withBar ? ' ' : '=');
    if (withBar) {
      const width = 20;
      const filled = end > 0 ? Math.min(width, Math.round((width * e.step) / end)) : 0;
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      // Most important first: a narrow terminal cuts the losses, not the ETA.
      return `${e.phase.padEnd(13)} ${bar} ${e.step}/${end}${of} ${String(pct).padStart(3)}% · ETA ${eta} · ${speed} · ${losses}`;
    }
    return `[${e.phase}] ${e.step}/${end}${of} (${pct}%) ${losses} · ${speed} · ETA ${eta}`;
  }

  function clearBar() {
    if (barShown) {
      stderr.write('\r\x1b[2K');
      barShown = false;
    }
  }

  function drawBar() {
    const cols = Math.max(40, (stderr.columns || 100) - 1);
    const text = barText.length > cols ? `${barText.slice(0, cols - 1)}…` : barText;
    stderr.write(`\r\x1b[2K${text}`);
    barShown = true;
  }

  function line(message: string) {
    if (mode === 'json') {
      json({ event: 'log', message });
      return;
    }
    const redraw = barShown;
    clearBar();
    stderr.write(`${message}\n`);
    if (redraw && mode === 'tty') drawBar();
  }

  return {
    mode,
    get lastCheckpoint() {
      return lastCheckpoint;
    },
    get lastStep() {
      return lastStep;
    },
    step(e) {
      const t = now();
      lastStep = e;
      const newPhase = e.phase !== phase;
      if (newPhase) {
        if (phase !== undefined && mode === 'tty' && barShown) {
          // Leave the finished phase's bar on screen.
          stderr.write('\n');
          barShown = false;
        }
        phase = e.phase;
        phaseStartTime = t;
        phaseStartStep = e.step; // rate counts the steps finished after this event
        lastPrint = -Infinity;
      }
      const last = e.step >= (e.until ?? e.total);
      if (mode === 'json') {
        json({ event: 'step', phase: e.phase, step: e.step, total: e.total, ...(e.until !== undefined && e.until < e.total ? { until: e.until } : {}), losses: e.losses, t: t, rss: rss() });
        return;
      }
      if (mode === 'tty') {
        barText = describe(e, t, true);
        if (newPhase || last || t - lastPrint >= ttyEveryMs) {
          drawBar();
          lastPrint = t;
        }
        return;
      }
      if (newPhase || last || t - lastPrint >= plainEveryMs) {
        stderr.write(`${describe(e, t, false)}\n`);
        lastPrint = t;
      }
    },
    evaluation(e) {
      const m = e.metrics;
      if (mode === 'json') {
        json({ event: 'eval', step: e.step, metrics: m });
        return;
      }
      line(
        `eval @ step ${e.step}: mIoU(S) ${m.mIoUSeen.toFixed(1)} · mIoU(U) ${m.mIoUUnseen.toFixed(1)} · hIoU ${m.hIoU.toFixed(1)}`,
      );
    },
    checkpoint(path) {
      lastCheckpoint = path;
      if (mode === 'json') json({ event: 'checkpoint', path });
    },
    log(message) {
      line(message);
    },
    event(name, data) {
      if (mode === 'json') json({ event: name, ...data });
    },
    finish() {
      if (mode === 'tty' && barShown) {
        stderr.write('\n');
        barShown = false;
      }
    },
  };
}
