// Hugging Face BART / mBART graphs built by the project's writer (src/models/graphs/hf-bart.ts):
// numerically equal to transformers 4.35 on the bart-a fixture through both branches of the
// merged decoder, equal to an independent float64 JavaScript forward pass on synthetic
// checkpoints for the configurations that have no HF reference, plus known equalities, config
// errors, laziness and determinism. Runs the graphs with onnxruntime-node directly.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Checkpoint, TensorInfo } from '../../src/models/checkpoint/checkpoint';
import { openSafetensors } from '../../src/models/checkpoint/safetensors';
import { UnsupportedModelError } from '../../src/models/graphs/graphs';
import { buildHfBartGraphs } from '../../src/models/graphs/hf-bart';
import { writeModelWithExternalData } from '../../src/scoring/model/onnx-writer';

const FIXTURE = path.join('test', 'fixtures', 'hf-reference', 'bart-a');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-hf-bart-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Config = Record<string, unknown>;
type Feeds = Record<string, ort.Tensor>;

interface Built {
  encoder: ort.InferenceSession;
  decoder: ort.InferenceSession;
  heads: number;
  headDim: number;
  layers: number;
  vocab: number;
}

let dirCount = 0;
/** Builds, writes onnx/{encoder_model,decoder_model_merged}.onnx (external data) and loads them. */
async function build(config: Config, ckpt: Checkpoint, dir = path.join(tmp, `m${dirCount++}`)): Promise<Built> {
  const graphs = buildHfBartGraphs(config, ckpt);
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  writeModelWithExternalData(graphs.encoder, path.join(dir, 'onnx', 'encoder_model.onnx'), { opset: graphs.opset });
  writeModelWithExternalData(graphs.decoder, path.join(dir, 'onnx', 'decoder_model_merged.onnx'), { opset: graphs.opset });
  const so: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  const heads = config.decoder_attention_heads as number;
  return {
    encoder: await ort.InferenceSession.create(path.join(dir, 'onnx', 'encoder_model.onnx'), so),
    decoder: await ort.InferenceSession.create(path.join(dir, 'onnx', 'decoder_model_merged.onnx'), so),
    heads,
    headDim: (config.d_model as number) / heads,
    layers: config.decoder_layers as number,
    vocab: config.vocab_size as number,
  };
}

const i64 = (v: readonly number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v, (x) => BigInt(x)), dims);

async function encode(m: Built, rows: readonly (readonly number[])[], pad = 1): Promise<{ hidden: ort.Tensor; mask: ort.Tensor }> {
  const S = Math.max(...rows.map((r) => r.length));
  const ids = rows.flatMap((r) => [...r, ...new Array<number>(S - r.length).fill(pad)]);
  const mask = i64(rows.flatMap((r) => [...new Array<number>(r.length).fill(1), ...new Array<number>(S - r.length).fill(0)]), [rows.length, S]);
  const out = await m.encoder.run({ input_ids: i64(ids, [rows.length, S]), attention_mask: mask });
  return { hidden: out.last_hidden_state!, mask };
}

interface DecoderOut {
  logits: ort.Tensor;
  self: Map<string, ort.Tensor>; // past_key_values.L.decoder.* names -> present
  cross: Map<string, ort.Tensor>; // past_key_values.L.encoder.* names -> present
}

/** One merged-decoder call. `self`/`cross` absent: empty [B, H, 0, hd] tensors are fed. */
async function decode(
  m: Built,
  enc: { hidden: ort.Tensor; mask: ort.Tensor },
  tokens: readonly number[],
  dims: [number, number],
  useCache: boolean,
  self?: Map<string, ort.Tensor>,
  cross?: Map<string, ort.Tensor>,
): Promise<DecoderOut> {
  const B = dims[0];
  const empty = () => new ort.Tensor('float32', new Float32Array(0), [B, m.heads, 0, m.headDim]);
  const feeds: Feeds = {
    encoder_attention_mask: enc.mask,
    input_ids: i64(tokens, dims),
    encoder_hidden_states: enc.hidden,
  };
  for (let l = 0; l < m.layers; l++) {
    for (const k of ['decoder.key', 'decoder.value']) feeds[`past_key_values.${l}.${k}`] = self?.get(`past_key_values.${l}.${k}`) ?? empty();
    for (const k of ['encoder.key', 'encoder.value']) feeds[`past_key_values.${l}.${k}`] = cross?.get(`past_key_values.${l}.${k}`) ?? empty();
  }
  feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.from([useCache ? 1 : 0]), [1]);
  const out = await m.decoder.run(feeds);
  const pick = (kind: string) => {
    const map = new Map<string, ort.Tensor>();
    for (let l = 0; l < m.layers; l++) {
      for (const k of ['key', 'value']) map.set(`past_key_values.${l}.${kind}.${k}`, out[`present.${l}.${kind}.${k}`]!);
    }
    return map;
  };
  return { logits: out.logits!, self: pick('decoder'), cross: pick('encoder') };
}

/** log-softmax rows of logits [.., V] as float64. */
function logSoftmaxRows(data: Float32Array, V: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let off = 0; off < data.length; off += V) {
    let max = -Infinity;
    for (let i = 0; i < V; i++) max = Math.max(max, data[off + i]!);
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(data[off + i]! - max);
    const lse = max + Math.log(sum);
    const r = new Float64Array(V);
    for (let i = 0; i < V; i++) r[i] = data[off + i]! - lse;
    rows.push(r);
  }
  return rows;
}

const argmax = (r: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < r.length; i++) if (r[i]! > r[best]!) best = i;
  return best;
};

/** Per position: log p(target) and the argmax. */
function score(logits: Float32Array, V: number, targets: readonly number[]): { lp: number[]; am: number[] } {
  const rows = logSoftmaxRows(logits, V).slice(0, targets.length);
  return { lp: rows.map((r, t) => r[targets[t]!]!), am: rows.map(argmax) };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

/** Cached decoding in chunks of the given sizes (1 = token by token), cross KV from one no-cache call. */
async function chunked(m: Built, enc: { hidden: ort.Tensor; mask: ort.Tensor }, input: readonly number[], sizes: number[]): Promise<Float32Array> {
  const V = m.vocab;
  const out = new Float32Array(input.length * V);
  const first = await decode(m, enc, input.slice(0, sizes[0]), [1, sizes[0]!], false);
  out.set(first.logits.data as Float32Array, 0);
  let self = first.self;
  let at = sizes[0]!;
  for (let i = 1; at < input.length; i++) {
    const n = Math.min(sizes[Math.min(i, sizes.length - 1)]!, input.length - at);
    const r = await decode(m, enc, input.slice(at, at + n), [1, n], true, self, first.cross);
    out.set(r.logits.data as Float32Array, at * V);
    self = r.self;
    at += n;
  }
  return out;
}

/** A checkpoint that overrides, adds or hides tensors of another (or of nothing). */
function overlayCheckpoint(base: Checkpoint | null, overrides: Map<string, { shape: number[]; data: Float32Array } | null>, reads?: string[]): Checkpoint {
  const tensors = new Map<string, TensorInfo>(base ? base.tensors : []);
  for (const [name, t] of overrides) {
    if (t) tensors.set(name, { name, dtype: 'F32', shape: t.shape });
    else tensors.delete(name);
  }
  return {
    description: 'test checkpoint',
    tensors,
    read(name) {
      reads?.push(name);
      if (!tensors.has(name)) throw new Error(`no tensor ${name}`);
      const t = overrides.get(name);
      return t ? t.data.slice() : base!.read(name);
    },
    close() {},
  };
}

// ------------------------------------------------------------------------------------------------
describe('HF BART graphs vs transformers 4.35 (bart-a)', () => {
  interface Pair {
    source_ids: number[];
    target_ids: number[];
    decoder_input_ids: number[];
    teacher_forced: { token_logprobs: number[]; argmax_ids: number[] };
    encoder_last_hidden_state: { shape: number[]; sum: number; abs_sum: number; first8: number[] };
    first_step_logits_first8: number[];
  }
  const reference = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'reference.json'), 'utf8')) as { pairs: Pair[] };
  const config = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'hf', 'config.json'), 'utf8')) as Config;
  let ckpt: Checkpoint;
  let m: Built;
  const V = config.vocab_size as number;
  before(async () => {
    ckpt = openSafetensors(path.join(FIXTURE, 'hf', 'model.safetensors'));
    m = await build(config, ckpt);
  });
  after(() => ckpt.close());

  /** Asserts HF's teacher-forced numbers; returns max |Δ log p|. */
  const checkTf = (label: string, p: Pair, logits: Float32Array): number => {
    const { lp, am } = score(logits, V, p.target_ids);
    assert.deepEqual(am, p.teacher_forced.argmax_ids, `${label}: argmax`);
    const d = maxAbsDiff(lp, p.teacher_forced.token_logprobs);
    assert.ok(d <= 5e-3, `${label}: max |d log p| ${d}`);
    return d;
  };

  test('encoder last_hidden_state matches HF (shape, sum, abs_sum, first values)', async () => {
    for (const [i, p] of reference.pairs.entries()) {
      const { hidden } = await encode(m, [p.source_ids]);
      const ref = p.encoder_last_hidden_state;
      assert.deepEqual(hidden.dims, [1, ...ref.shape]);
      const h = hidden.data as Float32Array;
      let sum = 0;
      let abs = 0;
      for (const v of h) {
        sum += v;
        abs += Math.abs(v);
      }
      assert.ok(Math.abs(abs - ref.abs_sum) <= 1e-3 * ref.abs_sum, `pair ${i}: abs_sum ${abs} vs ${ref.abs_sum}`);
      // The sum of layer-normed rows is ~0, so it is compared against the size of the values.
      assert.ok(Math.abs(sum - ref.sum) <= 1e-4 * ref.abs_sum, `pair ${i}: sum ${sum} vs ${ref.sum}`);
      assert.ok(maxAbsDiff(h.subarray(0, 8), ref.first8) <= 1e-3, `pair ${i}: first8`);
    }
  });

  test('first-step logits match HF', async () => {
    for (const [i, p] of reference.pairs.entries()) {
      const enc = await encode(m, [p.source_ids]);
      const r = await decode(m, enc, [p.decoder_input_ids[0]!], [1, 1], false);
      const d = maxAbsDiff((r.logits.data as Float32Array).subarray(0, 8), p.first_step_logits_first8);
      assert.ok(d <= 1e-3, `pair ${i}: first-step logits differ by ${d}`);
    }
  });

  test('teacher forcing through both branches, token by token and in chunks', async (t) => {
    const lines: string[] = [];
    for (const [i, p] of reference.pairs.entries()) {
      const enc = await encode(m, [p.source_ids]);
      const T = p.decoder_input_ids.length;
      // (a) no-cache branch, every token at once.
      const a = (await decode(m, enc, p.decoder_input_ids, [1, T], false)).logits.data as Float32Array;
      const da = checkTf(`pair ${i} no-cache`, p, a);
      // (b) cache branch with an empty past and every token at once (cross KV from the no-cache call).
      const crossOnly = (await decode(m, enc, [p.decoder_input_ids[0]!], [1, 1], false)).cross;
      const b = (await decode(m, enc, p.decoder_input_ids, [1, T], true, undefined, crossOnly)).logits.data as Float32Array;
      const db = checkTf(`pair ${i} cache/empty past`, p, b);
      // (c) one token at a time through the cache branch.
      const c = await chunked(m, enc, p.decoder_input_ids, [1]);
      const dc = checkTf(`pair ${i} step by step`, p, c);
      // (d) chunks of several tokens after a non-empty past.
      const d = await chunked(m, enc, p.decoder_input_ids, [2, 3, 4]);
      checkTf(`pair ${i} chunks`, p, d);
      const lpA = score(a, V, p.target_ids).lp;
      for (const [label, x] of [['cache/empty past', b], ['step by step', c], ['chunks 2,3,4', d]] as const) {
        const diff = maxAbsDiff(score(x, V, p.target_ids).lp, lpA);
        assert.ok(diff <= 1e-4, `pair ${i} ${label} vs no-cache: ${diff}`);
      }
      lines.push(`pair ${i}: max |d log p| vs HF: no-cache ${da.toExponential(2)}, cache ${db.toExponential(2)}, step ${dc.toExponential(2)}`);
    }
    t.diagnostic(lines.join('; '));
  });

  test('a padded batch (encoder padding, right-padded targets) gives the per-pair numbers', async () => {
    const pairs = reference.pairs;
    const enc = await encode(m, pairs.map((p) => p.source_ids));
    const T = Math.max(...pairs.map((p) => p.decoder_input_ids.length));
    const input = pairs.flatMap((p) => [...p.decoder_input_ids, ...new Array<number>(T - p.decoder_input_ids.length).fill(1)]);
    for (const useCache of [false, true]) {
      const cross = useCache ? (await decode(m, enc, pairs.map(() => 2), [pairs.length, 1], false)).cross : undefined;
      const logits = (await decode(m, enc, input, [pairs.length, T], useCache, undefined, cross)).logits.data as Float32Array;
      pairs.forEach((p, r) => checkTf(`batch row ${r} (cache ${useCache})`, p, logits.subarray(r * T * V, (r + 1) * T * V)));
    }
  });

  test('no-cache branch ignores the past self KV it is fed; cache branch passes the cross KV through', async () => {
    const p = reference.pairs[0]!;
    const enc = await encode(m, [p.source_ids]);
    const first = await decode(m, enc, p.decoder_input_ids.slice(0, 3), [1, 3], false);
    const again = await decode(m, enc, p.decoder_input_ids.slice(0, 3), [1, 3], false, first.self, first.cross);
    assert.deepEqual(again.logits.data, first.logits.data);
    assert.deepEqual(again.self.get('past_key_values.0.decoder.key')!.dims, [1, m.heads, 3, m.headDim]);
    const step = await decode(m, enc, [p.decoder_input_ids[3]!], [1, 1], true, first.self, first.cross);
    for (const [name, t] of first.cross) assert.deepEqual(step.cross.get(name)!.data, t.data, name);
    assert.deepEqual(step.self.get('past_key_values.1.decoder.value')!.dims, [1, m.heads, 4, m.headDim]);
  });

  test('final_logits_bias: a nonzero bias shifts the logits by exactly the bias; a missing one is zeros', async () => {
    const bias = new Float32Array(V);
    for (let i = 0; i < V; i++) bias[i] = ((i * 7919) % 101) / 10 - 5;
    bias[2] = 29;
    const biased = await build(config, overlayCheckpoint(ckpt, new Map([['final_logits_bias', { shape: [1, V], data: bias }]])));
    const noBias = await build(config, overlayCheckpoint(ckpt, new Map([['final_logits_bias', null]])));
    const p = reference.pairs[1]!;
    const T = p.decoder_input_ids.length;
    const run = async (x: Built) => {
      const enc = await encode(x, [p.source_ids]);
      return (await decode(x, enc, p.decoder_input_ids, [1, T], false)).logits.data as Float32Array;
    };
    const [base, shifted, none] = [await run(m), await run(biased), await run(noBias)];
    assert.deepEqual(none, base);
    let worst = 0;
    for (let i = 0; i < base.length; i++) worst = Math.max(worst, Math.abs(shifted[i]! - base[i]! - bias[i % V]!) / (1 + Math.abs(base[i]!)));
    assert.ok(worst <= 1e-6, `logits - bias differs from the unbiased logits by ${worst}`);
    const expected = Array.from({ length: T }, (_, t) => argmax(base.subarray(t * V, (t + 1) * V).map((x, i) => x + bias[i]!)));
    assert.deepEqual(score(shifted, V, p.target_ids).am, expected);
  });

  test('scale_embedding: sqrt(d_model) x shared equals scaling the embedding (with an untied head)', async () => {
    const D = config.d_model as number;
    const shared = ckpt.read('model.shared.weight');
    const scaledShared = shared.map((v) => v * Math.sqrt(D));
    // scale_embedding true with the original weights ...
    const scaled = await build({ ...config, scale_embedding: true }, ckpt);
    // ... equals no scale with a pre-multiplied embedding, the LM head kept as the original matrix.
    const manual = await build(
      { ...config, tie_word_embeddings: false },
      overlayCheckpoint(
        ckpt,
        new Map([
          ['model.shared.weight', { shape: [V, D], data: scaledShared }],
          ['lm_head.weight', { shape: [V, D], data: shared }],
        ]),
      ),
    );
    const p = reference.pairs[2]!;
    const T = p.decoder_input_ids.length;
    const out = async (x: Built) => {
      const enc = await encode(x, [p.source_ids]);
      return { h: enc.hidden.data as Float32Array, l: (await decode(x, enc, p.decoder_input_ids, [1, T], false)).logits.data as Float32Array };
    };
    const [a, b, plain] = [await out(scaled), await out(manual), await out(m)];
    assert.ok(maxAbsDiff(a.h, b.h) <= 1e-4, 'encoder states');
    const lpA = score(a.l, V, p.target_ids).lp;
    assert.ok(maxAbsDiff(lpA, score(b.l, V, p.target_ids).lp) <= 1e-3, 'log-probs');
    assert.ok(maxAbsDiff(a.h, plain.h) > 1e-2, 'scale_embedding must change the encoder output');
  });

  test('activation_function: relu changes the outputs; aliases give identical bytes', async (t) => {
    const p = reference.pairs[0]!;
    const T = p.decoder_input_ids.length;
    const logits = async (act: string) => {
      const x = await build({ ...config, activation_function: act }, ckpt);
      const enc = await encode(x, [p.source_ids]);
      return (await decode(x, enc, p.decoder_input_ids, [1, T], false)).logits.data as Float32Array;
    };
    const gelu = await logits('gelu');
    assert.deepEqual(await logits('gelu_python'), gelu);
    const relu = await logits('relu');
    assert.ok(maxAbsDiff(relu, gelu) > 1e-2, 'relu and gelu give the same logits');
    const tanh = await logits('gelu_new');
    const d = maxAbsDiff(tanh, gelu);
    const dRelu = maxAbsDiff(relu, gelu);
    t.diagnostic(`max |d logit|: gelu_new vs gelu ${d}, relu vs gelu ${dRelu}`);
    assert.ok(d > 0 && d < dRelu / 5, `gelu_new (tanh approximation) vs gelu: ${d}, relu vs gelu: ${dRelu}`);
    assert.deepEqual(await logits('gelu_pytorch_tanh'), tanh);
  });

  test('graphs read nothing when built, each tensor once when written; same input gives the same bytes', () => {
    const reads: string[] = [];
    const counting = overlayCheckpoint(ckpt, new Map(), reads);
    const write = (dir: string) => {
      const g = buildHfBartGraphs(config, counting);
      assert.equal(reads.length, 0, 'building read tensors');
      fs.mkdirSync(dir, { recursive: true });
      writeModelWithExternalData(g.encoder, path.join(dir, 'encoder_model.onnx'), { opset: g.opset });
      writeModelWithExternalData(g.decoder, path.join(dir, 'decoder_model_merged.onnx'), { opset: g.opset });
    };
    write(path.join(tmp, 'det1'));
    assert.equal(reads.filter((n) => n === 'model.shared.weight').length, 2, 'shared embedding: once per graph (the tied head reuses it)');
    assert.equal(new Set(reads).size, ckpt.tensors.size, 'every checkpoint tensor is used');
    reads.length = 0;
    write(path.join(tmp, 'det2'));
    for (const f of ['encoder_model.onnx', 'encoder_model.onnx_data', 'decoder_model_merged.onnx', 'decoder_model_merged.onnx_data']) {
      assert.ok(fs.readFileSync(path.join(tmp, 'det1', f)).equals(fs.readFileSync(path.join(tmp, 'det2', f))), `${f} differs`);
    }
  });

  test('unsupported configs and checkpoints raise UnsupportedModelError naming the cause', () => {
    const expectError = (c: Config, k: Checkpoint, re: RegExp) =>
      assert.throws(() => buildHfBartGraphs(c, k), (e: unknown) => e instanceof UnsupportedModelError && re.test(e.message));
    expectError({ ...config, model_type: 't5' }, ckpt, /model_type "t5"/);
    expectError({ ...config, normalize_before: true }, ckpt, /normalize_before/);
    expectError({ ...config, add_final_layer_norm: true }, ckpt, /add_final_layer_norm/);
    expectError({ ...config, activation_function: 'gelu_magic' }, ckpt, /activation_function "gelu_magic"/);
    expectError({ ...config, encoder_attention_heads: 5 }, ckpt, /encoder_attention_heads/);
    expectError({ ...config, tie_word_embeddings: false }, ckpt, /lm_head\.weight/);
    expectError({ ...config, decoder_ffn_dim: 128 }, ckpt, /fc1\.weight has shape \[64, 32\]/);
    expectError(config, overlayCheckpoint(ckpt, new Map([['model.decoder.layers.1.fc2.bias', null]])), /model\.decoder\.layers\.1\.fc2\.bias/);
    expectError({ ...config, d_model: '32' }, ckpt, /d_model/);
  });
});

// ------------------------------------------------------------------------------------------------
// Synthetic checkpoints for configurations without an HF reference, checked against a float64
// forward pass written from modeling_bart.py / modeling_mbart.py (batch 1, no padding).

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Synth {
  config: Config;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

function synthCheckpoint(config: Config, seed: number, opts: { prefix?: string; untied?: boolean; bias?: boolean } = {}): Synth {
  const r = rng(seed);
  const p = opts.prefix ?? 'model.';
  const D = config.d_model as number;
  const V = config.vocab_size as number;
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  const put = (name: string, shape: number[], f: () => number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = f();
    weights.set(name, { shape, data });
  };
  const u = (a: number) => () => (r() * 2 - 1) * a;
  const ln = (n: string) => {
    put(`${n}.weight`, [D], () => 1 + (r() * 2 - 1) * 0.3);
    put(`${n}.bias`, [D], u(0.2));
  };
  const lin = (n: string, out: number, inp: number) => {
    put(`${n}.weight`, [out, inp], u(1.5 / Math.sqrt(inp)));
    put(`${n}.bias`, [out], u(0.3));
  };
  put(`${p}shared.weight`, [V, D], u(1));
  if (opts.untied) put('lm_head.weight', [V, D], u(1));
  if (opts.bias) put('final_logits_bias', [1, V], u(2));
  const mbart = config.model_type === 'mbart';
  for (const side of ['encoder', 'decoder'] as const) {
    put(`${p}${side}.embed_positions.weight`, [(config.max_position_embeddings as number) + 2, D], u(1));
    ln(`${p}${side}.layernorm_embedding`);
    if (mbart) ln(`${p}${side}.layer_norm`);
    for (let l = 0; l < (config[`${side}_layers`] as number); l++) {
      const lp = `${p}${side}.layers.${l}`;
      for (const a of side === 'encoder' ? ['self_attn'] : ['self_attn', 'encoder_attn']) {
        for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) lin(`${lp}.${a}.${proj}`, D, D);
        ln(`${lp}.${a}_layer_norm`);
      }
      const F = config[`${side}_ffn_dim`] as number;
      lin(`${lp}.fc1`, F, D);
      lin(`${lp}.fc2`, D, F);
      ln(`${lp}.final_layer_norm`);
    }
  }
  return { config, weights };
}

// erf to ~1e-15 (series / continued fraction), so the reference does not depend on ORT's Erf.
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = 0;
    let term = ax;
    for (let n = 0; n < 60; n++) {
      sum += term / (2 * n + 1);
      term *= (-ax * ax) / (n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  return Math.sign(x) * (1 - erfc);
}

const ACT: Record<string, (x: number) => number> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  relu: (x) => Math.max(0, x),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  gelu_fast: (x) => 0.5 * x * (1 + Math.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x))),
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  silu: (x) => x / (1 + Math.exp(-x)),
  mish: (x) => x * Math.tanh(Math.log1p(Math.exp(x))),
  relu2: (x) => Math.max(0, x) ** 2,
  relu6: (x) => Math.min(6, Math.max(0, x)),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  linear: (x) => x,
  gelu_10: (x) => Math.min(10, Math.max(-10, 0.5 * x * (1 + erf(x / Math.SQRT2)))),
  laplace: (x) => 0.5 * (1 + erf((x - 0.707107) / (0.282095 * Math.SQRT2))),
};

type M = number[][];

/** transformers' forward pass: returns the encoder output and the decoder logits (rows = positions). */
function referenceForward(s: Synth, src: number[], tgt: number[]): { hidden: M; logits: M } {
  const c = s.config;
  const W = (n: string) => {
    const w = s.weights.get(n) ?? s.weights.get(`model.${n}`);
    if (!w) throw new Error(`reference: no ${n}`);
    return w.data;
  };
  const pre = s.weights.has('model.shared.weight') ? 'model.' : '';
  const D = c.d_model as number;
  const V = c.vocab_size as number;
  const mbart = c.model_type === 'mbart';
  const act = ACT[(c.activation_function as string) ?? 'gelu']!;
  const scale = c.scale_embedding ? Math.sqrt(D) : 1;
  const linear = (x: M, n: string): M => {
    const w = W(`${n}.weight`);
    const b = W(`${n}.bias`);
    const out = b.length;
    const inp = w.length / out;
    return x.map((row) => Array.from({ length: out }, (_, o) => {
      let acc = b[o]!;
      for (let i = 0; i < inp; i++) acc += row[i]! * w[o * inp + i]!;
      return acc;
    }));
  };
  const layerNorm = (x: M, n: string): M => {
    const w = W(`${n}.weight`);
    const b = W(`${n}.bias`);
    return x.map((row) => {
      const mean = row.reduce((a, v) => a + v, 0) / row.length;
      const vr = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
      return row.map((v, i) => ((v - mean) / Math.sqrt(vr + 1e-5)) * w[i]! + b[i]!);
    });
  };
  const add = (a: M, b: M): M => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
  const attention = (xq: M, xkv: M, n: string, H: number, causal: boolean): M => {
    const hd = D / H;
    const q = linear(xq, `${n}.q_proj`).map((r) => r.map((v) => v * hd ** -0.5));
    const k = linear(xkv, `${n}.k_proj`);
    const v = linear(xkv, `${n}.v_proj`);
    const ctx = xq.map(() => new Array<number>(D).fill(0));
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < q.length; t++) {
        const sc = k.map((kr, j) => (causal && j > t ? -Infinity : kr.slice(h * hd, (h + 1) * hd).reduce((a, x, i) => a + x * q[t]![h * hd + i]!, 0)));
        const mx = Math.max(...sc);
        const e = sc.map((x) => Math.exp(x - mx));
        const z = e.reduce((a, x) => a + x, 0);
        for (let j = 0; j < k.length; j++) for (let i = 0; i < hd; i++) ctx[t]![h * hd + i] += (e[j]! / z) * v[j]![h * hd + i]!;
      }
    }
    return linear(ctx, `${n}.out_proj`);
  };
  const block = (x: M, norm: string, f: (h: M) => M): M => (mbart ? add(x, f(layerNorm(x, norm))) : layerNorm(add(x, f(x)), norm));
  const ffn = (h: M, lp: string) => linear(linear(h, `${lp}.fc1`).map((r) => r.map(act)), `${lp}.fc2`);
  const embed = (ids: number[], side: string): M => {
    const E = W(`${pre}shared.weight`);
    const P = W(`${pre}${side}.embed_positions.weight`);
    const x = ids.map((id, t) => Array.from({ length: D }, (_, i) => E[id * D + i]! * scale + P[(t + 2) * D + i]!));
    return layerNorm(x, `${pre}${side}.layernorm_embedding`);
  };
  let x = embed(src, 'encoder');
  for (let l = 0; l < (c.encoder_layers as number); l++) {
    const lp = `${pre}encoder.layers.${l}`;
    x = block(x, `${lp}.self_attn_layer_norm`, (h) => attention(h, h, `${lp}.self_attn`, c.encoder_attention_heads as number, false));
    x = block(x, `${lp}.final_layer_norm`, (h) => ffn(h, lp));
  }
  if (mbart) x = layerNorm(x, `${pre}encoder.layer_norm`);
  const hidden = x;
  let y = embed(tgt, 'decoder');
  const H = c.decoder_attention_heads as number;
  for (let l = 0; l < (c.decoder_layers as number); l++) {
    const lp = `${pre}decoder.layers.${l}`;
    y = block(y, `${lp}.self_attn_layer_norm`, (h) => attention(h, h, `${lp}.self_attn`, H, true));
    y = block(y, `${lp}.encoder_attn_layer_norm`, (h) => attention(h, hidden, `${lp}.encoder_attn`, H, false));
    y = block(y, `${lp}.final_layer_norm`, (h) => ffn(h, lp));
  }
  if (mbart) y = layerNorm(y, `${pre}decoder.layer_norm`);
  const head = c.tie_word_embeddings === false ? s.weights.get('lm_head.weight')!.data : W(`${pre}shared.weight`);
  const bias = s.weights.get('final_logits_bias')?.data;
  const logits = y.map((row) => Array.from({ length: V }, (_, v) => {
    let acc = bias ? bias[v]! : 0;
    for (let i = 0; i < D; i++) acc += row[i]! * head[v * D + i]!;
    return acc;
  }));
  return { hidden, logits };
}

describe('HF BART graphs vs a float64 reference on synthetic checkpoints', () => {
  const base: Config = {
    model_type: 'bart',
    vocab_size: 37,
    d_model: 16,
    encoder_layers: 2,
    decoder_layers: 3,
    encoder_attention_heads: 4,
    decoder_attention_heads: 2,
    encoder_ffn_dim: 24,
    decoder_ffn_dim: 40,
    max_position_embeddings: 20,
    activation_function: 'gelu',
    scale_embedding: false,
  };
  const variants: { name: string; config: Config; opts?: { prefix?: string; untied?: boolean; bias?: boolean } }[] = [
    { name: 'bart gelu', config: base },
    { name: 'bart relu + scale_embedding + final_logits_bias', config: { ...base, activation_function: 'relu', scale_embedding: true }, opts: { bias: true } },
    { name: 'bart gelu_new, untied LM head', config: { ...base, activation_function: 'gelu_new', tie_word_embeddings: false }, opts: { untied: true } },
    { name: 'BartModel checkpoint (no "model." prefix), silu', config: { ...base, activation_function: 'silu' }, opts: { prefix: '' } },
    { name: 'mbart (pre-LN, final layer_norm), scale_embedding', config: { ...base, model_type: 'mbart', scale_embedding: true, normalize_before: true, add_final_layer_norm: true } },
    ...['gelu_fast', 'quick_gelu', 'mish', 'relu2', 'relu6', 'tanh', 'sigmoid', 'linear', 'gelu_10', 'laplace'].map((a) => ({
      name: `bart ${a}`,
      config: { ...base, activation_function: a, encoder_layers: 1, decoder_layers: 1 },
    })),
  ];
  const src = [0, 5, 9, 13, 4, 22, 31, 8, 2];
  const tgt = [2, 0, 17, 3, 36, 11, 6];

  for (const [vi, v] of variants.entries()) {
    test(v.name, async (t) => {
      const synth = synthCheckpoint(v.config, 100 + vi, v.opts);
      const ckpt = overlayCheckpoint(null, synth.weights);
      const m = await build(v.config, ckpt);
      const ref = referenceForward(synth, src, tgt);
      const enc = await encode(m, [src]);
      assert.ok(maxAbsDiff(enc.hidden.data as Float32Array, ref.hidden.flat()) <= 1e-4, 'encoder output');
      const V = base.vocab_size as number;
      const refLogits = ref.logits.flat();
      const tol = 1e-4 * Math.max(1, ...refLogits.map(Math.abs));
      const a = (await decode(m, enc, tgt, [1, tgt.length], false)).logits.data as Float32Array;
      assert.ok(maxAbsDiff(a, refLogits) <= tol, `no-cache logits differ by ${maxAbsDiff(a, refLogits)}`);
      const step = await chunked(m, enc, tgt, [1]);
      assert.ok(maxAbsDiff(step, refLogits) <= tol, `step-by-step logits differ by ${maxAbsDiff(step, refLogits)}`);
      const chunks = await chunked(m, enc, tgt, [3, 2]);
      assert.ok(maxAbsDiff(chunks, refLogits) <= tol, `chunked logits differ by ${maxAbsDiff(chunks, refLogits)}`);
      assert.equal(a.length, tgt.length * V);
      t.diagnostic(`max |d logit| vs float64: no-cache ${maxAbsDiff(a, refLogits).toExponential(1)}, step ${maxAbsDiff(step, refLogits).toExponential(1)} (logits up to ${Math.max(...refLogits.map(Math.abs)).toFixed(1)})`);
    });
  }
});
