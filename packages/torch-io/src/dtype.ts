/**
 * Element types of PyTorch storages, their sizes and the typed arrays that hold them.
 * float16 and bfloat16 have no JS typed array in Node 20: their raw bits are kept in a
 * Uint16Array (decode with `toFloat32`).
 */
export type TorchDtype =
  | 'float64'
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint64'
  | 'uint32'
  | 'uint16'
  | 'uint8'
  | 'bool';

/** The typed array that holds each dtype's elements. */
export interface TorchArrays {
  float64: Float64Array;
  float32: Float32Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint64: BigUint64Array;
  uint32: Uint32Array;
  uint16: Uint16Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

export type TorchTypedArray = TorchArrays[TorchDtype];

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TorchTypedArray; new (length: number): TorchTypedArray };

interface DtypeInfo {
  bytes: number;
  array: ArrayCtor;
}

export const DTYPES: Record<TorchDtype, DtypeInfo> = {
  float64: { bytes: 8, array: Float64Array as unknown as ArrayCtor },
  float32: { bytes: 4, array: Float32Array as unknown as ArrayCtor },
  float16: { bytes: 2, array: Uint16Array as unknown as ArrayCtor },
  bfloat16: { bytes: 2, array: Uint16Array as unknown as ArrayCtor },
  int64: { bytes: 8, array: BigInt64Array as unknown as ArrayCtor },
  int32: { bytes: 4, array: Int32Array as unknown as ArrayCtor },
  int16: { bytes: 2, array: Int16Array as unknown as ArrayCtor },
  int8: { bytes: 1, array: Int8Array as unknown as ArrayCtor },
  uint64: { bytes: 8, array: BigUint64Array as unknown as ArrayCtor },
  uint32: { bytes: 4, array: Uint32Array as unknown as ArrayCtor },
  uint16: { bytes: 2, array: Uint16Array as unknown as ArrayCtor },
  uint8: { bytes: 1, array: Uint8Array as unknown as ArrayCtor },
  bool: { bytes: 1, array: Uint8Array as unknown as ArrayCtor },
};

/** The legacy typed storage classes (`torch.FloatStorage`, ...) and the dtype of their elements. */
export const STORAGE_DTYPES: Readonly<Record<string, TorchDtype>> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.<name>` dtype objects (pickled by name, as `_rebuild_tensor_v3` receives them). */
export const DTYPE_NAMES: Readonly<Record<string, TorchDtype>> = {
  float64: 'float64',
  double: 'float64',
  float32: 'float32',
  float: 'float32',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint64: 'uint64',
  uint32: 'uint32',
  uint16: 'uint16',
  uint8: 'uint8',
  bool: 'bool',
};

/** Reverses the byte order of every `size`-byte element of `bytes`, in place. */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** True when this platform stores numbers little-endian (typed arrays use the platform's order). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
