import { zipSync } from 'fflate';

/** Bytes from pieces: numbers are single bytes, strings are UTF-8, arrays are spliced. */
export function bytes(...parts: (number | string | Uint8Array | number[])[]): Uint8Array {
  const chunks: Uint8Array[] = parts.map((p) =>
    typeof p === 'number' ? Uint8Array.of(p) : typeof p === 'string' ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p),
  );
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Little-endian unsigned 32-bit. */
export function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** Pickle pieces (protocol 2 opcodes) for hand-made files. */
export const P = {
  proto: (v = 2) => [0x80, v],
  stop: 0x2e,
  mark: 0x28,
  tuple: 0x74,
  emptyDict: 0x7d,
  emptyList: 0x5d,
  emptyTuple: 0x29,
  append: 0x61,
  setitem: 0x73,
  reduce: 0x52,
  none: 0x4e,
  newfalse: 0x89,
  binpersid: 0x51,
  int1: (v: number) => [0x4b, v],
  binint: (v: number) => [0x4a, ...u32(v)],
  str: (s: string) => {
    const b = new TextEncoder().encode(s);
    return bytes(0x58, u32(b.length), b);
  },
  global: (module: string, name: string) => bytes(0x63, `${module}\n${name}\n`),
  put: (i: number) => [0x71, i],
  get: (i: number) => [0x68, i],
};

/** A torch.save-like zip archive ('archive/data.pkl', 'archive/data/<key>', 'archive/version'), stored. */
export function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'archive/data.pkl': [pickle, { level: 0 }] };
  for (const [k, v] of Object.entries(storages)) files[`archive/data/${k}`] = [v, { level: 0 }];
  files['archive/version'] = [new TextEncoder().encode('3\n'), { level: 0 }];
  return zipSync(files);
}

/**
 * A pickle of `_rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride, False, OrderedDict())`,
 * the way torch.save writes one tensor.
 */
export function tensorPickle(numel: number, offset: number, size: number[], stride: number[], storageType = 'FloatStorage'): Uint8Array {
  const tupleOf = (xs: number[]) => bytes(P.mark, ...xs.map((x) => P.binint(x)), P.tuple);
  return bytes(
    P.proto(),
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark,
    P.mark,
    P.str('storage'),
    P.global('torch', storageType),
    P.str('0'),
    P.str('cpu'),
    P.binint(numel),
    P.tuple,
    P.binpersid,
    P.binint(offset),
    tupleOf(size),
    tupleOf(stride),
    P.newfalse,
    P.global('collections', 'OrderedDict'),
    P.emptyTuple,
    P.reduce,
    P.tuple,
    P.reduce,
    P.stop,
  );
}
