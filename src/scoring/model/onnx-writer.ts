/**
 * A small, dependency-free writer for the part of the ONNX protobuf format that inference graphs
 * need. Used to build the helper graphs (log-softmax, top-k, gather) at run time and the
 * generated test/benchmark models. Field numbers follow onnx/onnx.proto3.
 */

import { closeSync, fsyncSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

const utf8 = new TextEncoder();

/** Protobuf wire-format builder (varints, length-delimited fields, fixed32 floats). */
export class ProtoBuilder {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    // Negative int64 values are encoded as 10-byte two's complement, as protobuf requires.
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(value);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    this.push(data);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  msg(field: number, message: ProtoBuilder): this {
    return this.bytes(field, message.finish());
  }

  float(field: number, f: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    this.push(b);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** ONNX Runtime's contrib operator set (DynamicQuantizeMatMul, ...). */
export const MS_DOMAIN = 'com.microsoft';

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

export type TensorData = Float32Array | Int8Array | Uint8Array | ArrayLike<number>;
/** Initializer values produced only when the model is written (weights read from a checkpoint). */
export type LazyTensorData = () => TensorData;
/** A dimension: a fixed size or a symbolic name. */
export type Dim = number | string;

export interface ConstTensor {
  readonly kind: 'tensor';
  dataType: DataTypeCode;
  dims: number[];
  data: TensorData;
}
export interface FloatAttr {
  readonly kind: 'float';
  value: number;
}
export type AttrValue = number | number[] | string | Graph | ConstTensor | FloatAttr;

export const floatAttr = (value: number): FloatAttr => ({ kind: 'float', value });
export const tensorAttr = (dataType: DataTypeCode, dims: number[], data: TensorData): ConstTensor => ({
  kind: 'tensor',
  dataType,
  dims,
  data,
});

function rawBytes(dataType: DataTypeCode, data: TensorData): Uint8Array {
  let raw: Uint8Array;
  if (dataType === DataType.FLOAT) {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    raw = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  } else if (dataType === DataType.INT64) {
    raw = new Uint8Array(BigInt64Array.from(Array.from(data), (x) => BigInt(x)).buffer);
  } else if (dataType === DataType.INT32) {
    raw = new Uint8Array(Int32Array.from(Array.from(data)).buffer);
  } else if (dataType === DataType.INT8 || dataType === DataType.UINT8) {
    const b = data instanceof Int8Array || data instanceof Uint8Array ? data : (dataType === DataType.INT8 ? Int8Array : Uint8Array).from(Array.from(data));
    raw = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } else {
    raw = Uint8Array.from(Array.from(data), (x) => (x ? 1 : 0));
  }
  return raw;
}

function tensorProto(name: string, dataType: DataTypeCode, dims: number[], data: TensorData, external?: ExternalSink): ProtoBuilder {
  const t = new ProtoBuilder();
  for (const d of dims) t.int(1, d);
  t.int(2, dataType);
  t.str(8, name);
  const raw = rawBytes(dataType, data);
  if (external && raw.length >= external.minBytes) {
    externalReference(t, external.location, external.append(raw), raw.length);
  } else {
    t.bytes(9, raw); // raw_data, little endian
  }
  return t;
}

/** Where large initializers go when a model is written with external data. */
interface ExternalSink {
  /** File name relative to the model file, as recorded in the model. */
  location: string;
  minBytes: number;
  /** Writes the bytes and returns their offset in the file. */
  append(bytes: Uint8Array): number;
  /** Initializers already written to the data file (by name): only their reference is emitted (to `location` when given: another model's data file). */
  placed?: ReadonlyMap<string, PlacedTensor>;
}

/** Where one initializer's bytes are in an external data file. */
export interface PlacedTensor {
  offset: number;
  length: number;
  /** The data file (relative to the model file) when it is not the model's own. */
  location?: string;
}

/** What a model written with external data placed where: another graph can refer to the same bytes. */
export interface ExternalData {
  location: string;
  placed: ReadonlyMap<string, PlacedTensor>;
}

function externalReference(t: ProtoBuilder, location: string, offset: number, length: number): ProtoBuilder {
  const entry = (key: string, value: string) => new ProtoBuilder().str(1, key).str(2, value);
  t.msg(13, entry('location', location));
  t.msg(13, entry('offset', String(offset)));
  t.msg(13, entry('length', String(length)));
  return t.int(14, 1); // data_location = EXTERNAL
}

function valueInfo(name: string, elemType: DataTypeCode, shape: Dim[] | null): ProtoBuilder {
  const tensorType = new ProtoBuilder().int(1, elemType);
  if (shape) {
    const sh = new ProtoBuilder();
    for (const d of shape) {
      const dim = new ProtoBuilder();
      if (typeof d === 'number') dim.int(1, d);
      else dim.str(2, d);
      sh.msg(1, dim);
    }
    tensorType.msg(2, sh);
  }
  const type = new ProtoBuilder().msg(1, tensorType);
  return new ProtoBuilder().str(1, name).msg(2, type);
}

function attribute(name: string, v: AttrValue, external?: ExternalSink): ProtoBuilder {
  const a = new ProtoBuilder().str(1, name);
  if (v instanceof Graph) return a.msg(6, v.toProto(external)).int(20, AttrType.GRAPH);
  if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    return a.int(20, AttrType.INTS);
  }
  if (typeof v === 'string') return a.str(4, v).int(20, AttrType.STRING);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: use floatAttr() for float values`);
    return a.int(3, v).int(20, AttrType.INT);
  }
  if (v.kind === 'float') return a.float(2, v.value).int(20, AttrType.FLOAT);
  return a.msg(5, tensorProto('', v.dataType, v.dims, v.data)).int(20, AttrType.TENSOR);
}

interface NodeSpec {
  type: string;
  /** The operator set domain ('' = ONNX; 'com.microsoft' = ONNX Runtime's contrib ops). */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}
interface Initializer {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  data: TensorData | LazyTensorData;
}
interface IoSpec {
  name: string;
  dataType: DataTypeCode;
  shape: Dim[] | null;
}

/** An ONNX graph under construction. Subgraphs (If branches) share the parent's name scope. */
export class Graph {
  readonly nodes: NodeSpec[] = [];
  readonly inputs: IoSpec[] = [];
  readonly outputs: IoSpec[] = [];
  private initializers: Initializer[] = [];

  constructor(
    readonly name: string,
    private readonly scope: { next: number } = { next: 0 },
  ) {}

  /** A subgraph sharing this graph's unique-name counter. */
  subgraph(name: string): Graph {
    return new Graph(name, this.scope);
  }

  uid(prefix: string): string {
    return `${prefix}_${this.scope.next++}`;
  }

  input(name: string, dataType: DataTypeCode, shape: Dim[] | null): string {
    this.inputs.push({ name, dataType, shape });
    return name;
  }

  output(name: string, dataType: DataTypeCode, shape: Dim[] | null): string {
    this.outputs.push({ name, dataType, shape });
    return name;
  }

  initializer(name: string, dataType: DataTypeCode, dims: number[], data: TensorData | LazyTensorData): string {
    this.initializers.push({ name, dataType, dims, data });
    return name;
  }

  f32(dims: number[], data: TensorData | LazyTensorData, name = this.uid('w')): string {
    return this.initializer(name, DataType.FLOAT, dims, data);
  }

  i64(dims: number[], data: ArrayLike<number>, name = this.uid('c')): string {
    return this.initializer(name, DataType.INT64, dims, data);
  }

  /** Adds a node with one output and returns the output's name. */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const name = output ?? this.uid(type);
    this.nodes.push({ type, inputs, outputs: [name], attrs });
    return name;
  }

  /** Adds a node of ONNX Runtime's contrib operator set (com.microsoft) with one output. */
  msOp(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const name = output ?? this.uid(type);
    this.nodes.push({ type, domain: MS_DOMAIN, inputs, outputs: [name], attrs });
    return name;
  }

  /** Operator set domains other than ONNX's that the graph and its subgraphs use. */
  extraDomains(set = new Set<string>()): Set<string> {
    for (const n of this.nodes) {
      if (n.domain) set.add(n.domain);
      for (const v of Object.values(n.attrs)) if (v instanceof Graph) v.extraDomains(set);
    }
    return set;
  }

  /** Adds a node with several (named or numbered) outputs. */
  opMulti(type: string, inputs: string[], attrs: Record<string, AttrValue>, outputs: string[] | number): string[] {
    const names = Array.isArray(outputs) ? outputs : Array.from({ length: outputs }, () => this.uid(type));
    this.nodes.push({ type, inputs, outputs: names, attrs });
    return names;
  }

  private usedNames(set = new Set<string>()): Set<string> {
    for (const n of this.nodes) {
      for (const i of n.inputs) set.add(i);
      for (const v of Object.values(n.attrs)) {
        if (v instanceof Graph) {
          v.usedNames(set);
          for (const o of v.outputs) set.add(o.name);
        }
      }
    }
    for (const o of this.outputs) set.add(o.name);
    return set;
  }

  /** Initializers the graph and its subgraphs use, in the order toProto writes them. */
  usedInitializers(): { name: string; dataType: DataTypeCode; dims: number[]; data: TensorData | LazyTensorData }[] {
    const used = this.usedNames();
    const own = this.initializers.filter((i) => used.has(i.name));
    const nested = this.nodes.flatMap((n) => Object.values(n.attrs).flatMap((v) => (v instanceof Graph ? v.usedInitializers() : [])));
    return [...nested, ...own]; // toProto serialises subgraphs (node attributes) before its own initializers
  }

  toProto(external?: ExternalSink): ProtoBuilder {
    const used = this.usedNames();
    const g = new ProtoBuilder();
    for (const n of this.nodes) {
      const np = new ProtoBuilder();
      for (const i of n.inputs) np.str(1, i);
      for (const o of n.outputs) np.str(2, o);
      np.str(3, this.uid(`node_${n.type}`)).str(4, n.type);
      if (n.domain) np.str(7, n.domain);
      for (const [k, v] of Object.entries(n.attrs)) np.msg(5, attribute(k, v, external));
      g.msg(1, np);
    }
    g.str(2, this.name);
    for (const init of this.initializers) {
      if (!used.has(init.name)) continue;
      const placed = external?.placed?.get(init.name);
      if (placed) {
        const t = new ProtoBuilder();
        for (const d of init.dims) t.int(1, d);
        t.int(2, init.dataType).str(8, init.name);
        g.msg(5, externalReference(t, placed.location ?? external!.location, placed.offset, placed.length));
        continue;
      }
      const data = typeof init.data === 'function' ? init.data() : init.data;
      const n = init.dims.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw new Error(`initializer ${init.name}: expected ${n} values for [${init.dims}], got ${data.length}`);
      g.msg(5, tensorProto(init.name, init.dataType, init.dims, data, external));
    }
    for (const i of this.inputs) g.msg(11, valueInfo(i.name, i.dataType, i.shape));
    for (const o of this.outputs) g.msg(12, valueInfo(o.name, o.dataType, o.shape));
    return g;
  }
}

export interface ModelOptions {
  opset?: number;
  irVersion?: number;
  producer?: string;
}

/** Serialises a graph as an ONNX ModelProto. */
export function modelProto(graph: Graph, options: ModelOptions = {}): Uint8Array {
  return modelProtoWith(graph, options);
}

function modelProtoWith(graph: Graph, { opset = 14, irVersion = 8, producer = 'quals-onnx-writer' }: ModelOptions, external?: ExternalSink): Uint8Array {
  const m = new ProtoBuilder();
  m.int(1, irVersion);
  m.str(2, producer);
  m.msg(7, graph.toProto(external));
  m.msg(8, new ProtoBuilder().str(1, '').int(2, opset));
  // Only graphs that use contrib ops import their domain, so other models' bytes do not change.
  for (const d of [...graph.extraDomains()].sort()) m.msg(8, new ProtoBuilder().str(1, d).int(2, 1));
  return m.finish();
}

/**
 * Writes `modelPath` with every initializer of at least `minBytes` in `modelPath + "_data"` (ONNX
 * external data, as Optimum writes models over 2 GB). Lazy initializers are produced one at a
 * time and written straight to the data file, so peak memory is about one tensor plus the graph.
 * Offsets are aligned to 64 bytes; the output is byte-for-byte deterministic.
 */
export function writeModelWithExternalData(graph: Graph, modelPath: string, options: ModelOptions & { minBytes?: number } = {}): void {
  const location = `${basename(modelPath)}_data`;
  const fd = openSync(`${modelPath}_data`, 'w');
  try {
    let offset = 0;
    const sink: ExternalSink = {
      location,
      minBytes: options.minBytes ?? 1024,
      append(bytes) {
        const pad = (64 - (offset % 64)) % 64;
        if (pad) writeFullySync(fd, new Uint8Array(pad));
        offset += pad;
        const at = offset;
        writeFullySync(fd, bytes);
        offset += bytes.length;
        return at;
      },
    };
    const proto = modelProtoWith(graph, options, sink);
    fsyncSync(fd);
    writeFileSync(modelPath, proto);
  } finally {
    closeSync(fd);
  }
}

/**
 * writeModelWithExternalData for long writes in a server or a CLI with progress: every large
 * initializer is produced and written first, one at a time, yielding to the event loop between
 * them (so progress notifications, cancellation and lock heartbeats keep running); the model file
 * then only refers to them. Same bytes as the synchronous writer.
 */
export async function writeModelWithExternalDataAsync(
  graph: Graph,
  modelPath: string,
  options: ModelOptions & { minBytes?: number; shared?: ExternalData } = {},
): Promise<ExternalData> {
  const location = `${basename(modelPath)}_data`;
  const minBytes = options.minBytes ?? 1024;
  const fd = openSync(`${modelPath}_data`, 'w');
  try {
    let offset = 0;
    const placed = new Map<string, PlacedTensor>();
    const shared = options.shared;
    for (const init of graph.usedInitializers()) {
      if (placed.has(init.name)) continue;
      const elsewhere = shared?.placed.get(init.name);
      if (elsewhere && shared) {
        // The same tensor (same name, same builder) already sits in another model's data file in this folder.
        placed.set(init.name, { ...elsewhere, location: elsewhere.location ?? shared.location });
        continue;
      }
      const data = typeof init.data === 'function' ? init.data() : init.data;
      const n = init.dims.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw new Error(`initializer ${init.name}: expected ${n} values for [${init.dims}], got ${data.length}`);
      const raw = rawBytes(init.dataType, data);
      if (raw.length < minBytes) continue; // small ones stay inline (produced again by toProto)
      const pad = (64 - (offset % 64)) % 64;
      if (pad) writeFullySync(fd, new Uint8Array(pad));
      offset += pad;
      writeFullySync(fd, raw);
      placed.set(init.name, { offset, length: raw.length });
      offset += raw.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sink: ExternalSink = {
      location,
      minBytes,
      placed,
      append() {
        throw new Error('every large initializer was placed before the model was serialised');
      },
    };
    const proto = modelProtoWith(graph, options, sink);
    fsyncSync(fd);
    writeFileSync(modelPath, proto);
    return { location, placed };
  } finally {
    closeSync(fd);
  }
}

function writeFullySync(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
