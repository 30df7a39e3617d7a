/**
 * What may change when a run is resumed. A checkpoint records the config that wrote it; resuming
 * with another config is refused, except for the keys of {@link RESUMABLE_KEYS} (learning rates,
 * the stages' lengths, evaluation and runtime settings), which change with a warning.
 */

/**
 * Dotted paths where two JSON values differ (objects key by key; arrays and values as a whole).
 *
 * @example
 * diffPaths({ a: 1, b: { c: [1], d: 2 } }, { a: 1, b: { c: [2], d: 2, e: 1 } }) // ['b.c', 'b.e']
 */
export function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [path || '(root)'];
}

/**
 * The config keys a resumed run may change (with a warning): the learning rate of each part,
 * the length of each stage (the total steps), how often it evaluates and checkpoints, the
 * calibration γ, the backend, the run's name, the pretrained weights' file (read only when a run
 * starts). Anything else (seed, data, model, losses,
 * optimizer types and betas, schedules, batch sizes) would make the checkpoint's state
 * meaningless, and is refused naming the key.
 */
export const RESUMABLE_KEYS: readonly string[] = [
  'name',
  'optimizers.backbone.lr',
  'optimizers.classifier.lr',
  'optimizers.generator.lr',
  'schedule.step1Iters',
  'schedule.transferIters',
  'schedule.selfTrainingIters',
  'eval.every',
  'eval.calibrate',
  'runtime.backend',
  'runtime.checkpointEvery',
  // read only when a run starts (a resumed run has its weights in the checkpoint): a moved file is no change
  'model.backbone.pretrained',
  'model.backbone.pretrainedInput',
];

/**
 * The differences between the config a run was started with and the one it is resumed with:
 * `allowed` (in {@link RESUMABLE_KEYS}) and `refused` (the rest), as dotted key paths.
 *
 * @example
 * resumeChanges(stored, { ...stored, seed: 1 }).refused // ['seed']
 */
export function resumeChanges(before: unknown, after: unknown): { allowed: string[]; refused: string[] } {
  const changed = diffPaths(before, after);
  return { allowed: changed.filter((p) => RESUMABLE_KEYS.includes(p)), refused: changed.filter((p) => !RESUMABLE_KEYS.includes(p)) };
}

/** `a.b: 1 → 2` for each path, for messages. */
export function describeChanges(before: unknown, after: unknown, paths: readonly string[]): string {
  const at = (v: unknown, p: string) => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), v);
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 60));
  return paths.map((p) => `${p}: ${show(at(before, p))} → ${show(at(after, p))}`).join(', ');
}
