// The committed tiny trained QAGen model: numeric parity with its training framework, and QUALS
// behaviour on the held-out synthetic set through the real engine (issue 3, item 5).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { QAGEN_SEP_TOKEN } from '../../src/modelgen/tokenizer-builder';
import { createEngine } from '../../src/scoring/engine';
import type { QualsEngine } from '../../src/scoring/engine-api';
import { allWords, evalSet, tinyTokenizer } from '../../models/tiny-qagen/corpus';
import { evaluate, formatReport, KINDS, type EvalReport } from '../../models/tiny-qagen/evaluate';
import { rebuildToy } from '../../models/tiny-qagen/int8-copy';
import { STEP_FILES, readModelFolder } from '../../src/models/model-files';

const MODEL = path.resolve('models/tiny-qagen');
const EVAL_CASES = 48;

describe('tiny QAGen model', () => {
  test('the committed tokenizer is the recipe\'s, with every corpus word one token and the real separator', () => {
    const json = JSON.parse(fs.readFileSync(path.join(MODEL, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const config = JSON.parse(fs.readFileSync(path.join(MODEL, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(json, JSON.parse(JSON.stringify(tinyTokenizer().tokenizerJson)), 'tokenizer.json is stale: rerun the recipe in models/tiny-qagen/README.md');
    const tok = new Tokenizer(json, config);
    const enc = (s: string) => tok.encode(s, { add_special_tokens: false }).ids;
    for (const w of allWords()) {
      assert.equal(enc(w).length, 1, `bare ${w}`);
      assert.equal(enc(` ${w}`).length, 1, `spaced ${w}`);
    }
    assert.deepEqual(enc(' strutConnector'), [tok.token_to_id(QAGEN_SEP_TOKEN)]);
  });

  test('the committed quals-step graphs are what the builder makes of the toy\'s own weights, and the loader runs them', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-toy-step-'));
    try {
      rebuildToy(MODEL, path.join(tmp, 'toy'), false);
      for (const f of Object.values(STEP_FILES)) {
        assert.ok(fs.readFileSync(path.join(tmp, 'toy', f)).equals(fs.readFileSync(path.join(MODEL, f))), `${f} is stale: run npx tsx models/tiny-qagen/step-graphs.ts`);
      }
      const recorded = (JSON.parse(fs.readFileSync(path.join(MODEL, 'quals.json'), 'utf8')) as { graphs: unknown }).graphs;
      assert.deepEqual(recorded, (JSON.parse(fs.readFileSync(path.join(tmp, 'toy', 'quals.json'), 'utf8')) as { graphs: unknown }).graphs);
      assert.ok(readModelFolder(MODEL).stepPaths, 'the toy does not run its quals-step graphs');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('ONNX Runtime logits equal the reference logits recorded at training time', async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(MODEL, 'reference-logits.json'), 'utf8')) as {
      input_ids: number[][];
      decoder_input_ids: number[][];
      dims: [number, number, number];
    };
    const buf = fs.readFileSync(path.join(MODEL, 'reference-logits.bin'));
    const expected = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const cfg = JSON.parse(fs.readFileSync(path.join(MODEL, 'config.json'), 'utf8')) as { d_model: number; decoder_attention_heads: number; decoder_layers: number };
    const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
    const mask = ref.input_ids.map((r) => r.map((id) => (id === 1 ? 0 : 1)));
    const enc = await ort.InferenceSession.create(path.join(MODEL, 'onnx/encoder_model.onnx'));
    const dec = await ort.InferenceSession.create(path.join(MODEL, 'onnx/decoder_model_merged.onnx'));
    try {
      const { last_hidden_state } = await enc.run({ input_ids: i64(ref.input_ids), attention_mask: i64(mask) });
      const B = ref.input_ids.length;
      const H = cfg.decoder_attention_heads;
      const feeds: Record<string, ort.Tensor> = {
        encoder_attention_mask: i64(mask),
        input_ids: i64(ref.decoder_input_ids),
        encoder_hidden_states: last_hidden_state!,
        use_cache_branch: new ort.Tensor('bool', [false], [1]),
      };
      for (let l = 0; l < cfg.decoder_layers; l++) {
        for (const k of ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value']) {
          feeds[`past_key_values.${l}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [B, H, 0, cfg.d_model / H]);
        }
      }
      const { logits } = await dec.run(feeds);
      assert.deepEqual(logits!.dims, ref.dims);
      const got = logits!.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
      console.log(`ORT vs PyTorch reference logits: max abs diff ${maxDiff.toExponential(2)} over ${expected.length} values`);
      assert.ok(maxDiff <= 1e-4, `logits differ from the training-time reference by ${maxDiff}`);
    } finally {
      await enc.release();
      await dec.release();
    }
  });

  describe('QUALS through the engine on the held-out set', () => {
    let engine: QualsEngine;
    let report: EvalReport;
    before(async () => {
      engine = await createEngine({ model: MODEL, device: 'cpu' });
      report = await evaluate(engine, evalSet(1, EVAL_CASES));
      console.log(formatReport(report));
    });
    after(async () => {
      await engine?.dispose();
    });

    const winRate = (kind: (typeof KINDS)[number]) => report.perKind[kind].wins / report.perKind[kind].cases;
    const wins = (kind: (typeof KINDS)[number]) =>
      `faithful > ${kind} in ${report.perKind[kind].wins}/${report.perKind[kind].cases}:\n${report.misses.filter((x) => x.startsWith(`${kind} `) && !x.includes('not localised')).join('\n')}`;
    const sourceSays = () => {
      const { swap, number } = report.perKind;
      return { hits: swap.sourceSaysOriginal + number.sourceSaysOriginal, total: swap.cases + number.cases };
    };

    for (const kind of KINDS) {
      test(`faithful beats ${kind} in at least 90% of cases`, () => {
        assert.equal(report.perKind[kind].cases, EVAL_CASES);
        assert.ok(winRate(kind) >= 0.9, wins(kind));
      });
    }

    test('the worst pair of a corrupted summary is on, or asks about, the corrupted word in at least 80% of cases', () => {
      const hits = KINDS.reduce((s, k) => s + report.perKind[k].localised, 0);
      const total = KINDS.reduce((s, k) => s + report.perKind[k].cases, 0);
      assert.ok(hits >= 0.8 * total, `worst pair points at the corrupted word in ${hits}/${total}`);
    });

    test('for swaps and wrong numbers, "source says" gives the original fact in at least 70% of cases', () => {
      const { hits, total } = sourceSays();
      assert.ok(hits >= 0.7 * total, `source says the original in ${hits}/${total}`);
    });
  });
});
