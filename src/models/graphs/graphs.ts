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
import type { Graph } from '../../scoring/model/onnx-writer';

export interface Seq2SeqGraphs {
  encoder: Graph;
  decoder: Graph;
  /** Opset the graphs need. */
  opset: number;
}

/** A config.json the builders cannot turn into graphs: the message is written for users. */
export class UnsupportedModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedModelError';
  }
}
