/**
 * The toy model rebuilt from its own ONNX files: its training weights are not in the repository,
 * so its fp32 weights are read back out of the committed encoder and merged decoder
 * (src/modelgen/onnx-weights.ts) and the builder is checked to turn them into byte-identical fp32
 * graphs (so nothing was lost). `writeInt8Copy` writes a copy with the int8 variant (used by
 * scripts/int8-figure.ts and the integration suite); step-graphs.ts writes the committed toy's
 * `quals-step` graphs the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BartHyper, writeBartModel } from '../../src/modelgen/bart-graph';
import { readFloatInitializers } from '../../src/modelgen/onnx-weights';
import { tinyTokenizer } from './corpus';

/**
 * The toy rebuilt from its own ONNX weights into `tmp` (a fresh folder), with the quals-step graphs
 * (and int8 when asked); throws unless the rebuilt encoder, merged decoder and tokenizer are byte
 * for byte the committed ones.
 */
export function rebuildToy(toy: string, tmp: string, int8: boolean): void {
  const config = JSON.parse(fs.readFileSync(path.join(toy, 'config.json'), 'utf8')) as Record<string, number>;
  const hyper: BartHyper = { vocabSize: config.vocab_size!, dModel: config.d_model!, heads: config.encoder_attention_heads!, ffn: config.encoder_ffn_dim!,
    encoderLayers: config.encoder_layers!, decoderLayers: config.decoder_layers!, maxPositions: config.max_position_embeddings! };
  const weights = new Map([...readFloatInitializers(path.join(toy, 'onnx/encoder_model.onnx')), ...readFloatInitializers(path.join(toy, 'onnx/decoder_model_merged.onnx'))]);
  const quals = JSON.parse(fs.readFileSync(path.join(toy, 'quals.json'), 'utf8')) as Record<string, unknown>;
  delete quals.graphs;
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
    int8,
  });
  for (const f of ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'config.json', 'tokenizer.json']) {
    if (!fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(toy, f)))) throw new Error(`rebuilt ${f} differs from ${toy}'s: the weights were not read back exactly`);
  }
}

/** Writes the copy of `toy` into `out` (replaced; written beside it first, then renamed into place). */
export function writeInt8Copy(toy: string, out: string): void {
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    rebuildToy(toy, tmp, true);
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
