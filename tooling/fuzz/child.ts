/**
 * The child process of the fuzz harness (started by harness.ts through tsx). It imports a targets
 * module (argv[2]) and runs, for each message `{ id, target, path, variant }`, the named export
 * on the file, answering `{ id, ok, ... }`. A case that aborts the process or never returns is
 * seen by the parent as the child dying or not answering.
 *
 * A targets module exports functions `(path, variant) => Promise<unknown>` that read the file,
 * dispose whatever they got, and return a small JSON-able summary; it may export `liveTensors`
 * (`() => number`), which is compared before and after every case to find leaked tensors, and
 * `setup` (`() => Promise<void>`), run once before the first case.
 */
import { pathToFileURL } from 'node:url';

type Target = (path: string, variant: number) => Promise<unknown>;

interface Request {
  id: number;
  target: string;
  path: string;
  variant: number;
}

const modulePath = process.argv[2];
if (!modulePath || !process.send) {
  console.error('usage: forked by the fuzz harness with the targets module as its argument');
  process.exit(2);
}

const mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
const live = typeof mod.liveTensors === 'function' ? (mod.liveTensors as () => number) : () => 0;
if (typeof mod.setup === 'function') await (mod.setup as () => Promise<void>)();

process.on('message', async (msg: Request) => {
  const fn = mod[msg.target];
  if (typeof fn !== 'function') {
    process.send!({ id: msg.id, ok: false, name: 'HarnessError', message: `no target '${msg.target}' in ${modulePath}` });
    return;
  }
  const before = live();
  try {
    const summary = await (fn as Target)(msg.path, msg.variant);
    process.send!({ id: msg.id, ok: true, summary, leaked: live() - before });
  } catch (err) {
    const e = err as Error & { code?: unknown; syscall?: unknown; errno?: unknown };
    process.send!({
      id: msg.id,
      ok: false,
      name: e?.name ?? typeof err,
      message: String(e?.message ?? err),
      code: typeof e?.code === 'string' ? e.code : undefined,
      system: e?.syscall !== undefined || e?.errno !== undefined,
      stack: String(e?.stack ?? '').split('\n').slice(0, 6).join('\n'),
      leaked: live() - before,
    });
  }
});
// the parent is gone (its test run ended or crashed): do not outlive it
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
