// Checkpoint readers: pytorch_model.bin (zip + restricted unpickler), sharded checkpoints, and
// the refusals (malicious pickles, damaged archives). Fixtures: real transformers 4.35 / torch
// 1.13 saves of two tiny models, each as both model.safetensors and pytorch_model.bin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { type Checkpoint, CheckpointError } from '../../src/models/checkpoint/checkpoint';
import { checkpointFiles, openCheckpoint, shardFiles, weightFileCandidates } from '../../src/models/checkpoint/open';
import { openSafetensors } from '../../src/models/checkpoint/safetensors';
import { openTorchCheckpoint } from '../../src/models/checkpoint/torch-zip';
import { unpickle } from '../../src/models/checkpoint/unpickler';
import { crc32, openZip } from '../../src/models/checkpoint/zip';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'hf-reference');
const fixture = (model: string) => path.join(FIXTURES, model, 'hf');

let tmp: string;
let counter = 0;
const tmpDir = () => {
  const d = path.join(tmp, String(counter++));
  fs.mkdirSync(d);
  return d;
};
const tmpFile = (data: Uint8Array, name = 'pytorch_model.bin') => {
  const f = path.join(tmpDir(), name);
  fs.writeFileSync(f, data);
  return f;
};

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-ckpt-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- writers the tests build files with ----

/** A zip of entries; STORED unless `deflate`; `zip64` writes ZIP64 extra fields and records; `lie` overstates an entry's size. */
function buildZip(entries: { name: string; data: Uint8Array; deflate?: boolean }[], opts: { zip64?: boolean; lie?: string } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.deflate ? zlib.deflateRawSync(e.data) : Buffer.from(e.data);
    const method = e.deflate ? 8 : 0;
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, body);
    const csize = e.name === opts.lie ? body.length + 1000 : body.length;
    const usize = e.name === opts.lie ? e.data.length + 1000 : e.data.length;
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(45, 6);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc, 16);
    let extra = Buffer.alloc(0);
    if (opts.zip64) {
      c.writeUInt32LE(0xffffffff, 20);
      c.writeUInt32LE(0xffffffff, 24);
      c.writeUInt32LE(0xffffffff, 42);
      extra = Buffer.alloc(28);
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(usize), 4);
      extra.writeBigUInt64LE(BigInt(csize), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    } else {
      c.writeUInt32LE(csize, 20);
      c.writeUInt32LE(usize, 24);
      c.writeUInt32LE(offset, 42);
    }
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    central.push(c, name, extra);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (opts.zip64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, cd, ...tail, eocd]);
}

/** Pickle bytes, opcode by opcode (names as in pickletools). */
class Pickle {
  private out: number[] = [];
  op(...bytes: number[]) {
    this.out.push(...bytes);
    return this;
  }
  proto(n = 2) {
    return this.op(0x80, n);
  }
  str(s: string) {
    const b = Buffer.from(s);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return this.op(0x58, ...len, ...b); // BINUNICODE
  }
  shortStr(s: string) {
    const b = Buffer.from(s);
    return this.op(0x8c, b.length, ...b); // SHORT_BINUNICODE
  }
  int(n: number) {
    if (n < 256) return this.op(0x4b, n); // BININT1
    if (n < 65536) return this.op(0x4d, n & 0xff, n >> 8); // BININT2
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.op(0x4a, ...b); // BININT
  }
  global(module: string, name: string) {
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`));
  }
  tuple(items: number[]) {
    this.mark();
    for (const i of items) this.int(i);
    return this.op(0x74);
  }
  mark() {
    return this.op(0x28);
  }
  bytes() {
    return Uint8Array.from(this.out);
  }
}

interface FakeTensor {
  name: string;
  storage: string; // e.g. 'FloatStorage'
  key: string;
  numel: number;
  offset?: number;
  size: number[];
  stride?: number[];
  parameter?: boolean;
}

const rowMajor = (size: number[]) => size.map((_, i) => size.slice(i + 1).reduce((a, b) => a * b, 1));

/** data.pkl as torch.save writes a state dict (protocol 2; optionally tensors wrapped as Parameters). */
function stateDictPickle(tensors: FakeTensor[], extra?: (p: Pickle) => void): Uint8Array {
  const p = new Pickle().proto(2).op(0x7d).mark(); // EMPTY_DICT, MARK
  for (const t of tensors) {
    p.str(t.name);
    if (t.parameter) p.global('torch._utils', '_rebuild_parameter');
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', t.storage).str(t.key).str('cpu').int(t.numel).op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(t.offset ?? 0).tuple(t.size).tuple(t.stride ?? rowMajor(t.size)).op(0x89); // NEWFALSE
    p.global('collections', 'OrderedDict').op(0x29, 0x52, 0x74, 0x52); // EMPTY_TUPLE REDUCE TUPLE REDUCE
    if (t.parameter) p.op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52, 0x87, 0x52); // NEWFALSE OrderedDict() TUPLE3 REDUCE
  }
  extra?.(p);
  return p.op(0x75, 0x2e).bytes(); // SETITEMS STOP
}

function torchZip(pkl: Uint8Array, storages: Record<string, Uint8Array>, opts: { prefix?: string; byteorder?: string; zip64?: boolean; lie?: string; deflatePkl?: boolean } = {}): Buffer {
  const prefix = opts.prefix ?? 'archive';
  const entries = [{ name: `${prefix}/data.pkl`, data: pkl, deflate: opts.deflatePkl }];
  if (opts.byteorder) entries.push({ name: `${prefix}/byteorder`, data: Buffer.from(opts.byteorder), deflate: false });
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `${prefix}/data/${key}`, data, deflate: false });
  entries.push({ name: `${prefix}/version`, data: Buffer.from('3\n'), deflate: false });
  return buildZip(entries, { zip64: opts.zip64, lie: opts.lie ? `${prefix}/data/${opts.lie}` : undefined });
}

const f32bytes = (values: ArrayLike<number>) => new Uint8Array(Float32Array.from(values).buffer);

/** A .bin of float32 tensors, one storage each. */
function binOf(tensors: Map<string, { shape: number[]; values: Float32Array }>): Buffer {
  const fake: FakeTensor[] = [];
  const storages: Record<string, Uint8Array> = {};
  for (const [name, t] of tensors) {
    const key = String(fake.length);
    fake.push({ name, storage: 'FloatStorage', key, numel: t.values.length, size: t.shape });
    storages[key] = new Uint8Array(t.values.buffer.slice(0));
  }
  return torchZip(stateDictPickle(fake), storages);
}

/** A model.safetensors of float32 tensors. */
function safetensorsOf(tensors: Map<string, { shape: number[]; values: Float32Array }>): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let at = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.values.byteLength] };
    at += t.values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...[...tensors.values()].map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength))]);
}

function readAll(ckpt: Checkpoint) {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, info] of ckpt.tensors) out.set(name, { shape: info.shape, values: ckpt.read(name) });
  return out;
}

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : -1);

const throwsCheckpoint = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `expected a CheckpointError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });

// ---- the real fixtures ----

describe('pytorch_model.bin of the fixtures matches model.safetensors', () => {
  // What torch.save(state_dict) wrote, beyond safetensors (which drops tied aliases): the
  // embedding aliases and lm_head.weight, all sharing the storage of the shared embedding.
  const cases = [
    { model: 'bart-a', shared: 'model.shared.weight', aliases: ['model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight'], count: 92 },
    { model: 't5-a', shared: 'shared.weight', aliases: ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'], count: 47 },
  ];
  for (const c of cases) {
    test(c.model, () => {
      const bin = openTorchCheckpoint(path.join(fixture(c.model), 'pytorch_model.bin'));
      const st = openSafetensors(path.join(fixture(c.model), 'model.safetensors'));
      try {
        assert.equal(st.tensors.size, c.count);
        const binOnly = [...bin.tensors.keys()].filter((n) => !st.tensors.has(n));
        const stOnly = [...st.tensors.keys()].filter((n) => !bin.tensors.has(n));
        assert.deepEqual(binOnly.sort(), [...c.aliases].sort());
        assert.deepEqual(stOnly, []);
        for (const [name, info] of st.tensors) {
          const b = bin.tensors.get(name)!;
          assert.deepEqual(b.shape, info.shape, name);
          assert.equal(b.dtype, 'F32', name);
          assert.ok(sameBits(bin.read(name), st.read(name)), `${name} differs`);
        }
        const shared = st.read(c.shared);
        for (const alias of c.aliases) {
          assert.deepEqual(bin.tensors.get(alias)!.shape, st.tensors.get(c.shared)!.shape);
          assert.ok(sameBits(bin.read(alias), shared), `${alias} is not ${c.shared}`);
        }
      } finally {
        bin.close();
        st.close();
      }
    });
  }

  test('openCheckpoint prefers safetensors, and reads the .bin when asked', () => {
    const dir = fixture('t5-a');
    const a = openCheckpoint(dir);
    const b = openCheckpoint(dir, 'bin');
    try {
      assert.match(a.description, /model\.safetensors$/);
      assert.match(b.description, /pytorch_model\.bin$/);
      assert.ok(sameBits(a.read('shared.weight'), b.read('shared.weight')));
      assert.deepEqual(checkpointFiles(dir), ['model.safetensors']);
      assert.deepEqual(checkpointFiles(dir, 'bin'), ['pytorch_model.bin']);
    } finally {
      a.close();
      b.close();
    }
  });

  test('truncated copies of the fixture are refused', () => {
    const data = fs.readFileSync(path.join(fixture('t5-a'), 'pytorch_model.bin'));
    for (const len of [data.length - 10, Math.floor(data.length / 2), 100]) {
      throwsCheckpoint(() => openTorchCheckpoint(tmpFile(data.subarray(0, len))), /not a valid zip archive.*truncated/);
    }
  });
});

// ---- sharded checkpoints ----

describe('sharded checkpoints', () => {
  let tensors: Map<string, { shape: number[]; values: Float32Array }>;
  before(() => {
    const st = openSafetensors(path.join(fixture('t5-a'), 'model.safetensors'));
    tensors = readAll(st);
    st.close();
  });

  /** Splits the tensors over three shards written by `write`, plus their index. */
  function writeSharded(kind: 'safetensors' | 'bin'): string {
    const dir = tmpDir();
    const names = [...tensors.keys()];
    const shardName = (i: number) => (kind === 'bin' ? `pytorch_model-0000${i + 1}-of-00003.bin` : `model-0000${i + 1}-of-00003.safetensors`);
    const weightMap: Record<string, string> = {};
    for (let i = 0; i < 3; i++) {
      const part = new Map(names.filter((_, j) => j % 3 === i).map((n) => [n, tensors.get(n)!]));
      for (const n of part.keys()) weightMap[n] = shardName(i);
      fs.writeFileSync(path.join(dir, shardName(i)), kind === 'bin' ? binOf(part) : safetensorsOf(part));
    }
    const index = kind === 'bin' ? 'pytorch_model.bin.index.json' : 'model.safetensors.index.json';
    fs.writeFileSync(path.join(dir, index), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    return dir;
  }

  for (const kind of ['safetensors', 'bin'] as const) {
    test(`${kind} shards read back as one checkpoint, and close() closes every shard`, () => {
      const dir = writeSharded(kind);
      const fdsBefore = openFds();
      const ckpt = openCheckpoint(dir);
      assert.match(ckpt.description, /index\.json \(3 shards\)$/);
      assert.deepEqual([...ckpt.tensors.keys()].sort(), [...tensors.keys()].sort());
      for (const [name, t] of tensors) {
        assert.deepEqual(ckpt.tensors.get(name)!.shape, t.shape);
        assert.ok(sameBits(ckpt.read(name), t.values), name);
      }
      if (fdsBefore >= 0) assert.equal(openFds(), fdsBefore + 3);
      ckpt.close();
      if (fdsBefore >= 0) assert.equal(openFds(), fdsBefore);
      const files = checkpointFiles(dir);
      assert.equal(files.length, 4);
      assert.match(files[0], /index\.json$/);
    });
  }

  test('shard names that leave the folder, and missing shards, are refused', () => {
    for (const shard of ['../model.safetensors', 'sub/model.safetensors', '..\\x.safetensors', '/etc/passwd']) {
      const dir = tmpDir();
      fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': shard } }));
      throwsCheckpoint(() => openCheckpoint(dir), /not a plain file name/);
      throwsCheckpoint(() => shardFiles(JSON.stringify({ weight_map: { 'a.weight': shard } })), /not a plain file name/);
    }
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': 'model-00001-of-00002.safetensors' } }));
    throwsCheckpoint(() => openCheckpoint(dir), /missing: model-00001-of-00002\.safetensors/);
  });

  test('shardFiles lists each shard once', () => {
    assert.deepEqual(shardFiles(JSON.stringify({ metadata: {}, weight_map: { a: 's1.bin', b: 's2.bin', c: 's1.bin' } })), ['s1.bin', 's2.bin']);
  });
});

describe('choosing the weight files', () => {
  test('weightFileCandidates: safetensors, then its index, then .bin, then its index', () => {
    const all = ['config.json', 'pytorch_model.bin', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin.index.json'];
    assert.deepEqual(weightFileCandidates(all), ['model.safetensors']);
    assert.deepEqual(weightFileCandidates(all.filter((f) => f !== 'model.safetensors')), ['model.safetensors.index.json']);
    assert.deepEqual(weightFileCandidates(['pytorch_model.bin.index.json', 'pytorch_model.bin', 'tf_model.h5']), ['pytorch_model.bin']);
    assert.deepEqual(weightFileCandidates(['pytorch_model.bin.index.json', 'pytorch_model-00001-of-00002.bin']), ['pytorch_model.bin.index.json']);
    assert.deepEqual(weightFileCandidates(all, 'bin'), ['pytorch_model.bin']);
    assert.deepEqual(weightFileCandidates(['onnx/model.safetensors', 'tf_model.h5']), []);
  });

  test('a folder without weights says what was looked for and what it has', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'tf_model.h5'), 'x');
    fs.writeFileSync(path.join(dir, 'flax_model.msgpack'), 'x');
    throwsCheckpoint(() => openCheckpoint(dir), /looked for model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin, pytorch_model\.bin\.index\.json\./);
    throwsCheckpoint(() => openCheckpoint(dir), /tf_model\.h5 \(TensorFlow\)/);
    throwsCheckpoint(() => openCheckpoint(dir), /flax_model\.msgpack \(Flax\).*cannot read/);
    throwsCheckpoint(() => openCheckpoint(path.join(dir, 'nope')), /cannot be read/);
  });
});

// ---- building .bin files ----

describe('torch zip layouts', () => {
  test('fp16, bf16, f64 and int storages convert to float32', () => {
    const half = Buffer.alloc(12);
    [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00].forEach((h, i) => half.writeUInt16LE(h, i * 2));
    const bf16 = Buffer.alloc(8);
    [0x3f80, 0xc000, 0x4049, 0xff80].forEach((h, i) => bf16.writeUInt16LE(h, i * 2));
    const f64 = Buffer.from(Float64Array.from([0.1, -1e300]).buffer);
    const i64 = Buffer.alloc(16);
    i64.writeBigInt64LE(-5n, 0);
    i64.writeBigInt64LE(1n << 40n, 8);
    const pkl = stateDictPickle([
      { name: 'h', storage: 'HalfStorage', key: '0', numel: 6, size: [2, 3] },
      { name: 'b', storage: 'BFloat16Storage', key: '1', numel: 4, size: [4] },
      { name: 'd', storage: 'DoubleStorage', key: '2', numel: 2, size: [2] },
      { name: 'l', storage: 'LongStorage', key: '3', numel: 2, size: [2] },
    ]);
    const ckpt = openTorchCheckpoint(tmpFile(torchZip(pkl, { 0: half, 1: bf16, 2: f64, 3: i64 })));
    try {
      assert.deepEqual([...ckpt.tensors.values()].map((t) => t.dtype), ['F16', 'BF16', 'F64', 'I64']);
      assert.deepEqual([...ckpt.read('h')], [1, -2, 0.5, 65504, 2 ** -24, Infinity]);
      assert.deepEqual([...ckpt.read('b')], [1, -2, 3.140625, -Infinity]);
      assert.deepEqual([...ckpt.read('d')], [Math.fround(0.1), -Infinity]);
      assert.deepEqual([...ckpt.read('l')], [-5, 2 ** 40]);
    } finally {
      ckpt.close();
    }
  });

  test('offsets, shared storages, Parameters, strided views, 0-d tensors, any prefix', () => {
    const storage = f32bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const pkl = stateDictPickle([
      { name: 'whole', storage: 'FloatStorage', key: '0', numel: 10, size: [2, 5] },
      { name: 'tail', storage: 'FloatStorage', key: '0', numel: 10, offset: 4, size: [3, 2], parameter: true },
      { name: 'transposed', storage: 'FloatStorage', key: '0', numel: 10, size: [5, 2], stride: [1, 5] },
      { name: 'expanded', storage: 'FloatStorage', key: '0', numel: 10, offset: 7, size: [2, 3], stride: [0, 1] },
      { name: 'scalar', storage: 'FloatStorage', key: '0', numel: 10, offset: 9, size: [] },
      { name: 'empty', storage: 'FloatStorage', key: '0', numel: 10, size: [0, 4] },
    ]);
    const ckpt = openTorchCheckpoint(tmpFile(torchZip(pkl, { 0: storage }, { prefix: 'my_model' })));
    try {
      assert.deepEqual([...ckpt.read('whole')], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual([...ckpt.read('tail')], [4, 5, 6, 7, 8, 9]);
      assert.deepEqual([...ckpt.read('transposed')], [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]);
      assert.deepEqual([...ckpt.read('expanded')], [7, 8, 9, 7, 8, 9]);
      assert.deepEqual(ckpt.tensors.get('scalar')!.shape, []);
      assert.deepEqual([...ckpt.read('scalar')], [9]);
      assert.deepEqual([...ckpt.read('empty')], []);
    } finally {
      ckpt.close();
    }
  });

  test('ZIP64 directory fields and a DEFLATED data.pkl', () => {
    const pkl = stateDictPickle([{ name: 'w', storage: 'FloatStorage', key: '0', numel: 3, size: [3] }]);
    const file = tmpFile(torchZip(pkl, { 0: f32bytes([1.5, 2.5, 3.5]) }, { zip64: true, deflatePkl: true, byteorder: 'little' }));
    const zip = openZip(file);
    assert.equal(zip.entries.get('archive/data.pkl')!.method, 8);
    zip.close();
    const ckpt = openTorchCheckpoint(file);
    assert.deepEqual([...ckpt.read('w')], [1.5, 2.5, 3.5]);
    ckpt.close();
  });

  test('crc32 is the zip CRC', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  });
});

// ---- refusals ----

describe('malicious pickles are refused before anything runs', () => {
  const marker = () => path.join(tmp, 'pwned');
  const payload = () => `touch ${marker()}`;
  const storage = { 0: f32bytes([1, 2]) };
  const tensor: FakeTensor = { name: 'w', storage: 'FloatStorage', key: '0', numel: 2, size: [2] };

  const cases: [string, string, () => Uint8Array][] = [
    ['GLOBAL os.system + REDUCE', 'os.system', () => new Pickle().proto(2).global('os', 'system').str(payload()).op(0x85, 0x52, 0x2e).bytes()],
    ['STACK_GLOBAL posix.system (protocol 4)', 'posix.system', () =>
      new Pickle().proto(4).op(0x95, 0, 0, 0, 0, 0, 0, 0, 0).shortStr('posix').op(0x94).shortStr('system').op(0x94, 0x93, 0x94).shortStr(payload()).op(0x85, 0x52, 0x2e).bytes()],
    ['builtins.eval', 'builtins.eval', () => new Pickle().proto(2).global('builtins', 'eval').str(`__import__('os').system('${payload()}')`).op(0x85, 0x52, 0x2e).bytes()],
    ['subprocess.Popen inside a state dict', 'subprocess.Popen', () =>
      stateDictPickle([tensor], (p) => p.str('evil').global('subprocess', 'Popen').mark().str('sh').str('-c').str(payload()).op(0x6c).op(0x85, 0x52))],
    ['__builtin__.getattr via NEWOBJ', '__builtin__.getattr', () => new Pickle().proto(2).global('__builtin__', 'getattr').op(0x29, 0x81, 0x2e).bytes()],
  ];
  for (const [label, global, pickle] of cases) {
    test(label, () => {
      const file = tmpFile(torchZip(pickle(), storage));
      throwsCheckpoint(() => openTorchCheckpoint(file), new RegExp(`asks to run ${global.replace('.', '\\.')}, which a model's weights never need; it may be malicious, so it was not loaded \\(nothing in it was executed\\)`));
      assert.equal(fs.existsSync(marker()), false);
      // Through openCheckpoint too: the folder has only the .bin.
      throwsCheckpoint(() => openCheckpoint(path.dirname(file)), new RegExp(global.replace('.', '\\.')));
    });
  }

  test('unknown and code-running opcodes are refused the same way', () => {
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(Uint8Array.from([0x80, 2, 0xff, 0x2e]), {}))), /asks to use pickle opcode 0xff at byte 2.*may be malicious/);
    const inst = new Pickle().proto(2).mark().op(0x69, ...Buffer.from('os\nsystem\n')).op(0x2e).bytes();
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(inst, {}))), /pickle opcode 0x69 \(INST\)/);
  });

  test('the unpickler builds plain data and allows only its list', () => {
    const p = new Pickle().proto(2).op(0x5d).mark().int(1).int(300).int(70000).op(0x88, 0x4e, 0x65).op(0x2e).bytes(); // EMPTY_LIST MARK ... NEWTRUE NONE APPENDS STOP
    assert.deepEqual(unpickle(p, { source: 'x' }), [1, 300, 70000, true, null]);
    const g = new Pickle().proto(2).global('collections', 'OrderedDict').op(0x2e).bytes();
    throwsCheckpoint(() => unpickle(g, { source: 'x.bin', allowedGlobals: new Set() }), /x\.bin asks to run collections\.OrderedDict/);
  });
});

describe('damaged or unsupported files', () => {
  const tensor: FakeTensor = { name: 'w', storage: 'FloatStorage', key: '0', numel: 2, size: [2] };

  test('a storage entry that points past the end of the file', () => {
    const file = tmpFile(torchZip(stateDictPickle([tensor]), { 0: f32bytes([1, 2]) }, { lie: '0' }));
    throwsCheckpoint(() => openTorchCheckpoint(file), /not a valid zip archive \(archive\/data\/0 lies outside the file\)/);
  });

  test('a tensor that reaches past its storage, or a storage the archive lacks', () => {
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(stateDictPickle([{ ...tensor, numel: 4 }]), { 0: f32bytes([1, 2]) }))), /tensor w needs 16 bytes of storage 0, which has 8/);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(stateDictPickle([{ ...tensor, offset: 1 }]), { 0: f32bytes([1, 2]) }))), /reaches element 2 of storage 0, which has 2/);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(stateDictPickle([tensor]), {}))), /refers to storage 0, which the archive lacks/);
  });

  test('big-endian byteorder', () => {
    const file = tmpFile(torchZip(stateDictPickle([tensor]), { 0: f32bytes([1, 2]) }, { byteorder: 'big' }));
    throwsCheckpoint(() => openTorchCheckpoint(file), /big-endian/);
  });

  test('the legacy (pre-1.6) format, an LFS pointer, an empty file, other bytes', () => {
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(legacy)), /legacy format \(saved by torch < 1\.6/);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(Buffer.from('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n'))), /Git LFS pointer/);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(new Uint8Array(0))), /is empty/);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(Buffer.from('<html>not found</html>'))), /not a PyTorch checkpoint/);
  });

  test('a zip that is not a torch checkpoint', () => {
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(buildZip([{ name: 'readme.txt', data: Buffer.from('hi') }]))), /no <name>\/data\.pkl/);
  });

  test('a training checkpoint (dict of non-tensors) and a top-level list', () => {
    // {'epoch': 3, 'state_dict': {'w': tensor}}
    const inner = stateDictPickle([tensor]).slice(2, -1); // without PROTO and STOP: pushes the inner dict
    const nested = new Pickle().proto(2).op(0x7d).mark().str('epoch').int(3).str('state_dict').op(...inner).op(0x75, 0x2e).bytes();
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(nested, { 0: f32bytes([1, 2]) }))), /holds a dict with no tensors in it \(keys "epoch", "state_dict"\).*"state_dict" entry looks like the weights/);
    const list = new Pickle().proto(2).op(0x5d, 0x2e).bytes();
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(list, {}))), /holds a list or tuple, not a dict of tensors/);
  });

  test('a damaged pickle', () => {
    const cut = stateDictPickle([tensor]).slice(0, 40);
    throwsCheckpoint(() => openTorchCheckpoint(tmpFile(torchZip(cut, { 0: f32bytes([1, 2]) }))), /damaged pickle \(.*\); download it again/);
  });
});
