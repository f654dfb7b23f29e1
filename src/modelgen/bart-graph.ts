/**
 * Builds a BART-like seq2seq model in the Optimum / transformers.js ONNX layout with the project's
 * ONNX writer: `onnx/encoder_model.onnx` and `onnx/decoder_model_merged.onnx` (an `If` on
 * `use_cache_branch`), plus config.json, generation_config.json and the tokenizer files.
 *
 * The architecture is deliberately simple and mirrored exactly by models/tiny-qagen/train.py:
 * learned positions starting at 0, no embedding scale or embedding layer norm, post-LN layers,
 * ReLU feed-forward, additive -1e9 masks, a shared token embedding, and an untied LM head
 * (`lm_head.weight_T`, stored [d_model, vocab]) plus `final_logits_bias`. It is NOT loadable as
 * Hugging Face BART (which offsets positions by 2 and uses GELU); it only has BART's interface.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataType, Graph, modelProto } from '../scoring/model/onnx-writer';
import type { BuiltTokenizer } from './tokenizer-builder';
import { STEP_FILES, STEP_GRAPHS_VERSION, variantFiles } from '../models/model-files';
import { addNewHistoryOutput, addStepLogProbOutputs, mergedDecoderInputs, pastFromHistory, stepHistoryInputs } from '../models/graphs/graphs';
import { INT8_RECORD, Int8Weights, type WeightPrecision, int8MatMul } from '../models/graphs/quantize';

export interface BartHyper {
  vocabSize: number;
  dModel: number;
  heads: number;
  ffn: number;
  encoderLayers: number;
  decoderLayers: number;
  maxPositions: number;
}

/**
 * Supplies the initializer called `name` (ONNX layout: linear weights are [in, out]). It may be
 * called more than once for a name (the shared embedding is in both graphs) and must then return
 * the same values.
 */
export type WeightProvider = (name: string, dims: number[]) => Float32Array;

const NEG = -1e9;

const registeredNames = new WeakMap<Graph, Set<string>>();
const int8Weights = new WeakMap<Graph, Int8Weights>();

/** Op helpers for one graph; weights and constants live in `outer` so If-branches can use them. */
class Ops {
  constructor(
    private readonly g: Graph,
    private readonly outer: Graph,
    private readonly h: BartHyper,
    private readonly w: WeightProvider,
    /** `int8`: MatMul weights stored as int8 (models/graphs/quantize.ts); everything else stays fp32. */
    private readonly precision: WeightPrecision = 'fp32',
  ) {}

  /** Initializer names already registered in `outer` (shared by all Ops on the same outer graph). */
  private get registered(): Set<string> {
    let set = registeredNames.get(this.outer);
    if (!set) registeredNames.set(this.outer, (set = new Set()));
    return set;
  }

  private get hd(): number {
    return this.h.dModel / this.h.heads;
  }

  i64(key: string, dims: number[], data: number[]): string {
    const name = `i64_${key}`;
    if (!this.registered.has(name)) this.registered.add(this.outer.i64(dims, data, name));
    return name;
  }

  f32c(key: string, value: number): string {
    const name = `f32_${key}`;
    if (!this.registered.has(name)) this.registered.add(this.outer.f32([], [value], name));
    return name;
  }

  weight(name: string, dims: number[]): string {
    if (this.registered.has(name)) return name;
    this.registered.add(name);
    const data = this.w(name, dims);
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`weight ${name}: expected ${n} values for [${dims}], got ${data.length}`);
    return this.outer.f32(dims, data, name);
  }

  op(type: string, inputs: string[], attrs: Record<string, number | number[]> = {}, output?: string): string {
    return this.g.op(type, inputs, attrs, output);
  }

  /** Scalar dimension `axis` of x's shape, as an int64 scalar. */
  dim(x: string, axis: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.i64(`i${axis}`, [], [axis])], { axis: 0 });
  }

  linear(x: string, din: number, dout: number, name: string): string {
    if (this.precision === 'int8') return this.matmul(x, `${name}.weight`, din, dout, this.weight(`${name}.bias`, [dout]));
    return this.op('Add', [this.op('MatMul', [x, this.weight(`${name}.weight`, [din, dout])]), this.weight(`${name}.bias`, [dout])]);
  }

  /** x @ W (+ bias) for a weight [din, dout]: MatMul (+ Add) in fp32, one DynamicQuantizeMatMul in int8. */
  matmul(x: string, name: string, din: number, dout: number, bias?: string, output?: string): string {
    if (this.precision === 'fp32') {
      const y = this.op('MatMul', [x, this.weight(name, [din, dout])]);
      return bias ? this.op('Add', [y, bias], {}, output) : y;
    }
    let q = int8Weights.get(this.outer);
    if (!q) int8Weights.set(this.outer, (q = new Int8Weights()));
    const w = { q: `${name}.int8`, scale: `${name}.scale` };
    if (!this.registered.has(w.q)) {
      this.registered.add(w.q);
      q.register(this.outer, name, din, dout, () => this.w(name, [din, dout]));
    }
    return int8MatMul(this.g, x, w, bias, output);
  }

  /** [B, T, D] -> [B, H, T, hd] */
  heads(x: string): string {
    const shape = this.i64('shape4', [4], [0, 0, this.h.heads, this.hd]);
    return this.op('Transpose', [this.op('Reshape', [x, shape])], { perm: [0, 2, 1, 3] });
  }

  attend(q: string, k: string, v: string, maskAdd: string): string {
    const scores = this.op('MatMul', [q, this.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
    const scaled = this.op('Add', [this.op('Mul', [scores, this.f32c('scale', 1 / Math.sqrt(this.hd))]), maskAdd]);
    const ctx = this.op('MatMul', [this.op('Softmax', [scaled], { axis: -1 }), v]);
    return this.op('Reshape', [this.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), this.i64('shape3', [3], [0, 0, this.h.dModel])]);
  }

  layerNorm(x: string, name: string): string {
    const D = this.h.dModel;
    const d = this.op('Sub', [x, this.op('ReduceMean', [x], { axes: [-1], keepdims: 1 })]);
    const variance = this.op('ReduceMean', [this.op('Mul', [d, d])], { axes: [-1], keepdims: 1 });
    const y = this.op('Div', [d, this.op('Sqrt', [this.op('Add', [variance, this.f32c('eps', 1e-5)])])]);
    return this.op('Add', [this.op('Mul', [y, this.weight(`${name}.weight`, [D])]), this.weight(`${name}.bias`, [D])]);
  }

  ffn(x: string, prefix: string): string {
    const { dModel: D, ffn } = this.h;
    return this.linear(this.op('Relu', [this.linear(x, D, ffn, `${prefix}.fc1`)]), ffn, D, `${prefix}.fc2`);
  }

  /** int64 key-padding mask [B, S] -> additive float mask [B, 1, 1, S]. */
  padMask(mask: string): string {
    const open = this.op('Sub', [this.f32c('one', 1), this.op('Cast', [mask], { to: DataType.FLOAT })]);
    return this.op('Unsqueeze', [this.op('Mul', [open, this.f32c('neg', NEG)]), this.i64('ax12', [2], [1, 2])]);
  }

  /** Token embedding plus learned positions gathered at `positions`. */
  embed(ids: string, positions: string, posTable: string): string {
    const { vocabSize: V, dModel: D, maxPositions: P } = this.h;
    const tok = this.op('Gather', [this.weight('model.shared.weight', [V, D]), ids], { axis: 0 });
    const pos = this.op('Gather', [this.weight(posTable, [P, D]), positions], { axis: 0 });
    return this.op('Add', [tok, pos]);
  }
}

/** Encoder: (input_ids, attention_mask) -> last_hidden_state. */
export function buildEncoderGraph(h: BartHyper, w: WeightProvider, precision: WeightPrecision = 'fp32'): Graph {
  const g = new Graph(precision === 'fp32' ? 'bart_encoder' : `bart_encoder_${precision}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const am = g.input('attention_mask', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const o = new Ops(g, g, h, w, precision);
  const D = h.dModel;
  const positions = o.op('Range', [o.i64('zero', [], [0]), o.dim(ids, 1), o.i64('one', [], [1])]);
  let x = o.embed(ids, positions, 'model.encoder.embed_positions.weight');
  const mask = o.padMask(am);
  for (let l = 0; l < h.encoderLayers; l++) {
    const p = `model.encoder.layers.${l}`;
    const a = o.attend(o.heads(o.linear(x, D, D, `${p}.self_attn.q_proj`)), o.heads(o.linear(x, D, D, `${p}.self_attn.k_proj`)),
      o.heads(o.linear(x, D, D, `${p}.self_attn.v_proj`)), mask);
    x = o.layerNorm(o.op('Add', [x, o.linear(a, D, D, `${p}.self_attn.out_proj`)]), `${p}.self_attn_layer_norm`);
    x = o.layerNorm(o.op('Add', [x, o.ffn(x, p)]), `${p}.final_layer_norm`);
  }
  o.op('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state', DataType.FLOAT, ['batch_size', 'encoder_sequence_length', D]);
  return g;
}

/**
 * Merged decoder with the exact Optimum input/output names. `use_cache_branch` true: past self-
 * and cross-attention keys/values are used as given; false: past self KV is ignored (sliced
 * empty) and cross KV is computed from encoder_hidden_states.
 */
export function buildDecoderMergedGraph(h: BartHyper, w: WeightProvider): Graph {
  const { dModel: D, heads: H, vocabSize: V } = h;
  const hd = D / H;
  const g = new Graph('bart_decoder_merged');
  const { encMask, ids, encH, past, useCache } = mergedDecoderInputs(g, { layers: h.decoderLayers, heads: H, headDim: hd, dModel: D });
  const o = new Ops(g, g, h, w);

  const thenG = g.subgraph('use_cache');
  const elseG = g.subgraph('no_cache');
  const eo = new Ops(elseG, g, h, w);
  const ifOutputs: string[] = [];
  const sel = past.map((_, l) => ({ dk: `sel_self_k_${l}`, dv: `sel_self_v_${l}`, ek: `present.${l}.encoder.key`, ev: `present.${l}.encoder.value` }));
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = `model.decoder.layers.${l}.encoder_attn`;
    for (const k of ['dk', 'dv', 'ek', 'ev'] as const) thenG.output(thenG.op('Identity', [past[l]![k]]), DataType.FLOAT, null);
    const empty = (t: string) => eo.op('Slice', [t, eo.i64('ax0', [1], [0]), eo.i64('ax0', [1], [0]), eo.i64('ax2', [1], [2])]);
    elseG.output(empty(past[l]!.dk), DataType.FLOAT, null);
    elseG.output(empty(past[l]!.dv), DataType.FLOAT, null);
    elseG.output(eo.heads(eo.linear(encH, D, D, `${p}.k_proj`)), DataType.FLOAT, null);
    elseG.output(eo.heads(eo.linear(encH, D, D, `${p}.v_proj`)), DataType.FLOAT, null);
    const s = sel[l]!;
    ifOutputs.push(s.dk, s.dv, s.ek, s.ev);
  }
  g.opMulti('If', [useCache], { then_branch: thenG, else_branch: elseG }, ifOutputs);

  // Query positions run from the cached length P to P+T-1; the causal mask is [T, P+T].
  const P = o.dim(sel[0]!.dk, 2);
  const end = o.op('Add', [P, o.dim(ids, 1)]);
  const one = o.i64('one', [], [1]);
  const qpos = o.op('Range', [P, end, one]);
  const kpos = o.op('Range', [o.i64('zero', [], [0]), end, one]);
  const future = o.op('Greater', [o.op('Unsqueeze', [kpos, o.i64('ax0', [1], [0])]), o.op('Unsqueeze', [qpos, o.i64('ax1', [1], [1])])]);
  const causal = o.op('Where', [future, o.f32c('neg', NEG), o.f32c('zero_f', 0)]);
  const crossMask = o.padMask(encMask);
  let x = o.embed(ids, qpos, 'model.decoder.embed_positions.weight');
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = `model.decoder.layers.${l}`;
    const s = sel[l]!;
    const q = o.heads(o.linear(x, D, D, `${p}.self_attn.q_proj`));
    const K = o.op('Concat', [s.dk, o.heads(o.linear(x, D, D, `${p}.self_attn.k_proj`))], { axis: 2 }, `present.${l}.decoder.key`);
    const Vv = o.op('Concat', [s.dv, o.heads(o.linear(x, D, D, `${p}.self_attn.v_proj`))], { axis: 2 }, `present.${l}.decoder.value`);
    x = o.layerNorm(o.op('Add', [x, o.linear(o.attend(q, K, Vv, causal), D, D, `${p}.self_attn.out_proj`)]), `${p}.self_attn_layer_norm`);
    const q2 = o.heads(o.linear(x, D, D, `${p}.encoder_attn.q_proj`));
    x = o.layerNorm(o.op('Add', [x, o.linear(o.attend(q2, s.ek, s.ev, crossMask), D, D, `${p}.encoder_attn.out_proj`)]), `${p}.encoder_attn_layer_norm`);
    x = o.layerNorm(o.op('Add', [x, o.ffn(x, p)]), `${p}.final_layer_norm`);
  }
  const head = o.op('MatMul', [x, o.weight('lm_head.weight_T', [D, V])]);
  o.op('Add', [head, o.weight('final_logits_bias', [V])], {}, 'logits');
  g.output('logits', DataType.FLOAT, ['batch_size', 'decoder_sequence_length', V]);
  for (let l = 0; l < h.decoderLayers; l++) {
    const selfLen = 'past_decoder_sequence_length + decoder_sequence_length';
    g.output(`present.${l}.decoder.key`, DataType.FLOAT, ['batch_size', H, selfLen, hd]);
    g.output(`present.${l}.decoder.value`, DataType.FLOAT, ['batch_size', H, selfLen, hd]);
    g.output(`present.${l}.encoder.key`, DataType.FLOAT, ['batch_size', H, 'encoder_sequence_length_out', hd]);
    g.output(`present.${l}.encoder.value`, DataType.FLOAT, ['batch_size', H, 'encoder_sequence_length_out', hd]);
  }
  return g;
}

/**
 * The decoder graph design `quals-step` (docs/quals-engine.md, "Decoder graph designs"): one graph,
 * no `If`, written for this engine's searches.
 * - the self-attention cache is an append-only history (graphs.ts stepHistoryInputs): `history_rows`
 *   [B, P] picks each row's past out of `history.L.*` [R, H, hd] (beam reordering and the expansion
 *   of one prompt row to B beams happen there), and the call outputs only its new tokens' rows;
 * - the cross-attention cache is fed once at batch 1 ([1, H, S, hd], from cross_kv_quals.onnx) and
 *   every row's queries attend to it in one [1, H, B*T, S] product instead of B tiled copies;
 * - log-softmax + top-k (`k`, `extra_ids`) and the teacher-forcing gather (`gold_ids`) run on the
 *   logits inside the graph: `top_logp`/`top_ids` [B*T, k], `extra_logp` [B*T, E], `gold_logp` [B, T].
 * Valid for any number of new tokens after any cached length.
 */
export function buildDecoderStepGraph(h: BartHyper, w: WeightProvider, precision: WeightPrecision = 'fp32'): Graph {
  const { dModel: D, heads: H, vocabSize: V } = h;
  const hd = D / H;
  const g = new Graph(precision === 'fp32' ? 'bart_decoder_quals_step' : `bart_decoder_quals_step_${precision}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'decoder_sequence_length']);
  const history = stepHistoryInputs(g, { layers: h.decoderLayers, heads: H, headDim: hd });
  const encMask = g.input('encoder_attention_mask', DataType.INT64, [1, 'encoder_sequence_length']);
  const past = Array.from({ length: h.decoderLayers }, (_, l) => ({
    ek: g.input(`past_key_values.${l}.encoder.key`, DataType.FLOAT, [1, H, 'encoder_sequence_length', hd]),
    ev: g.input(`past_key_values.${l}.encoder.value`, DataType.FLOAT, [1, H, 'encoder_sequence_length', hd]),
  }));
  const o = new Ops(g, g, h, w, precision);
  const rows = history.layers.map((t) => ({ dk: pastFromHistory(g, t.key, history.rows), dv: pastFromHistory(g, t.value, history.rows) }));
  const P = o.dim(rows[0]!.dk, 2);
  const end = o.op('Add', [P, o.dim(ids, 1)]);
  const one = o.i64('one', [], [1]);
  const qpos = o.op('Range', [P, end, one]);
  const kpos = o.op('Range', [o.i64('zero', [], [0]), end, one]);
  const future = o.op('Greater', [o.op('Unsqueeze', [kpos, o.i64('ax0', [1], [0])]), o.op('Unsqueeze', [qpos, o.i64('ax1', [1], [1])])]);
  const causal = o.op('Where', [future, o.f32c('neg', NEG), o.f32c('zero_f', 0)]);
  const crossMask = o.padMask(encMask); // [1, 1, 1, S]
  let x = o.embed(ids, qpos, 'model.decoder.embed_positions.weight');
  const flatHeads = o.i64('flat_heads', [4], [1, -1, H, hd]);
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = `model.decoder.layers.${l}`;
    const s = rows[l]!;
    const q = o.heads(o.linear(x, D, D, `${p}.self_attn.q_proj`));
    const kNew = o.linear(x, D, D, `${p}.self_attn.k_proj`);
    const vNew = o.linear(x, D, D, `${p}.self_attn.v_proj`);
    addNewHistoryOutput(g, kNew, l, 'key', { heads: H, headDim: hd });
    addNewHistoryOutput(g, vNew, l, 'value', { heads: H, headDim: hd });
    const K = o.op('Concat', [s.dk, o.heads(kNew)], { axis: 2 });
    const Vv = o.op('Concat', [s.dv, o.heads(vNew)], { axis: 2 });
    x = o.layerNorm(o.op('Add', [x, o.linear(o.attend(q, K, Vv, causal), D, D, `${p}.self_attn.out_proj`)]), `${p}.self_attn_layer_norm`);
    // Cross-attention: all B*T queries against the batch-1 keys/values, [1, H, B*T, hd].
    const q2 = o.op('Transpose', [o.op('Reshape', [o.linear(x, D, D, `${p}.encoder_attn.q_proj`), flatHeads])], { perm: [0, 2, 1, 3] });
    const scores = o.op('MatMul', [q2, o.op('Transpose', [past[l]!.ek], { perm: [0, 1, 3, 2] })]);
    const scaled = o.op('Add', [o.op('Mul', [scores, o.f32c('scale', 1 / Math.sqrt(hd))]), crossMask]);
    const ctx = o.op('MatMul', [o.op('Softmax', [scaled], { axis: -1 }), past[l]!.ev]);
    const back = o.op('Reshape', [o.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), o.op('Shape', [x])]);
    x = o.layerNorm(o.op('Add', [x, o.linear(back, D, D, `${p}.encoder_attn.out_proj`)]), `${p}.encoder_attn_layer_norm`);
    x = o.layerNorm(o.op('Add', [x, o.ffn(x, p)]), `${p}.final_layer_norm`);
  }
  const logits = o.matmul(x, 'lm_head.weight_T', D, V, o.weight('final_logits_bias', [V]), 'logits');
  g.output('logits', DataType.FLOAT, ['batch_size', 'decoder_sequence_length', V]);
  addStepLogProbOutputs(g, logits, V, ids);
  return g;
}

/** The `quals-step` design's cross-attention cache: encoder_hidden_states [1, S, D] -> present.N.encoder.{key,value} [1, H, S, hd]. */
export function buildCrossKvGraph(h: BartHyper, w: WeightProvider, precision: WeightPrecision = 'fp32'): Graph {
  const { dModel: D, heads: H } = h;
  const g = new Graph(precision === 'fp32' ? 'bart_cross_kv_quals' : `bart_cross_kv_quals_${precision}`);
  const encH = g.input('encoder_hidden_states', DataType.FLOAT, [1, 'encoder_sequence_length', D]);
  const o = new Ops(g, g, h, w, precision);
  for (let l = 0; l < h.decoderLayers; l++) {
    const p = `model.decoder.layers.${l}.encoder_attn`;
    o.op('Identity', [o.heads(o.linear(encH, D, D, `${p}.k_proj`))], {}, `present.${l}.encoder.key`);
    o.op('Identity', [o.heads(o.linear(encH, D, D, `${p}.v_proj`))], {}, `present.${l}.encoder.value`);
    g.output(`present.${l}.encoder.key`, DataType.FLOAT, [1, H, 'encoder_sequence_length', D / H]);
    g.output(`present.${l}.encoder.value`, DataType.FLOAT, [1, H, 'encoder_sequence_length', D / H]);
  }
  return g;
}

/** Special token ids shared by every generated model (BART's). */
export const BART_IDS = { bos: 0, pad: 1, eos: 2, decoderStart: 2 } as const;

/** config.json: BART's keys, with no forced BOS (QAGen decoding starts from </s> alone). */
export function bartConfig(h: BartHyper, name: string): Record<string, unknown> {
  return {
    _name_or_path: name,
    model_type: 'bart',
    architectures: ['BartForConditionalGeneration'],
    is_encoder_decoder: true,
    vocab_size: h.vocabSize,
    d_model: h.dModel,
    encoder_layers: h.encoderLayers,
    decoder_layers: h.decoderLayers,
    encoder_attention_heads: h.heads,
    decoder_attention_heads: h.heads,
    encoder_ffn_dim: h.ffn,
    decoder_ffn_dim: h.ffn,
    activation_function: 'relu',
    max_position_embeddings: h.maxPositions,
    scale_embedding: false,
    pad_token_id: BART_IDS.pad,
    bos_token_id: BART_IDS.bos,
    eos_token_id: BART_IDS.eos,
    decoder_start_token_id: BART_IDS.decoderStart,
    forced_eos_token_id: BART_IDS.eos,
    use_cache: true,
    'transformers.js_config': { dtype: 'fp32' },
  };
}

export function generationConfig(maxLength = 60): Record<string, unknown> {
  return {
    bos_token_id: BART_IDS.bos,
    pad_token_id: BART_IDS.pad,
    eos_token_id: BART_IDS.eos,
    decoder_start_token_id: BART_IDS.decoderStart,
    forced_eos_token_id: BART_IDS.eos,
    max_length: maxLength,
  };
}

export interface ModelFiles {
  hyper: BartHyper;
  weights: WeightProvider;
  tokenizer: BuiltTokenizer;
  name: string;
  /** Also write the `quals-step` decoder design (default true); the merged decoder is always written. */
  stepGraphs?: boolean;
  /** Also write the int8 variant (encoder and `quals-step` graphs with int8 MatMul weights; needs stepGraphs). */
  int8?: boolean;
  /** Written as quals.json when given. */
  quals?: Record<string, unknown>;
}

/**
 * Writes the whole model folder. Not atomic by itself: callers write into a temporary folder
 * and rename it into place. Graphs are serialised one at a time to bound peak memory.
 */
export function writeBartModel(dir: string, m: ModelFiles): void {
  if (m.tokenizer.vocab.size !== m.hyper.vocabSize) {
    throw new Error(`tokenizer has ${m.tokenizer.vocab.size} tokens but the model's vocabulary is ${m.hyper.vocabSize}`);
  }
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'onnx', 'encoder_model.onnx'), modelProto(buildEncoderGraph(m.hyper, m.weights)));
  fs.writeFileSync(path.join(dir, 'onnx', 'decoder_model_merged.onnx'), modelProto(buildDecoderMergedGraph(m.hyper, m.weights)));
  const step = m.stepGraphs !== false;
  if (step) {
    fs.writeFileSync(path.join(dir, STEP_FILES.decoder), modelProto(buildDecoderStepGraph(m.hyper, m.weights)));
    fs.writeFileSync(path.join(dir, STEP_FILES.crossKv), modelProto(buildCrossKvGraph(m.hyper, m.weights)));
  }
  const int8 = step && m.int8 === true;
  if (int8) {
    const files = variantFiles('int8');
    fs.writeFileSync(path.join(dir, files.encoder), modelProto(buildEncoderGraph(m.hyper, m.weights, 'int8')));
    fs.writeFileSync(path.join(dir, files.stepDecoder), modelProto(buildDecoderStepGraph(m.hyper, m.weights, 'int8')));
    fs.writeFileSync(path.join(dir, files.crossKv), modelProto(buildCrossKvGraph(m.hyper, m.weights, 'int8')));
  }
  const json = (file: string, value: unknown) => fs.writeFileSync(path.join(dir, file), JSON.stringify(value, null, 2) + '\n');
  json('config.json', bartConfig(m.hyper, m.name));
  json('generation_config.json', generationConfig());
  json('tokenizer.json', m.tokenizer.tokenizerJson);
  json('tokenizer_config.json', m.tokenizer.tokenizerConfig);
  json('special_tokens_map.json', m.tokenizer.specialTokensMap);
  // The with-past branch of these graphs is valid for any number of new tokens (see graphs.ts).
  if (m.quals) {
    const graphs = { builder: 'quals-modelgen', multiTokenCache: true, ...(step ? { design: 'quals-step', stepGraphs: STEP_GRAPHS_VERSION } : {}), ...(int8 ? { variants: { int8: INT8_RECORD } } : {}) };
    json('quals.json', { ...m.quals, graphs });
  }
}
