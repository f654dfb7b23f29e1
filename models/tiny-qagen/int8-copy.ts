/**
 * An int8 copy of the toy model: the committed toy (models/tiny-qagen) ships fp32 merged graphs
 * only and its training weights are not in the repository, so its fp32 weights are read back out
 * of the ONNX files (src/modelgen/onnx-weights.ts), the builder is checked to turn them into
 * byte-identical fp32 graphs (so nothing was lost), and the copy gets the `quals-step` graphs and
 * the int8 variant. Used by scripts/int8-figure.ts and the integration suite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BartHyper, writeBartModel } from '../../src/modelgen/bart-graph';
import { readFloatInitializers } from '../../src/modelgen/onnx-weights';
import { tinyTokenizer } from './corpus';

/** Writes the copy of `toy` into `out` (replaced; written beside it first, then renamed into place). */
export function writeInt8Copy(toy: string, out: string): void {
  const config = JSON.parse(fs.readFileSync(path.join(toy, 'config.json'), 'utf8')) as Record<string, number>;
  const hyper: BartHyper = { vocabSize: config.vocab_size!, dModel: config.d_model!, heads: config.encoder_attention_heads!, ffn: config.encoder_ffn_dim!,
    encoderLayers: config.encoder_layers!, decoderLayers: config.decoder_layers!, maxPositions: config.max_position_embeddings! };
  const weights = new Map([...readFloatInitializers(path.join(toy, 'onnx/encoder_model.onnx')), ...readFloatInitializers(path.join(toy, 'onnx/decoder_model_merged.onnx'))]);
  const quals = JSON.parse(fs.readFileSync(path.join(toy, 'quals.json'), 'utf8')) as Record<string, unknown>;
  delete quals.graphs;
  const tmp = `${out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  writeBartModel(tmp, {
    hyper,
    weights: (name, dims) => {
      const w = weights.get(name);
      if (!w || w.dims.join() !== dims.join()) throw new Error(`${toy} has no fp32 initializer ${name} [${dims}]`);
      return w.data;
    },
    tokenizer: tinyTokenizer(),
    name: 'quals-tiny-qagen',
    quals,
    int8: true,
  });
  for (const f of ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'config.json', 'tokenizer.json']) {
    if (!fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(toy, f)))) throw new Error(`rebuilt ${f} differs from ${toy}'s: the weights were not read back exactly`);
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
}
