/**
 * Corpus generators for the `.pth` fuzz suite of tooling/fuzz: the PyTorch-written fixtures
 * (zip and legacy formats) as the valid files, and hostile zips that know the format: a data.pkl
 * of random bytes, and a deflated entry that inflates to 32 MiB of zeros (a small zip bomb).
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { FIXTURES, fixture } from '../helpers';

const PTH = readdirSync(FIXTURES)
  .filter((n) => n.endsWith('.pth'))
  .sort()
  .map((n) => fixture(n));

/** The fixtures written by PyTorch (make-fixtures.py). */
export function pthFiles(): fc.Arbitrary<Uint8Array> {
  return fc.constantFrom(...PTH);
}

/** Zip archives in torch.save's layout whose data.pkl is random bytes (pickle opcodes at random). */
export function garbagePickles(): fc.Arbitrary<Uint8Array> {
  return fc
    .uint8Array({ minLength: 1, maxLength: 256 })
    .map((pkl) => zipSync({ 'archive/data.pkl': [Uint8Array.from([0x80, 2, ...pkl, 0x2e]), { level: 0 }], 'archive/version': [new TextEncoder().encode('3\n'), { level: 0 }] }));
}

let bomb: Uint8Array | undefined;
/** A torch.save-shaped zip whose data.pkl is deflated: 32 MiB of zeros in ~32 KB. */
export function zipBomb(): fc.Arbitrary<Uint8Array> {
  bomb ??= zipSync({ 'archive/data.pkl': [new Uint8Array(32 << 20), { level: 9 }], 'archive/version': [new TextEncoder().encode('3\n'), { level: 0 }] });
  return fc.constant(bomb);
}
