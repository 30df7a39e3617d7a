import { unzipSync } from 'fflate';
import { PthError, quote } from './errors';

/** Size of a zip central-directory record without its name: no archive holds more entries than length / 46. */
const CENTRAL_RECORD_BYTES = 46;
/** Deflate cannot expand data by more than about 1032:1; more is a lie in the header. */
const MAX_DEFLATE_RATIO = 1032;

export interface ZipLimits {
  /** Most bytes one deflated entry may inflate to (default 2 GiB). PyTorch writes stored entries only. */
  maxInflatedBytes?: number;
}

/**
 * The entries of a zip archive (stored or deflated; ZIP64 included), read with fflate. Every size
 * the central directory claims is checked against the file before anything is copied or inflated:
 * the number of entries against the file's length, a stored entry's size against the file, a
 * deflated entry's size against deflate's maximum ratio and `maxInflatedBytes`; afterwards each
 * entry's length must be the one declared (a truncated file gives short entries). Names are
 * checked for duplicates. CRCs are not checked (fflate does not expose them, and torch.load does
 * not require them either: files saved with `set_crc32_options(False)` load).
 */
export function readZip(bytes: Uint8Array, source: string, limits: ZipLimits = {}): Map<string, Uint8Array> {
  const maxInflated = limits.maxInflatedBytes ?? 2 ** 31;
  const maxEntries = Math.floor(bytes.length / CENTRAL_RECORD_BYTES) + 1;
  const declared = new Map<string, { size: number; originalSize: number; compression: number }>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter(f) {
        if (declared.size >= maxEntries) {
          throw new PthError(source, `corrupt zip: the central directory claims more entries than ${bytes.length} bytes can hold`);
        }
        if (f.name.length === 0 || f.name === '__proto__' || declared.has(f.name)) {
          throw new PthError(source, `corrupt zip: ${f.name.length === 0 ? 'an entry without a name' : `entry ${quote(f.name)} is invalid or listed twice`}`);
        }
        if (!Number.isSafeInteger(f.size) || f.size < 0 || f.size > bytes.length) {
          throw new PthError(source, `truncated or corrupt zip: entry ${quote(f.name)} claims ${f.size} bytes but the file has ${bytes.length}`);
        }
        if (f.compression === 0) {
          if (f.originalSize !== f.size) {
            throw new PthError(source, `corrupt zip: stored entry ${quote(f.name)} has size ${f.size} but original size ${f.originalSize}`);
          }
        } else if (f.compression === 8) {
          if (!Number.isSafeInteger(f.originalSize) || f.originalSize < 0 || f.originalSize > maxInflated || f.originalSize > MAX_DEFLATE_RATIO * f.size + 1024) {
            throw new PthError(
              source,
              `corrupt zip: deflated entry ${quote(f.name)} claims to inflate ${f.size} bytes to ${f.originalSize} (limit ${Math.min(maxInflated, MAX_DEFLATE_RATIO * f.size + 1024)})`,
            );
          }
        } else {
          throw new PthError(source, `zip entry ${quote(f.name)} uses compression method ${f.compression}; only stored (0) and deflate (8) are supported`);
        }
        declared.set(f.name, { size: f.size, originalSize: f.originalSize, compression: f.compression });
        return true;
      },
    });
  } catch (e) {
    if (e instanceof PthError) throw e;
    throw new PthError(source, `not a readable zip archive (${(e as Error)?.message ?? String(e)})`, { cause: e });
  }
  const out = new Map<string, Uint8Array>();
  for (const [name, d] of declared) {
    const data = files[name];
    if (!(data instanceof Uint8Array) || data.length !== d.originalSize) {
      throw new PthError(
        source,
        `truncated or corrupt zip: entry ${quote(name)} holds ${data instanceof Uint8Array ? data.length : 0} bytes, its header says ${d.originalSize}`,
      );
    }
    out.set(name, data);
  }
  return out;
}

/** True when `bytes` starts like a zip archive (a local file header, or an empty archive's end record). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}
