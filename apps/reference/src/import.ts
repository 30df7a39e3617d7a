/**
 * `sign import FILE.pth --out FILE.safetensors`: a PyTorch checkpoint (e.g. one of the SIGN
 * release's trained models) as safetensors, through @sign/torch-io's restricted unpickler (a
 * global other than what `torch.save` writes is refused by name; nothing from the file runs).
 * The output is written atomically: on any error nothing is written and an existing file stays
 * as it was. Every `--checkpoint` reads the result as it reads the `.pth`.
 */
import { existsSync } from 'node:fs';
import { initBackend } from '@sign/core';
import { PthError } from '@sign/torch-io';
import { pthToSafetensors } from '@sign/torch-io/node';
import { IMPORT_OPTIONS, parseCommand, required, string } from './args.js';
import { EXIT, UsageError } from './errors.js';
import type { TextSink } from './progress.js';

export const IMPORT_HELP = `sign import <file.pth> --out <file.safetensors>: a PyTorch checkpoint as safetensors

Reads the .pth without Python (zip or legacy format; a restricted unpickler that refuses any
global torch.save does not write, naming it) and writes its tensors to --out atomically (nothing
is written when the file is refused). A dict with a 'state_dict' (the SIGN release's checkpoints)
gives that part; its optimizer states are left out. Flags: --key <name> (another top-level
entry; '' for the whole object), --json. The result loads wherever a --checkpoint is asked for
(with --config for a release checkpoint, which records no dataset).
`;

/** Runs `sign import`; returns the exit code. */
export async function importCommand(argv: string[], io: { stdout: TextSink; stderr: TextSink }): Promise<number> {
  const { flags, positionals } = parseCommand('import', argv, IMPORT_OPTIONS, true);
  if (flags.help) {
    io.stdout.write(IMPORT_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`sign import: give one .pth file (got ${positionals.length})`);
  const file = positionals[0];
  const out = required(flags, 'out', 'import');
  if (!existsSync(file)) throw new UsageError(`sign import: no such file ${file}`);
  const key = string(flags, 'key');
  // the tensors pass through tfjs on their way to the file: the plain cpu backend is enough
  await initBackend('cpu');
  let r;
  try {
    r = await pthToSafetensors(file, out, key !== undefined ? { key } : {});
  } catch (err) {
    // a file that is not what it claims (forbidden global, truncated, corrupt) is bad input
    if (err instanceof PthError) throw new UsageError(err.message);
    throw err;
  }
  const summary = { source: file, out, format: r.format, key: r.key, tensors: r.tensors, skipped: r.skipped.length };
  if (flags.json) io.stdout.write(`${JSON.stringify({ event: 'import', ...summary })}\n`);
  else
    io.stdout.write(
      `${file} (${r.format} format${r.key ? `, '${r.key}'` : ''}): ${r.tensors} tensors → ${out}${r.skipped.length ? ` (${r.skipped.length} non-tensor values left out)` : ''}\n`,
    );
  return EXIT.ok;
}
