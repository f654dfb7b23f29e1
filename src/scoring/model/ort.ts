/**
 * The one module that talks to ONNX Runtime: sessions, tensors, execution providers and the small
 * helper graphs (log-softmax + top-k, log-softmax + gather) that keep vocabulary-sized loops out
 * of JavaScript. Everything else in the engine calls these functions.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors';
import type { Device } from '../engine-api';
import { DataType, Graph, modelProto } from './onnx-writer';

export type Tensor = ort.Tensor;
export type Feeds = Record<string, Tensor>;

export function int64Tensor(values: ArrayLike<number>, dims: number[]): Tensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return new ort.Tensor('int64', data, dims);
}

/** An int64 tensor over `data` as it is (no conversion, no copy). */
export function int64TensorOf(data: BigInt64Array, dims: number[]): Tensor {
  return new ort.Tensor('int64', data, dims);
}

export function float32Tensor(data: Float32Array, dims: number[]): Tensor {
  return new ort.Tensor('float32', data, dims);
}

export function boolTensor(value: boolean): Tensor {
  return new ort.Tensor('bool', [value], [1]);
}

export function floatData(t: Tensor): Float32Array {
  return t.data as Float32Array;
}

export function int64Data(t: Tensor): BigInt64Array {
  return t.data as BigInt64Array;
}

/** Rows of a [B, ...] tensor: a new tensor whose row i is row idx[i] of t. */
export function gatherRows(t: Tensor, idx: ArrayLike<number>): Tensor {
  const [, ...rest] = t.dims;
  const row = rest.reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array | BigInt64Array;
  const out = new (src.constructor as Float32ArrayConstructor)(idx.length * row) as unknown as Float32Array | BigInt64Array;
  for (let i = 0; i < idx.length; i++) {
    const s = idx[i]! * row;
    (out as Float32Array).set((src as Float32Array).subarray(s, s + row), i * row);
  }
  return new ort.Tensor(t.type as 'float32', out as Float32Array, [idx.length, ...rest]);
}

/** A [1, ...] tensor repeated into [times, ...]. */
export function tileRow(t: Tensor, times: number): Tensor {
  if (t.dims[0] !== 1) throw new Error(`tileRow expects batch 1, got ${t.dims[0]}`);
  return gatherRows(t, new Array<number>(times).fill(0));
}

/** An empty past-KV tensor [B, heads, 0, headDim]. */
export function emptyKv(batch: number, heads: number, headDim: number): Tensor {
  return new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, headDim]);
}

const PROVIDER_BY_DEVICE: Record<Exclude<Device, 'auto'>, string> = {
  cpu: 'cpu',
  cuda: 'cuda',
  dml: 'dml',
  coreml: 'coreml',
};

/** The GPU provider `auto` tries first on this platform, if any. */
function preferredGpuProvider(): string | null {
  if (process.platform === 'linux') return 'cuda';
  if (process.platform === 'win32') return 'dml';
  if (process.platform === 'darwin') return 'coreml';
  return null;
}

export interface SessionPair {
  encoder: ort.InferenceSession;
  decoder: ort.InferenceSession;
  /** The execution provider the sessions run on. */
  provider: string;
  /**
   * Present when `decoder` is the `quals-step` design (models/model-files.ts): the graph that turns
   * encoder_hidden_states into the batch-1 cross-attention cache.
   */
  crossKv?: ort.InferenceSession;
  /**
   * Present beside a foreign merged `decoder`: its with-past branch as a graph of its own
   * (merged-split.ts), for one-token cached steps without the `If` node's cache copies.
   */
  withPast?: ort.InferenceSession;
}

export interface SessionConfig {
  device: Device;
  threads?: number;
  log?: (line: string) => void;
  /**
   * ONNX Runtime's CPU memory arena (default on). Off, each run allocates and frees its tensors:
   * on the BART-base-shaped bench model 50-300 MiB less peak RSS per QUALS call (runs vary) but
   * the encoder ~1.25x and teacher forcing ~1.15x slower, so it stays on; bench/quals-bench.ts
   * reports both RSS figures.
   */
  memArena?: boolean;
  /** A with-past decoder graph to open beside the merged decoder (SessionPair.withPast). */
  withPastPath?: string;
}

function sessionOptions(provider: string, threads: number | undefined, memArena = true): ort.InferenceSession.SessionOptions {
  const o: ort.InferenceSession.SessionOptions = {
    executionProviders: provider === 'cpu' ? ['cpu'] : [provider],
    graphOptimizationLevel: 'all',
  };
  if (threads) o.intraOpNumThreads = threads;
  if (!memArena) o.enableCpuMemArena = false;
  return o;
}

interface PairOptions {
  threads: number | undefined;
  memArena?: boolean;
  quiet?: boolean;
  withPastPath?: string;
  log?: (line: string) => void;
}

async function createPair(encoderPath: string, decoderPath: string, provider: string, opts: PairOptions, crossKvPath?: string): Promise<SessionPair> {
  // A probing attempt keeps ONNX Runtime's own error log quiet: the fallback reason is reported once, by us.
  const so = { ...sessionOptions(provider, opts.threads, opts.memArena), ...(opts.quiet ? { logSeverityLevel: 4 as const } : {}) };
  // The decoder (the largest file) first: loading a graph briefly holds its weights about twice
  // (the parsed file and the session's tensors), and that transient is smallest on top of the
  // least memory already held.
  const opened: ort.InferenceSession[] = [];
  const open = async (path: string) => {
    const session = await ort.InferenceSession.create(path, so);
    opened.push(session);
    return session;
  };
  try {
    const decoder = await open(decoderPath);
    const encoder = await open(encoderPath);
    const crossKv = crossKvPath ? await open(crossKvPath) : undefined;
    const withPast = opts.withPastPath ? await openOptional(opts.withPastPath, so, opts.log) : undefined;
    return { encoder, decoder, provider, ...(crossKv ? { crossKv } : {}), ...(withPast ? { withPast } : {}) };
  } catch (e) {
    for (const session of opened) await session.release();
    throw e;
  }
}

/** The with-past graph is only a faster path: when ONNX Runtime refuses it, the merged decoder runs every step. */
async function openOptional(path: string, so: ort.InferenceSession.SessionOptions, log: ((line: string) => void) | undefined): Promise<ort.InferenceSession | undefined> {
  try {
    return await ort.InferenceSession.create(path, so);
  } catch (e) {
    log?.(`The decoder's with-past graph (${path}) does not load; every step runs the merged decoder: ${shortReason(e)}`);
    return undefined;
  }
}

function shortReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 300);
}

/**
 * Creates the encoder and decoder sessions on the requested device. `auto` tries the platform's
 * GPU provider and falls back to CPU, logging why (the CUDA provider throws when its libraries are
 * missing instead of falling back by itself). An explicit GPU device that fails is an error.
 */
export async function createSessions(encoderPath: string, decoderPath: string, config: SessionConfig, crossKvPath?: string): Promise<SessionPair> {
  const log = config.log ?? (() => {});
  const pairOptions: PairOptions = { threads: config.threads, memArena: config.memArena, withPastPath: config.withPastPath, log };
  if (config.device === 'auto') {
    const gpu = preferredGpuProvider();
    const missing = gpu ? missingProviderLibrary(gpu) : null;
    if (gpu && missing) log(`GPU provider '${gpu}' unavailable, using CPU: ${missing}`);
    else if (gpu) {
      try {
        return await createPair(encoderPath, decoderPath, gpu, { ...pairOptions, quiet: true }, crossKvPath);
      } catch (e) {
        log(`GPU provider '${gpu}' unavailable, using CPU: ${shortReason(e)}`);
      }
    }
    return createCpu(encoderPath, decoderPath, pairOptions, crossKvPath);
  }
  const provider = PROVIDER_BY_DEVICE[config.device];
  if (!provider) throw new ModelError('provider', `Unknown device "${String(config.device)}": use auto, cpu, cuda, dml or coreml.`);
  if (provider === 'cpu') return createCpu(encoderPath, decoderPath, pairOptions, crossKvPath);
  const missing = missingProviderLibrary(provider);
  if (missing) throw new ModelError('provider', `The ${provider} execution provider could not start: ${missing} Or use device "auto" or "cpu".`);
  try {
    return await createPair(encoderPath, decoderPath, provider, pairOptions, crossKvPath);
  } catch (e) {
    const hint =
      provider === 'cuda'
        ? ' Install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 and make CUDA 12 + cuDNN 9 libraries loadable, or use device "auto" or "cpu".'
        : ' Use device "auto" or "cpu".';
    throw new ModelError('provider', `The ${provider} execution provider could not start: ${shortReason(e)}.${hint}`, { cause: e });
  }
}

/**
 * Why a provider cannot load, when that is visible without trying: onnxruntime-node ships the CUDA
 * provider library only when installed with ONNXRUNTIME_NODE_INSTALL=cuda12. Trying anyway makes
 * ONNX Runtime print an alarming error of its own before it throws.
 */
function missingProviderLibrary(provider: string): string | null {
  if (provider !== 'cuda') return null;
  try {
    const root = dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = join(root, 'bin', 'napi-v6', process.platform, process.arch);
    if (!existsSync(join(binDir, 'libonnxruntime_providers_cuda.so'))) {
      return 'the CUDA provider is not installed (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12 and cuDNN 9).';
    }
  } catch {
    return null;
  }
  return null;
}

async function createCpu(encoderPath: string, decoderPath: string, opts: PairOptions, crossKvPath?: string): Promise<SessionPair> {
  try {
    return await createPair(encoderPath, decoderPath, 'cpu', opts, crossKvPath);
  } catch (e) {
    throw new ModelError('invalid-file', `ONNX Runtime cannot load the model: ${shortReason(e)}`, { cause: e });
  }
}

/** Runs a session, turning ONNX Runtime failures into a ModelError with the session's role in it. */
export async function run(session: ort.InferenceSession, feeds: Feeds, role: string, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
  try {
    // Naming the outputs spares copying the ones not needed (e.g. the pass-through cross-attention cache).
    return fetches ? await session.run(feeds, [...fetches]) : await session.run(feeds);
  } catch (e) {
    throw new ModelError('runtime', `ONNX Runtime failed in the ${role}: ${shortReason(e)}`, { cause: e });
  }
}

export interface InputMeta {
  name: string;
  /** Dimensions; symbolic ones as strings. */
  shape: (number | string)[];
}

export function inputMetadata(session: ort.InferenceSession): InputMeta[] {
  const meta = (session as unknown as { inputMetadata?: { name: string; shape?: (number | string)[] }[] }).inputMetadata ?? [];
  return meta.map((m) => ({ name: m.name, shape: m.shape ?? [] }));
}

export function outputNames(session: ort.InferenceSession): readonly string[] {
  return session.outputNames;
}

export function inputNames(session: ort.InferenceSession): readonly string[] {
  return session.inputNames;
}

export async function release(session: ort.InferenceSession): Promise<void> {
  await session.release();
}

export interface TopKResult {
  rows: number;
  /** [rows, k] log-probabilities, best first. */
  logp: Float32Array;
  /** [rows, k] token ids. */
  ids: Int32Array;
  /** [rows, extra] log-probabilities of the requested extra ids (e.g. EOS). */
  extraLogp: Float32Array;
  k: number;
}

/** A TopKResult from the outputs top_logp [rows, k], top_ids [rows, k], extra_logp [rows, E] (helper graph or quals-step decoder). */
export function topKResult(topLogp: Tensor, topIds: Tensor, extraLogp: Tensor): TopKResult {
  const idx = topIds.data as BigInt64Array;
  const ids = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) ids[i] = Number(idx[i]);
  const [rows, k] = topLogp.dims as [number, number];
  return { rows, logp: topLogp.data as Float32Array, ids, extraLogp: extraLogp.data as Float32Array, k };
}

/**
 * Helper graphs that run inside ONNX Runtime: log-softmax over the vocabulary followed by top-k
 * (for beam search) or by a gather of given token ids (for teacher forcing). At a 50k vocabulary
 * this is 15-40x faster than the same loops in JavaScript.
 */
export class LogProbHelpers {
  private constructor(
    private readonly topkSession: ort.InferenceSession,
    private readonly gatherSession: ort.InferenceSession,
  ) {}

  static async create(threads?: number): Promise<LogProbHelpers> {
    const so = sessionOptions('cpu', threads);
    const topk = await ort.InferenceSession.create(topkGraph(), so);
    const gather = await ort.InferenceSession.create(gatherGraph(), so);
    return new LogProbHelpers(topk, gather);
  }

  /** Top-k log-probabilities of each row of logits (rows of V floats, any leading shape flattened). */
  async topK(logits: Float32Array, V: number, k: number, extraIds: number[]): Promise<TopKResult> {
    const rows = logits.length / V;
    const kk = Math.min(k, V);
    const flat = new ort.Tensor('float32', logits, [rows, V]);
    const out = await run(
      this.topkSession,
      { logits: flat, k: int64Tensor([kk], [1]), extra_ids: int64Tensor(extraIds, [extraIds.length]) },
      'top-k helper',
    );
    return topKResult(out.top_logp!, out.top_ids!, out.extra_logp!);
  }

  /** log p of target ids: logits [B, T, V], ids [B, T] -> [B, T]. */
  async gather(logits: Tensor, ids: number[], B: number, T: number): Promise<Float32Array> {
    const out = await run(this.gatherSession, { logits, ids: int64Tensor(ids, [B, T, 1]) }, 'log-prob helper');
    return out.logp!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.topkSession.release();
    await this.gatherSession.release();
  }
}

function topkGraph(): Uint8Array {
  const g = new Graph('quals_topk');
  g.input('logits', DataType.FLOAT, ['rows', 'vocab']);
  g.input('k', DataType.INT64, [1]);
  g.input('extra_ids', DataType.INT64, ['extra']);
  const lp = g.op('LogSoftmax', ['logits'], { axis: -1 });
  g.opMulti('TopK', [lp, 'k'], { axis: -1, largest: 1, sorted: 1 }, ['top_logp', 'top_ids']);
  g.op('Gather', [lp, 'extra_ids'], { axis: 1 }, 'extra_logp');
  g.output('top_logp', DataType.FLOAT, ['rows', 'k']);
  g.output('top_ids', DataType.INT64, ['rows', 'k']);
  g.output('extra_logp', DataType.FLOAT, ['rows', 'extra']);
  return modelProto(g, { opset: 14 });
}

function gatherGraph(): Uint8Array {
  const g = new Graph('quals_gather');
  g.input('logits', DataType.FLOAT, ['B', 'T', 'V']);
  g.input('ids', DataType.INT64, ['B', 'T', 1]);
  const lp = g.op('LogSoftmax', ['logits'], { axis: -1 });
  const picked = g.op('GatherElements', [lp, 'ids'], { axis: 2 });
  g.op('Squeeze', [picked, g.i64([1], [2])], {}, 'logp');
  g.output('logp', DataType.FLOAT, ['B', 'T']);
  return modelProto(g, { opset: 14 });
}

/** Versions for reports: ONNX Runtime's own and the providers the installed build offers. */
export function runtimeInfo(): { version: string; providers: string[] } {
  const versions = (ort.env as unknown as { versions?: Record<string, string> }).versions ?? {};
  const backends = (ort as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] }).listSupportedBackends?.() ?? [];
  return { version: versions.node ?? versions.common ?? 'unknown', providers: backends.map((b) => `${b.name}${b.bundled ? '' : ' (needs install)'}`) };
}

/**
 * ONNX Runtime's sustained float32 MatMul throughput on this machine (GFLOP/s), measured on an
 * [m, k] x [k, n] product: the yardstick for the benchmark's FLOP floors.
 */
export async function measureMatMulGflops({ m = 512, k = 768, n = 3072, reps = 20, threads }: { m?: number; k?: number; n?: number; reps?: number; threads?: number } = {}): Promise<number> {
  const g = new Graph('matmul_probe');
  g.input('a', DataType.FLOAT, [m, k]);
  const w = new Float32Array(k * n);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  g.op('MatMul', ['a', g.f32([k, n], w, 'w')], {}, 'y');
  g.output('y', DataType.FLOAT, [m, n]);
  const session = await ort.InferenceSession.create(modelProto(g), sessionOptions('cpu', threads));
  try {
    const a = new ort.Tensor('float32', Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)), [m, k]);
    for (let i = 0; i < 3; i++) await session.run({ a });
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await session.run({ a });
    const seconds = (performance.now() - t0) / 1000;
    return (2 * m * k * n * reps) / seconds / 1e9;
  } finally {
    await session.release();
  }
}
