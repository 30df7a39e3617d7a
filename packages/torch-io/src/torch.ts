import { DTYPES, DTYPE_NAMES, LITTLE_ENDIAN, STORAGE_DTYPES, swapBytes, type TorchDtype, type TorchTypedArray } from './dtype';
import { PthError, quote } from './errors';
import { PyDict, describeType, isHashable, isTuple, unpickle, type PyGlobal, type PyValue } from './pickle';
import { looksLikeZip, readZip } from './zip';

/**
 * A PyTorch storage as read from the file: `size` elements of `dtype`, raw bytes in this
 * platform's byte order.
 */
export class TorchStorage {
  /** @internal the bytes; null until the legacy format's data section is read. */
  bytes: Uint8Array | null = null;
  constructor(
    /** Element type. */
    readonly dtype: TorchDtype,
    /** Number of elements. */
    readonly size: number,
    /** The storage's key in the file ('0', '1', ... in the zip format). */
    readonly key: string,
    /** Where PyTorch had it ('cpu', 'cuda:0'); this reader always gives host memory. */
    readonly location: string,
  ) {}

  /** The elements (a view of the storage's bytes). */
  get data(): TorchTypedArray {
    const b = this.bytes!;
    return new DTYPES[this.dtype].array(b.buffer, b.byteOffset, this.size);
  }
}

/**
 * A tensor read from a `.pth` file: `data` holds `prod(shape)` elements in row-major (C) order,
 * whatever the strides were in PyTorch (views are materialised). float16/bfloat16 data are the
 * raw bits (Uint16Array), int64 a BigInt64Array, bool a Uint8Array of 0/1.
 *
 * `data` may share memory with other tensors of the same file when PyTorch shared their storage
 * and the tensor is a contiguous slice of it (tied weights, the same tensor saved twice).
 */
export class TorchTensor {
  /** The elements, row-major. Set once the file's storages are read. */
  data: TorchTypedArray;
  constructor(
    readonly dtype: TorchDtype,
    readonly shape: number[],
    /** The tensor as PyTorch laid it out (storage, offset in elements, strides in elements). */
    readonly layout: { readonly storage: TorchStorage; readonly offset: number; readonly stride: readonly number[] },
    /** `requires_grad` as saved. */
    readonly requiresGrad: boolean,
    /** True for an `nn.Parameter`. */
    readonly parameter: boolean,
  ) {
    this.data = new DTYPES[dtype].array(0);
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** Limits on what a file may make the reader allocate; each has a default sized for real checkpoints. */
export interface PthLimits {
  /** Largest pickle (data.pkl, or one legacy pickle), in bytes (default 256 MiB). */
  maxPickleBytes?: number;
  /** Most memo entries in a pickle (default 4,194,304). */
  maxMemo?: number;
  /** Most dimensions of a tensor (default 64). */
  maxRank?: number;
  /**
   * Most bytes that materialising strided views may copy (non-contiguous views, broadcasts with
   * stride 0). Default: twice the bytes of all storages plus 64 MiB.
   */
  maxCopyBytes?: number;
  /** Most bytes a deflated zip entry may inflate to (default 2 GiB; PyTorch writes stored entries). */
  maxInflatedBytes?: number;
}

export interface PthReadOptions extends PthLimits {
  /** The file name for error messages (default '<bytes>'). */
  source?: string;
}

/** What `parsePth` returns. */
export interface PthFile {
  /** The object that was saved (`torch.load`'s result), with tensors as TorchTensor. */
  value: PyValue;
  /** 'zip' (PyTorch >= 1.6) or 'legacy' (`_use_new_zipfile_serialization=False`, PyTorch < 1.6). */
  format: 'zip' | 'legacy';
  /** The byte order of the storages in the file (they are converted to this platform's). */
  byteOrder: 'little' | 'big';
  /** The archive's `version` record (zip format), or the legacy protocol version. */
  version: string;
  /** Number of distinct storages, and of tensors built on them. */
  storages: number;
  tensors: number;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

interface Pending {
  tensor: TorchTensor;
  /** The tensor whose data this one shares (a Parameter built on a tensor), if any. */
  sameAs?: TorchTensor;
}

/** The allow-list: everything `torch.save` writes for tensors, state dicts and plain data. */
class Globals {
  readonly pending: Pending[] = [];
  private readonly cache = new Map<string, PyGlobal>();

  constructor(
    private readonly source: string,
    private readonly maxRank: number,
  ) {}

  resolve(module: string, name: string): PyGlobal {
    const qualified = `${module}.${name}`;
    const shown = quote(qualified);
    const hit = this.cache.get(qualified);
    if (hit) return hit;
    const g = this.make(module, name, qualified);
    if (!g) {
      throw new PthError(
        this.source,
        `forbidden global ${shown}: this reader never runs code from a file and allows only what torch.save writes for tensors and plain data (a whole pickled nn.Module or custom class cannot be read; save its state_dict())`,
      );
    }
    this.cache.set(qualified, g);
    return g;
  }

  private make(module: string, name: string, qualifiedName: string): PyGlobal | undefined {
    const source = this.source;
    if (module === 'torch' && name in STORAGE_DTYPES) return storageType(qualifiedName, STORAGE_DTYPES[name]);
    if ((module === 'torch' || module === 'torch.storage') && (name === 'UntypedStorage' || name === '_UntypedStorage')) {
      return storageType(qualifiedName, 'uint8');
    }
    if (module === 'torch' && name in DTYPE_NAMES) return dtypeObject(qualifiedName, DTYPE_NAMES[name]);
    if (module === 'collections' && name === 'OrderedDict') {
      return {
        qualifiedName,
        call: (args) => {
          const d = new PyDict();
          d.ordered = true;
          if (args.length === 0) return d;
          const items = args[0];
          if (args.length !== 1 || !(Array.isArray(items) || items instanceof PyDict)) {
            throw new PthError(source, `OrderedDict(${args.map(describeType).join(', ')}) is not supported`);
          }
          for (const pair of items instanceof PyDict ? [...items] : (items as PyValue[])) {
            if (!Array.isArray(pair) || pair.length !== 2) throw new PthError(source, 'OrderedDict items must be (key, value) pairs');
            if (!isHashable(pair[0])) throw new PthError(source, `unhashable ${describeType(pair[0])} used as an OrderedDict key`);
            d.set(pair[0], pair[1]);
          }
          return d;
        },
      };
    }
    if ((module === '__builtin__' || module === 'builtins') && (name === 'set' || name === 'frozenset')) {
      return {
        qualifiedName,
        call: (args) => {
          const s = new Set<never>();
          if (args.length === 0) return s;
          if (args.length !== 1 || !Array.isArray(args[0])) throw new PthError(source, `${name}(${args.map(describeType).join(', ')}) is not supported`);
          for (const v of args[0] as PyValue[]) {
            if (!isHashable(v)) throw new PthError(source, `unhashable ${describeType(v)} in a ${name}`);
            s.add(v as never);
          }
          return s;
        },
      };
    }
    if ((module === '__builtin__' || module === 'builtins') && name === 'bytearray') {
      return { qualifiedName, call: (args) => bytesFromLatin1(args, source, qualifiedName) };
    }
    if (module === '_codecs' && name === 'encode') {
      // How protocol 2 pickles bytes: _codecs.encode('<latin-1 text>', 'latin1').
      return { qualifiedName, call: (args) => bytesFromLatin1(args, source, qualifiedName) };
    }
    if (module === 'torch._utils') {
      switch (name) {
        case '_rebuild_tensor':
          return { qualifiedName, call: (a) => this.rebuild(qualifiedName, a, 4, 4) };
        case '_rebuild_tensor_v2':
          return { qualifiedName, call: (a) => this.rebuild(qualifiedName, a, 6, 7) };
        case '_rebuild_tensor_v3':
          return { qualifiedName, call: (a) => this.rebuild(qualifiedName, a, 7, 8) };
        case '_rebuild_parameter':
          return { qualifiedName, call: (a) => this.parameter(qualifiedName, a, 3) };
        case '_rebuild_parameter_with_state':
          return { qualifiedName, call: (a) => this.parameter(qualifiedName, a, 4) };
      }
    }
    return undefined;
  }

  /** `_rebuild_tensor[_v2|_v3](storage, storage_offset, size, stride[, requires_grad, backward_hooks][, dtype][, metadata])` */
  private rebuild(fn: string, args: readonly PyValue[], min: number, max: number): TorchTensor {
    const source = this.source;
    const bad = (what: string): never => {
      throw new PthError(source, `${fn}: ${what}`);
    };
    if (args.length < min || args.length > max) bad(`takes ${min === max ? min : `${min} to ${max}`} arguments, got ${args.length}`);
    let storage = args[0];
    if (!(storage instanceof TorchStorage)) return bad(`the storage is ${describeType(storage)}`);
    if (fn.endsWith('_v3')) {
      const dtype = args[6] as { torchDtype?: TorchDtype };
      if (!dtype || typeof dtype !== 'object' || !dtype.torchDtype) return bad(`the dtype is ${describeType(dtype)}`);
      storage = retype(storage as TorchStorage, dtype.torchDtype, source);
    }
    const st = storage as TorchStorage;
    const offset = args[1];
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) bad(`storage offset ${String(offset)} is not an index`);
    const shape = dims(args[2], 'size', bad, this.maxRank);
    const stride = dims(args[3], 'stride', bad, this.maxRank);
    if (stride.length !== shape.length) bad(`size has ${shape.length} dimensions but stride ${stride.length}`);
    const requiresGrad = args.length > 4 ? args[4] : false;
    if (typeof requiresGrad !== 'boolean') bad(`requires_grad is ${describeType(requiresGrad)}`);
    let count = 1;
    let last = offset as number;
    for (let i = 0; i < shape.length; i++) {
      count *= shape[i];
      if (shape[i] > 0) last += (shape[i] - 1) * stride[i];
    }
    if (!Number.isSafeInteger(count)) bad(`size [${shape}] has too many elements`);
    if (count > 0 && (!Number.isSafeInteger(last) || last >= st.size)) {
      bad(`size [${shape}] with stride [${stride}] at offset ${offset} reaches element ${last} of a storage of ${st.size} (key ${quote(st.key)})`);
    }
    const t = new TorchTensor(st.dtype, shape, { storage: st, offset: offset as number, stride }, requiresGrad as boolean, false);
    this.pending.push({ tensor: t });
    return t;
  }

  /** `_rebuild_parameter(data, requires_grad, backward_hooks)` (and `_with_state`, whose state is ignored). */
  private parameter(fn: string, args: readonly PyValue[], n: number): TorchTensor {
    if (args.length !== n) throw new PthError(this.source, `${fn}: takes ${n} arguments, got ${args.length}`);
    const [data, requiresGrad] = args;
    if (!(data instanceof TorchTensor)) throw new PthError(this.source, `${fn}: the data is ${describeType(data)}, not a tensor`);
    if (typeof requiresGrad !== 'boolean') throw new PthError(this.source, `${fn}: requires_grad is ${describeType(requiresGrad)}`);
    const t = new TorchTensor(data.dtype, data.shape, data.layout, requiresGrad, true);
    this.pending.push({ tensor: t, sameAs: data });
    return t;
  }
}

function storageType(qualifiedName: string, dtype: TorchDtype): PyGlobal & { storageDtype: TorchDtype } {
  return { qualifiedName, storageDtype: dtype };
}

function dtypeObject(qualifiedName: string, dtype: TorchDtype): PyGlobal & { torchDtype: TorchDtype } {
  return { qualifiedName, torchDtype: dtype };
}

function bytesFromLatin1(args: readonly PyValue[], source: string, fn: string): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  const [text, encoding] = args;
  if (typeof text !== 'string' || (args.length === 2 && encoding !== 'latin1' && encoding !== 'latin-1') || args.length > 2) {
    throw new PthError(source, `${fn}(${args.map(describeType).join(', ')}) is not supported (only latin-1 text to bytes)`);
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 255) throw new PthError(source, `${fn}: character U+${c.toString(16)} is not latin-1`);
    out[i] = c;
  }
  return out;
}

function dims(v: PyValue, what: string, bad: (w: string) => never, maxRank: number): number[] {
  if (!Array.isArray(v)) return bad(`${what} is ${describeType(v)}, not a tuple`);
  if (v.length > maxRank) bad(`${what} has ${v.length} dimensions (more than ${maxRank})`);
  for (const d of v) if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) bad(`${what} has a bad entry ${String(d)}`);
  return [...(v as number[])];
}

/** An untyped storage seen as `dtype` (`_rebuild_tensor_v3`). */
function retype(s: TorchStorage, dtype: TorchDtype, source: string): TorchStorage {
  if (s.dtype === dtype) return s;
  const bytes = s.size * DTYPES[s.dtype].bytes;
  const el = DTYPES[dtype].bytes;
  if (bytes % el !== 0) throw new PthError(source, `storage ${quote(s.key)} has ${bytes} bytes, not a whole number of ${dtype} elements`);
  const t = new TorchStorage(dtype, bytes / el, s.key, s.location);
  t.bytes = s.bytes;
  return t;
}

/** The parts of a persistent id `('storage', storage_type, key, location, numel[, view_metadata])`. */
function storageId(pid: PyValue, source: string): { dtype: TorchDtype; key: string; location: string; numel: number } {
  if (!isTuple(pid) || pid.length < 5 || pid[0] !== 'storage') {
    throw new PthError(source, `unsupported persistent id ${describeType(pid)}${isTuple(pid) && typeof pid[0] === 'string' ? ` ${quote(pid[0])}` : ''}`);
  }
  const [, type, key, location, numel] = pid;
  const dtype = (type as { storageDtype?: TorchDtype } | null)?.storageDtype;
  if (!dtype) throw new PthError(source, `persistent id: the storage type is ${describeType(type)}`);
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw new PthError(source, 'persistent id: bad storage key');
  if (typeof location !== 'string') throw new PthError(source, `persistent id: location is ${describeType(location)}`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new PthError(source, `persistent id: storage ${quote(key)} has a bad size`);
  if (pid.length > 6 || (pid.length === 6 && pid[5] !== null)) {
    throw new PthError(source, `storage ${quote(key)} is a view of another storage (PyTorch < 0.4); not supported`);
  }
  return { dtype, key, location, numel };
}

/**
 * Reads a `.pth` file's bytes: the zip format of PyTorch >= 1.6 or the legacy format
 * (`_use_new_zipfile_serialization=False`). Tensors come back as TorchTensor
 * (`{ dtype, shape, data }`), dicts as PyDict (a Map), tuples as frozen arrays. Only the globals
 * that `torch.save` writes for tensors and plain data are allowed; anything else (a pickled module,
 * `os.system`, numpy objects) is refused with an error naming the global and the file, and nothing
 * from the file is ever run. Every count in the file is checked against the file's size (and the
 * limits) before anything is allocated; a truncated or corrupt file gives a PthError naming it.
 *
 * @example
 * const pth = parsePth(bytes, { source: 'model.pth' });
 * const sd = pth.value as PyDict;               // a state_dict: 'conv.weight' -> TorchTensor
 * const w = sd.get('conv.weight') as TorchTensor; // w.dtype 'float32', w.shape [3, 2, 3, 3], w.data Float32Array
 */
export function parsePth(bytes: Uint8Array, options: PthReadOptions = {}): PthFile {
  const source = options.source ?? '<bytes>';
  if (!(bytes instanceof Uint8Array)) throw new PthError(source, 'expected the file as a Uint8Array');
  // A plain view: Node's Buffer.slice would share memory where a copy is meant.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length === 0) throw new PthError(source, 'empty file');
  try {
    if (looksLikeZip(bytes)) return parseZip(bytes, source, options);
    if (bytes[0] === 0x80) return parseLegacy(bytes, source, options);
  } catch (e) {
    if (e instanceof PthError) throw e;
    // Anything else is a bug or an exhausted resource; still name the file.
    throw new PthError(source, `could not read: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  if (bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new PthError(source, 'the tar format of PyTorch < 0.1.10 is not supported');
  }
  throw new PthError(source, 'not a PyTorch file (neither a zip archive nor a pickle)');
}

function parseZip(bytes: Uint8Array, source: string, options: PthReadOptions): PthFile {
  const entries = readZip(bytes, source, { maxInflatedBytes: options.maxInflatedBytes });
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new PthError(source, pkls.length === 0 ? 'zip archive without a <name>/data.pkl record: not a torch.save file' : 'zip archive with more than one data.pkl');
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  const pkl = entries.get(pkls[0])!;
  const maxPickle = options.maxPickleBytes ?? 256 * 2 ** 20;
  if (pkl.length > maxPickle) throw new PthError(source, `data.pkl has ${pkl.length} bytes (more than ${maxPickle})`);
  const order = entries.get(`${prefix}byteorder`);
  let byteOrder: 'little' | 'big' = 'little';
  if (order) {
    const text = new TextDecoder().decode(order).trim();
    if (text !== 'little' && text !== 'big') throw new PthError(source, `byteorder record says '${text.slice(0, 20)}', not 'little' or 'big'`);
    byteOrder = text;
  }
  const versionRecord = entries.get(`${prefix}version`) ?? entries.get(`${prefix}.data/version`);
  const version = versionRecord ? new TextDecoder().decode(versionRecord).trim().slice(0, 32) : '';
  const globals = new Globals(source, options.maxRank ?? 64);
  const storages = new Map<string, { bytes: Uint8Array; typed: Map<TorchDtype, TorchStorage> }>();
  let storageBytes = 0;
  const { value } = unpickle(pkl, {
    source,
    maxMemo: options.maxMemo,
    resolveGlobal: (m, n) => globals.resolve(m, n),
    persistentLoad: (pid) => {
      const id = storageId(pid, source);
      let s = storages.get(id.key);
      if (!s) {
        const record = entries.get(`${prefix}data/${id.key}`);
        if (!record) throw new PthError(source, `storage ${quote(id.key)} has no record ${quote(`${prefix}data/${id.key}`)} in the archive`);
        s = { bytes: aligned(record), typed: new Map() };
        storages.set(id.key, s);
        storageBytes += record.length;
      }
      let typed = s.typed.get(id.dtype);
      if (!typed) {
        const el = DTYPES[id.dtype].bytes;
        if (id.numel * el !== s.bytes.length) {
          throw new PthError(source, `storage ${quote(id.key)} should hold ${id.numel} ${id.dtype} elements (${id.numel * el} bytes) but its record has ${s.bytes.length}`);
        }
        if ((byteOrder === 'big') === LITTLE_ENDIAN && el > 1) {
          if (s.typed.size > 0) throw new PthError(source, `storage ${quote(id.key)} is read as two dtypes in a byte-swapped file; not supported`);
          swapBytes(s.bytes, el);
        }
        typed = new TorchStorage(id.dtype, id.numel, id.key, id.location);
        typed.bytes = s.bytes;
        s.typed.set(id.dtype, typed);
      }
      return typed;
    },
  });
  materialise(globals.pending, source, options.maxCopyBytes ?? 2 * storageBytes + 64 * 2 ** 20);
  return { value, format: 'zip', byteOrder, version, storages: storages.size, tensors: globals.pending.length };
}

function parseLegacy(bytes: Uint8Array, source: string, options: PthReadOptions): PthFile {
  const plain = (offset: number, what: string) => {
    const r = unpickle(bytes, {
      source,
      offset,
      rejectTrailing: false,
      maxMemo: options.maxMemo,
      resolveGlobal: (m, n) => {
        throw new PthError(source, `forbidden global ${quote(`${m}.${n}`)} in the legacy ${what}`);
      },
    });
    return r;
  };
  const magic = plain(0, 'header');
  if (magic.value !== LEGACY_MAGIC && magic.value !== Number(LEGACY_MAGIC)) {
    throw new PthError(source, 'not a PyTorch file: a pickle, but without the legacy magic number');
  }
  const protocol = plain(magic.end, 'header');
  if (protocol.value !== LEGACY_PROTOCOL) throw new PthError(source, `legacy protocol version ${String(protocol.value)} (only ${LEGACY_PROTOCOL} exists)`);
  const info = plain(protocol.end, 'header');
  if (!(info.value instanceof PyDict)) throw new PthError(source, 'legacy header: sys_info is not a dict');
  const little = info.value.get('little_endian');
  if (typeof little !== 'boolean') throw new PthError(source, 'legacy header: sys_info has no little_endian flag');

  const globals = new Globals(source, options.maxRank ?? 64);
  const declared = new Map<string, TorchStorage>();
  const maxPickle = options.maxPickleBytes ?? 256 * 2 ** 20;
  const main = unpickle(bytes, {
    source,
    offset: info.end,
    rejectTrailing: false,
    maxMemo: options.maxMemo,
    resolveGlobal: (m, n) => globals.resolve(m, n),
    persistentLoad: (pid) => {
      const id = storageId(pid, source);
      const known = declared.get(id.key);
      if (known) {
        if (known.dtype !== id.dtype || known.size !== id.numel) throw new PthError(source, `storage ${quote(id.key)} is declared twice with different types or sizes`);
        return known;
      }
      const s = new TorchStorage(id.dtype, id.numel, id.key, id.location);
      declared.set(id.key, s);
      return s;
    },
  });
  if (main.end - info.end > maxPickle) throw new PthError(source, `the pickle has ${main.end - info.end} bytes (more than ${maxPickle})`);
  const keysPickle = plain(main.end, 'storage list');
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw new PthError(source, 'legacy format: the storage key list is not a list of strings');
  let pos = keysPickle.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let storageBytes = 0;
  for (const key of keys as string[]) {
    const s = declared.get(key);
    if (!s) throw new PthError(source, `legacy format: storage ${quote(key)} is listed but no tensor uses it`);
    if (s.bytes) throw new PthError(source, `legacy format: storage ${quote(key)} is listed twice`);
    if (bytes.length - pos < 8) throw new PthError(source, `truncated: the data of storage ${quote(key)} starts past the end of the file`);
    const numel = view.getBigInt64(pos, true); // always written little-endian
    pos += 8;
    if (numel !== BigInt(s.size)) throw new PthError(source, `legacy format: storage ${quote(key)} has ${numel} elements in the data section but ${s.size} in the pickle`);
    const n = s.size * DTYPES[s.dtype].bytes;
    if (bytes.length - pos < n) throw new PthError(source, `truncated: storage ${quote(key)} needs ${n} bytes but the file has ${bytes.length - pos} left`);
    s.bytes = new Uint8Array(bytes.subarray(pos, pos + n)); // its own, aligned copy; the data section is little-endian
    if (!LITTLE_ENDIAN) swapBytes(s.bytes, DTYPES[s.dtype].bytes);
    pos += n;
    storageBytes += n;
  }
  if (pos !== bytes.length) throw new PthError(source, `${bytes.length - pos} unexpected byte(s) after the last storage`);
  for (const [key, s] of declared) if (!s.bytes) throw new PthError(source, `legacy format: storage ${quote(key)} is used but its data is missing`);
  materialise(globals.pending, source, options.maxCopyBytes ?? 2 * storageBytes + 64 * 2 ** 20);
  return {
    value: main.value,
    format: 'legacy',
    byteOrder: little ? 'little' : 'big',
    version: String(LEGACY_PROTOCOL),
    storages: declared.size,
    tensors: globals.pending.length,
  };
}

/** `b` itself when its offset suits every element size (8), else an aligned copy. */
function aligned(b: Uint8Array): Uint8Array {
  return b.byteOffset % 8 === 0 ? b : new Uint8Array(b);
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/**
 * Gives every tensor its `data`: a view of the storage when the tensor is a contiguous run of it,
 * else a row-major copy. The total size of the copies is checked against `maxCopyBytes` before
 * anything is allocated.
 */
function materialise(pending: Pending[], source: string, maxCopyBytes: number): void {
  let copies = 0;
  for (const { tensor: t, sameAs } of pending) {
    if (sameAs) continue;
    if (t.size > 0 && !isContiguous(t.shape, t.layout.stride)) copies += t.size * DTYPES[t.dtype].bytes;
  }
  if (copies > maxCopyBytes) {
    throw new PthError(source, `materialising the strided views would copy ${copies} bytes (more than ${maxCopyBytes}; raise maxCopyBytes if the file is trusted)`);
  }
  for (const { tensor: t, sameAs } of pending) {
    if (sameAs) {
      t.data = sameAs.data;
      continue;
    }
    const { storage, offset, stride } = t.layout;
    const all = storage.data;
    const n = t.size;
    if (n === 0) continue;
    if (isContiguous(t.shape, stride)) {
      t.data = all.subarray(offset, offset + n) as TorchTypedArray;
      continue;
    }
    const out = new DTYPES[t.dtype].array(n) as TorchTypedArray;
    const rank = t.shape.length;
    const index = new Array<number>(rank).fill(0);
    let src = offset;
    for (let i = 0; i < n; i++) {
      (out as Float32Array)[i] = (all as Float32Array)[src];
      // advance the row-major odometer
      for (let d = rank - 1; d >= 0; d--) {
        index[d]++;
        src += stride[d];
        if (index[d] < t.shape[d]) break;
        src -= stride[d] * t.shape[d];
        index[d] = 0;
      }
    }
    t.data = out;
  }
}
