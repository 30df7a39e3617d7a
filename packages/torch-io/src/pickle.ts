import { PthError } from './errors';

/**
 * A restricted unpickler: it reads Python's pickle format (protocols 0–5, the opcodes that
 * `torch.save` and `pickle.dumps` of plain data emit) and builds plain JavaScript values. It
 * never runs anything the file names: every global (`GLOBAL`, `STACK_GLOBAL`) is looked up in the
 * caller's allow-list (`resolveGlobal`), which refuses everything else; instances are only made by
 * the allow-listed callables (REDUCE / NEWOBJ / BUILD).
 *
 * Values: None → null, bool → boolean, int → number (bigint beyond ±2^53), float → number,
 * str → string, bytes / bytearray → Uint8Array, list → array, tuple → frozen array,
 * dict → PyDict (a Map that keeps Python's key order), set / frozenset → Set.
 *
 * Work and memory are linear in the pickle's length: every length is checked against the bytes
 * left before anything is allocated, the memo is capped, integers are capped in size, and there
 * is no recursion (deep nesting cannot overflow the stack here).
 */

/** A Python dict (or OrderedDict) as a Map in insertion order. */
export class PyDict extends Map<PyKey, PyValue> {
  /** True for `collections.OrderedDict`. */
  ordered = false;
  /** Attributes set by BUILD (an OrderedDict state_dict's `_metadata`), when any. */
  attributes?: PyDict;
}

/** Hashable Python values (what a dict key or set member can be here). */
export type PyKey = null | boolean | number | bigint | string | Uint8Array | readonly PyValue[];

/** What the unpickler builds. `object` stands for the allow-listed callables' results (tensors, storages). */
export type PyValue = PyKey | PyValue[] | PyDict | Set<PyKey> | object;

/** An allow-listed global: what `resolveGlobal` returns for a name the caller accepts. */
export interface PyGlobal {
  /** 'module.name', for messages. */
  readonly qualifiedName: string;
  /** REDUCE / NEWOBJ: build a value from the argument tuple. Absent: the global is a plain value. */
  call?(args: readonly PyValue[]): PyValue;
}

export interface UnpickleOptions {
  /** The file (or name) for error messages. */
  source: string;
  /** Returns the allow-listed global for `module`/`name`; throws (naming it) for anything else. */
  resolveGlobal(module: string, name: string): PyGlobal;
  /** Resolves a persistent id (BINPERSID / PERSID); absent: persistent ids are refused. */
  persistentLoad?(pid: PyValue): PyValue;
  /** At most this many memo entries (default 4,194,304; V8's Map holds at most 2^24). */
  maxMemo?: number;
  /** Longest integer (LONG1 / LONG4), in bytes (default 4096). */
  maxIntBytes?: number;
  /** Where in `bytes` to start (default 0). */
  offset?: number;
  /** Refuse bytes after STOP (default true). */
  rejectTrailing?: boolean;
}

export interface UnpickleResult {
  value: PyValue;
  /** The byte just after STOP. */
  end: number;
}

const OP_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT', 0x80: 'PROTO',
  0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Opcodes that exist but are refused, and why. */
const REFUSED: Record<number, string> = {
  0x69: 'INST builds an instance of a named class',
  0x6f: 'OBJ builds an instance of a class',
  0x92: 'NEWOBJ_EX builds an instance with keyword arguments',
  0x82: 'extension-registry codes (EXT1) are not supported',
  0x83: 'extension-registry codes (EXT2) are not supported',
  0x84: 'extension-registry codes (EXT4) are not supported',
  0x97: 'out-of-band buffers (NEXT_BUFFER) are not supported',
  0x98: 'out-of-band buffers (READONLY_BUFFER) are not supported',
  0x53: 'protocol-0 STRING (escaped text) is not supported',
  0x56: 'protocol-0 UNICODE (raw-unicode-escape text) is not supported',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Tuples whose items are all hashable, marked when they are made (no walk later: tuples can share items 2^60 ways). */
const HASHABLE_TUPLES = new WeakSet<readonly PyValue[]>();

/** True for values that can be dict keys and set members here: immutable Python values (tuples of them included). */
export function isHashable(v: PyValue): v is PyKey {
  return (
    v === null ||
    typeof v === 'boolean' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'string' ||
    v instanceof Uint8Array ||
    (Array.isArray(v) && HASHABLE_TUPLES.has(v))
  );
}

/** Python int from little-endian two's-complement bytes (LONG1 / LONG4). */
function longFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += b[i].toString(16).padStart(2, '0');
  let v = BigInt('0x' + hex);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return asInt(v);
}

/** A bigint as a number when it is exact in a double, else as a bigint. */
export function asInt(v: bigint): number | bigint {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/** A frozen array: how tuples are represented. */
export function tuple(items: PyValue[]): readonly PyValue[] {
  const t = Object.freeze(items);
  if (t.every(isHashable)) HASHABLE_TUPLES.add(t);
  return t;
}

/** True for a tuple (a frozen array) as opposed to a list. */
export function isTuple(v: unknown): v is readonly PyValue[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/**
 * Unpickles one pickle from `bytes` (starting at `options.offset`), allowing only the globals that
 * `options.resolveGlobal` accepts. Throws a PthError naming `options.source` for anything
 * malformed, truncated or not allowed.
 *
 * @example
 * const { value } = unpickle(bytes, { source: 'x.pkl', resolveGlobal: (m, n) => { throw new Error(`forbidden global '${m}.${n}'`); } });
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): UnpickleResult {
  const { source } = options;
  const maxMemo = options.maxMemo ?? 4_194_304;
  const maxIntBytes = options.maxIntBytes ?? 4096;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  let pos = options.offset ?? 0;
  let opPos = pos;
  let op = 0;
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();

  const fail = (message: string): never => {
    throw new PthError(source, `pickle: ${message} (opcode ${OP_NAMES[op] ?? '0x' + op.toString(16)} at byte ${opPos})`);
  };
  const need = (k: number): void => {
    if (k > n - pos) fail(`truncated: needs ${k} more byte(s) but only ${n - pos} remain`);
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    // A length beyond the bytes left fails in take(); keep it a number that is surely too big.
    return v > BigInt(n) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const take = (k: number): Uint8Array => {
    need(k);
    const b = bytes.subarray(pos, pos + k);
    pos += k;
    return b;
  };
  const text = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated: a text line has no end');
    const s = text(bytes.subarray(pos, end));
    pos = end + 1;
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  };
  const pop = (): PyValue => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    const floor = marks.length > 0 ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    if (marks.length === 0) fail('no MARK on the stack');
    const m = marks.pop()!;
    return stack.splice(m);
  };
  const put = (index: number): void => {
    if (!memo.has(index) && memo.size >= maxMemo) fail(`more than ${maxMemo} memo entries`);
    memo.set(index, top());
  };
  const get = (index: number): void => {
    if (!memo.has(index)) fail(`memo entry ${index} was never stored`);
    stack.push(memo.get(index) as PyValue);
  };
  const key = (k: PyValue): PyKey => (isHashable(k) ? k : fail(`unhashable ${describeType(k)} used as a dict key or set member`));
  const setItems = (d: PyValue, items: PyValue[]): void => {
    if (!(d instanceof PyDict)) fail(`SETITEM(S) on ${describeType(d)}, not a dict`);
    for (let i = 0; i + 1 < items.length; i += 2) (d as PyDict).set(key(items[i]), items[i + 1]);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
  };
  const appendItems = (l: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(l) || Object.isFrozen(l)) fail(`APPEND(S) on ${describeType(l)}, not a list`);
    for (const it of items) (l as PyValue[]).push(it);
  };
  const addItems = (s: PyValue, items: PyValue[]): void => {
    if (!(s instanceof Set)) fail(`ADDITEMS on ${describeType(s)}, not a set`);
    for (const it of items) (s as Set<PyKey>).add(key(it));
  };
  const global = (module: string, name: string): PyGlobal => options.resolveGlobal(module, name);
  const call = (f: PyValue, args: PyValue): PyValue => {
    if (!isGlobal(f) || !f.call) fail(`${describeType(f)} is not callable`);
    if (!isTuple(args)) fail(`arguments of ${(f as PyGlobal).qualifiedName} are ${describeType(args)}, not a tuple`);
    return (f as PyGlobal).call!(args as readonly PyValue[]);
  };
  const int = (v: bigint): number | bigint => asInt(v);
  const parseIntLine = (s: string, allowL: boolean): number | bigint => {
    const t = allowL && s.endsWith('L') ? s.slice(0, -1) : s;
    if (!/^[+-]?\d+$/.test(t) || t.length > 4 * maxIntBytes) fail(`'${s.slice(0, 40)}' is not an integer`);
    return int(BigInt(t));
  };

  if (pos < 0 || pos > n) fail('start offset outside the data');
  for (;;) {
    opPos = pos;
    if (pos >= n) {
      op = -1;
      fail('truncated: the pickle ends before STOP');
    }
    op = bytes[pos++];
    switch (op) {
      case 0x80: {
        const proto = u8();
        if (proto > 5) fail(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME: framing is only a read-ahead hint
        u64();
        break;
      case 0x2e: {
        // STOP
        const value = pop();
        if ((options.rejectTrailing ?? true) && pos !== n) fail(`${n - pos} unexpected byte(s) after the end of the pickle`);
        return { value, end: pos };
      }
      case 0x28:
        marks.push(stack.length);
        break;
      case 0x30:
        pop();
        break;
      case 0x31:
        popMark();
        break;
      case 0x32:
        stack.push(top());
        break;
      // memo
      case 0x70:
        put(Number(parseIntLine(line(), false)));
        break;
      case 0x71:
        put(u8());
        break;
      case 0x72:
        put(u32());
        break;
      case 0x94:
        put(memo.size);
        break;
      case 0x67:
        get(Number(parseIntLine(line(), false)));
        break;
      case 0x68:
        get(u8());
        break;
      case 0x6a:
        get(u32());
        break;
      // constants and numbers
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        stack.push(i32());
        break;
      case 0x4b:
        stack.push(u8());
        break;
      case 0x4d:
        stack.push(u16());
        break;
      case 0x49: {
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : parseIntLine(s, false));
        break;
      }
      case 0x4c:
        stack.push(parseIntLine(line(), true));
        break;
      case 0x46: {
        const s = line().trim();
        const v = /^[+-]?(inf|nan)$/i.test(s) ? Number(s.replace(/inf/i, 'Infinity').replace(/nan/i, 'NaN')) : Number(s);
        if (s === '' || (Number.isNaN(v) && !/nan/i.test(s))) fail(`'${s.slice(0, 40)}' is not a float`);
        stack.push(v);
        break;
      }
      case 0x47: {
        need(8);
        stack.push(view.getFloat64(pos, false)); // BINFLOAT is big-endian
        pos += 8;
        break;
      }
      case 0x8a: {
        const len = u8();
        stack.push(longFromBytes(take(len)));
        break;
      }
      case 0x8b: {
        const len = u32();
        if (len > maxIntBytes) fail(`an integer of ${len} bytes (more than ${maxIntBytes})`);
        stack.push(longFromBytes(take(len)));
        break;
      }
      // strings and bytes
      case 0x58:
        stack.push(text(take(u32())));
        break;
      case 0x8c:
        stack.push(text(take(u8())));
        break;
      case 0x8d:
        stack.push(text(take(u64())));
        break;
      case 0x54: {
        const len = i32();
        if (len < 0) fail('BINSTRING with a negative length');
        stack.push(text(take(len)));
        break;
      }
      case 0x55:
        stack.push(text(take(u8())));
        break;
      case 0x42:
        stack.push(new Uint8Array(take(u32())));
        break;
      case 0x43:
        stack.push(new Uint8Array(take(u8())));
        break;
      case 0x8e:
      case 0x96:
        stack.push(new Uint8Array(take(u64())));
        break;
      // containers
      case 0x29:
        stack.push(tuple([]));
        break;
      case 0x74:
        stack.push(tuple(popMark()));
        break;
      case 0x85: {
        const a = pop();
        stack.push(tuple([a]));
        break;
      }
      case 0x86: {
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x5d:
        stack.push([]);
        break;
      case 0x6c:
        stack.push(popMark());
        break;
      case 0x61: {
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d:
        stack.push(new PyDict());
        break;
      case 0x64: {
        const items = popMark();
        const d = new PyDict();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f:
        stack.push(new Set<PyKey>());
        break;
      case 0x90: {
        const items = popMark();
        addItems(top(), items);
        break;
      }
      case 0x91: {
        const s = new Set<PyKey>();
        addItems(s, popMark());
        stack.push(s);
        break;
      }
      // globals, calls, persistent ids
      case 0x63: {
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const f = pop();
        stack.push(call(f, args));
        break;
      }
      case 0x81: {
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: {
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict)) fail(`BUILD (setting the state of ${describeType(obj)}) is not allowed`);
        // dict.__setstate__ is not defined: pickle sets instance attributes, e.g. an OrderedDict's `_metadata`.
        if (!(state instanceof PyDict)) fail(`BUILD state of a dict is ${describeType(state)}, not a dict`);
        const d = obj as PyDict;
        d.attributes ??= new PyDict();
        for (const [k, v] of state as PyDict) d.attributes.set(k, v);
        break;
      }
      case 0x51: {
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not allowed here');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x50: {
        const pid = line();
        if (!options.persistentLoad) fail('persistent ids are not allowed here');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      default:
        if (op in REFUSED) fail(REFUSED[op]);
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}: not a pickle, or a corrupt one`);
    }
  }
}

function isGlobal(v: PyValue): v is PyGlobal {
  return typeof v === 'object' && v !== null && typeof (v as PyGlobal).qualifiedName === 'string' && !(v instanceof Map);
}

/** A short name for the kind of a value, for messages. */
export function describeType(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an int' : 'a float';
  if (typeof v === 'bigint') return 'an int';
  if (typeof v === 'string') return 'a str';
  if (v instanceof Uint8Array) return 'bytes';
  if (isTuple(v)) return `a tuple of ${v.length}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof PyDict) return v.ordered ? 'an OrderedDict' : 'a dict';
  if (v instanceof Set) return 'a set';
  if (isGlobal(v as PyValue)) return `'${(v as PyGlobal).qualifiedName}'`;
  const name = (v as object).constructor?.name;
  return name ? `a ${name}` : 'an object';
}
