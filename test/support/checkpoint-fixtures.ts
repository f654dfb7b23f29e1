/**
 * Checkpoint folders derived from the real HF fixtures (test/fixtures/hf-reference/*\/hf) for the
 * import and hub tests: copies with files left out or replaced, a safetensors file split into
 * shards with an index, and a pytorch_model.bin whose pickle would run a shell command.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'hf-reference');
export const fixtureDir = (model: 'bart-a' | 't5-a', layout: 'hf' | 'onnx-layout' = 'hf') => path.join(FIXTURES, model, layout);

/**
 * A copy of a fixture checkpoint in `dest`, without `exclude`, with `files` added or replaced
 * (objects are written as JSON). Big files are hard-linked or copied, never symlinked, so that
 * nothing a test does can reach the fixture.
 */
export function checkpointCopy(src: string, dest: string, opts: { exclude?: string[]; files?: Record<string, Buffer | string | object> } = {}): string {
  fs.mkdirSync(dest, { recursive: true });
  for (const name of fs.readdirSync(src)) {
    if (opts.exclude?.includes(name) || !fs.statSync(path.join(src, name)).isFile()) continue;
    fs.copyFileSync(path.join(src, name), path.join(dest, name));
  }
  for (const [name, content] of Object.entries(opts.files ?? {})) {
    const bytes = Buffer.isBuffer(content) ? content : typeof content === 'string' ? Buffer.from(content) : Buffer.from(JSON.stringify(content, null, 2));
    fs.writeFileSync(path.join(dest, name), bytes);
  }
  return dest;
}

interface StEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Splits `file` (a safetensors file) into `parts` shards named like transformers names them
 * (`model-00001-of-00002.safetensors`) in `dest`, plus `model.safetensors.index.json`. Tensor
 * order and bytes are kept; returns the shard names.
 */
export function splitSafetensors(file: string, dest: string, parts = 2): string[] {
  const buf = fs.readFileSync(file);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, StEntry | Record<string, string>>;
  const dataStart = 8 + headerLen;
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  const per = Math.ceil(names.length / parts);
  const shardNames: string[] = [];
  const weightMap: Record<string, string> = {};
  let total = 0;
  fs.mkdirSync(dest, { recursive: true });
  for (let p = 0; p < parts; p++) {
    const shard = `model-${String(p + 1).padStart(5, '0')}-of-${String(parts).padStart(5, '0')}.safetensors`;
    const mine = names.slice(p * per, (p + 1) * per);
    const h: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const name of mine) {
      const e = header[name] as StEntry;
      const bytes = buf.subarray(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]);
      h[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + bytes.length] };
      chunks.push(bytes);
      offset += bytes.length;
      weightMap[name] = shard;
    }
    total += offset;
    let json = Buffer.from(JSON.stringify(h));
    json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]); // safetensors pads the header with spaces
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    fs.writeFileSync(path.join(dest, shard), Buffer.concat([len, json, ...chunks]));
    shardNames.push(shard);
  }
  fs.writeFileSync(path.join(dest, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return shardNames;
}

/** A ZIP archive of STORED entries, the way torch.save writes one (without ZIP64, which small files do not need). */
export function storedZip(entries: [name: string, data: Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/**
 * A pytorch_model.bin in torch's zip shape whose pickle is `os.system(command)`: GLOBAL
 * 'os system', the command as a tuple, REDUCE. A loader that executed pickles would run it.
 */
export function maliciousTorchBin(command: string): Buffer {
  const cmd = Buffer.from(command, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(cmd.length);
  const pickle = Buffer.concat([
    Buffer.from([0x80, 0x02]), // PROTO 2
    Buffer.from('cos\nsystem\n', 'latin1'), // GLOBAL os.system
    Buffer.from([0x71, 0x00]), // BINPUT 0
    Buffer.from('X', 'latin1'),
    len,
    cmd, // BINUNICODE command
    Buffer.from([0x85]), // TUPLE1
    Buffer.from('R', 'latin1'), // REDUCE
    Buffer.from('.', 'latin1'), // STOP
  ]);
  return storedZip([
    ['archive/data.pkl', pickle],
    ['archive/version', Buffer.from('3\n')],
  ]);
}

/** Every file under `dir` (relative, sorted) with its bytes, to compare folders. */
export function readTree(dir: string, prefix = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory()) for (const [k, v] of readTree(path.join(dir, e.name), `${rel}/`)) out.set(k, v);
    else out.set(rel, fs.readFileSync(path.join(dir, e.name)));
  }
  return out;
}

export const GRAPH_FILES = ['onnx/encoder_model.onnx', 'onnx/encoder_model.onnx_data', 'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged.onnx_data'];
