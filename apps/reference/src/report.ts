/**
 * The run report: `<out>/report.json` (exactly the keys of {@link Report}) and `<out>/report.md`
 * (the metrics table, per-class IoU and prediction images next to their ground truth), both
 * written atomically, report.json last (its presence means the run finished).
 */
import { join } from 'node:path';
import { writeFileAtomic } from '@sign/core/node';
import type { ProtocolResult } from '@sign/trainer';

/** The summary metrics of a report, percentages in 0..100. */
export interface MetricsLike {
  mIoUSeen: number;
  mIoUUnseen: number;
  hIoU: number;
  mIoU: number;
  pixelAccuracy: number;
}

/** The content of report.json. Metrics are percentages in 0..100. */
export interface Report extends MetricsLike {
  /** class name → IoU in percent; `null` for a class absent from both prediction and truth. */
  perClassIoU: Record<string, number | null>;
  seen: string[];
  unseen: string[];
  backend: string;
  seconds: number;
  config: unknown;
}

export const REPORT_KEYS = [
  'mIoUSeen',
  'mIoUUnseen',
  'hIoU',
  'mIoU',
  'pixelAccuracy',
  'perClassIoU',
  'seen',
  'unseen',
  'backend',
  'seconds',
  'config',
] as const;

const round = (v: number, digits = 4) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

const percentOrNull = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : round(v);

export function buildReport(args: Omit<Report, keyof MetricsLike> & { metrics: MetricsLike }): Report {
  const m = args.metrics;
  const perClass: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(args.perClassIoU)) perClass[k] = percentOrNull(v);
  const num = (v: number) => (Number.isFinite(v) ? round(v) : 0);
  return {
    mIoUSeen: num(m.mIoUSeen),
    mIoUUnseen: num(m.mIoUUnseen),
    hIoU: num(m.hIoU),
    mIoU: num(m.mIoU),
    pixelAccuracy: num(m.pixelAccuracy),
    perClassIoU: perClass,
    seen: [...args.seen],
    unseen: [...args.unseen],
    backend: args.backend,
    seconds: round(args.seconds, 1),
    config: args.config,
  };
}

const f1 = (v: number | null) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(1));

/**
 * The ZSL protocol on the same test scenes (`<out>/zsl.json`): only the unseen classes compete
 * and only unseen pixels count, so it shows whether the embeddings name the unseen classes
 * right, apart from the seen-class bias. Percent; NaN is written as null.
 */
export interface ZslSummary {
  mIoU: number;
  pixelAccuracy: number;
  perClassIoU: Record<string, number>;
  pixels: number;
}

/** Writes `<out>/zsl.json` atomically (before report.json, whose presence means the run finished). */
export function writeZsl(outDir: string, zsl: ZslSummary): string {
  const path = join(outDir, 'zsl.json');
  const clean = {
    protocol: 'ZSL: argmax over the unseen classes only, on pixels whose truth is unseen',
    mIoU: percentOrNull(zsl.mIoU),
    pixelAccuracy: percentOrNull(zsl.pixelAccuracy),
    perClassIoU: Object.fromEntries(Object.entries(zsl.perClassIoU).map(([k, v]) => [k, percentOrNull(v)])),
    pixels: zsl.pixels,
  };
  writeFileAtomic(path, `${JSON.stringify(clean, null, 2)}\n`);
  return path;
}

function zslLines(zsl: ZslSummary, unseenCount: number): string[] {
  return [
    `unseen alone (ZSL): mIoU ${f1(zsl.mIoU)} · naming accuracy ${f1(zsl.pixelAccuracy)} (${unseenCount} unseen classes: a uniform guess averages ${(100 / Math.max(1, unseenCount)).toFixed(1)})`,
  ];
}

/** The metrics as a fixed-width text table (stdout). */
export function formatTable(r: Report, title?: string, zsl?: ZslSummary): string {
  const rows: [string, string][] = [
    ['mIoU seen', f1(r.mIoUSeen)],
    ['mIoU unseen', f1(r.mIoUUnseen)],
    ['hIoU', f1(r.hIoU)],
    ['mIoU (all)', f1(r.mIoU)],
    ['pixel accuracy', f1(r.pixelAccuracy)],
  ];
  const lines: string[] = [];
  if (title) lines.push(title);
  const w = Math.max(...rows.map((x) => x[0].length));
  lines.push(`${'metric'.padEnd(w)}  value (%)`);
  lines.push(`${'-'.repeat(w)}  ---------`);
  for (const [k, v] of rows) lines.push(`${k.padEnd(w)}  ${v.padStart(9)}`);
  lines.push('');
  const names = Object.keys(r.perClassIoU);
  const cw = Math.max(5, ...names.map((n) => n.length));
  lines.push(`${'class'.padEnd(cw)}  split   IoU (%)`);
  lines.push(`${'-'.repeat(cw)}  ------  -------`);
  for (const n of names) {
    const split = r.unseen.includes(n) ? 'unseen' : 'seen';
    lines.push(`${n.padEnd(cw)}  ${split.padEnd(6)}  ${f1(r.perClassIoU[n]).padStart(7)}`);
  }
  lines.push('');
  if (zsl) lines.push(...zslLines(zsl, r.unseen.length));
  lines.push(`backend ${r.backend} · ${r.seconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

export interface ReportImage {
  /** File name inside the output directory. */
  file: string;
  /** Alt text. */
  alt: string;
}

export interface ReportSample {
  image: ReportImage;
  truth: ReportImage;
  prediction: ReportImage;
}

/** The Markdown report. */
export function formatMarkdown(
  r: Report,
  opts: { title: string; command?: string; samples?: ReportSample[]; legend?: ReportImage; notes?: string[]; zsl?: ZslSummary },
): string {
  const out: string[] = [];
  out.push(`# ${opts.title}`, '');
  out.push('| mIoU seen | mIoU unseen | hIoU | mIoU (all) | pixel accuracy |');
  out.push('|---:|---:|---:|---:|---:|');
  out.push(`| ${f1(r.mIoUSeen)} | ${f1(r.mIoUUnseen)} | ${f1(r.hIoU)} | ${f1(r.mIoU)} | ${f1(r.pixelAccuracy)} |`);
  out.push('', 'All values are percentages. hIoU is the harmonic mean of mIoU seen and mIoU unseen.', '');
  out.push('## Per class', '');
  out.push('| class | split | IoU (%) |');
  out.push('|---|---|---:|');
  for (const [n, v] of Object.entries(r.perClassIoU)) {
    out.push(`| ${n} | ${r.unseen.includes(n) ? '**unseen**' : 'seen'} | ${f1(v)} |`);
  }
  out.push('');
  if (opts.zsl && r.unseen.length > 0) {
    const z = opts.zsl;
    out.push('## Unseen classes alone (ZSL protocol)', '');
    out.push(
      'Only the unseen classes compete and only pixels whose truth is unseen count: does the model name the unseen ' +
        `classes right from their embeddings, apart from its bias towards seen classes? A uniform guess averages ${(100 / r.unseen.length).toFixed(1)} % accuracy; a model that gives most unseen pixels one name scores that class's share of the pixels, so the embedding controls (sign demo --control random|permuted) are the fair comparison.`,
      '',
    );
    out.push('| class | IoU (%) |', '|---|---:|');
    for (const [n, v] of Object.entries(z.perClassIoU)) out.push(`| ${n} | ${f1(v)} |`);
    out.push(`| **mIoU** | **${f1(z.mIoU)}** |`, `| naming accuracy | ${f1(z.pixelAccuracy)} |`, '');
  }
  if (opts.samples && opts.samples.length > 0) {
    out.push('## Predictions on test scenes', '');
    out.push('Unseen classes are never labelled in training scenes; the model names them only from their embeddings.', '');
    out.push('| image | ground truth | prediction |');
    out.push('|---|---|---|');
    for (const s of opts.samples) {
      const md = (im: ReportImage) => `![${im.alt}](${im.file})`;
      out.push(`| ${md(s.image)} | ${md(s.truth)} | ${md(s.prediction)} |`);
    }
    out.push('');
    if (opts.legend) out.push(`![${opts.legend.alt}](${opts.legend.file})`, '');
  }
  out.push('## Run', '');
  out.push(`- seen classes: ${r.seen.join(', ')}`);
  out.push(`- unseen classes: ${r.unseen.join(', ')}`);
  out.push(`- backend: ${r.backend}`);
  out.push(`- time: ${r.seconds.toFixed(1)} s`);
  if (opts.command) out.push(`- command: \`${opts.command}\``);
  for (const n of opts.notes ?? []) out.push(`- ${n}`);
  out.push('', '<details><summary>config</summary>', '', '```json', JSON.stringify(r.config, null, 2), '```', '', '</details>', '');
  return out.join('\n');
}

/** Writes report.md, then report.json (both atomically). */
export function writeReport(outDir: string, r: Report, markdown: string): { json: string; md: string } {
  const md = join(outDir, 'report.md');
  const json = join(outDir, 'report.json');
  writeFileAtomic(md, markdown);
  writeFileAtomic(json, `${JSON.stringify(r, null, 2)}\n`);
  return { json, md };
}

/**
 * The protocols' scores for report.json's `config.protocol` (percent, rounded like the report):
 * `{ primary, about, standard, release? }`. report.json keeps its 11 keys; this lives in `config`.
 *
 * @example
 * buildReport({ …, config: { ...config, protocol: protocolSummary('release', result.protocols) } });
 */
export function protocolSummary(primary: 'standard' | 'release', protocols: { standard: ProtocolResult; release?: ProtocolResult }): Record<string, unknown> {
  const r = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null);
  const one = (p: ProtocolResult) => ({
    mIoUSeen: r(p.metrics.mIoUSeen),
    mIoUUnseen: r(p.metrics.mIoUUnseen),
    hIoU: r(p.metrics.hIoU),
    mIoU: r(p.metrics.mIoU),
    pixelAccuracy: r(p.metrics.pixelAccuracy),
    perClassIoU: Object.fromEntries(Object.entries(p.perClassIoU).map(([k, v]) => [k, r(v)])),
  });
  return {
    primary,
    about: PROTOCOLS_ABOUT,
    standard: one(protocols.standard),
    ...(protocols.release ? { release: one(protocols.release) } : {}),
  };
}

const PROTOCOLS_ABOUT = {
  standard: 'logits upsampled bilinearly to each label map, scored at the label size',
  release: "the SIGN release's / CaGNet's: image warped to eval.inputSize² (bilinear), argmax of C on the feature grid, labels nearest-resized to that grid and scored there",
};

/**
 * report.md lines: which protocol the table is, and the other one's numbers.
 *
 * @example
 * formatMarkdown(report, { title, notes: [...protocolNotes('release', result.protocols)] });
 */
export function protocolNotes(primary: 'standard' | 'release', protocols: { standard: ProtocolResult; release?: ProtocolResult }): string[] {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
  const line = (name: 'standard' | 'release', p: ProtocolResult) =>
    `protocol ${name}${name === primary ? ' (the table above)' : ''}: mIoU seen ${f(p.metrics.mIoUSeen)} · unseen ${f(p.metrics.mIoUUnseen)} · hIoU ${f(p.metrics.hIoU)} · mIoU ${f(p.metrics.mIoU)} · pixel accuracy ${f(p.metrics.pixelAccuracy)} (${PROTOCOLS_ABOUT[name]})`;
  return [...(protocols.release ? [line('release', protocols.release)] : []), line('standard', protocols.standard)];
}
