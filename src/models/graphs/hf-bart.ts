/**
 * Hugging Face BART (BartForConditionalGeneration) and mBART (MBartForConditionalGeneration) as
 * ONNX graphs in the Optimum layout, built with the project's own writer from a checkpoint's
 * weights. The computation follows transformers 4.35 `modeling_bart.py` / `modeling_mbart.py`
 * operation for operation (float32 throughout):
 *
 * - token embedding (the one `shared` matrix, used by encoder and decoder) times sqrt(d_model)
 *   when `scale_embedding`; learned positions with BART's offset 2 (positions = past + arange(T)
 *   + 2); `layernorm_embedding` after embedding + positions (encoder and decoder);
 * - BART layers are post-LN (residual add, then LayerNorm); mBART layers are pre-LN with a final
 *   `layer_norm` after the last encoder and decoder layer. LayerNorm eps is 1e-5 (nn.LayerNorm);
 * - attention: q = q_proj(x) * head_dim^-0.5 (scaling applied to the projection output, bias
 *   included, as HF does), scores + additive mask (torch.finfo(float32).min where masked, as
 *   `_prepare_4d_attention_mask` / `_make_causal_mask` build it), softmax, out_proj;
 * - feed-forward fc2(act(fc1(x))) with every ACT2FN activation of transformers 4.35;
 * - logits = lm_head(x) + final_logits_bias, the LM head tied to the shared embedding unless
 *   `tie_word_embeddings` is false (then `lm_head.weight`).
 *
 * Graph interface: the Optimum encoder (input_ids, attention_mask -> last_hidden_state) and
 * merged decoder (encoder_attention_mask, input_ids, encoder_hidden_states,
 * past_key_values.L.{decoder,encoder}.{key,value}, use_cache_branch -> logits,
 * present.L.{decoder,encoder}.{key,value}). Unlike Optimum's, the with-past branch handles any
 * number T of new tokens after P cached ones (queries at positions P..P+T-1, causal mask over
 * P+T keys), including an empty past; there `present.L.encoder.*` pass the inputs through. The
 * no-cache branch ignores the fed past self KV and computes the cross KV from
 * encoder_hidden_states.
 *
 * All weights are lazy initializers: nothing is read from the checkpoint until the graph is
 * written, and then one tensor at a time (PyTorch nn.Linear weights [out, in] are transposed to
 * [in, out] inside the lazy initializer). This module must not import onnxruntime.
 */
import type { Checkpoint } from '../checkpoint/checkpoint';
import { type AttrValue, DataType, Graph, floatAttr } from '../../scoring/model/onnx-writer';
import { type BuildOptions, type Seq2SeqGraphs, UnsupportedModelError, addNewHistoryOutput, addStepLogProbOutputs, mergedDecoderInputs, pastFromHistory, stepHistoryInputs } from './graphs';
import { Int8Weights, type WeightPrecision, int8MatMul } from './quantize';

/** LayerNormalization is an ONNX op from opset 17 (one fused kernel in ORT instead of 8 ops). */
export const HF_BART_OPSET = 17;

/** torch.finfo(torch.float32).min: what HF puts at masked attention positions. */
const MASKED = -3.4028234663852886e38;
/** BartLearnedPositionalEmbedding / MBartLearnedPositionalEmbedding offset. */
const POSITION_OFFSET = 2;
const LAYER_NORM_EPS = 1e-5;

/** transformers 4.35 ACT2FN names this builder implements (all of them). */
export const HF_ACTIVATIONS = [
  'gelu',
  'gelu_10',
  'gelu_fast',
  'gelu_new',
  'gelu_python',
  'gelu_pytorch_tanh',
  'gelu_accurate',
  'laplace',
  'linear',
  'mish',
  'quick_gelu',
  'relu',
  'relu2',
  'relu6',
  'sigmoid',
  'silu',
  'swish',
  'tanh',
] as const;
type Activation = (typeof HF_ACTIVATIONS)[number];

interface Stack {
  layers: number;
  heads: number;
  ffn: number;
}

/** Everything the graphs depend on, resolved from config.json and the checkpoint's tensor list. */
export interface HfBartSpec {
  family: 'bart' | 'mbart';
  /** Pre-LN layers and final encoder/decoder layer_norm (mBART). */
  preLayerNorm: boolean;
  vocabSize: number;
  dModel: number;
  maxPositions: number;
  encoder: Stack;
  decoder: Stack;
  activation: Activation;
  /** sqrt(d_model) when scale_embedding, else 1. */
  embedScale: number;
  /** Checkpoint key prefix of the base model: "model." (…ForConditionalGeneration) or "" (BartModel). */
  prefix: string;
  /** Checkpoint tensor used as the token embedding (model.shared.weight or an alias). */
  embeddingKey: string;
  /** Checkpoint tensor of the LM head ([V, D]); equals embeddingKey when tied. */
  lmHeadKey: string;
  /** final_logits_bias when the checkpoint has it (HF uses zeros when it is missing). */
  finalLogitsBiasKey: string | null;
}

const SUPPORTED_TYPES = ['bart', 'mbart'];

/** Reads config.json (with BartConfig / MBartConfig defaults, as HF does) and checks the checkpoint. */
export function hfBartSpec(config: Record<string, unknown>, ckpt: Checkpoint): HfBartSpec {
  const modelType = config.model_type;
  if (typeof modelType !== 'string' || !SUPPORTED_TYPES.includes(modelType)) {
    throw new UnsupportedModelError(
      `config.json has model_type ${JSON.stringify(modelType ?? null)}; this converter builds "bart" and "mbart" models only.`,
    );
  }
  const family = modelType as 'bart' | 'mbart';
  const int = (key: string, fallback: number): number => {
    const v = config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new UnsupportedModelError(`config.json has ${key} = ${JSON.stringify(v)}; a positive integer is needed.`);
    }
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = config[key] ?? fallback;
    if (typeof v !== 'boolean') throw new UnsupportedModelError(`config.json has ${key} = ${JSON.stringify(v)}; true or false is needed.`);
    return v;
  };
  if (family === 'bart') {
    // transformers < 4 used these keys to run mBART-like checkpoints through the BART class; 4.x
    // ignores them for model_type "bart" (always post-LN, no final layer norm), which would
    // silently give wrong outputs for such a checkpoint.
    for (const key of ['normalize_before', 'add_final_layer_norm']) {
      if (config[key] === true) {
        throw new UnsupportedModelError(
          `config.json sets ${key}: true with model_type "bart". Transformers 4 ignores ${key} for BART (it always builds ` +
            `post-LayerNorm layers), so this legacy mBART-style checkpoint is not supported as "bart"; if it is an mBART ` +
            `model, set model_type to "mbart".`,
        );
      }
    }
  }
  const dModel = int('d_model', 1024);
  const stack = (side: 'encoder' | 'decoder'): Stack => {
    const s = { layers: int(`${side}_layers`, 12), heads: int(`${side}_attention_heads`, 16), ffn: int(`${side}_ffn_dim`, 4096) };
    if (dModel % s.heads !== 0) {
      throw new UnsupportedModelError(`config.json has d_model ${dModel}, which ${side}_attention_heads (${s.heads}) does not divide.`);
    }
    return s;
  };
  const act = config.activation_function ?? 'gelu';
  if (typeof act !== 'string' || !(HF_ACTIVATIONS as readonly string[]).includes(act)) {
    throw new UnsupportedModelError(
      `config.json has activation_function ${JSON.stringify(act)}, which is not one of ${HF_ACTIVATIONS.join(', ')}.`,
    );
  }
  const spec: Omit<HfBartSpec, 'prefix' | 'embeddingKey' | 'lmHeadKey' | 'finalLogitsBiasKey'> = {
    family,
    preLayerNorm: family === 'mbart',
    vocabSize: int('vocab_size', 50265),
    dModel,
    maxPositions: int('max_position_embeddings', 1024),
    encoder: stack('encoder'),
    decoder: stack('decoder'),
    activation: act as Activation,
    embedScale: bool('scale_embedding', false) ? Math.sqrt(dModel) : 1,
  };
  const tied = bool('tie_word_embeddings', true);

  const has = (k: string) => ckpt.tensors.has(k);
  // BartForConditionalGeneration saves the base model under "model."; a bare BartModel does not.
  const prefix = has('model.shared.weight') || has('model.encoder.embed_positions.weight') ? 'model.' : '';
  // encoder/decoder.embed_tokens are the same parameter as shared in HF; safetensors keeps one name.
  const embeddingKey = [`${prefix}shared.weight`, `${prefix}encoder.embed_tokens.weight`, `${prefix}decoder.embed_tokens.weight`].find(has);
  if (!embeddingKey) throw missing(ckpt, `${prefix}shared.weight`);
  let lmHeadKey = embeddingKey;
  if (!tied) {
    if (!has('lm_head.weight')) {
      throw new UnsupportedModelError(
        `config.json sets tie_word_embeddings: false but ${ckpt.description} has no lm_head.weight (Hugging Face would use a random LM head).`,
      );
    }
    lmHeadKey = 'lm_head.weight';
  }
  const full: HfBartSpec = { ...spec, prefix, embeddingKey, lmHeadKey, finalLogitsBiasKey: has('final_logits_bias') ? 'final_logits_bias' : null };
  checkShapes(full, ckpt);
  return full;
}

function missing(ckpt: Checkpoint, key: string): UnsupportedModelError {
  return new UnsupportedModelError(`${ckpt.description} has no tensor ${key}, which this BART config.json needs.`);
}

/** Every tensor the graphs read, with its PyTorch shape. */
function requiredTensors(s: HfBartSpec): Map<string, number[]> {
  const { dModel: D, vocabSize: V, prefix: p } = s;
  const need = new Map<string, number[]>();
  need.set(s.embeddingKey, [V, D]);
  need.set(s.lmHeadKey, [V, D]);
  if (s.finalLogitsBiasKey) need.set(s.finalLogitsBiasKey, [1, V]);
  const ln = (name: string) => {
    need.set(`${name}.weight`, [D]);
    need.set(`${name}.bias`, [D]);
  };
  const linear = (name: string, out: number, inp: number) => {
    need.set(`${name}.weight`, [out, inp]);
    need.set(`${name}.bias`, [out]);
  };
  for (const side of ['encoder', 'decoder'] as const) {
    const st = s[side];
    need.set(`${p}${side}.embed_positions.weight`, [s.maxPositions + POSITION_OFFSET, D]);
    ln(`${p}${side}.layernorm_embedding`);
    if (s.preLayerNorm) ln(`${p}${side}.layer_norm`);
    for (let l = 0; l < st.layers; l++) {
      const lp = `${p}${side}.layers.${l}`;
      const attns = side === 'encoder' ? ['self_attn'] : ['self_attn', 'encoder_attn'];
      for (const a of attns) {
        for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) linear(`${lp}.${a}.${proj}`, D, D);
        ln(`${lp}.${a}_layer_norm`);
      }
      linear(`${lp}.fc1`, st.ffn, D);
      linear(`${lp}.fc2`, D, st.ffn);
      ln(`${lp}.final_layer_norm`);
    }
  }
  return need;
}

function checkShapes(s: HfBartSpec, ckpt: Checkpoint): void {
  for (const [key, shape] of requiredTensors(s)) {
    const info = ckpt.tensors.get(key);
    if (!info) throw missing(ckpt, key);
    if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
      throw new UnsupportedModelError(
        `${ckpt.description}: tensor ${key} has shape [${info.shape.join(', ')}] but config.json implies [${shape.join(', ')}].`,
      );
    }
  }
}

/** [rows, cols] row-major -> [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  if (a.length !== rows * cols) throw new Error(`transpose: ${a.length} values for [${rows}, ${cols}]`);
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c]!;
  }
  return out;
}

/** A number as a name fragment, injective: "-" -> "m", "." -> "p", "+" dropped (1e+21 -> 1e21). */
const constName = (v: number): string => String(v).replace(/-/g, 'm').replace(/\./g, 'p').replace(/\+/g, '');

/** Initializers and constants of one top-level graph, registered once by name. */
class Registry {
  private readonly names = new Set<string>();
  private readonly int8 = new Int8Weights();
  constructor(
    readonly outer: Graph,
    private readonly ckpt: Checkpoint,
    /** `int8`: MatMul weights as int8 with per-column scales (quantize.ts). */
    readonly precision: WeightPrecision = 'fp32',
  ) {}

  /** A PyTorch [out, in] weight as the int8 [in, out] matrix x @ W needs (transposed, then quantized, when written). */
  int8Transposed(key: string, out: number, inp: number): { q: string; scale: string } {
    const name = `${key}_T`;
    const w = { q: `${name}.int8`, scale: `${name}.scale` };
    this.once(w.q, () => this.int8.register(this.outer, name, inp, out, () => transpose(this.ckpt.read(key), out, inp)));
    return w;
  }

  private once(name: string, add: () => void): string {
    if (!this.names.has(name)) {
      this.names.add(name);
      add();
    }
    return name;
  }

  i64(values: number[], scalar = false): string {
    const name = `const_i64_${scalar ? 's' : 'v'}_${values.map(constName).join('_')}`;
    return this.once(name, () => this.outer.i64(scalar ? [] : [values.length], values, name));
  }

  f32(value: number): string {
    const name = `const_f32_${constName(value)}`;
    return this.once(name, () => this.outer.f32([], [value], name));
  }

  /** A checkpoint tensor as stored (row-major, PyTorch shape), under its own name. */
  tensor(key: string, dims: number[]): string {
    return this.once(key, () => this.outer.f32(dims, () => this.ckpt.read(key), key));
  }

  /** An nn.Linear weight [out, in], transposed lazily to [in, out] for MatMul. */
  linearWeight(key: string, out: number, inp: number): string {
    const name = `${key}_T`;
    return this.once(name, () => this.outer.f32([inp, out], () => transpose(this.ckpt.read(key), out, inp), name));
  }
}

/** Op helpers writing nodes into `g` (the top-level graph or an If branch). */
class Ops {
  constructor(
    readonly g: Graph,
    readonly r: Registry,
    readonly s: HfBartSpec,
  ) {}

  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.g.op(type, inputs, attrs, output);
  }

  /** Dimension `axis` of x as an int64 scalar. */
  dim(x: string, axis: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.r.i64([axis], true)], { axis: 0 });
  }

  linear(x: string, key: string, out: number, inp: number): string {
    if (this.r.precision === 'int8') return int8MatMul(this.g, x, this.r.int8Transposed(`${key}.weight`, out, inp), this.r.tensor(`${key}.bias`, [out]));
    const w = this.r.linearWeight(`${key}.weight`, out, inp);
    return this.op('Add', [this.op('MatMul', [x, w]), this.r.tensor(`${key}.bias`, [out])]);
  }

  layerNorm(x: string, key: string): string {
    const D = this.s.dModel;
    return this.op('LayerNormalization', [x, this.r.tensor(`${key}.weight`, [D]), this.r.tensor(`${key}.bias`, [D])], {
      axis: -1,
      epsilon: floatAttr(LAYER_NORM_EPS),
    });
  }

  /** [B, T, D] -> [B, H, T, D/H] */
  splitHeads(x: string, heads: number): string {
    const shape = this.r.i64([0, 0, heads, this.s.dModel / heads]);
    return this.op('Transpose', [this.op('Reshape', [x, shape])], { perm: [0, 2, 1, 3] });
  }

  /** softmax(q k^T + mask) v with q already scaled; [B, H, T, hd] -> [B, T, D]. */
  attend(q: string, k: string, v: string, mask: string): string {
    const scores = this.op('Add', [this.op('MatMul', [q, this.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), mask]);
    const ctx = this.op('MatMul', [this.op('Softmax', [scores], { axis: -1 }), v]);
    return this.op('Reshape', [this.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), this.r.i64([0, 0, this.s.dModel])]);
  }

  /** q_proj(x) * head_dim^-0.5, split into heads. */
  query(x: string, key: string, heads: number): string {
    const D = this.s.dModel;
    const scaled = this.op('Mul', [this.linear(x, key, D, D), this.r.f32((D / heads) ** -0.5)]);
    return this.splitHeads(scaled, heads);
  }

  /** int64 [B, S] (1 = attend) -> additive [B, 1, 1, S]: 0 where 1, finfo.min elsewhere (as HF). */
  paddingMask(mask: string): string {
    const open = this.op('Equal', [mask, this.r.i64([1], true)]);
    const add = this.op('Where', [open, this.r.f32(0), this.r.f32(MASKED)]);
    return this.op('Unsqueeze', [add, this.r.i64([1, 2])]);
  }

  activation(x: string): string {
    const c = (v: number) => this.r.f32(v);
    const mul = (a: string, b: string) => this.op('Mul', [a, b]);
    const add = (a: string, b: string) => this.op('Add', [a, b]);
    const erfGelu = () => mul(mul(x, c(0.5)), add(c(1), this.op('Erf', [this.op('Div', [x, c(Math.SQRT2)])])));
    const tanhGelu = () => {
      const cube = mul(mul(x, x), x);
      const inner = mul(add(x, mul(cube, c(0.044715))), c(Math.sqrt(2 / Math.PI)));
      return mul(mul(x, c(0.5)), add(c(1), this.op('Tanh', [inner])));
    };
    switch (this.s.activation) {
      case 'gelu':
      case 'gelu_python':
        return erfGelu();
      case 'gelu_10':
        return this.op('Clip', [erfGelu(), c(-10), c(10)]);
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_accurate':
        return tanhGelu();
      case 'gelu_fast': {
        const inner = mul(mul(x, c(0.7978845608)), add(c(1), mul(mul(x, x), c(0.044715))));
        return mul(mul(x, c(0.5)), add(c(1), this.op('Tanh', [inner])));
      }
      case 'quick_gelu':
        return mul(x, this.op('Sigmoid', [mul(x, c(1.702))]));
      case 'laplace': {
        const z = this.op('Div', [this.op('Sub', [x, c(0.707107)]), c(0.282095 * Math.SQRT2)]);
        return mul(c(0.5), add(c(1), this.op('Erf', [z])));
      }
      case 'linear':
        return x;
      case 'mish':
        return mul(x, this.op('Tanh', [this.op('Softplus', [x])]));
      case 'relu':
        return this.op('Relu', [x]);
      case 'relu2': {
        const r = this.op('Relu', [x]);
        return mul(r, r);
      }
      case 'relu6':
        return this.op('Clip', [x, c(0), c(6)]);
      case 'sigmoid':
        return this.op('Sigmoid', [x]);
      case 'silu':
      case 'swish':
        return mul(x, this.op('Sigmoid', [x]));
      case 'tanh':
        return this.op('Tanh', [x]);
    }
  }

  ffn(x: string, layer: string, ffn: number): string {
    const D = this.s.dModel;
    return this.linear(this.activation(this.linear(x, `${layer}.fc1`, ffn, D)), `${layer}.fc2`, D, ffn);
  }

  /** Token embedding (times embed_scale) + learned positions (offset 2) -> layernorm_embedding. */
  embed(ids: string, firstPos: string, count: string, side: 'encoder' | 'decoder'): string {
    const { vocabSize: V, dModel: D, maxPositions: P, prefix } = this.s;
    let tok = this.op('Gather', [this.r.tensor(this.s.embeddingKey, [V, D]), ids], { axis: 0 });
    if (this.s.embedScale !== 1) tok = this.op('Mul', [tok, this.r.f32(this.s.embedScale)]);
    const start = this.op('Add', [firstPos, this.r.i64([POSITION_OFFSET], true)]);
    const positions = this.op('Range', [start, this.op('Add', [start, count]), this.r.i64([1], true)]);
    const pos = this.op('Gather', [this.r.tensor(`${prefix}${side}.embed_positions.weight`, [P + POSITION_OFFSET, D]), positions], { axis: 0 });
    return this.layerNorm(this.op('Add', [tok, pos]), `${prefix}${side}.layernorm_embedding`);
  }

  /** A residual block: post-LN `LN(x + f(x))` (BART) or pre-LN `x + f(LN(x))` (mBART). */
  residual(x: string, norm: string, f: (h: string) => string): string {
    if (this.s.preLayerNorm) return this.op('Add', [x, f(this.layerNorm(x, norm))]);
    return this.layerNorm(this.op('Add', [x, f(x)]), norm);
  }
}

function buildEncoder(s: HfBartSpec, ckpt: Checkpoint, precision: WeightPrecision = 'fp32'): Graph {
  const g = new Graph(`hf_${s.family}_encoder${precision === 'fp32' ? '' : `_${precision}`}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const am = g.input('attention_mask', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const o = new Ops(g, new Registry(g, ckpt, precision), s);
  const { dModel: D, prefix } = s;
  const H = s.encoder.heads;
  let x = o.embed(ids, o.r.i64([0], true), o.dim(ids, 1), 'encoder');
  const mask = o.paddingMask(am);
  for (let l = 0; l < s.encoder.layers; l++) {
    const p = `${prefix}encoder.layers.${l}`;
    x = o.residual(x, `${p}.self_attn_layer_norm`, (h) => {
      const q = o.query(h, `${p}.self_attn.q_proj`, H);
      const k = o.splitHeads(o.linear(h, `${p}.self_attn.k_proj`, D, D), H);
      const v = o.splitHeads(o.linear(h, `${p}.self_attn.v_proj`, D, D), H);
      return o.linear(o.attend(q, k, v, mask), `${p}.self_attn.out_proj`, D, D);
    });
    x = o.residual(x, `${p}.final_layer_norm`, (h) => o.ffn(h, p, s.encoder.ffn));
  }
  if (s.preLayerNorm) x = o.layerNorm(x, `${prefix}encoder.layer_norm`);
  o.op('Identity', [x], {}, 'last_hidden_state');
  g.output('last_hidden_state', DataType.FLOAT, ['batch_size', 'encoder_sequence_length', D]);
  return g;
}

function buildDecoder(s: HfBartSpec, ckpt: Checkpoint): Graph {
  const { dModel: D, vocabSize: V, prefix } = s;
  const H = s.decoder.heads;
  const hd = D / H;
  const L = s.decoder.layers;
  const g = new Graph(`hf_${s.family}_decoder_merged`);
  const { encMask, ids, encH, past, useCache } = mergedDecoderInputs(g, { layers: L, heads: H, headDim: hd, dModel: D });
  const reg = new Registry(g, ckpt);
  const o = new Ops(g, reg, s);

  // The If only chooses the caches; everything else runs once, outside it. Weights live in the
  // top-level graph, which the branches can read.
  const thenG = g.subgraph('use_cache_branch');
  const elseG = g.subgraph('no_cache_branch');
  const eo = new Ops(elseG, reg, s);
  const sel = past.map((_, l) => ({ dk: `past_self_key_${l}`, dv: `past_self_value_${l}`, ek: `present.${l}.encoder.key`, ev: `present.${l}.encoder.value` }));
  const ifOutputs: string[] = [];
  for (let l = 0; l < L; l++) {
    const p = `${prefix}decoder.layers.${l}.encoder_attn`;
    for (const k of ['dk', 'dv', 'ek', 'ev'] as const) thenG.output(thenG.op('Identity', [past[l]![k]]), DataType.FLOAT, null);
    const crossK = eo.splitHeads(eo.linear(encH, `${p}.k_proj`, D, D), H);
    const crossV = eo.splitHeads(eo.linear(encH, `${p}.v_proj`, D, D), H);
    // An empty self cache [B, H, 0, hd] cut from the cross keys, so that its batch size is the
    // hidden states' whatever past tensors were fed.
    const none = () => eo.op('Slice', [crossK, eo.r.i64([0]), eo.r.i64([0]), eo.r.i64([2])]);
    elseG.output(none(), DataType.FLOAT, null);
    elseG.output(none(), DataType.FLOAT, null);
    elseG.output(crossK, DataType.FLOAT, null);
    elseG.output(crossV, DataType.FLOAT, null);
    const c = sel[l]!;
    ifOutputs.push(c.dk, c.dv, c.ek, c.ev);
  }
  g.opMulti('If', [useCache], { then_branch: thenG, else_branch: elseG }, ifOutputs);

  // P cached tokens, T new ones: queries at P..P+T-1 see keys 0..P+t (mask [T, P+T]).
  const P = o.dim(sel[0]!.dk, 2);
  const T = o.dim(ids, 1);
  const end = o.op('Add', [P, T]);
  const one = reg.i64([1], true);
  const qpos = o.op('Range', [P, end, one]);
  const kpos = o.op('Range', [reg.i64([0], true), end, one]);
  const future = o.op('Greater', [o.op('Unsqueeze', [kpos, reg.i64([0])]), o.op('Unsqueeze', [qpos, reg.i64([1])])]);
  const causal = o.op('Where', [future, reg.f32(MASKED), reg.f32(0)]);
  const crossMask = o.paddingMask(encMask);

  let x = o.embed(ids, P, T, 'decoder');
  for (let l = 0; l < L; l++) {
    const p = `${prefix}decoder.layers.${l}`;
    const c = sel[l]!;
    x = o.residual(x, `${p}.self_attn_layer_norm`, (h) => {
      const q = o.query(h, `${p}.self_attn.q_proj`, H);
      const k = o.op('Concat', [c.dk, o.splitHeads(o.linear(h, `${p}.self_attn.k_proj`, D, D), H)], { axis: 2 }, `present.${l}.decoder.key`);
      const v = o.op('Concat', [c.dv, o.splitHeads(o.linear(h, `${p}.self_attn.v_proj`, D, D), H)], { axis: 2 }, `present.${l}.decoder.value`);
      return o.linear(o.attend(q, k, v, causal), `${p}.self_attn.out_proj`, D, D);
    });
    x = o.residual(x, `${p}.encoder_attn_layer_norm`, (h) => {
      const q = o.query(h, `${p}.encoder_attn.q_proj`, H);
      return o.linear(o.attend(q, c.ek, c.ev, crossMask), `${p}.encoder_attn.out_proj`, D, D);
    });
    x = o.residual(x, `${p}.final_layer_norm`, (h) => o.ffn(h, p, s.decoder.ffn));
  }
  if (s.preLayerNorm) x = o.layerNorm(x, `${prefix}decoder.layer_norm`);

  // LM head: Gemm(x [B*T, D], W [V, D], transB=1) + final_logits_bias reads the PyTorch-layout
  // matrix directly, so the tied head IS the embedding initializer (no second [D, V] copy on disk),
  // and the bias add is fused. ORT's CPU Gemm pre-packs a constant B in either orientation at
  // session load, so this runs as fast as a MatMul against a stored [D, V] transpose (measured
  // with ORT 1.30 on CPU, V 50265 x D 1024, 1 to 60 rows: equal within noise) while the model
  // holds the embedding once instead of twice.
  const head = reg.tensor(s.lmHeadKey, [V, D]);
  const gemmInputs = [o.op('Reshape', [x, reg.i64([-1, D])]), head];
  if (s.finalLogitsBiasKey) gemmInputs.push(reg.tensor(s.finalLogitsBiasKey, [V])); // stored [1, V]
  const flat = o.op('Gemm', gemmInputs, { transB: 1 });
  o.op('Reshape', [flat, o.op('Concat', [o.op('Shape', [ids]), reg.i64([V])], { axis: 0 })], {}, 'logits');

  g.output('logits', DataType.FLOAT, ['batch_size', 'decoder_sequence_length', V]);
  for (let l = 0; l < L; l++) {
    const selfLen = 'past_decoder_sequence_length + decoder_sequence_length';
    g.output(`present.${l}.decoder.key`, DataType.FLOAT, ['batch_size', H, selfLen, hd]);
    g.output(`present.${l}.decoder.value`, DataType.FLOAT, ['batch_size', H, selfLen, hd]);
    g.output(`present.${l}.encoder.key`, DataType.FLOAT, ['batch_size', H, 'encoder_sequence_length_out', hd]);
    g.output(`present.${l}.encoder.value`, DataType.FLOAT, ['batch_size', H, 'encoder_sequence_length_out', hd]);
  }
  return g;
}

/**
 * The `quals-step` decoder (graphs.ts Seq2SeqGraphs.step): the merged decoder's computation with
 * the same weights and ops, but no `If`: `history_rows` [B, P] gathers each row's past out of the
 * self-attention history and the call outputs only its new tokens' rows (graphs.ts
 * stepHistoryInputs), the cross-attention cache is fed at batch 1 ([1, H, S, hd]) and all B*T
 * queries attend to it in one product, and the log-prob outputs (addStepLogProbOutputs) follow the logits.
 * Valid for any number of new tokens after any cached length.
 */
function buildStepDecoder(s: HfBartSpec, ckpt: Checkpoint, precision: WeightPrecision = 'fp32'): Graph {
  const { dModel: D, vocabSize: V, prefix } = s;
  const H = s.decoder.heads;
  const hd = D / H;
  const L = s.decoder.layers;
  const g = new Graph(`hf_${s.family}_decoder_quals_step${precision === 'fp32' ? '' : `_${precision}`}`);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'decoder_sequence_length']);
  const history = stepHistoryInputs(g, { layers: L, heads: H, headDim: hd });
  const encMask = g.input('encoder_attention_mask', DataType.INT64, [1, 'encoder_sequence_length']);
  const past = Array.from({ length: L }, (_, l) => ({
    ek: g.input(`past_key_values.${l}.encoder.key`, DataType.FLOAT, [1, H, 'encoder_sequence_length', hd]),
    ev: g.input(`past_key_values.${l}.encoder.value`, DataType.FLOAT, [1, H, 'encoder_sequence_length', hd]),
  }));
  const reg = new Registry(g, ckpt, precision);
  const o = new Ops(g, reg, s);
  const rows = history.layers.map((t) => ({ dk: pastFromHistory(g, t.key, history.rows), dv: pastFromHistory(g, t.value, history.rows) }));

  const P = o.dim(rows[0]!.dk, 2);
  const T = o.dim(ids, 1);
  const end = o.op('Add', [P, T]);
  const one = reg.i64([1], true);
  const qpos = o.op('Range', [P, end, one]);
  const kpos = o.op('Range', [reg.i64([0], true), end, one]);
  const future = o.op('Greater', [o.op('Unsqueeze', [kpos, reg.i64([0])]), o.op('Unsqueeze', [qpos, reg.i64([1])])]);
  const causal = o.op('Where', [future, reg.f32(MASKED), reg.f32(0)]);
  const crossMask = o.paddingMask(encMask); // [1, 1, 1, S]

  let x = o.embed(ids, P, T, 'decoder');
  for (let l = 0; l < L; l++) {
    const p = `${prefix}decoder.layers.${l}`;
    const c = rows[l]!;
    x = o.residual(x, `${p}.self_attn_layer_norm`, (h) => {
      const q = o.query(h, `${p}.self_attn.q_proj`, H);
      const kNew = o.linear(h, `${p}.self_attn.k_proj`, D, D);
      const vNew = o.linear(h, `${p}.self_attn.v_proj`, D, D);
      addNewHistoryOutput(g, kNew, l, 'key', { heads: H, headDim: hd });
      addNewHistoryOutput(g, vNew, l, 'value', { heads: H, headDim: hd });
      const k = o.op('Concat', [c.dk, o.splitHeads(kNew, H)], { axis: 2 });
      const v = o.op('Concat', [c.dv, o.splitHeads(vNew, H)], { axis: 2 });
      return o.linear(o.attend(q, k, v, causal), `${p}.self_attn.out_proj`, D, D);
    });
    x = o.residual(x, `${p}.encoder_attn_layer_norm`, (h) => {
      // Every row's queries as one batch-1 block [1, H, B*T, hd] against the batch-1 keys/values.
      const scaled = o.op('Mul', [o.linear(h, `${p}.encoder_attn.q_proj`, D, D), reg.f32((D / H) ** -0.5)]);
      const q = o.op('Transpose', [o.op('Reshape', [scaled, reg.i64([1, -1, H, hd])])], { perm: [0, 2, 1, 3] });
      const ctx = o.op('Reshape', [o.attend(q, past[l]!.ek, past[l]!.ev, crossMask), o.op('Shape', [h])]);
      return o.linear(ctx, `${p}.encoder_attn.out_proj`, D, D);
    });
    x = o.residual(x, `${p}.final_layer_norm`, (h) => o.ffn(h, p, s.decoder.ffn));
  }
  if (s.preLayerNorm) x = o.layerNorm(x, `${prefix}decoder.layer_norm`);
  let flat: string;
  if (precision === 'int8') {
    // The head as its own int8 [D, V] matrix (the fp32 embedding stays for the Gather).
    const hidden = o.op('Reshape', [x, reg.i64([-1, D])]);
    flat = int8MatMul(g, hidden, reg.int8Transposed(s.lmHeadKey, V, D), s.finalLogitsBiasKey ? reg.tensor(s.finalLogitsBiasKey, [V]) : undefined);
  } else {
    const head = reg.tensor(s.lmHeadKey, [V, D]);
    const gemmInputs = [o.op('Reshape', [x, reg.i64([-1, D])]), head];
    if (s.finalLogitsBiasKey) gemmInputs.push(reg.tensor(s.finalLogitsBiasKey, [V]));
    flat = o.op('Gemm', gemmInputs, { transB: 1 });
  }
  const logits = o.op('Reshape', [flat, o.op('Concat', [o.op('Shape', [ids]), reg.i64([V])], { axis: 0 })], {}, 'logits');
  g.output('logits', DataType.FLOAT, ['batch_size', 'decoder_sequence_length', V]);
  addStepLogProbOutputs(g, logits, V, ids);
  return g;
}

/** The `quals-step` cross-attention cache: encoder_hidden_states [1, S, D] -> present.L.encoder.{key,value} [1, H, S, hd]. */
function buildCrossKv(s: HfBartSpec, ckpt: Checkpoint, precision: WeightPrecision = 'fp32'): Graph {
  const { dModel: D, prefix } = s;
  const H = s.decoder.heads;
  const g = new Graph(`hf_${s.family}_cross_kv_quals${precision === 'fp32' ? '' : `_${precision}`}`);
  const encH = g.input('encoder_hidden_states', DataType.FLOAT, [1, 'encoder_sequence_length', D]);
  const o = new Ops(g, new Registry(g, ckpt, precision), s);
  for (let l = 0; l < s.decoder.layers; l++) {
    const p = `${prefix}decoder.layers.${l}.encoder_attn`;
    o.op('Identity', [o.splitHeads(o.linear(encH, `${p}.k_proj`, D, D), H)], {}, `present.${l}.encoder.key`);
    o.op('Identity', [o.splitHeads(o.linear(encH, `${p}.v_proj`, D, D), H)], {}, `present.${l}.encoder.value`);
    g.output(`present.${l}.encoder.key`, DataType.FLOAT, [1, H, 'encoder_sequence_length', D / H]);
    g.output(`present.${l}.encoder.value`, DataType.FLOAT, [1, H, 'encoder_sequence_length', D / H]);
  }
  return g;
}

/**
 * The encoder and merged decoder of a Hugging Face BART / mBART checkpoint. Throws
 * UnsupportedModelError (a message for users, naming the config key or tensor) when config.json
 * or the checkpoint is not something these graphs reproduce. Reads no tensor data: the
 * initializers read `ckpt` when the graphs are written, so `ckpt` must stay open until then.
 */
export function buildHfBartGraphs(config: Record<string, unknown>, ckpt: Checkpoint, opts: BuildOptions = {}): Seq2SeqGraphs {
  const spec = hfBartSpec(config, ckpt);
  return {
    encoder: buildEncoder(spec, ckpt),
    decoder: buildDecoder(spec, ckpt),
    opset: HF_BART_OPSET,
    step: { decoder: buildStepDecoder(spec, ckpt), crossKv: buildCrossKv(spec, ckpt) },
    ...(opts.int8 ? { int8: { encoder: buildEncoder(spec, ckpt, 'int8'), decoder: buildStepDecoder(spec, ckpt, 'int8'), crossKv: buildCrossKv(spec, ckpt, 'int8') } } : {}),
  };
}
