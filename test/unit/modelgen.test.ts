// Generated test models: determinism, ONNX Runtime loadability, KV-cache correctness, tokenizer.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { buildTokenizer, QAGEN_SEP_TOKEN } from '../../src/modelgen/tokenizer-builder';
import { ensureTestModel, writeTestModel } from '../../src/modelgen/random-bart';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-modelgen-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

describe('random BART generator', () => {
  test('same seed gives the same bytes; another seed gives other weights', () => {
    writeTestModel(path.join(tmp, 'a'), { seed: 7 });
    writeTestModel(path.join(tmp, 'b'), { seed: 7 });
    writeTestModel(path.join(tmp, 'c'), { seed: 8 });
    const [a, b, c] = ['a', 'b', 'c'].map((d) => filesOf(path.join(tmp, d)));
    assert.deepEqual([...a!.keys()].sort(), [...b!.keys()].sort());
    for (const [name, bytes] of a!) assert.ok(bytes.equals(b!.get(name)!), `${name} differs between two runs with one seed`);
    for (const f of ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx']) {
      assert.ok(!a!.get(f)!.equals(c!.get(f)!), `${f} is the same for seeds 7 and 8`);
    }
  });

  test('ensureTestModel reuses a complete model, replaces an incomplete one, refuses a foreign folder', () => {
    const dir = path.join(tmp, 'ensured');
    ensureTestModel(dir, { seed: 3 });
    const stamp = fs.statSync(path.join(dir, 'onnx/encoder_model.onnx')).mtimeMs;
    ensureTestModel(dir, { seed: 3 });
    assert.equal(fs.statSync(path.join(dir, 'onnx/encoder_model.onnx')).mtimeMs, stamp);
    fs.rmSync(path.join(dir, 'onnx/decoder_model_merged.onnx'));
    ensureTestModel(dir, { seed: 3 });
    assert.ok(fs.existsSync(path.join(dir, 'onnx/decoder_model_merged.onnx')));
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    assert.throws(() => ensureTestModel(foreign), /not a generated test model/);
    assert.equal(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8'), 'mine');
  });
});

describe('random BART in ONNX Runtime', () => {
  const dir = path.join(tmp, 'ort');
  let enc: ort.InferenceSession;
  let dec: ort.InferenceSession;
  let cfg: { d_model: number; decoder_attention_heads: number; decoder_layers: number; vocab_size: number };
  before(async () => {
    ensureTestModel(dir, { seed: 11 });
    enc = await ort.InferenceSession.create(path.join(dir, 'onnx/encoder_model.onnx'));
    dec = await ort.InferenceSession.create(path.join(dir, 'onnx/decoder_model_merged.onnx'));
    cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  });
  after(async () => {
    await enc?.release();
    await dec?.release();
  });

  const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);

  test('graphs have the Optimum input and output names', () => {
    assert.deepEqual(enc.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual(enc.outputNames, ['last_hidden_state']);
    const kv = (p: string) => Array.from({ length: cfg.decoder_layers }, (_, l) =>
      ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'].map((k) => `${p}.${l}.${k}`)).flat();
    assert.deepEqual(dec.inputNames, ['encoder_attention_mask', 'input_ids', 'encoder_hidden_states', ...kv('past_key_values'), 'use_cache_branch']);
    assert.deepEqual(dec.outputNames, ['logits', ...kv('present')]);
  });

  test('cached step-by-step decoding equals the full no-cache pass', async () => {
    const H = cfg.decoder_attention_heads;
    const hd = cfg.d_model / H;
    const src = [[5, 9, 40, 41, 77, 2], [8, 12, 2, 1, 1, 1]]; // second row padded
    const mask = src.map((r, i) => r.map((_, j) => (i === 1 && j > 2 ? 0 : 1)));
    const { last_hidden_state: encH } = await enc.run({ input_ids: i64(src), attention_mask: i64(mask) });
    const targets = [[2, 30, 31, 32, 33, 34, 35], [2, 60, 61, 62, 63, 64, 65]];
    const T = targets[0]!.length;
    const B = targets.length;
    const emptyKv = () => new ort.Tensor('float32', new Float32Array(0), [B, H, 0, hd]);
    const pastFeeds = (present?: ort.InferenceSession.OnnxValueMapType) => {
      const feeds: Record<string, ort.Tensor> = {};
      for (let l = 0; l < cfg.decoder_layers; l++) {
        for (const k of ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value']) {
          feeds[`past_key_values.${l}.${k}`] = present ? (present[`present.${l}.${k}`] as ort.Tensor) : emptyKv();
        }
      }
      return feeds;
    };
    const run = (ids: number[][], useCache: boolean, present?: ort.InferenceSession.OnnxValueMapType) =>
      dec.run({
        encoder_attention_mask: i64(mask),
        input_ids: i64(ids),
        encoder_hidden_states: encH!,
        use_cache_branch: new ort.Tensor('bool', [useCache], [1]),
        ...pastFeeds(present),
      });
    const full = (await run(targets, false)).logits!.data as Float32Array;
    const V = cfg.vocab_size;
    let present: ort.InferenceSession.OnnxValueMapType | undefined;
    let maxDiff = 0;
    for (let t = 0; t < T; t++) {
      const out = await run(targets.map((r) => [r[t]!]), t > 0, present);
      present = out;
      const step = out.logits!.data as Float32Array;
      assert.deepEqual(out.logits!.dims, [B, 1, V]);
      for (let b = 0; b < B; b++) {
        for (let v = 0; v < V; v++) maxDiff = Math.max(maxDiff, Math.abs(step[b * V + v]! - full[(b * T + t) * V + v]!));
      }
    }
    assert.ok(maxDiff < 1e-4, `cached vs full logits differ by ${maxDiff}`);
    // The cache is real: the self-attention cache grew to T positions.
    assert.deepEqual((present!['present.0.decoder.key'] as ort.Tensor).dims, [B, H, T, hd]);
  });
});

describe('byte-level BPE tokenizer builder', () => {
  const words = ['Who', 'beat', 'Fury', 'Klitschko', 'in', 'it', 'Dusseldorf', '19', '1999', '2019', '9', 'Kli', 'strut'];
  const built = buildTokenizer({ words, extraTokens: [QAGEN_SEP_TOKEN] });
  const tok = new Tokenizer(built.tokenizerJson, built.tokenizerConfig);
  const enc = (s: string) => tok.encode(s, { add_special_tokens: false }).ids;

  test('every word is one token, with and without a leading space', () => {
    for (const w of words) {
      assert.deepEqual(enc(w), [built.vocab.get(w)], `bare ${w}`);
      assert.deepEqual(enc(` ${w}`), [built.vocab.get(`Ġ${w}`)], `spaced ${w}`);
    }
  });

  test('the separator is the ordinary vocabulary token ĠstrutConnector', () => {
    const sep = built.vocab.get(QAGEN_SEP_TOKEN)!;
    assert.deepEqual(enc(' strutConnector'), [sep]);
    assert.deepEqual(enc('Who beat Fury? strutConnectorKlitschko'), ['Who', 'Ġbeat', 'ĠFury', '?', QAGEN_SEP_TOKEN, 'Klitschko'].map((t) => built.vocab.get(t)));
    const added = (built.tokenizerJson.added_tokens as { content: string }[]).map((t) => t.content);
    assert.ok(!added.includes(QAGEN_SEP_TOKEN), 'the separator must not be an added token');
  });

  test('round trips text, including bytes outside the word list', () => {
    for (const s of ['Fury beat Klitschko in Dusseldorf in 1999.', 'Zoë scored 2 goals — in 2019! 😀 日本', '  spaced  out\n']) {
      assert.equal(tok.decode(tok.encode(s, { add_special_tokens: false }).ids), s);
    }
    assert.deepEqual(tok.encode('Fury').ids, [0, built.vocab.get('Fury'), 2], 'RobertaProcessing adds <s> ... </s>');
  });

  test('pads the vocabulary to a requested size with <mask> last, BART-style', () => {
    const big = buildTokenizer({ words, extraTokens: [QAGEN_SEP_TOKEN], vocabSize: 50265 });
    assert.equal(big.vocab.size, 50265);
    assert.equal(big.vocab.get('<mask>'), 50264);
    assert.deepEqual(['<s>', '<pad>', '</s>', '<unk>'].map((t) => big.vocab.get(t)), [0, 1, 2, 3]);
    const bigTok = new Tokenizer(big.tokenizerJson, big.tokenizerConfig);
    assert.deepEqual(bigTok.encode(' strutConnector', { add_special_tokens: false }).ids, [big.vocab.get(QAGEN_SEP_TOKEN)]);
    assert.throws(() => buildTokenizer({ words, vocabSize: 100 }), /more than the requested vocabulary size/);
  });
});
