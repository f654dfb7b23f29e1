/**
 * Hugging Face T5 built as ONNX graphs by src/models/graphs/hf-t5.ts, run with onnxruntime-node
 * and compared with transformers 4.35's own outputs on the t5-a fixture (relu, tied embeddings),
 * through every branch of the merged decoder; plus internal-consistency checks for what the
 * fixture does not cover (gated feed-forward, untied LM head, a vocabulary larger than the
 * tokenizer's) and a hand check of the relative-position buckets.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Checkpoint, TensorInfo } from '../../src/models/checkpoint/checkpoint';
import { openSafetensors } from '../../src/models/checkpoint/safetensors';
import { UnsupportedModelError } from '../../src/models/graphs/graphs';
import { buildHfT5Graphs, parseT5Config, relativeBucketTable, relativePositionBucket } from '../../src/models/graphs/hf-t5';
import { writeModelWithExternalData } from '../../src/scoring/model/onnx-writer';

const FIXTURE = join('test', 'fixtures', 'hf-reference', 't5-a');
const baseConfig = (): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURE, 'hf', 'config.json'), 'utf8')) as Record<string, unknown>;

interface RefPair {
  source_ids: number[];
  target_ids: number[];
  decoder_input_ids: number[];
  teacher_forced: { token_logprobs: number[]; argmax_ids: number[] };
  encoder_last_hidden_state: { shape: number[]; sum: number; abs_sum: number; first8: number[] };
  first_step_logits_first8: number[];
}
const reference = JSON.parse(readFileSync(join(FIXTURE, 'reference.json'), 'utf8')) as { pairs: RefPair[] };

const tmpRoot = mkdtempSync(join(tmpdir(), 'quals-hf-t5-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let dirCount = 0;

// ---------------------------------------------------------------------------------------------
// Checkpoints and sessions

/** An in-memory checkpoint whose tensors are produced on demand; counts reads. */
class MemCheckpoint implements Checkpoint {
  readonly description = 'test checkpoint';
  readonly tensors = new Map<string, TensorInfo>();
  readonly reads: string[] = [];
  private readonly producers = new Map<string, () => Float32Array>();

  set(name: string, shape: number[], produce: () => Float32Array): this {
    this.tensors.set(name, { name, dtype: 'F32', shape });
    this.producers.set(name, produce);
    return this;
  }

  delete(name: string): this {
    this.tensors.delete(name);
    this.producers.delete(name);
    return this;
  }

  read(name: string): Float32Array {
    const p = this.producers.get(name);
    if (!p) throw new Error(`no tensor ${name}`);
    this.reads.push(name);
    return p();
  }

  close(): void {}
}

/** t5-a's tensors (read from its safetensors file) in a MemCheckpoint that can be edited. */
function t5aCheckpoint(): MemCheckpoint {
  const file = openSafetensors(join(FIXTURE, 'hf', 'model.safetensors'));
  const m = new MemCheckpoint();
  for (const [name, info] of file.tensors) {
    const data = file.read(name);
    m.set(name, info.shape, () => data.slice());
  }
  file.close();
  return m;
}

/** Deterministic pseudo-random floats in [-scale, scale). */
function noise(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

interface Model {
  enc: ort.InferenceSession;
  dec: ort.InferenceSession;
  heads: number;
  dKv: number;
  layers: number;
  dir: string;
}

async function buildModel(config: Record<string, unknown>, ckpt: Checkpoint): Promise<Model> {
  const graphs = buildHfT5Graphs(config, ckpt);
  const dir = join(tmpRoot, `m${dirCount++}`);
  mkdirSync(dir);
  writeModelWithExternalData(graphs.encoder, join(dir, 'encoder_model.onnx'), { opset: graphs.opset });
  writeModelWithExternalData(graphs.decoder, join(dir, 'decoder_model_merged.onnx'), { opset: graphs.opset });
  const enc = await ort.InferenceSession.create(join(dir, 'encoder_model.onnx'));
  const dec = await ort.InferenceSession.create(join(dir, 'decoder_model_merged.onnx'));
  const h = parseT5Config(config);
  return { enc, dec, heads: h.heads, dKv: h.dKv, layers: h.decoderLayers, dir };
}

const i64 = (a: readonly number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(a, (x) => BigInt(x)), dims);
const bool = (v: boolean) => new ort.Tensor('bool', Uint8Array.from([v ? 1 : 0]), [1]);
const f32 = (t: ort.Tensor) => t.data as Float32Array;

async function encode(m: Model, ids: readonly number[], mask?: readonly number[], batch = 1): Promise<{ hidden: ort.Tensor; mask: ort.Tensor }> {
  const S = ids.length / batch;
  const am = i64(mask ?? new Array<number>(ids.length).fill(1), [batch, S]);
  const out = await m.enc.run({ input_ids: i64(ids, [batch, S]), attention_mask: am });
  return { hidden: out.last_hidden_state!, mask: am };
}

type Kv = Record<string, ort.Tensor>;

function emptyPast(m: Model, batch: number): Kv {
  const kv: Kv = {};
  for (let l = 0; l < m.layers; l++) {
    for (const k of ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value']) {
      kv[`past_key_values.${l}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [batch, m.heads, 0, m.dKv]);
    }
  }
  return kv;
}

/** One merged-decoder call. Returns logits and the next past (present.* renamed to past_key_values.*). */
async function decode(m: Model, e: { hidden: ort.Tensor; mask: ort.Tensor }, tokens: readonly number[], batch: number, past: Kv, useCache: boolean) {
  const T = tokens.length / batch;
  const out = await m.dec.run({ encoder_attention_mask: e.mask, input_ids: i64(tokens, [batch, T]), encoder_hidden_states: e.hidden, ...past, use_cache_branch: bool(useCache) });
  const next: Kv = {};
  for (const [name, t] of Object.entries(out)) if (name.startsWith('present.')) next[name.replace('present.', 'past_key_values.')] = t;
  // Keep the encoder cache of the step that computed it (an Optimum export returns placeholders).
  if (useCache) for (const name of Object.keys(next)) if (name.includes('.encoder.')) next[name] = past[name]!;
  return { logits: out.logits!, past: next, out };
}

/** log-softmax of each row of [*, V] logits, in float64. */
function logSoftmaxRows(logits: Float32Array, V: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let r = 0; r * V < logits.length; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    let mx = -Infinity;
    for (const x of row) mx = Math.max(mx, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - mx);
    const lz = mx + Math.log(z);
    rows.push(Float64Array.from(row, (x) => x - lz));
  }
  return rows;
}

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
};

/** Teacher-forced log p(target) and argmax per position from [1, T, V] logits. */
function scoreTargets(logits: ort.Tensor, targets: readonly number[]): { lp: number[]; am: number[] } {
  const V = logits.dims[2]!;
  const rows = logSoftmaxRows(f32(logits), V);
  return { lp: targets.map((t, i) => rows[i]![t]!), am: rows.slice(0, targets.length).map(argmax) };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** (a) no-cache branch, all tokens; (b) cache branch, empty past, all tokens; (c) one token at a time. */
async function threeWays(m: Model, e: { hidden: ort.Tensor; mask: ort.Tensor }, dec: readonly number[]) {
  const T = dec.length;
  const a = await decode(m, e, dec, 1, emptyPast(m, 1), false);
  const crossOnly: Kv = {};
  for (const [name, t] of Object.entries(a.past)) crossOnly[name] = name.includes('.encoder.') ? t : new ort.Tensor('float32', new Float32Array(0), [1, m.heads, 0, m.dKv]);
  const b = await decode(m, e, dec, 1, crossOnly, true);
  // (c): the first token through the no-cache branch (as the engine does), then cached steps.
  const first = await decode(m, e, dec.slice(0, 1), 1, emptyPast(m, 1), false);
  const V = a.logits.dims[2]!;
  const stepLogits = new Float32Array(T * V);
  stepLogits.set(f32(first.logits), 0);
  let past = first.past;
  for (let t = 1; t < T; t++) {
    const s = await decode(m, e, [dec[t]!], 1, past, true);
    assert.deepEqual(s.logits.dims, [1, 1, V]);
    stepLogits.set(f32(s.logits), t * V);
    past = s.past;
  }
  // (d): a multi-token pass after a non-empty past: 5 tokens cached, the rest at once.
  const k = Math.min(5, T - 1);
  const pre = await decode(m, e, dec.slice(0, k), 1, emptyPast(m, 1), false);
  const rest = await decode(m, e, dec.slice(k), 1, pre.past, true);
  const chunked = new Float32Array(T * V);
  chunked.set(f32(pre.logits), 0);
  chunked.set(f32(rest.logits), k * V);
  return { a, b, c: new ort.Tensor('float32', stepLogits, [1, T, V]), d: new ort.Tensor('float32', chunked, [1, T, V]), selfPast: past };
}

// ---------------------------------------------------------------------------------------------

describe('T5 relative position buckets (transformers _relative_position_bucket)', () => {
  // Relative position = key position - query position. 32 buckets, max distance 128.
  // Bidirectional: 16 buckets per direction (+16 for keys after the query); max_exact = 8;
  // |r| >= 8: 8 + trunc(ln(|r| / 8) / ln(16) * 8), at most 15.
  //   12: ln 1.5 / ln 16 * 8 = 1.17 -> 9;  16: 2 -> 10;  23: 3.05 -> 11;  22: 2.92 -> 10;
  //   32: 4 -> 12;  46: 5.05 -> 13;  45: 4.99 -> 12;  64: 6 -> 14;  91: 7.02 -> 15;  90: 6.99 -> 14.
  const bidirectional: [number, number][] = [
    [0, 0], [-1, 1], [-7, 7], [-8, 8], [-11, 8], [-12, 9], [-15, 9], [-16, 10], [-22, 10], [-23, 11], [-32, 12], [-45, 12], [-46, 13],
    [-64, 14], [-90, 14], [-91, 15], [-128, 15], [-5000, 15],
    [1, 17], [7, 23], [8, 24], [12, 25], [16, 26], [32, 28], [64, 30], [90, 30], [91, 31], [127, 31], [128, 31], [5000, 31],
  ];
  // Unidirectional (decoder): keys after the query (r > 0) -> 0; n = -r; max_exact = 16;
  // n >= 16: 16 + trunc(ln(n / 16) / ln(8) * 16), at most 31.
  //   20: 0.223 / 2.079 * 16 = 1.72 -> 17;  22: 2.45 -> 18;  32: 5.33 -> 21;  64: 10.67 -> 26;
  //   100: 14.10 -> 30;  127: 15.94 -> 31.
  const unidirectional: [number, number][] = [
    [5, 0], [1, 0], [0, 0], [-1, 1], [-15, 15], [-16, 16], [-20, 17], [-22, 18], [-32, 21], [-64, 26], [-100, 30], [-127, 31], [-128, 31], [-5000, 31],
  ];

  it('matches hand-computed values in both directions', () => {
    for (const [r, b] of bidirectional) assert.equal(relativePositionBucket(r, true, 32, 128), b, `bidirectional ${r}`);
    for (const [r, b] of unidirectional) assert.equal(relativePositionBucket(r, false, 32, 128), b, `unidirectional ${r}`);
  });

  it('tabulates offsets up to max_distance, beyond which the bucket saturates', () => {
    for (const bi of [true, false]) {
      const { bound, table } = relativeBucketTable(bi, 32, 128);
      assert.equal(bound, 128);
      assert.equal(table.length, 257);
      for (let r = -bound; r <= bound; r++) assert.equal(table[r + bound], relativePositionBucket(r, bi, 32, 128));
      for (let r = bound; r < 3000; r += 7) {
        assert.equal(relativePositionBucket(r, bi, 32, 128), table[2 * bound]);
        assert.equal(relativePositionBucket(-r, bi, 32, 128), table[0]);
      }
    }
    // Other sizes (e.g. 64 buckets, distance 256) saturate too.
    assert.equal(relativeBucketTable(true, 64, 256).table.length, 513);
  });
});

describe('T5 config parsing', () => {
  const expectUnsupported = (cfg: Record<string, unknown>, ckpt: Checkpoint, key: RegExp) =>
    assert.throws(() => buildHfT5Graphs(cfg, ckpt), (err: unknown) => err instanceof UnsupportedModelError && key.test(err.message));

  it('derives the feed-forward activation as T5Config does, config.json keys winning', () => {
    const h = parseT5Config({ model_type: 't5', feed_forward_proj: 'gated-gelu' });
    assert.equal(h.act, 'gelu_new');
    assert.equal(h.gated, true);
    assert.equal(h.tied, true);
    assert.equal(parseT5Config({ model_type: 't5', feed_forward_proj: 'gated-silu' }).act, 'silu');
    assert.equal(parseT5Config({ model_type: 't5', feed_forward_proj: 'gelu' }).act, 'gelu');
    assert.equal(parseT5Config({ model_type: 't5', feed_forward_proj: 'relu', dense_act_fn: 'gelu_new', is_gated_act: true }).gated, true);
    const mt5 = parseT5Config({ model_type: 'mt5', feed_forward_proj: 'gated-gelu', tie_word_embeddings: false, d_model: 512, num_layers: 8, num_decoder_layers: 8 });
    assert.deepEqual([mt5.modelType, mt5.tied, mt5.decoderLayers, mt5.dKv], ['mt5', false, 8, 64]);
  });

  it('rejects what it cannot build, naming the config key', () => {
    const ck = t5aCheckpoint();
    const cfg = baseConfig();
    expectUnsupported({ ...cfg, model_type: 'umt5' }, ck, /model_type/);
    expectUnsupported({ ...cfg, architectures: ['T5EncoderModel'] }, ck, /architectures/);
    expectUnsupported({ ...cfg, feed_forward_proj: 'relu-gated', dense_act_fn: undefined }, ck, /feed_forward_proj/);
    expectUnsupported({ ...cfg, dense_act_fn: 'mish' }, ck, /dense_act_fn/);
    expectUnsupported({ ...cfg, num_heads: 8 }, ck, /num_heads/);
    expectUnsupported({ ...cfg, relative_attention_max_distance: 10 }, ck, /relative_attention_max_distance/);
    expectUnsupported({ ...cfg, tie_word_embeddings: false }, ck, /lm_head\.weight/);
    // A gated config on a checkpoint without wi_0 / wi_1.
    expectUnsupported({ ...cfg, feed_forward_proj: 'gated-gelu', dense_act_fn: undefined, is_gated_act: undefined }, ck, /wi_0.*feed_forward_proj/);
  });
});

describe('T5 graphs vs Hugging Face (t5-a: relu, tied, 32 buckets)', () => {
  const summary: string[] = [];
  after(() => console.log(`t5-a max |d log p| vs HF and between branches:\n${summary.join('\n')}`));

  it('are lazy and byte-for-byte deterministic', async () => {
    const ck = t5aCheckpoint();
    const graphs = buildHfT5Graphs(baseConfig(), ck);
    assert.equal(ck.reads.length, 0, 'building reads no weights');
    assert.equal(graphs.opset >= 14, true);
    const write = (name: string) => {
      const g = buildHfT5Graphs(baseConfig(), ck);
      const dir = join(tmpRoot, name);
      mkdirSync(dir);
      writeModelWithExternalData(g.encoder, join(dir, 'e.onnx'), { opset: g.opset });
      writeModelWithExternalData(g.decoder, join(dir, 'd.onnx'), { opset: g.opset });
      return ['e.onnx', 'e.onnx_data', 'd.onnx', 'd.onnx_data'].map((f) => readFileSync(join(dir, f)));
    };
    const one = write('det1');
    const two = write('det2');
    for (let i = 0; i < one.length; i++) assert.ok(one[i]!.equals(two[i]!), `file ${i} differs between two builds`);
    // Every weight is read when written, and only then.
    assert.ok(ck.reads.length > 0);
  });

  it('encoder, no-cache, cache and step-by-step decoding match HF', async () => {
    const m = await buildModel(baseConfig(), t5aCheckpoint());
    for (const [pi, p] of reference.pairs.entries()) {
      const e = await encode(m, p.source_ids);
      const S = p.source_ids.length;
      assert.deepEqual(e.hidden.dims, [1, ...p.encoder_last_hidden_state.shape]);
      const hs = f32(e.hidden);
      let sum = 0;
      let abs = 0;
      for (const v of hs) {
        sum += v;
        abs += Math.abs(v);
      }
      const ref = p.encoder_last_hidden_state;
      assert.ok(Math.abs(sum - ref.sum) < 1e-2, `pair ${pi}: encoder sum ${sum} vs ${ref.sum}`);
      assert.ok(Math.abs(abs - ref.abs_sum) < 1e-2, `pair ${pi}: encoder abs_sum ${abs} vs ${ref.abs_sum}`);
      assert.ok(maxAbsDiff(hs.subarray(0, 8), ref.first8) < 1e-4, `pair ${pi}: encoder first8`);

      const { a, b, c, d, selfPast } = await threeWays(m, e, p.decoder_input_ids);
      const T = p.decoder_input_ids.length;
      assert.deepEqual(a.logits.dims, [1, T, 1100]);
      assert.deepEqual(a.out['present.0.encoder.key']!.dims, [1, 4, S, 8]);
      assert.deepEqual(a.out['present.1.decoder.value']!.dims, [1, 4, T, 8]);
      assert.deepEqual(selfPast['past_key_values.1.decoder.key']!.dims, [1, 4, T, 8]);
      assert.ok(maxAbsDiff(f32(a.logits).subarray(0, 8), p.first_step_logits_first8) < 1e-3, `pair ${pi}: first-step logits`);
      const diffs: string[] = [];
      for (const [name, logits] of [['a no-cache', a.logits], ['b cache, P=0, all T', b.logits], ['c step by step', c], ['d 5 cached + rest', d]] as const) {
        const s = scoreTargets(logits, p.target_ids);
        const dHf = maxAbsDiff(s.lp, p.teacher_forced.token_logprobs);
        assert.ok(dHf < 5e-3, `pair ${pi} ${name}: max |d log p| vs HF ${dHf}`);
        assert.deepEqual(s.am, p.teacher_forced.argmax_ids, `pair ${pi} ${name}: argmax`);
        let note = `${name}: vs HF ${dHf.toExponential(2)}`;
        if (logits !== a.logits) {
          const dA = maxAbsDiff(s.lp, scoreTargets(a.logits, p.target_ids).lp);
          assert.ok(dA < 1e-4, `pair ${pi} ${name}: vs no-cache ${dA}`);
          note += `, vs (a) ${dA.toExponential(2)}`;
        }
        diffs.push(note);
      }
      summary.push(`  pair ${pi} (S=${S}, T=${T}): ${diffs.join('; ')}`);
    }
  });

  it('a padded batch gives each row its own results; an all-padding row stays finite', async () => {
    const m = await buildModel(baseConfig(), t5aCheckpoint());
    const [p0, p1] = [reference.pairs[0]!, reference.pairs[1]!];
    const S = Math.max(p0.source_ids.length, p1.source_ids.length);
    const T = Math.max(p0.decoder_input_ids.length, p1.decoder_input_ids.length);
    const padTo = (a: number[], n: number) => [...a, ...new Array<number>(n - a.length).fill(0)];
    const maskTo = (a: number[], n: number) => [...a.map(() => 1), ...new Array<number>(n - a.length).fill(0)];
    const e = await encode(m, [...padTo(p0.source_ids, S), ...padTo(p1.source_ids, S)], [...maskTo(p0.source_ids, S), ...maskTo(p1.source_ids, S)], 2);
    const out = await decode(m, e, [...padTo(p0.decoder_input_ids, T), ...padTo(p1.decoder_input_ids, T)], 2, emptyPast(m, 2), false);
    const V = out.logits.dims[2]!;
    for (const [r, p] of [p0, p1].entries()) {
      const single = await encode(m, p.source_ids);
      const Sp = p.source_ids.length;
      const rowHidden = f32(e.hidden).subarray(r * S * 32, (r * S + Sp) * 32);
      assert.ok(maxAbsDiff(rowHidden, f32(single.hidden)) < 1e-4, `row ${r}: encoder`);
      const rowLogits = new ort.Tensor('float32', f32(out.logits).slice(r * T * V, (r + 1) * T * V), [1, T, V]);
      const s = scoreTargets(rowLogits, p.target_ids);
      const ref = (await threeWays(m, single, p.decoder_input_ids)).a;
      assert.ok(maxAbsDiff(s.lp, scoreTargets(ref.logits, p.target_ids).lp) < 1e-4, `row ${r}: decoder`);
    }
    const blank = await encode(m, [5, 6, 7], [0, 0, 0]);
    assert.ok(f32(blank.hidden).every(Number.isFinite));
    const dec = await decode(m, blank, [0, 5], 1, emptyPast(m, 1), false);
    assert.ok(f32(dec.logits).every(Number.isFinite));
  });
});

// ---------------------------------------------------------------------------------------------
// Gated feed-forward, untied head, padded vocabulary

const gelu_new = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const silu = (x: number) => x / (1 + Math.exp(-x));
/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}
const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** A config for t5-a's tensors with another feed-forward (dense_act_fn / is_gated_act left to derive). */
function ffConfig(feedForwardProj: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...baseConfig(), feed_forward_proj: feedForwardProj, ...extra };
  delete cfg.dense_act_fn;
  delete cfg.is_gated_act;
  return cfg;
}

/** t5-a's tensors with every FFN gated: wi_0 = wi, wi_1 = noise. */
function gatedCheckpoint(): MemCheckpoint {
  const ck = t5aCheckpoint();
  let seed = 7;
  for (const name of [...ck.tensors.keys()]) {
    if (!name.endsWith('DenseReluDense.wi.weight')) continue;
    const shape = ck.tensors.get(name)!.shape;
    const wi = ck.read(name);
    const wi1 = noise(wi.length, seed++, 0.5);
    ck.delete(name);
    ck.set(name.replace('.wi.', '.wi_0.'), shape, () => wi.slice());
    ck.set(name.replace('.wi.', '.wi_1.'), shape, () => wi1.slice());
  }
  ck.reads.length = 0;
  return ck;
}

/** out[r] = sum_c w[r, c] x[c] for a PyTorch nn.Linear weight [rows, cols]. */
function linear(w: Float32Array, rows: number, cols: number, x: ArrayLike<number>): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let c = 0; c < cols; c++) s += w[r * cols + c]! * x[c]!;
    return s;
  });
}

function rms(x: number[], w: Float32Array, eps: number): number[] {
  const v = x.reduce((a, b) => a + b * b, 0) / x.length;
  return x.map((xi, i) => w[i]! * xi / Math.sqrt(v + eps));
}

describe('T5 gated feed-forward, untied head, padded vocabulary (consistency)', () => {
  it('gelu_new is the tanh approximation', () => {
    // 0.5 (1 + tanh(0.79788456 * 1.044715)) = 0.5 (1 + tanh(0.83356)) = 0.84119
    assert.ok(Math.abs(gelu_new(1) - 0.841192) < 1e-6);
    assert.ok(Math.abs(gelu_new(-1) - -0.158808) < 1e-6);
    assert.ok(Math.abs(gelu_new(2) - 1.954598) < 1e-6);
    // The exact GELU ("gelu"): x Phi(x); Phi(1) = 0.841345.
    assert.ok(Math.abs(gelu(1) - 0.841345) < 1e-6);
  });

  for (const [proj, act, gated] of [
    ['gated-gelu', gelu_new, true],
    ['gated-silu', silu, true],
    ['relu', (x: number) => Math.max(0, x), false],
    ['gelu', gelu, false],
  ] as const) {
    it(`a one-layer encoder with attention switched off equals a hand computation (${proj})`, async () => {
      // encoder.block.0's attention output projection is zero, so each position's output is
      // final_norm(x + wo(act(wi_0 n) * wi_1 n)), n = norm(x), x = the token's embedding.
      const ck = gated ? gatedCheckpoint() : t5aCheckpoint();
      ck.set('encoder.block.0.layer.0.SelfAttention.o.weight', [32, 32], () => new Float32Array(32 * 32));
      const cfg = ffConfig(proj, { num_layers: 1, num_decoder_layers: 2 });
      const m = await buildModel(cfg, ck);
      const ids = [3, 17, 999, 1099, 0];
      const e = await encode(m, ids);
      const E = ck.read('shared.weight');
      const ln0 = ck.read('encoder.block.0.layer.1.layer_norm.weight');
      const lnf = ck.read('encoder.final_layer_norm.weight');
      const wo = ck.read('encoder.block.0.layer.1.DenseReluDense.wo.weight');
      const wiA = ck.read(`encoder.block.0.layer.1.DenseReluDense.${gated ? 'wi_0' : 'wi'}.weight`);
      const wiB = gated ? ck.read('encoder.block.0.layer.1.DenseReluDense.wi_1.weight') : null;
      const expected: number[] = [];
      for (const id of ids) {
        const x = Array.from(E.subarray(id * 32, (id + 1) * 32));
        const n = rms(x, ln0, 1e-6);
        const a = linear(wiA, 64, 32, n).map(act);
        const hidden = wiB ? linear(wiB, 64, 32, n).map((b, i) => a[i]! * b) : a;
        const y = linear(wo, 32, 64, hidden).map((f, i) => x[i]! + f);
        expected.push(...rms(y, lnf, 1e-6));
      }
      const d = maxAbsDiff(f32(e.hidden), expected);
      assert.ok(d < 1e-4, `${proj}: encoder vs hand computation ${d}`);
    });
  }

  it('padding the vocabulary (tied) leaves the first rows unchanged', async () => {
    const base = await buildModel(baseConfig(), t5aCheckpoint());
    const ck = t5aCheckpoint();
    const E = ck.read('shared.weight');
    const padded = new Float32Array(1128 * 32);
    padded.set(E);
    padded.set(noise(28 * 32, 99, 2), E.length);
    ck.set('shared.weight', [1128, 32], () => padded.slice());
    const m = await buildModel({ ...baseConfig(), vocab_size: 1128 }, ck);
    const p = reference.pairs[0]!;
    const [e0, e1] = [await encode(base, p.source_ids), await encode(m, p.source_ids)];
    assert.ok(maxAbsDiff(f32(e0.hidden), f32(e1.hidden)) < 1e-6);
    const [d0, d1] = [await decode(base, e0, p.decoder_input_ids, 1, emptyPast(base, 1), false), await decode(m, e1, p.decoder_input_ids, 1, emptyPast(m, 1), false)];
    const T = p.decoder_input_ids.length;
    assert.deepEqual(d1.logits.dims, [1, T, 1128]);
    const first = new Float32Array(T * 1100);
    for (let t = 0; t < T; t++) first.set(f32(d1.logits).subarray(t * 1128, t * 1128 + 1100), t * 1100);
    assert.ok(maxAbsDiff(first, f32(d0.logits)) < 1e-4);
  });

  it('an untied head equal to shared * d_model^-0.5 gives the tied logits; padded rows leave them unchanged', async () => {
    const base = await buildModel(baseConfig(), t5aCheckpoint());
    const ck = t5aCheckpoint();
    const E = ck.read('shared.weight');
    const head = new Float32Array(1128 * 32);
    head.set(E.map((v) => v * 32 ** -0.5));
    head.set(noise(28 * 32, 5, 1), E.length);
    ck.set('lm_head.weight', [1128, 32], () => head.slice());
    const m = await buildModel({ ...baseConfig(), tie_word_embeddings: false, vocab_size: 1128 }, ck);
    for (const p of reference.pairs) {
      const [e0, e1] = [await encode(base, p.source_ids), await encode(m, p.source_ids)];
      const d0 = await decode(base, e0, p.decoder_input_ids, 1, emptyPast(base, 1), false);
      const d1 = await decode(m, e1, p.decoder_input_ids, 1, emptyPast(m, 1), false);
      const T = p.decoder_input_ids.length;
      assert.deepEqual(d1.logits.dims, [1, T, 1128]);
      const first = new Float32Array(T * 1100);
      for (let t = 0; t < T; t++) first.set(f32(d1.logits).subarray(t * 1128, t * 1128 + 1100), t * 1100);
      const d = maxAbsDiff(first, f32(d0.logits));
      assert.ok(d < 1e-4, `untied vs tied logits ${d}`);
    }
  });

  it('a gated-gelu, untied, padded-vocabulary mT5 decodes the same through every branch', async () => {
    const ck = gatedCheckpoint();
    const head = noise(1128 * 32, 11, 1);
    ck.set('lm_head.weight', [1128, 32], () => head.slice());
    const cfg = ffConfig('gated-gelu', { model_type: 'mt5', architectures: ['MT5ForConditionalGeneration'], tie_word_embeddings: false, vocab_size: 1128 });
    const m = await buildModel(cfg, ck);
    const notes: string[] = [];
    for (const p of reference.pairs) {
      const e = await encode(m, p.source_ids);
      const { a, b, c, d } = await threeWays(m, e, p.decoder_input_ids);
      assert.equal(a.logits.dims[2], 1128);
      assert.ok(f32(a.logits).every(Number.isFinite));
      const la = scoreTargets(a.logits, p.target_ids);
      for (const [name, logits] of [['b', b.logits], ['c', c], ['d', d]] as const) {
        const s = scoreTargets(logits, p.target_ids);
        const diff = maxAbsDiff(s.lp, la.lp);
        assert.ok(diff < 1e-4, `${name} vs no-cache ${diff}`);
        assert.deepEqual(s.am, la.am);
        notes.push(`${name} ${diff.toExponential(2)}`);
      }
    }
    console.log(`gated-gelu untied mT5-like: max |d log p| vs no-cache branch: ${notes.join(', ')}`);
  });
});
