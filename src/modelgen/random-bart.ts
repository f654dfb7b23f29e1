/**
 * Deterministic random-weight BART models in the Optimum layout, for tests (`tiny`) and the
 * benchmarks (`base`, BART-base-shaped; `large`, BART-large-shaped, for the GPU figure, without
 * the int8 variant). Same size and seed -> byte-identical files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeBartModel, type BartHyper, type WeightProvider } from './bart-graph';
import { buildTokenizer, QAGEN_SEP_TOKEN } from './tokenizer-builder';

export type TestModelSize = 'tiny' | 'base' | 'large';

import { mulberry32 } from '../util/prng';

export { mulberry32 };

/** FNV-1a, so every tensor gets its own PRNG stream whatever order the graphs ask for them in. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function uniform(n: number, std: number, seed: number): Float32Array {
  // Uniform on [-a, a] has standard deviation a / sqrt(3); it is cheaper than Box-Muller and,
  // using only integer ops and one multiply, gives the same bits on every platform.
  const a = std * Math.sqrt(3);
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * a;
  return out;
}

export interface RandomInit {
  seed: number;
  /** Standard deviation of the logits before the bias (smaller = flatter next-token distributions). */
  logitStd?: number;
  /** Bias on </s> so that beams finish at varied lengths instead of always running to max length. */
  eosBias?: number;
}

/** Weight provider for a random model: scales chosen so activations stay O(1) at any width. */
export function randomWeights(h: BartHyper, init: RandomInit): WeightProvider {
  const { seed, logitStd = 2.4, eosBias = 6 } = init;
  return (name, dims) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const s = (hash32(name) ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
    if (name.includes('layer_norm')) return new Float32Array(n).fill(name.endsWith('.weight') ? 1 : 0);
    if (name === 'final_logits_bias') {
      const b = new Float32Array(n);
      b[2] = eosBias;
      return b;
    }
    if (name === 'model.shared.weight') return uniform(n, 1, s);
    if (name.includes('embed_positions')) return uniform(n, 0.3, s);
    if (name === 'lm_head.weight_T') return uniform(n, logitStd / Math.sqrt(h.dModel), s);
    if (name.endsWith('.bias')) return uniform(n, 0.02, s);
    return uniform(n, 1 / Math.sqrt(dims[0]!), s); // linear [in, out]
  };
}

const TINY_WORDS = ['the', 'a', 'of', 'to', 'and', 'in', 'is', 'was', 'who', 'what', 'where', 'when', 'how', 'many', 'said',
  'year', 'What', 'Who', 'Where', 'When', 'How', 'on', 'for', 'by', 'he', 'she', 'Paris', 'London', 'won', 'beat', 'team',
  'match', 'goals', 'scored', 'city', 'born', 'The', 'He', 'She', '2019', '3', '12'];

export const TEST_MODEL_HYPER: Record<TestModelSize, Omit<BartHyper, 'vocabSize'> & { vocabSize?: number }> = {
  tiny: { dModel: 16, heads: 2, ffn: 32, encoderLayers: 1, decoderLayers: 2, maxPositions: 128 },
  base: { dModel: 768, heads: 12, ffn: 3072, encoderLayers: 6, decoderLayers: 6, maxPositions: 1026, vocabSize: 50265 },
  large: { dModel: 1024, heads: 16, ffn: 4096, encoderLayers: 12, decoderLayers: 12, maxPositions: 1026, vocabSize: 50265 },
};

/** int8 graphs are CPU graphs (DynamicQuantizeMatMul); the large model is for the GPU figure. */
const WITH_INT8: Record<TestModelSize, boolean> = { tiny: true, base: true, large: false };

export interface TestModelSpec {
  size?: TestModelSize;
  seed?: number;
}

const MARKER = 'generator.json';
const REQUIRED = ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'config.json', 'generation_config.json',
  'tokenizer.json', 'tokenizer_config.json', 'quals.json', 'onnx/decoder_step_quals.onnx', 'onnx/cross_kv_quals.onnx', MARKER];
const REQUIRED_INT8 = ['onnx/encoder_model_int8.onnx', 'onnx/decoder_step_quals_int8.onnx', 'onnx/cross_kv_quals_int8.onnx'];

/** Writes a random test model into `dir` (which should be new and empty). */
export function writeTestModel(dir: string, { size = 'tiny', seed = 1234 }: TestModelSpec = {}): void {
  const preset = TEST_MODEL_HYPER[size];
  const tokenizer = buildTokenizer({ words: TINY_WORDS, extraTokens: [QAGEN_SEP_TOKEN], vocabSize: preset.vocabSize });
  const hyper: BartHyper = { ...preset, vocabSize: tokenizer.vocab.size };
  writeBartModel(dir, {
    hyper,
    weights: randomWeights(hyper, { seed }),
    tokenizer,
    name: `quals-random-bart-${size}`,
    quals: { format: 'qagen' },
    int8: WITH_INT8[size],
  });
  // Written last: its presence marks the folder complete.
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ generator: 'quals random-bart', version: 7, size, seed }, null, 2) + '\n');
}

function isComplete(dir: string, size: TestModelSize, seed: number): boolean {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8')) as { size?: string; seed?: number; version?: number };
    return marker.size === size && marker.seed === seed && marker.version === 7 && [...REQUIRED, ...(WITH_INT8[size] ? REQUIRED_INT8 : [])].every((f) => fs.existsSync(path.join(dir, f)));
  } catch {
    return false;
  }
}

/**
 * Makes sure `dir` holds the random model of this size and seed, generating it if it is missing
 * or incomplete. Generation goes to a sibling temporary folder that is renamed into place, so a
 * crash or a concurrent caller never leaves or sees a half-written model. Returns `dir`.
 */
export function ensureTestModel(dir: string, { size = 'tiny', seed = 1234 }: TestModelSpec = {}): string {
  if (isComplete(dir, size, seed)) return dir;
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const tmp = `${path.resolve(dir)}.tmp-${process.pid}-${Date.now()}`;
  try {
    writeTestModel(tmp, { size, seed });
    if (fs.existsSync(dir)) {
      if (isComplete(dir, size, seed)) return dir; // another process finished first
      // Only ever replace a folder this generator wrote (it has the marker) or an empty one.
      if (!fs.existsSync(path.join(dir, MARKER)) && fs.readdirSync(dir).length > 0) {
        throw new Error(`${dir} exists and is not a generated test model; choose another folder`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
