/**
 * Turns the weights written by train.py into the committed Optimum-layout model in this folder,
 * using the same graph builder as the random test models (src/modelgen/bart-graph.ts).
 * Usage: npx tsx models/tiny-qagen/build-model.ts [weightsDir=models/tiny-qagen/train/run1] [modelDir=models/tiny-qagen]
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeBartModel, type BartHyper, type WeightProvider } from '../../src/modelgen/bart-graph';
import { STEP_FILES } from '../../src/models/model-files';
import { tinyTokenizer } from './corpus';

interface WeightsManifest {
  config: { vocab_size: number; d_model: number; heads: number; ffn: number; encoder_layers: number; decoder_layers: number; max_position_embeddings: number };
  tensors: { name: string; dims: number[]; offset: number }[];
  train: Record<string, unknown> & { sha256: string };
}

/** Weight provider over train.py's flat float32 little-endian blob. */
function weightsFromFile(dir: string): { hyper: BartHyper; weights: WeightProvider; manifest: WeightsManifest } {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'weights.json'), 'utf8')) as WeightsManifest;
  const blob = fs.readFileSync(path.join(dir, 'weights.bin'));
  const table = new Map(manifest.tensors.map((t) => [t.name, t]));
  const c = manifest.config;
  const hyper: BartHyper = { vocabSize: c.vocab_size, dModel: c.d_model, heads: c.heads, ffn: c.ffn, encoderLayers: c.encoder_layers,
    decoderLayers: c.decoder_layers, maxPositions: c.max_position_embeddings };
  const weights: WeightProvider = (name, dims) => {
    const t = table.get(name);
    if (!t) throw new Error(`${dir}/weights.json has no tensor ${name}`);
    if (t.dims.join() !== dims.join()) throw new Error(`tensor ${name}: weights.json says [${t.dims}], the graph needs [${dims}]`);
    const n = dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    // Copy through a DataView: the blob is little-endian and its offsets need not be 4-byte aligned in memory.
    const view = new DataView(blob.buffer, blob.byteOffset + t.offset, n * 4);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  };
  return { hyper, weights, manifest };
}

function main(): void {
  const weightsDir = process.argv[2] ?? 'models/tiny-qagen/train/run1';
  const modelDir = process.argv[3] ?? 'models/tiny-qagen';
  const { hyper, weights, manifest } = weightsFromFile(weightsDir);
  const tokenizer = tinyTokenizer();
  const quals = JSON.parse(fs.readFileSync(path.join(modelDir, 'quals.json'), 'utf8')) as Record<string, unknown>;

  // Build next to the target and move files in one by one: the folder also holds the recipe.
  const tmp = fs.mkdtempSync(path.join(modelDir, '.build-'));
  try {
    writeBartModel(tmp, { hyper, weights, tokenizer, name: 'quals-tiny-qagen', quals });
    fs.copyFileSync(path.join(weightsDir, 'ref_logits.bin'), path.join(tmp, 'reference-logits.bin'));
    const ref = JSON.parse(fs.readFileSync(path.join(weightsDir, 'ref_logits.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(tmp, 'reference-logits.json'), JSON.stringify({ ...ref, weightsSha256: manifest.train.sha256, train: manifest.train }) + '\n');
    fs.mkdirSync(path.join(modelDir, 'onnx'), { recursive: true });
    for (const f of ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', ...Object.values(STEP_FILES), 'config.json', 'generation_config.json', 'tokenizer.json',
      'tokenizer_config.json', 'special_tokens_map.json', 'reference-logits.bin', 'reference-logits.json']) {
      fs.renameSync(path.join(tmp, f), path.join(modelDir, f));
    }
    // The builder's record of the graphs it wrote (the quals-step design and its version).
    const { graphs } = JSON.parse(fs.readFileSync(path.join(tmp, 'quals.json'), 'utf8')) as { graphs: unknown };
    fs.writeFileSync(path.join(modelDir, 'quals.json'), JSON.stringify({ ...quals, graphs }, null, 2) + '\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`${modelDir}: built from ${weightsDir} (weights sha256 ${manifest.train.sha256.slice(0, 12)}…, val_answer_acc ${String(manifest.train.val_answer_acc)})`);
}

main();
