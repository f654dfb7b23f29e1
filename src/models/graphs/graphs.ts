/**
 * What a graph builder for a Hugging Face architecture produces: the two graphs of the Optimum
 * layout (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx) with the exact Optimum input
 * and output names, built with the project's own ONNX writer from a checkpoint's weights.
 *
 * Unlike a genuine Optimum export, the merged decoder's with-past branch is valid for ANY number
 * of new tokens (the causal mask covers past + new positions), so the engine may run multi-token
 * passes through it. The import records this in quals.json (`graphs.multiTokenCache: true`).
 * Initializers are lazy (read from the checkpoint when the model is written).
 */
import { DataType, type Graph } from '../../scoring/model/onnx-writer';

export interface Seq2SeqGraphs {
  encoder: Graph;
  decoder: Graph;
  /** Opset the graphs need. */
  opset: number;
  /**
   * The `quals-step` design (models/model-files.ts STEP_FILES), when the builder has it: a decoder
   * without `If` (the self-attention history, batch-1 cross-attention cache, log-prob outputs) and the graph that
   * computes its cross-attention cache. It shares the merged decoder's weights.
   */
  step?: { decoder: Graph; crossKv: Graph };
  /**
   * The int8 variant (quantize.ts), when asked for: the encoder and the `quals-step` graphs with
   * int8 MatMul weights. Its fp32 tensors (embeddings, norms, biases) have the fp32 graphs' names.
   */
  int8?: { encoder: Graph; decoder: Graph; crossKv: Graph };
}

/** What a builder writes beyond the fp32 graphs. */
export interface BuildOptions {
  /** Also build the int8 variant (Seq2SeqGraphs.int8). */
  int8?: boolean;
}

/**
 * The `quals-step` decoder's log-prob outputs on `logits` [B, T, V] (B, T from `ids`): log-softmax
 * over the vocabulary, then top_logp / top_ids [B*T, k] (input `k`), extra_logp [B*T, E] (input
 * `extra_ids`) and gold_logp [B, T] (input `gold_ids` [B, T], the teacher-forcing gather). The
 * same ops as the engine's helper graphs (scoring/model/ort.ts), so the numbers are the same.
 */
export function addStepLogProbOutputs(g: Graph, logits: string, V: number, ids: string): void {
  const k = g.input('k', DataType.INT64, [1]);
  const extraIds = g.input('extra_ids', DataType.INT64, ['extra']);
  const goldIds = g.input('gold_ids', DataType.INT64, ['batch_size', 'decoder_sequence_length']);
  const lp = g.op('LogSoftmax', [g.op('Reshape', [logits, g.i64([2], [-1, V])])], { axis: -1 });
  g.opMulti('TopK', [lp, k], { axis: -1, largest: 1, sorted: 1 }, ['top_logp', 'top_ids']);
  g.op('Gather', [lp, extraIds], { axis: 1 }, 'extra_logp');
  const picked = g.op('GatherElements', [lp, g.op('Reshape', [goldIds, g.i64([2], [-1, 1])])], { axis: 1 });
  g.op('Reshape', [picked, g.op('Shape', [ids])], {}, 'gold_logp');
  g.output('top_logp', DataType.FLOAT, ['rows', 'k']);
  g.output('top_ids', DataType.INT64, ['rows', 'k']);
  g.output('extra_logp', DataType.FLOAT, ['rows', 'extra']);
  g.output('gold_logp', DataType.FLOAT, ['batch_size', 'decoder_sequence_length']);
}

/** A config.json the builders cannot turn into graphs: the message is written for users. */
export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}

/** The past keys/values of one decoder layer, as graph input names. */
export interface LayerPast {
  dk: string;
  dv: string;
  ek: string;
  ev: string;
}

/**
 * Declares the merged decoder's inputs with Optimum's exact names, order and symbolic dimensions
 * (encoder_attention_mask, input_ids, encoder_hidden_states, past_key_values.L.*, use_cache_branch),
 * which every builder of the merged design shares so the engine can feed any of them alike.
 */
export function mergedDecoderInputs(g: Graph, d: { layers: number; heads: number; headDim: number; dModel: number }): {
  encMask: string;
  ids: string;
  encH: string;
  past: LayerPast[];
  useCache: string;
} {
  const encMask = g.input('encoder_attention_mask', DataType.INT64, ['batch_size', 'encoder_sequence_length']);
  const ids = g.input('input_ids', DataType.INT64, ['batch_size', 'decoder_sequence_length']);
  const encH = g.input('encoder_hidden_states', DataType.FLOAT, ['batch_size', 'encoder_sequence_length', d.dModel]);
  const past = Array.from({ length: d.layers }, (_, l) => {
    const kv = (kind: string, len: string) => g.input(`past_key_values.${l}.${kind}`, DataType.FLOAT, ['batch_size', d.heads, len, d.headDim]);
    return {
      dk: kv('decoder.key', 'past_decoder_sequence_length'),
      dv: kv('decoder.value', 'past_decoder_sequence_length'),
      ek: kv('encoder.key', 'encoder_sequence_length_out'),
      ev: kv('encoder.value', 'encoder_sequence_length_out'),
    };
  });
  const useCache = g.input('use_cache_branch', DataType.BOOL, [1]);
  return { encMask, ids, encH, past, useCache };
}

/** The `quals-step` decoder's self-attention history inputs (stepHistoryInputs). */
export interface StepHistory {
  /** history_rows [B, P]: for each row, the history row that holds each of its P cached tokens. */
  rows: string;
  /** history.L.{key,value} [R, H, hd] per decoder layer. */
  layers: { key: string; value: string }[];
}

/**
 * The `quals-step` decoder's self-attention cache, kept by the engine as an append-only history
 * (scoring/model/kv-history.ts): every token any row ever fed is one history row [H, hd] per layer,
 * and `history_rows` says which rows make up each current row's past. Beam reordering, the
 * expansion of a prompt into beams and dropping rows are then changes of `history_rows` alone, and
 * a call outputs only its new tokens' rows (new_history.L.*, declared by addNewHistoryOutput)
 * instead of the whole grown cache, which onnxruntime-node would copy out at every step.
 */
export function stepHistoryInputs(g: Graph, d: { layers: number; heads: number; headDim: number }): StepHistory {
  const rows = g.input('history_rows', DataType.INT64, ['batch_size', 'past_decoder_sequence_length']);
  const layers = Array.from({ length: d.layers }, (_, l) => ({
    key: g.input(`history.${l}.key`, DataType.FLOAT, ['history_length', d.heads, d.headDim]),
    value: g.input(`history.${l}.value`, DataType.FLOAT, ['history_length', d.heads, d.headDim]),
  }));
  return { rows, layers };
}

/** One layer's past keys or values [B, H, P, hd], gathered from its history [R, H, hd] at `rows` [B, P]. */
export function pastFromHistory(g: Graph, history: string, rows: string): string {
  return g.op('Transpose', [g.op('Gather', [history, rows], { axis: 0 })], { perm: [0, 2, 1, 3] });
}

/**
 * Declares new_history.L.{key|value}: the new tokens' projected keys or values `projected`
 * [B, T, H*hd] as history rows [B*T, H, hd] (row b*T + t; a reshape, no copy inside the graph).
 */
export function addNewHistoryOutput(g: Graph, projected: string, layer: number, kind: 'key' | 'value', d: { heads: number; headDim: number }): void {
  const name = `new_history.${layer}.${kind}`;
  g.op('Reshape', [projected, g.i64([3], [-1, d.heads, d.headDim])], {}, name);
  g.output(name, DataType.FLOAT, ['new_rows', d.heads, d.headDim]);
}
