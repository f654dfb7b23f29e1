/**
 * A restricted unpickler for the subset of the pickle protocol (0-5 binary opcodes) that
 * torch.save writes for a state dict. It never executes anything: a GLOBAL is only looked up
 * in an allow-list and becomes a PickleGlobal value, REDUCE/NEWOBJ on it become a PickleCall
 * record (plain data) for the caller to interpret, and a persistent id becomes a Persistent
 * record. Any other global, and any opcode outside the subset, stops the load with a
 * CheckpointError before the caller reads a single tensor byte.
 * Opcode reference: CPython's Lib/pickletools.py.
 */
import { CheckpointError } from './checkpoint';

export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What `fn(*args)` would have produced in Python; `state` is what BUILD would have set. */
export class PickleCall {
  state?: PickleValue;
  constructor(
    readonly fn: PickleGlobal,
    readonly args: readonly PickleValue[],
  ) {}
}

/** The object a persistent id names (torch: a storage in the archive's data/ folder). */
export class Persistent {
  constructor(readonly pid: PickleValue) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | PickleGlobal
  | PickleCall
  | Persistent;

const TYPED_STORAGES = ['Double', 'Float', 'Half', 'BFloat16', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool', 'Untyped'];
const DTYPES = ['float64', 'float32', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'];

/** Every global a state dict saved by torch.save needs, and nothing that can run code. */
export const TORCH_ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch._tensor._rebuild_from_type_v2',
  'torch.Tensor',
  'torch.nn.parameter.Parameter',
  ...TYPED_STORAGES.map((t) => `torch.${t}Storage`),
  ...DTYPES.map((t) => `torch.${t}`),
]);

export interface UnpickleOptions {
  /** Names the file in messages, e.g. its path. */
  source: string;
  allowedGlobals?: ReadonlySet<string>;
}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

// Opcodes that can run code or that a binary state dict never uses, named for the refusal message.
const REFUSED_NAMES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x50: 'PERSID',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x92: 'NEWOBJ_EX',
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x70: 'PUT',
  0x67: 'GET',
};

const MAX_LONG_BYTES = 64;

export function unpickle(data: Uint8Array, opts: UnpickleOptions): PickleValue {
  const allowed = opts.allowedGlobals ?? TORCH_ALLOWED_GLOBALS;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  let opAt = 0;

  const malformed = (why: string) =>
    new CheckpointError(`${opts.source} has a damaged pickle (${why}, at byte ${opAt}); download it again.`);
  const refuse = (what: string) =>
    new CheckpointError(
      `${opts.source} asks to ${what}, which a model's weights never need; it may be malicious, so it was not loaded (nothing in it was executed). Use model.safetensors if the repo has one.`,
    );
  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) throw malformed('it ends early');
  };
  const u8 = () => (need(1), data[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) throw malformed('a length runs past the end');
    return Number(v);
  };
  const bytes = (n: number) => (need(n), (pos += n), data.subarray(pos - n, pos));
  const utf8 = (n: number) => {
    try {
      return decoder.decode(bytes(n));
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw malformed('a string is not UTF-8');
    }
  };
  const latin1 = (n: number) => {
    const b = bytes(n);
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  };
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw malformed('a name has no end');
    const s = latin1(end - pos);
    pos++;
    return s;
  };

  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw malformed('the stack runs empty');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw malformed('the stack runs empty');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const at = marks.pop();
    if (at === undefined) throw malformed('a MARK is missing');
    const items = stack.splice(at);
    items.shift();
    return items as PickleValue[];
  };
  const global = (module: string, name: string): PickleGlobal => {
    const g = new PickleGlobal(module, name);
    if (!allowed.has(g.fullName)) throw refuse(`run ${g.fullName}`);
    return g;
  };
  const call = (fn: PickleValue, args: PickleValue): PickleValue => {
    if (!(fn instanceof PickleGlobal)) throw malformed('it calls something that is not a global');
    if (!Array.isArray(args)) throw malformed(`the arguments to ${fn.fullName} are not a tuple`);
    // OrderedDict() is the state dict itself: make it a Map so SETITEMS can fill it.
    if (fn.fullName === 'collections.OrderedDict') return new Map(pairs(args[0] ?? []));
    return new PickleCall(fn, args);
  };
  const pairs = (v: PickleValue): [PickleValue, PickleValue][] => {
    if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2)) throw malformed('OrderedDict gets something other than pairs');
    return v as [PickleValue, PickleValue][];
  };
  const setItems = (target: PickleValue, kv: PickleValue[]) => {
    if (!(target instanceof Map)) throw malformed('SETITEM on something that is not a dict');
    if (kv.length % 2) throw malformed('SETITEMS has an odd count');
    for (let i = 0; i < kv.length; i += 2) target.set(kv[i], kv[i + 1]);
  };
  const append = (target: PickleValue, items: PickleValue[]) => {
    if (!Array.isArray(target)) throw malformed('APPEND on something that is not a list');
    target.push(...items);
  };
  const push = (v: PickleValue) => void stack.push(v);
  const memoGet = (i: number) => {
    const v = memo.get(i);
    if (v === undefined) throw malformed(`memo ${i} is unset`);
    return v;
  };

  for (;;) {
    opAt = pos;
    if (pos >= data.length) throw malformed('it ends without STOP');
    const op = data[pos++];
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw malformed('its protocol is newer than 5');
        break;
      case 0x95: // FRAME: only a length hint for buffered readers
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) throw malformed('the stack does not end with one value');
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x7d: // EMPTY_DICT
        push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push([]);
        break;
      case 0x85: // TUPLE1
        push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x64: { // DICT
        const d = new Map<PickleValue, PickleValue>();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32()));
        break;
      case 0x4a: // BININT
        push(i32());
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: { // LONG4
        const n = op === 0x8a ? u8() : u32();
        if (n > MAX_LONG_BYTES) throw malformed(`an integer of ${n} bytes`);
        push(littleEndianSigned(bytes(n)));
        break;
      }
      case 0x47: // BINFLOAT: big-endian, unlike everything else
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        push(latin1(u32()));
        break;
      case 0x55: // SHORT_BINSTRING
        push(latin1(u8()));
        break;
      case 0x42: // BINBYTES
        push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        push(bytes(u64()).slice());
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x63: { // GLOBAL: "module\nname\n"
        const module = line();
        push(global(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw malformed('STACK_GLOBAL without two names');
        push(global(module, name));
        break;
      }
      case 0x52: // REDUCE
      case 0x81: { // NEWOBJ
        const args = pop();
        push(call(pop(), args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        // OrderedDict's BUILD only restores attributes such as _metadata, which weights do not need.
        if (obj instanceof PickleCall) obj.state = state;
        else if (!(obj instanceof Map)) throw malformed('BUILD on a plain value');
        break;
      }
      case 0x51: // BINPERSID
        push(new Persistent(pop()));
        break;
      default: {
        const name = REFUSED_NAMES[op];
        throw refuse(`use pickle opcode 0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''} at byte ${opAt}`);
      }
    }
  }
}

function littleEndianSigned(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
