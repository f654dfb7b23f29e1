/**
 * Hugging Face T5 / Flan-T5 / mT5 (T5ForConditionalGeneration, MT5ForConditionalGeneration) as the
 * two Optimum-layout ONNX graphs, built with the project's own writer from the checkpoint's
 * weights. Faithful to transformers 4.35 `modeling_t5.py`:
 *
 * - T5LayerNorm: RMS norm, no mean subtraction, no bias: w * x * rsqrt(mean(x^2) + eps).
 * - Pre-norm blocks with residuals; no embedding scaling; no attention scaling (T5 folds it into
 *   the initialisation of q).
 * - Relative position bias from the FIRST block's `relative_attention_bias` [num_buckets, heads]
 *   of each stack, shared by every layer of that stack (bidirectional buckets in the encoder,
 *   unidirectional in the decoder). The bucket of each relative offset is precomputed here
 *   (emulating torch's float32 arithmetic) as an int64 table indexed by the offset clipped to
 *   [-max_distance, max_distance] (beyond which the bucket provably saturates), then gathered.
 * - Additive masks of torch.finfo(float32).min, added once to the position bias (as HF does), so
 *   every score stays finite; a fully masked row (an all-padding encoder row) gives a uniform
 *   softmax, like HF, instead of NaN.
 * - Feed-forward `relu` (wi, wo) or gated (`gated-gelu`: gelu_new(wi_0 x) * wi_1 x, then wo).
 * - LM head: tied (`tie_word_embeddings`, default true) scales the decoder output by
 *   d_model^-0.5 and uses `shared.weight`; untied uses `lm_head.weight` unscaled. The logits are
 *   as wide as the head's weight has rows (e.g. 32128 for a 32100-token tokenizer).
 *
 * The merged decoder has the exact Optimum inputs and outputs; its with-past branch is valid for
 * any number T of new tokens after P cached ones (queries at positions P..P+T-1 against keys
 * 0..P+T-1, causal mask [T, P+T]), including P = 0. In that branch present.L.encoder.* pass the
 * past inputs through. Linear weights ([out, in] in PyTorch) are transposed lazily, when the model
 * is written, so an import holds about one tensor in memory.
 */
import type { Checkpoint } from '../checkpoint/checkpoint';
import { DataType, Graph } from '../../scoring/model/onnx-writer';
import { type BuildOptions, type Seq2SeqGraphs, UnsupportedModelError, addNewHistoryOutput, addStepLogProbOutputs, mergedDecoderInputs, pastFromHistory, stepHistoryInputs } from './graphs';
import { Int8Weights, type WeightPrecision, int8MatMul } from './quantize';

/** torch.finfo(torch.float32).min, the value HF's additive masks use. */
export const FLOAT32_MIN = -3.4028234663852886e38;

const OPSET = 14;

export type T5Activation = 'relu' | 'gelu' | 'gelu_new' | 'silu';

/** What the graphs need from config.json (and the checkpoint's shapes). */
export interface T5Hyper {
  modelType: 't5' | 'mt5';
  dModel: number;
  dKv: number;
  heads: number;
  dFf: number;
  encoderLayers: number;
  decoderLayers: number;
  numBuckets: number;
  maxDistance: number;
  eps: number;
  act: T5Activation;
  gated: boolean;
  tied: boolean;
}

const ACTIVATIONS: Record<string, T5Activation> = {
  relu: 'relu',
  gelu: 'gelu', // transformers' GELUActivation: the exact (erf) GELU
  gelu_new: 'gelu_new', // tanh approximation
  gelu_pytorch_tanh: 'gelu_new', // the same formula, computed by torch
  gelu_fast: 'gelu_new', // the same formula, rearranged
  silu: 'silu',
  swish: 'silu',
};

const SUPPORTED_ARCHITECTURES = ['T5ForConditionalGeneration', 'MT5ForConditionalGeneration', 'T5WithLMHeadModel'];

/**
 * T5's `_relative_position_bucket` for one relative position (memory position - query position),
 * with torch's float32 arithmetic for the logarithmic buckets:
 * max_exact + (log(rp.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).to(long).
 */
export function relativePositionBucket(relativePosition: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  const f = Math.fround;
  let buckets = 0;
  let nb = numBuckets;
  let rp: number;
  if (bidirectional) {
    nb = Math.floor(nb / 2);
    if (relativePosition > 0) buckets += nb;
    rp = Math.abs(relativePosition);
  } else {
    rp = -Math.min(relativePosition, 0);
  }
  const maxExact = Math.floor(nb / 2);
  if (rp < maxExact) return buckets + rp;
  // Each step rounded to float32 as torch does: the Python scalars are cast to the tensor's dtype.
  const logRatio = f(Math.log(f(f(rp) / maxExact)));
  const scaled = f(f(logRatio / f(Math.log(maxDistance / maxExact))) * (nb - maxExact));
  return buckets + Math.min(maxExact + Math.trunc(scaled), nb - 1);
}

/**
 * The bucket of every relative offset in [-bound, bound] (index offset + bound), where bound =
 * max_distance; every offset beyond it has the bucket of the nearest end (checked here).
 */
export function relativeBucketTable(bidirectional: boolean, numBuckets: number, maxDistance: number): { bound: number; table: number[] } {
  const bound = maxDistance;
  const table: number[] = [];
  for (let r = -bound; r <= bound; r++) table.push(relativePositionBucket(r, bidirectional, numBuckets, maxDistance));
  // The log-bucket formula is monotone in |offset|, so reaching the top bucket at the bound
  // means saturation; check it (and a range beyond) rather than trust it.
  const nb = bidirectional ? Math.floor(numBuckets / 2) : numBuckets;
  const top = nb - 1;
  const lo = relativePositionBucket(-bound, bidirectional, numBuckets, maxDistance);
  const hi = relativePositionBucket(bound, bidirectional, numBuckets, maxDistance);
  const saturated = lo === top && hi === (bidirectional ? nb + top : 0);
  let same = saturated;
  for (let r = bound; same && r <= 4 * bound + 64; r++) {
    same = relativePositionBucket(-r, bidirectional, numBuckets, maxDistance) === lo && relativePositionBucket(r, bidirectional, numBuckets, maxDistance) === hi;
  }
  if (!same) {
    throw new UnsupportedModelError(
      `config.json: relative_attention_max_distance ${maxDistance} with relative_attention_num_buckets ${numBuckets} does not saturate the position buckets; this T5 variant is not supported.`,
    );
  }
  return { bound, table };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads and checks the T5 config.json keys (transformers 4.35 T5Config semantics and defaults). */
export function parseT5Config(config: Record<string, unknown>): T5Hyper {
  const bad = (msg: string) => new UnsupportedModelError(`config.json: ${msg}`);
  const modelType = config.model_type;
  if (modelType !== 't5' && modelType !== 'mt5') {
    throw bad(`model_type ${JSON.stringify(modelType)} is not a T5 model ("t5" or "mt5"); it cannot be built as a T5 graph.`);
  }
  const arch = config.architectures;
  if (Array.isArray(arch) && arch.length > 0 && !arch.some((a) => SUPPORTED_ARCHITECTURES.includes(String(a)))) {
    throw bad(`architectures ${JSON.stringify(arch)}: only ${SUPPORTED_ARCHITECTURES.slice(0, 2).join(' and ')} (an encoder, a decoder and an LM head) are supported.`);
  }
  if (config.is_encoder_decoder === false) throw bad('is_encoder_decoder is false: a question-generation model needs a T5 encoder-decoder.');
  const int = (key: string, def: number, min = 1): number => {
    const v = config[key] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(`${key} must be an integer >= ${min} (got ${JSON.stringify(config[key])}).`);
    return v;
  };
  const dModel = int('d_model', 512);
  const dKv = int('d_kv', 64);
  const heads = int('num_heads', 8);
  const dFf = int('d_ff', 2048);
  const encoderLayers = int('num_layers', 6);
  const decoderLayers = config.num_decoder_layers == null ? encoderLayers : int('num_decoder_layers', encoderLayers);
  const numBuckets = int('relative_attention_num_buckets', 32, 4);
  const maxDistance = int('relative_attention_max_distance', 128);
  // The decoder's buckets use max_exact = num_buckets // 2, the encoder's num_buckets // 4.
  if (maxDistance <= Math.floor(numBuckets / 2)) {
    throw bad(`relative_attention_max_distance ${maxDistance} must exceed relative_attention_num_buckets / 2 (${Math.floor(numBuckets / 2)}).`);
  }
  const eps = config.layer_norm_epsilon ?? 1e-6;
  if (typeof eps !== 'number' || !(eps > 0)) throw bad(`layer_norm_epsilon must be a positive number (got ${JSON.stringify(config.layer_norm_epsilon)}).`);

  // T5Config.__init__ derives dense_act_fn / is_gated_act from feed_forward_proj; keys saved in
  // config.json are then set as attributes after it, so they win when present.
  const proj = config.feed_forward_proj ?? 'relu';
  if (typeof proj !== 'string') throw bad(`feed_forward_proj must be a string such as "relu" or "gated-gelu" (got ${JSON.stringify(proj)}).`);
  const parts = proj.split('-');
  if ((parts.length > 1 && parts[0] !== 'gated') || parts.length > 2) {
    throw bad(`feed_forward_proj ${JSON.stringify(proj)} is not of the form "gated-{ACT}" or "{ACT}" (e.g. "gated-gelu", "relu").`);
  }
  let actName = proj === 'gated-gelu' ? 'gelu_new' : parts[parts.length - 1]!;
  let gated = parts[0] === 'gated';
  let actKey = 'feed_forward_proj';
  if (config.dense_act_fn != null) {
    if (typeof config.dense_act_fn !== 'string') throw bad(`dense_act_fn must be a string (got ${JSON.stringify(config.dense_act_fn)}).`);
    actName = config.dense_act_fn;
    actKey = 'dense_act_fn';
  }
  if (config.is_gated_act != null) {
    if (typeof config.is_gated_act !== 'boolean') throw bad(`is_gated_act must be true or false (got ${JSON.stringify(config.is_gated_act)}).`);
    gated = config.is_gated_act;
  }
  const act = ACTIVATIONS[actName];
  if (!act) {
    throw bad(`${actKey} ${JSON.stringify(actName)}: the feed-forward activation is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')}).`);
  }
  const tie = config.tie_word_embeddings ?? true;
  if (typeof tie !== 'boolean') throw bad(`tie_word_embeddings must be true or false (got ${JSON.stringify(tie)}).`);
  const pruned = config.pruned_heads;
  if (isObject(pruned) && Object.keys(pruned).length > 0) throw bad('pruned_heads is not empty: models with pruned attention heads are not supported.');
  return { modelType, dModel, dKv, heads, dFf, encoderLayers, decoderLayers, numBuckets, maxDistance, eps, act, gated, tied: tie };
}

/** Initializers (weights and constants) registered once in a root graph, used by its If-branches too. */
class Weights {
  private readonly names = new Set<string>();
  private readonly int8 = new Int8Weights();

  constructor(
    private readonly root: Graph,
    private readonly ckpt: Checkpoint,
    /** `int8`: MatMul weights as int8 with per-column scales (quantize.ts). */
    readonly precision: WeightPrecision = 'fp32',
  ) {}

  /** A [rows, cols] PyTorch weight as the int8 [cols, rows] matrix x @ W needs (transposed, then quantized, when written). */
  int8Transposed(name: string, rows: number, cols: number, hint: string): { q: string; scale: string } {
    this.expect(name, [rows, cols], hint);
    const key = `${name}.T`;
    const w = { q: `${key}.int8`, scale: `${key}.scale` };
    if (!this.names.has(w.q)) {
      this.names.add(w.q);
      this.int8.register(this.root, key, cols, rows, () => transpose(this.ckpt.read(name), rows, cols));
    }
    return w;
  }

  private shapeOf(name: string, hint: string): number[] {
    const info = this.ckpt.tensors.get(name);
    if (!info) throw new UnsupportedModelError(`${this.ckpt.description} has no tensor ${name}, which config.json (${hint}) implies: the checkpoint does not match its config.`);
    return info.shape;
  }

  /** Checks the stored shape; `hint` names the config keys it follows from. */
  expect(name: string, shape: number[], hint: string): void {
    const got = this.shapeOf(name, hint);
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new UnsupportedModelError(`${this.ckpt.description}: tensor ${name} has shape [${got.join(', ')}], but config.json (${hint}) implies [${shape.join(', ')}].`);
    }
  }

  /** A tensor as stored (row-major, PyTorch layout). */
  raw(name: string, shape: number[], hint: string): string {
    this.expect(name, shape, hint);
    if (!this.names.has(name)) {
      this.names.add(name);
      this.root.f32(shape, () => this.ckpt.read(name), name);
    }
    return name;
  }

  /** An nn.Linear weight [out, in] as the [in, out] matrix MatMul needs, transposed when written. */
  linear(name: string, out: number, inp: number, hint: string): string {
    this.expect(name, [out, inp], hint);
    const key = `${name}.T`;
    if (!this.names.has(key)) {
      this.names.add(key);
      this.root.f32([inp, out], () => transpose(this.ckpt.read(name), out, inp), key);
    }
    return key;
  }

  i64(key: string, dims: number[], data: number[]): string {
    const name = `const.${key}`;
    if (!this.names.has(name)) {
      this.names.add(name);
      this.root.i64(dims, data, name);
    }
    return name;
  }

  f32(key: string, value: number): string {
    const name = `const.${key}`;
    if (!this.names.has(name)) {
      this.names.add(name);
      this.root.f32([], [value], name);
    }
    return name;
  }
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[base + c]!;
  }
  return out;
}

/** Node helpers emitting into graph `g`, with initializers in the root graph's `Weights`. */
class T5Ops {
  constructor(
    readonly g: Graph,
    readonly w: Weights,
    readonly h: T5Hyper,
  ) {}

  op(type: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output?: string): string {
    return this.g.op(type, inputs, attrs, output);
  }

  dim(x: string, axis: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.w.i64(`i${axis}`, [], [axis])], { axis: 0 });
  }

  /** T5LayerNorm. */
  rmsNorm(x: string, name: string): string {
    const variance = this.op('ReduceMean', [this.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    const inv = this.op('Reciprocal', [this.op('Sqrt', [this.op('Add', [variance, this.w.f32('eps', this.h.eps)])])]);
    return this.op('Mul', [this.w.raw(name, [this.h.dModel], 'd_model, num_layers, num_decoder_layers'), this.op('Mul', [x, inv])]);
  }

  matmul(x: string, name: string, out: number, inp: number, hint: string): string {
    if (this.w.precision === 'int8') return int8MatMul(this.g, x, this.w.int8Transposed(name, out, inp, hint));
    return this.op('MatMul', [x, this.w.linear(name, out, inp, hint)]);
  }

  /** The LM head [rows, D] on flat hidden states [N, D]: Gemm(transB) in fp32, a DynamicQuantizeMatMul in int8. */
  head(flat: string, head: string, rows: number): string {
    if (this.w.precision === 'int8') return int8MatMul(this.g, flat, this.w.int8Transposed(head, rows, this.h.dModel, 'd_model'));
    return this.op('Gemm', [flat, this.w.raw(head, [rows, this.h.dModel], 'd_model')], { transB: 1 });
  }

  /** [B, T, H*d_kv] -> [B, H, T, d_kv] */
  heads(x: string): string {
    return this.op('Transpose', [this.op('Reshape', [x, this.w.i64('shape_heads', [4], [0, 0, this.h.heads, this.h.dKv])])], { perm: [0, 2, 1, 3] });
  }

  /** Projects hidden states [B, T, D] to heads [B, H, T, d_kv] with `name` (q, k or v). */
  project(x: string, name: string): string {
    return this.heads(this.projectFlat(x, name));
  }

  /** The same projection before the split into heads: [B, T, H*d_kv]. */
  projectFlat(x: string, name: string): string {
    const { dModel: D, heads: H, dKv } = this.h;
    return this.matmul(x, name, H * dKv, D, 'num_heads * d_kv, d_model');
  }

  /** softmax(q k^T + bias) v, merged back to [B, T, H*d_kv] and projected by `o`. */
  attend(q: string, k: string, v: string, bias: string, oName: string): string {
    const { dModel: D, heads: H, dKv } = this.h;
    const scores = this.op('Add', [this.op('MatMul', [q, this.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), bias]);
    const ctx = this.op('MatMul', [this.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = this.op('Reshape', [this.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), this.w.i64('shape_merge', [3], [0, 0, H * dKv])]);
    return this.matmul(merged, oName, D, H * dKv, 'd_model, num_heads * d_kv');
  }

  activation(x: string): string {
    const c = (key: string, v: number) => this.w.f32(key, v);
    switch (this.h.act) {
      case 'relu':
        return this.op('Relu', [x]);
      case 'gelu':
        // 0.5 x (1 + erf(x / sqrt(2)))
        return this.op('Mul', [this.op('Mul', [x, c('half', 0.5)]), this.op('Add', [c('one_f', 1), this.op('Erf', [this.op('Mul', [x, c('sqrt1_2', Math.SQRT1_2)])])])]);
      case 'gelu_new': {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        const cube = this.op('Mul', [this.op('Mul', [x, x]), x]);
        const inner = this.op('Mul', [c('sqrt_2_over_pi', Math.sqrt(2 / Math.PI)), this.op('Add', [x, this.op('Mul', [c('gelu_coef', 0.044715), cube])])]);
        return this.op('Mul', [this.op('Mul', [c('half', 0.5), x]), this.op('Add', [c('one_f', 1), this.op('Tanh', [inner])])]);
      }
      case 'silu':
        return this.op('Mul', [x, this.op('Sigmoid', [x])]);
    }
  }

  /** T5LayerFF without its norm and residual: DenseReluDense / DenseGatedActDense. */
  ffn(x: string, prefix: string): string {
    const { dModel: D, dFf: F } = this.h;
    const p = `${prefix}.DenseReluDense`;
    const hidden = this.h.gated
      ? this.op('Mul', [this.activation(this.matmul(x, `${p}.wi_0.weight`, F, D, 'd_ff, d_model, feed_forward_proj')), this.matmul(x, `${p}.wi_1.weight`, F, D, 'd_ff, d_model, feed_forward_proj')])
      : this.activation(this.matmul(x, `${p}.wi.weight`, F, D, 'd_ff, d_model, feed_forward_proj'));
    return this.matmul(hidden, `${p}.wo.weight`, D, F, 'd_model, d_ff');
  }

  /** int64 key-padding mask [B, S] -> additive [B, 1, 1, S]: (1 - mask) * finfo.min. */
  padMask(mask: string): string {
    const open = this.op('Sub', [this.w.f32('one_f', 1), this.op('Cast', [mask], { to: DataType.FLOAT })]);
    return this.op('Unsqueeze', [this.op('Mul', [open, this.w.f32('finfo_min', FLOAT32_MIN)]), this.w.i64('ax12', [2], [1, 2])]);
  }

  /** Relative position bias [1, H, Tq, Tk] for query positions `qpos` and key positions `kpos`. */
  positionBias(qpos: string, kpos: string, stack: 'encoder' | 'decoder'): string {
    const { numBuckets, maxDistance, heads: H } = this.h;
    const { bound, table } = relativeBucketTable(stack === 'encoder', numBuckets, maxDistance);
    const rel = this.op('Sub', [this.op('Unsqueeze', [kpos, this.w.i64('ax0', [1], [0])]), this.op('Unsqueeze', [qpos, this.w.i64('ax1', [1], [1])])]);
    const clipped = this.op('Clip', [rel, this.w.i64(`${stack}_rel_min`, [], [-bound]), this.w.i64(`${stack}_rel_max`, [], [bound])]);
    const index = this.op('Add', [clipped, this.w.i64(`${stack}_rel_bound`, [], [bound])]);
    const buckets = this.op('Gather', [this.w.i64(`${stack}_relative_buckets`, [table.length], table), index], { axis: 0 });
    const biasName = `${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`;
    const values = this.op('Gather', [this.w.raw(biasName, [numBuckets, H], 'relative_attention_num_buckets, num_heads'), buckets], { axis: 0 });
    return this.op('Unsqueeze', [this.op('Transpose', [values], { perm: [2, 0, 1] }), this.w.i64('ax0', [1], [0])]);
  }
}

function embeddingName(ckpt: Checkpoint): string {
  for (const name of ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight']) if (ckpt.tensors.has(name)) return name;
  throw new UnsupportedModelError(`${ckpt.description} has no token embedding (shared.weight): it is not a T5 checkpoint.`);
}

function rowsOf(ckpt: Checkpoint, name: string, dModel: number): number {
  const shape = ckpt.tensors.get(name)?.shape;
  if (!shape) throw new UnsupportedModelError(`${ckpt.description} has no tensor ${name}, which this T5 config.json needs (tie_word_embeddings).`);
  if (shape.length !== 2 || shape[1] !== dModel || shape[0]! < 1) {
    throw new UnsupportedModelError(`${ckpt.description}: tensor ${name} has shape [${shape.join(', ')}], but config.json (d_model) implies [vocabulary, ${dModel}].`);
  }
  return shape[0]!;
}

function buildEncoder(h: T5Hyper, ckpt: Checkpoint, emb: string, embRows: number, precision: WeightPrecision = 'fp32'): Graph {
  const g = new Graph(precision === 'fp32' ? 't5_encoder' : `t5_encoder_${precision}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const am = g.input('attention_mask', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const w = new Weights(g, ckpt, precision);
  const o = new T5Ops(g, w, h);
  let x = o.op('Gather', [w.raw(emb, [embRows, h.dModel], 'd_model'), ids], { axis: 0 });
  const pos = o.op('Range', [w.i64('zero', [], [0]), o.dim(ids, 1), w.i64('one', [], [1])]);
  // HF adds the mask to the first layer's position bias once and passes the sum to every layer.
  const bias = o.op('Add', [o.positionBias(pos, pos, 'encoder'), o.padMask(am)]);
  for (let l = 0; l < h.encoderLayers; l++) {
    const p = `encoder.block.${l}.layer`;
    const n = o.rmsNorm(x, `${p}.0.layer_norm.weight`);
    const a = `${p}.0.SelfAttention`;
    x = o.op('Add', [x, o.attend(o.project(n, `${a}.q.weight`), o.project(n, `${a}.k.weight`), o.project(n, `${a}.v.weight`), bias, `${a}.o.weight`)]);
    x = o.op('Add', [x, o.ffn(o.rmsNorm(x, `${p}.1.layer_norm.weight`), `${p}.1`)]);
  }
  o.op('Identity', [o.rmsNorm(x, 'encoder.final_layer_norm.weight')], {}, 'last_hidden_state');
  g.output('last_hidden_state', DataType.FLOAT, ['batch_size', 'encoder_sequence_length', h.dModel]);
  return g;
}

function buildDecoder(h: T5Hyper, ckpt: Checkpoint, emb: string, embRows: number, head: string, headRows: number): Graph {
  const { dModel: D, heads: H, dKv } = h;
  const g = new Graph('t5_decoder_merged');
  const { encMask, ids, encH, past, useCache } = mergedDecoderInputs(g, { layers: h.decoderLayers, heads: H, headDim: dKv, dModel: D });
  const w = new Weights(g, ckpt);
  const o = new T5Ops(g, w, h);

  // use_cache_branch true: the past self and cross keys/values as given. False: the past self
  // KV is ignored (sliced to length 0) and the cross KV is computed from encoder_hidden_states.
  const thenG = g.subgraph('use_cache');
  const elseG = g.subgraph('no_cache');
  const eo = new T5Ops(elseG, w, h);
  const sel = past.map((_, l) => ({ dk: `sel_self_k_${l}`, dv: `sel_self_v_${l}`, ek: `present.${l}.encoder.key`, ev: `present.${l}.encoder.value` }));
  const ifOutputs: string[] = [];
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = past[l]!;
    for (const k of ['dk', 'dv', 'ek', 'ev'] as const) thenG.output(thenG.op('Identity', [p[k]]), DataType.FLOAT, null);
    const empty = (t: string) => eo.op('Slice', [t, w.i64('ax0', [1], [0]), w.i64('ax0', [1], [0]), w.i64('ax2', [1], [2])]);
    elseG.output(empty(p.dk), DataType.FLOAT, null);
    elseG.output(empty(p.dv), DataType.FLOAT, null);
    const a = `decoder.block.${l}.layer.1.EncDecAttention`;
    elseG.output(eo.project(encH, `${a}.k.weight`), DataType.FLOAT, null);
    elseG.output(eo.project(encH, `${a}.v.weight`), DataType.FLOAT, null);
    const s = sel[l]!;
    ifOutputs.push(s.dk, s.dv, s.ek, s.ev);
  }
  g.opMulti('If', [useCache], { then_branch: thenG, else_branch: elseG }, ifOutputs);

  // Queries at positions P..P+T-1, keys at 0..P+T-1 (HF computes the bias for P+T queries and
  // keeps the last T rows); the causal mask is added to the bias once, as HF does.
  const P = o.dim(sel[0]!.dk, 2);
  const end = o.op('Add', [P, o.dim(ids, 1)]);
  const one = w.i64('one', [], [1]);
  const qpos = o.op('Range', [P, end, one]);
  const kpos = o.op('Range', [w.i64('zero', [], [0]), end, one]);
  const future = o.op('Greater', [o.op('Unsqueeze', [kpos, w.i64('ax0', [1], [0])]), o.op('Unsqueeze', [qpos, w.i64('ax1', [1], [1])])]);
  const causal = o.op('Where', [future, w.f32('finfo_min', FLOAT32_MIN), w.f32('zero_f', 0)]);
  const selfBias = o.op('Add', [o.positionBias(qpos, kpos, 'decoder'), causal]);
  const crossBias = o.padMask(encMask);

  let x = o.op('Gather', [w.raw(emb, [embRows, D], 'd_model'), ids], { axis: 0 });
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = `decoder.block.${l}.layer`;
    const s = sel[l]!;
    const sa = `${p}.0.SelfAttention`;
    const n = o.rmsNorm(x, `${p}.0.layer_norm.weight`);
    const K = o.op('Concat', [s.dk, o.project(n, `${sa}.k.weight`)], { axis: 2 }, `present.${l}.decoder.key`);
    const V = o.op('Concat', [s.dv, o.project(n, `${sa}.v.weight`)], { axis: 2 }, `present.${l}.decoder.value`);
    x = o.op('Add', [x, o.attend(o.project(n, `${sa}.q.weight`), K, V, selfBias, `${sa}.o.weight`)]);
    const ca = `${p}.1.EncDecAttention`;
    const n2 = o.rmsNorm(x, `${p}.1.layer_norm.weight`);
    x = o.op('Add', [x, o.attend(o.project(n2, `${ca}.q.weight`), s.ek, s.ev, crossBias, `${ca}.o.weight`)]);
    x = o.op('Add', [x, o.ffn(o.rmsNorm(x, `${p}.2.layer_norm.weight`), `${p}.2`)]);
  }
  x = o.rmsNorm(x, 'decoder.final_layer_norm.weight');
  if (h.tied) x = o.op('Mul', [x, w.f32('head_scale', h.dModel ** -0.5)]);
  // Gemm with transB reads the head [V, D] as stored: no transposed copy of the largest tensor,
  // and a tied head shares the embedding's initializer.
  const flat = o.op('Reshape', [x, w.i64('shape_flat', [2], [-1, D])]);
  const scores = o.op('Gemm', [flat, w.raw(head, [headRows, D], 'd_model')], { transB: 1 });
  const outShape = o.op('Concat', [o.op('Shape', [ids]), w.i64('minus_one', [1], [-1])], { axis: 0 });
  o.op('Reshape', [scores, outShape], {}, 'logits');
  g.output('logits', DataType.FLOAT, ['batch_size', 'decoder_sequence_length', headRows]);
  for (let l = 0; l < h.decoderLayers; l++) {
    const selfLen = 'past_decoder_sequence_length + decoder_sequence_length';
    g.output(`present.${l}.decoder.key`, DataType.FLOAT, ['batch_size', H, selfLen, dKv]);
    g.output(`present.${l}.decoder.value`, DataType.FLOAT, ['batch_size', H, selfLen, dKv]);
    g.output(`present.${l}.encoder.key`, DataType.FLOAT, ['batch_size', H, 'encoder_sequence_length_out', dKv]);
    g.output(`present.${l}.encoder.value`, DataType.FLOAT, ['batch_size', H, 'encoder_sequence_length_out', dKv]);
  }
  return g;
}

/**
 * The `quals-step` decoder (graphs.ts Seq2SeqGraphs.step): the merged decoder's ops and weights
 * without `If`: `history_rows` [B, P] gathers each row's past out of the self-attention history (graphs.ts
 * stepHistoryInputs; a call outputs only its new tokens' rows), the cross-attention cache is
 * fed at batch 1 and all B*T queries attend to it as one [1, H, B*T, d_kv] block, and the log-prob
 * outputs follow the logits. Valid for any number of new tokens after any cached length.
 */
function buildStepDecoder(h: T5Hyper, ckpt: Checkpoint, emb: string, embRows: number, head: string, headRows: number, precision: WeightPrecision = 'fp32'): Graph {
  const { dModel: D, heads: H, dKv } = h;
  const g = new Graph(precision === 'fp32' ? 't5_decoder_quals_step' : `t5_decoder_quals_step_${precision}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'decoder_sequence_length']);
  const history = stepHistoryInputs(g, { layers: h.decoderLayers, heads: H, headDim: dKv });
  const encMask = g.input('encoder_attention_mask', DataType.INT64, [1, 'encoder_sequence_length']);
  const past = Array.from({ length: h.decoderLayers }, (_, l) => ({
    ek: g.input(`past_key_values.${l}.encoder.key`, DataType.FLOAT, [1, H, 'encoder_sequence_length', dKv]),
    ev: g.input(`past_key_values.${l}.encoder.value`, DataType.FLOAT, [1, H, 'encoder_sequence_length', dKv]),
  }));
  const w = new Weights(g, ckpt, precision);
  const o = new T5Ops(g, w, h);
  const rows = history.layers.map((t) => ({ dk: pastFromHistory(g, t.key, history.rows), dv: pastFromHistory(g, t.value, history.rows) }));

  const P = o.dim(rows[0]!.dk, 2);
  const end = o.op('Add', [P, o.dim(ids, 1)]);
  const one = w.i64('one', [], [1]);
  const qpos = o.op('Range', [P, end, one]);
  const kpos = o.op('Range', [w.i64('zero', [], [0]), end, one]);
  const future = o.op('Greater', [o.op('Unsqueeze', [kpos, w.i64('ax0', [1], [0])]), o.op('Unsqueeze', [qpos, w.i64('ax1', [1], [1])])]);
  const causal = o.op('Where', [future, w.f32('finfo_min', FLOAT32_MIN), w.f32('zero_f', 0)]);
  const selfBias = o.op('Add', [o.positionBias(qpos, kpos, 'decoder'), causal]);
  const crossBias = o.padMask(encMask); // [1, 1, 1, S]

  let x = o.op('Gather', [w.raw(emb, [embRows, D], 'd_model'), ids], { axis: 0 });
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = `decoder.block.${l}.layer`;
    const s = rows[l]!;
    const sa = `${p}.0.SelfAttention`;
    const n = o.rmsNorm(x, `${p}.0.layer_norm.weight`);
    const kNew = o.projectFlat(n, `${sa}.k.weight`);
    const vNew = o.projectFlat(n, `${sa}.v.weight`);
    addNewHistoryOutput(g, kNew, l, 'key', { heads: H, headDim: dKv });
    addNewHistoryOutput(g, vNew, l, 'value', { heads: H, headDim: dKv });
    const K = o.op('Concat', [s.dk, o.heads(kNew)], { axis: 2 });
    const V = o.op('Concat', [s.dv, o.heads(vNew)], { axis: 2 });
    x = o.op('Add', [x, o.attend(o.project(n, `${sa}.q.weight`), K, V, selfBias, `${sa}.o.weight`)]);
    const ca = `${p}.1.EncDecAttention`;
    const n2 = o.rmsNorm(x, `${p}.1.layer_norm.weight`);
    // [B, H, T, d_kv] -> [H, B, T, d_kv] -> [1, H, B*T, d_kv]: one block against the batch-1 cache.
    const q = o.op('Reshape', [o.op('Transpose', [o.project(n2, `${ca}.q.weight`)], { perm: [1, 0, 2, 3] }), w.i64('shape_flat_q', [4], [1, H, -1, dKv])]);
    const cross = o.op('Reshape', [o.attend(q, past[l]!.ek, past[l]!.ev, crossBias, `${ca}.o.weight`), o.op('Shape', [x])]);
    x = o.op('Add', [x, cross]);
    x = o.op('Add', [x, o.ffn(o.rmsNorm(x, `${p}.2.layer_norm.weight`), `${p}.2`)]);
  }
  x = o.rmsNorm(x, 'decoder.final_layer_norm.weight');
  if (h.tied) x = o.op('Mul', [x, w.f32('head_scale', h.dModel ** -0.5)]);
  const flat = o.op('Reshape', [x, w.i64('shape_flat', [2], [-1, D])]);
  const scores = o.head(flat, head, headRows);
  const outShape = o.op('Concat', [o.op('Shape', [ids]), w.i64('minus_one', [1], [-1])], { axis: 0 });
  const logits = o.op('Reshape', [scores, outShape], {}, 'logits');
  g.output('logits', DataType.FLOAT, ['batch_size', 'decoder_sequence_length', headRows]);
  addStepLogProbOutputs(g, logits, headRows, ids);
  return g;
}

/** The `quals-step` cross-attention cache: encoder_hidden_states [1, S, D] -> present.L.encoder.{key,value} [1, H, S, d_kv]. */
function buildCrossKv(h: T5Hyper, ckpt: Checkpoint, precision: WeightPrecision = 'fp32'): Graph {
  const g = new Graph(precision === 'fp32' ? 't5_cross_kv_quals' : `t5_cross_kv_quals_${precision}`);
  const encH = g.input('encoder_hidden_states', DataType.FLOAT, [1, 'encoder_sequence_length', h.dModel]);
  const o = new T5Ops(g, new Weights(g, ckpt, precision), h);
  for (let l = 0; l < h.decoderLayers; l++) {
    const a = `decoder.block.${l}.layer.1.EncDecAttention`;
    o.op('Identity', [o.project(encH, `${a}.k.weight`)], {}, `present.${l}.encoder.key`);
    o.op('Identity', [o.project(encH, `${a}.v.weight`)], {}, `present.${l}.encoder.value`);
    g.output(`present.${l}.encoder.key`, DataType.FLOAT, [1, h.heads, 'encoder_sequence_length', h.dKv]);
    g.output(`present.${l}.encoder.value`, DataType.FLOAT, [1, h.heads, 'encoder_sequence_length', h.dKv]);
  }
  return g;
}

/**
 * The encoder and merged decoder of a T5ForConditionalGeneration / MT5ForConditionalGeneration
 * checkpoint. Reads only tensor shapes here; the weights are read when the graphs are written.
 * Throws UnsupportedModelError for configurations or checkpoints it cannot build faithfully.
 */
export function buildHfT5Graphs(config: Record<string, unknown>, ckpt: Checkpoint, opts: BuildOptions = {}): Seq2SeqGraphs {
  const h = parseT5Config(config);
  const emb = embeddingName(ckpt);
  const embRows = rowsOf(ckpt, emb, h.dModel);
  let head = emb;
  if (!h.tied) {
    if (!ckpt.tensors.has('lm_head.weight')) {
      throw new UnsupportedModelError(`config.json says tie_word_embeddings is false, but ${ckpt.description} has no lm_head.weight.`);
    }
    head = 'lm_head.weight';
  }
  const headRows = rowsOf(ckpt, head, h.dModel);
  // Both stacks read their position bias from the first block only.
  relativeBucketTable(true, h.numBuckets, h.maxDistance);
  relativeBucketTable(false, h.numBuckets, h.maxDistance);
  return {
    encoder: buildEncoder(h, ckpt, emb, embRows),
    decoder: buildDecoder(h, ckpt, emb, embRows, head, headRows),
    opset: OPSET,
    step: { decoder: buildStepDecoder(h, ckpt, emb, embRows, head, headRows), crossKv: buildCrossKv(h, ckpt) },
    ...(opts.int8
      ? { int8: { encoder: buildEncoder(h, ckpt, emb, embRows, 'int8'), decoder: buildStepDecoder(h, ckpt, emb, embRows, head, headRows, 'int8'), crossKv: buildCrossKv(h, ckpt, 'int8') } }
      : {}),
  };
}
