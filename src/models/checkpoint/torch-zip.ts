/**
 * Reads pytorch_model.bin as torch.save (>= 1.6) writes it: a zip holding `<prefix>/data.pkl`
 * (a pickled dict of name -> tensor), `<prefix>/data/<key>` (each storage's raw bytes, little
 * endian unless `<prefix>/byteorder` says otherwise) and `<prefix>/version`. The pickle goes
 * through the restricted unpickler, so nothing in the file is executed; the tensors it
 * describes are read lazily from the stored entries. Layout: torch/serialization.py (_save,
 * _load) and torch/_utils.py (_rebuild_tensor_v2).
 */
import fs from 'node:fs';
import { type Checkpoint, CheckpointError, DTYPE_BYTES, type StoredDtype, type TensorInfo, elementCount, toFloat32 } from './checkpoint';
import { Persistent, PickleCall, PickleGlobal, type PickleValue, unpickle } from './unpickler';
import { type ZipArchive, type ZipEntry, openZip } from './zip';

const STORAGE_DTYPES: Record<string, StoredDtype> = {
  'torch.DoubleStorage': 'F64',
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
  'torch.UntypedStorage': 'U8',
};

const MAX_PICKLE = 512 * 1024 * 1024;

interface TorchTensor extends TensorInfo {
  entry: ZipEntry;
  /** In elements of the storage, as torch counts them. */
  offset: number;
  stride: number[];
}

/** The arguments of _rebuild_tensor_v2 that locate a tensor's values, whatever wraps it. */
interface TensorView {
  storage: PickleValue;
  offset: PickleValue;
  size: PickleValue;
  stride: PickleValue;
}

export function openTorchCheckpoint(file: string): Checkpoint {
  sniff(file);
  const zip = openZip(file);
  try {
    return readCheckpoint(file, zip);
  } catch (err) {
    zip.close();
    throw err;
  }
}

/** Tells the other things a pytorch_model.bin can be apart from a torch zip. */
function sniff(file: string): void {
  const head = Buffer.alloc(64);
  const fd = fs.openSync(file, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const start = head.subarray(0, n);
  if (n === 0) throw new CheckpointError(`${file} is empty; download it again.`);
  if (start.subarray(0, 2).toString('latin1') === 'PK') return;
  if (start[0] === 0x80) {
    throw new CheckpointError(
      `${file} is in PyTorch's legacy format (saved by torch < 1.6, or with _use_new_zipfile_serialization=False), which QUALS does not read. Use model.safetensors if the repo has one, or re-save the weights with a current torch.`,
    );
  }
  if (start.toString('latin1').startsWith('version https://git-lfs')) {
    throw new CheckpointError(`${file} is a Git LFS pointer, not the weights; fetch the real file (git lfs pull) or download it again.`);
  }
  throw new CheckpointError(`${file} is not a PyTorch checkpoint (it is neither a zip archive nor a pickle); download it again.`);
}

function readCheckpoint(file: string, zip: ZipArchive): Checkpoint {
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new CheckpointError(`${file} is not a PyTorch checkpoint (it has ${pkls.length === 0 ? 'no' : 'several'} <name>/data.pkl entries).`);
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}constants.pkl`)) {
    throw new CheckpointError(`${file} is a TorchScript module (torch.jit.save), not a state dict; QUALS reads weights saved with save_pretrained() or torch.save(model.state_dict()).`);
  }
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order) {
    const o = zip.read(order, 16).toString('latin1').trim();
    if (o === 'big') throw new CheckpointError(`${file} was saved on a big-endian machine (byteorder "big"); QUALS reads only little-endian checkpoints. Re-save it on a little-endian machine or use model.safetensors.`);
    if (o !== 'little') throw new CheckpointError(`${file} has an unknown byteorder "${o}"; download it again.`);
  }

  const root = unpickle(zip.read(zip.entries.get(pkls[0])!, MAX_PICKLE), { source: file });
  if (!(root instanceof Map)) throw new CheckpointError(`${file} holds ${describe(root)}, not a dict of tensors (a state dict), so it is not a model's weights.`);

  const tensors = new Map<string, TorchTensor>();
  for (const [key, value] of root) {
    const view = tensorView(value);
    // Entries that are not tensors (a module's _extra_state, say) are not weights: skip them.
    if (!view) continue;
    if (typeof key !== 'string') throw new CheckpointError(`${file} names a tensor with ${describe(key)}, not a string.`);
    tensors.set(key, locate(file, zip, prefix, key, view));
  }
  if (tensors.size === 0) throw notAStateDict(file, root);

  let open = true;
  return {
    description: file,
    tensors,
    read(name) {
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`${file} has no tensor ${name}.`);
      if (!open) throw new Error('checkpoint closed');
      return readTensor(zip, t);
    },
    close() {
      if (open) zip.close();
      open = false;
    },
  };
}

function tensorView(v: PickleValue): TensorView | undefined {
  if (!(v instanceof PickleCall)) return undefined;
  const a = v.args;
  switch (v.fn.fullName) {
    case 'torch._utils._rebuild_tensor_v2': // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    case 'torch._utils._rebuild_tensor': // (storage, storage_offset, size, stride)
      return { storage: a[0], offset: a[1], size: a[2], stride: a[3] };
    case 'torch._utils._rebuild_parameter': // (data, requires_grad, backward_hooks)
    case 'torch._utils._rebuild_parameter_with_state': // (data, requires_grad, backward_hooks, state)
      return tensorView(a[0]);
    case 'torch._tensor._rebuild_from_type_v2': // (func, type, args, state): a tensor with Python attributes
      return a[0] instanceof PickleGlobal && Array.isArray(a[2]) ? tensorView(new PickleCall(a[0], a[2])) : undefined;
    default:
      return undefined;
  }
}

/** Checks a tensor's storage and view against the archive, so read() cannot go astray. */
function locate(file: string, zip: ZipArchive, prefix: string, name: string, v: TensorView): TorchTensor {
  const bad = (why: string) => new CheckpointError(`${file}: tensor ${name} ${why}; download it again.`);
  const pid = v.storage instanceof Persistent ? v.storage.pid : undefined;
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') throw bad('does not refer to a storage');
  const [, type, key, , numel] = pid;
  if (!(type instanceof PickleGlobal)) throw bad('has no storage type');
  const dtype = STORAGE_DTYPES[type.fullName];
  if (!dtype) throw new CheckpointError(`${file}: tensor ${name} is stored as ${type.fullName}, which QUALS cannot read.`);
  if (typeof key !== 'string' || !isCount(numel)) throw bad('has a damaged storage reference');
  const entry = zip.entries.get(`${prefix}data/${key}`);
  if (!entry) throw bad(`refers to storage ${key}, which the archive lacks`);
  if (entry.size < numel * DTYPE_BYTES[dtype]) throw bad(`needs ${numel * DTYPE_BYTES[dtype]} bytes of storage ${key}, which has ${entry.size}`);
  const { offset, size, stride } = v;
  if (!isCount(offset) || !isCounts(size) || !isCounts(stride) || size.length !== stride.length) throw bad('has a damaged size or stride');
  const count = elementCount(size);
  const last = offset + size.reduce((s, d, i) => s + (d - 1) * stride[i], 0);
  if (count > 0 && last >= numel) throw bad(`reaches element ${last} of storage ${key}, which has ${numel}`);
  return { name, dtype, shape: size, entry, offset, stride };
}

function readTensor(zip: ZipArchive, t: TorchTensor): Float32Array {
  const count = elementCount(t.shape);
  if (count === 0) return new Float32Array(0);
  const es = DTYPE_BYTES[t.dtype];
  if (isRowMajor(t.shape, t.stride)) return toFloat32(zip.readRange(t.entry, t.offset * es, count * es), t.dtype, count);
  // A strided view (a transpose, an expand): read the span it covers, then gather in row-major order.
  const span = t.shape.reduce((s, d, i) => s + (d - 1) * t.stride[i], 0) + 1;
  const src = toFloat32(zip.readRange(t.entry, t.offset * es, span * es), t.dtype, span);
  const out = new Float32Array(count);
  const idx = new Array<number>(t.shape.length).fill(0);
  let at = 0;
  for (let i = 0; i < count; i++) {
    out[i] = src[at];
    for (let d = t.shape.length - 1; d >= 0; d--) {
      at += t.stride[d];
      if (++idx[d] < t.shape[d]) break;
      at -= t.stride[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function isRowMajor(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    // A dimension of size 1 is never stepped along, so its stride does not matter.
    if (shape[d] !== 1 && stride[d] !== expect) return false;
    expect *= shape[d];
  }
  return true;
}

const isCount = (v: PickleValue): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isCounts = (v: PickleValue): v is number[] => Array.isArray(v) && v.every(isCount);

function notAStateDict(file: string, root: Map<PickleValue, PickleValue>): CheckpointError {
  const keys = [...root.keys()].map((k) => JSON.stringify(typeof k === 'bigint' ? String(k) : k));
  const shown = keys.length > 8 ? `${keys.slice(0, 8).join(', ')}, …` : keys.join(', ');
  const nested = [...root].find(([, v]) => v instanceof Map && [...v.values()].some((x) => tensorView(x)));
  const hint = nested
    ? ` Its ${JSON.stringify(nested[0])} entry looks like the weights (a training checkpoint?): save that alone, e.g. torch.save(ckpt[${JSON.stringify(nested[0])}], "pytorch_model.bin"), or use save_pretrained().`
    : '';
  return new CheckpointError(`${file} holds a dict with no tensors in it (keys ${shown || 'none'}), so it is not a model's weights.${hint}`);
}

function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list or tuple';
  if (v instanceof PickleCall) return `a ${v.fn.fullName} object`;
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof Map) return 'a dict';
  return `a ${typeof v}`;
}
