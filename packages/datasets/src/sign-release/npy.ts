/**
 * A reader of NumPy `.npy` files, for the SIGN release's lists (`split/train_list.npy`: an array
 * of `<U64` path strings; `split/seen_cls.npy`: int64 class ids). Bounded: the header's length,
 * the dtype and the shape are checked against the file's size before anything is read, and
 * every failure names the file. Object arrays (`|O`, pickled Python objects) are refused:
 * nothing in a file is ever executed.
 *
 * Why not a package: `npyjs` 1.2 builds its strings with one `String.fromCodePoint(...all)`
 * call, which overflows the stack on the release's VOC list (10,582 × 64 code points: "Maximum
 * call stack size exceeded", measured); `numpy-parser` 1.2 reads neither strings nor int64.
 */

/** A 1-D array read from an `.npy` file. */
export interface NpyArray {
  /** NumPy's type string, e.g. '<U64', '<i8'. */
  dtype: string;
  shape: number[];
  /** Strings for `U`/`S` dtypes, numbers for integer dtypes. */
  data: string[] | number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses an `.npy` file (format versions 1–3) holding a string or integer array; `path` names the
 * file in errors.
 *
 * @example
 * parseNpy(await io.readFile('voc12/split/test_list.npy'), 'voc12/split/test_list.npy')
 * // { dtype: '<U64', shape: [1449], data: ['/home/…/annotations/val/2010_005159.png', …] }
 */
export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  const fail = (why: string) => new Error(`${path}: not a readable .npy array (${why})`);
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw fail('no \\x93NUMPY magic');
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw fail(`format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw fail('truncated header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) throw fail(`header of ${headerLen} bytes runs past the end of the file (${bytes.length} bytes)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw fail(`header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
  const shape = shapeText
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((t) => (/^\d+$/.test(t) ? Number(t) : NaN));
  if (shape.some((n) => !Number.isSafeInteger(n))) throw fail(`shape (${shapeText})`);
  if (shape.filter((n) => n !== 1).length > 1) throw fail(`a ${shape.length}-D array of shape (${shape.join(', ')}); lists are 1-D`);
  const count = shape.reduce((a, b) => a * b, 1);
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw fail(`dtype '${descr}'${descr.includes('O') ? ' (an object array: pickled Python objects are not read)' : ''}`);
  const [, order, kind, sizeText] = m as unknown as [string, string, string, string];
  const size = Number(sizeText);
  const little = order !== '>';
  const itemBytes = kind === 'U' ? 4 * size : size;
  const dataStart = start + headerLen;
  const need = count * itemBytes;
  if (bytes.length - dataStart !== need) throw fail(`${count} items of '${descr}' need ${need} bytes of data, the file has ${bytes.length - dataStart}`);
  const data = bytes.subarray(dataStart);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (kind === 'U' || kind === 'S') {
    const out: string[] = new Array(count);
    const chars: string[] = [];
    for (let i = 0; i < count; i++) {
      chars.length = 0;
      for (let j = 0; j < size; j++) {
        const at = i * itemBytes + (kind === 'U' ? 4 * j : j);
        const cp = kind === 'U' ? dv.getUint32(at, little) : data[at]!;
        if (cp === 0) break;
        if (cp > 0x10ffff) throw fail(`item ${i} holds the code point ${cp}, not Unicode`);
        chars.push(String.fromCodePoint(cp));
      }
      out[i] = chars.join('');
    }
    return { dtype: descr, shape, data: out };
  }
  if (kind === 'i' || kind === 'u') {
    if (![1, 2, 4, 8].includes(size)) throw fail(`dtype '${descr}'`);
    const out: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const at = i * size;
      let v: number | bigint;
      if (size === 1) v = kind === 'i' ? dv.getInt8(at) : dv.getUint8(at);
      else if (size === 2) v = kind === 'i' ? dv.getInt16(at, little) : dv.getUint16(at, little);
      else if (size === 4) v = kind === 'i' ? dv.getInt32(at, little) : dv.getUint32(at, little);
      else v = kind === 'i' ? dv.getBigInt64(at, little) : dv.getBigUint64(at, little);
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw fail(`item ${i} (${v}) is not a safe integer`);
      out[i] = n;
    }
    return { dtype: descr, shape, data: out };
  }
  throw fail(`dtype '${descr}': lists are string or integer arrays`);
}
