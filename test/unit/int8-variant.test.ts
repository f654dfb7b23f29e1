// The int8 variant (src/models/graphs/quantize.ts): quantization itself, the int8 graphs of a
// generated model and of imported BART / T5 checkpoints run in real ONNX Runtime close to fp32,
// import writes them deterministically without touching the fp32 files, and the variant option,
// the CLI flags and the error for a folder without int8 files.
//
// Tolerances: each int8 MatMul rounds weights to 1/254 of their column's largest magnitude and
// activations to 1/510 of the tensor's range; measured against fp32 one such product is off by
// ~0.6% of its largest output (ORT 1.30, 768 x 3072), and whole models (2-6 layers) give logits
// within ~2% relative RMS and token log-probabilities within ~0.1 nats (bench model and these
// small ones). The bounds below are 2-3x those measurements, far below what a broken graph gives
// (a wrong scale layout or transposed weight moves logits by their own size, ~100% RMS).
// The HF fixtures are tiny untrained models (d_model 32, where one outlier sets a whole tensor's
// activation scale): a single int8 graph is 1-12% off there (measured), their encoders ~8-9%, and
// the random T5 (no attention scaling, peaked softmaxes) amplifies that into ~45% at the logits.
// So there each int8 graph is checked against its fp32 twin on identical inputs, with bounds of
// about twice the measured error, still far from the ~100% of a broken graph.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { engineConfigFromFlags } from '../../src/cli/options-flags';
import { run as runModelCommand } from '../../src/cli/commands/model';
import { writeBartModel } from '../../src/modelgen/bart-graph';
import { randomWeights } from '../../src/modelgen/random-bart';
import { QAGEN_SEP_TOKEN, buildTokenizer } from '../../src/modelgen/tokenizer-builder';
import { quantizeColumns } from '../../src/models/graphs/quantize';
import { importCheckpoint } from '../../src/models/import';
import { readModelFolder } from '../../src/models/model-files';
import { ModelError } from '../../src/scoring/errors';
import { type LoadedModel, loadModel } from '../../src/scoring/model/loader';
import { floatData } from '../../src/scoring/model/ort';
import { OptionsError } from '../../src/scoring/options';
import { GRAPH_FILES, fixtureDir } from '../support/checkpoint-fixtures';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-int8-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const INT8_FILES = ['onnx/encoder_model_int8.onnx', 'onnx/decoder_step_quals_int8.onnx', 'onnx/cross_kv_quals_int8.onnx'];

function relRms(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += a[i]! ** 2;
  }
  return Math.sqrt(d / n);
}

/** First-step logits and teacher-forced log-probs of both variants on the same input and targets. */
async function compareVariants(dir: string, text: string, targets: number[][]): Promise<{ logitsRelRms: number; maxLogpDiff: number; meanLogpDiff: number }> {
  const models: LoadedModel[] = [await loadModel({ model: dir, device: 'cpu' }), await loadModel({ model: dir, device: 'cpu', variant: 'int8' })];
  try {
    const [a, b] = models as [LoadedModel, LoadedModel];
    assert.equal(b.seq2seq.design, 'quals-step');
    assert.match(b.folder.encoderPath, /encoder_model_int8\.onnx$/);
    const ids = a.format.encodeInput(text).ids;
    const [ea, eb] = [await a.seq2seq.encode(ids), await b.seq2seq.encode(ids)];
    const [ta, tb] = [await a.seq2seq.teacherForce(ea, targets, 1e9), await b.seq2seq.teacherForce(eb, targets, 1e9)];
    const diffs = ta.flatMap((row, i) => row.map((v, t) => Math.abs(v - tb[i]![t]!)));
    return {
      logitsRelRms: relRms(floatData(ea.firstLogits), floatData(eb.firstLogits)),
      maxLogpDiff: Math.max(...diffs),
      meanLogpDiff: diffs.reduce((x, y) => x + y, 0) / diffs.length,
    };
  } finally {
    for (const m of models) await m.dispose();
  }
}

/**
 * Each int8 graph against its fp32 twin on identical inputs: the cross-attention cache of fixed
 * hidden states, then the step decoder on 4 tokens against that (fp32) cache.
 */
async function graphErrors(dir: string): Promise<{ crossKv: number; logits: number }> {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, number>;
  const H = cfg.decoder_attention_heads ?? cfg.num_heads!;
  const D = cfg.d_model!;
  const hd = cfg.d_kv ?? D / H;
  const L = cfg.decoder_layers ?? cfg.num_decoder_layers ?? cfg.num_layers!;
  const S = 8;
  const hidden = Float32Array.from({ length: S * D }, (_, i) => Math.sin(i * 0.7) * 1.5);
  const open = (f: string) => ort.InferenceSession.create(path.join(dir, 'onnx', f));
  const crossFeeds = { encoder_hidden_states: new ort.Tensor('float32', hidden, [1, S, D]) };
  const [ca, cb] = [await (await open('cross_kv_quals.onnx')).run(crossFeeds), await (await open('cross_kv_quals_int8.onnx')).run(crossFeeds)];
  const crossKv = Math.max(...Object.keys(ca).map((k) => relRms(ca[k]!.data as Float32Array, cb[k]!.data as Float32Array)));
  const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const empty = new ort.Tensor('float32', new Float32Array(0), [0, H, hd]);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64([2, 5, 9, 20]),
    history_rows: new ort.Tensor('int64', new BigInt64Array(0), [1, 0]),
    encoder_attention_mask: i64(new Array<number>(S).fill(1)),
    k: new ort.Tensor('int64', BigInt64Array.from([3n]), [1]),
    extra_ids: new ort.Tensor('int64', BigInt64Array.from([1n]), [1]),
    gold_ids: i64([0, 0, 0, 0]),
  };
  for (let l = 0; l < L; l++) {
    feeds[`history.${l}.key`] = empty;
    feeds[`history.${l}.value`] = empty;
    feeds[`past_key_values.${l}.encoder.key`] = ca[`present.${l}.encoder.key`]!;
    feeds[`past_key_values.${l}.encoder.value`] = ca[`present.${l}.encoder.value`]!;
  }
  const [da, db] = [await (await open('decoder_step_quals.onnx')).run(feeds), await (await open('decoder_step_quals_int8.onnx')).run(feeds)];
  return { crossKv, logits: relRms(da.logits!.data as Float32Array, db.logits!.data as Float32Array) };
}

describe('quantizeColumns', () => {
  test('one symmetric scale per column; every value within half a step; an all-zero column stays zero', () => {
    const w = Float32Array.from([0.5, -2, 0, 0.25, 1, 0, -0.125, 0.3, 0]); // [3, 3], column 2 all zero
    const { q, scale } = quantizeColumns(w, 3, 3);
    assert.deepEqual(Array.from(scale), [Math.fround(0.5 / 127), Math.fround(2 / 127), 1]);
    assert.deepEqual(Array.from(q), [127, -127, 0, 64, 64, 0, -32, 19, 0]);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(w[i]! - q[i]! * scale[i % 3]!) <= scale[i % 3]! / 2 + 1e-9);
  });
});

describe('int8 graphs of a generated model', () => {
  let dir: string;
  before(() => {
    dir = path.join(tmp, 'generated');
    const tokenizer = buildTokenizer({ words: ['the', 'a', 'team', 'won', 'match', 'Paris', 'London', 'goals', 'scored', 'in'], extraTokens: [QAGEN_SEP_TOKEN] });
    const hyper = { dModel: 64, heads: 4, ffn: 128, encoderLayers: 2, decoderLayers: 2, maxPositions: 64, vocabSize: tokenizer.vocab.size };
    writeBartModel(dir, { hyper, weights: randomWeights(hyper, { seed: 5 }), tokenizer, name: 'int8-test', quals: { format: 'qagen' }, int8: true });
  });

  test('are written beside fp32, recorded in quals.json, smaller, and stay close to fp32 in ONNX Runtime', async () => {
    for (const f of INT8_FILES) assert.ok(fs.existsSync(path.join(dir, f)), f);
    const folder = readModelFolder(dir, 'int8');
    assert.equal(folder.qualsJson?.graphs?.variants?.int8?.design, 'quals-step');
    assert.equal(folder.decoderPath, undefined, 'no merged int8 decoder');
    const size = (f: string) => fs.statSync(path.join(dir, f)).size;
    assert.ok(size('onnx/decoder_step_quals_int8.onnx') < 0.6 * size('onnx/decoder_step_quals.onnx'));
    const r = await compareVariants(dir, 'the team won the match in Paris and scored goals in London', [[5, 10, 11, 7, 9, 12, 2], [9, 8, 7, 2], [3, 4, 5, 6, 7, 8, 9, 10, 2]]);
    assert.ok(r.logitsRelRms > 1e-4, 'the int8 graphs compute something other than the fp32 ones (they are quantized)');
    assert.ok(r.logitsRelRms < 0.05, `first logits relative RMS ${r.logitsRelRms}`);
    assert.ok(r.maxLogpDiff < 0.3 && r.meanLogpDiff < 0.1, `teacher-forced log-probs differ by up to ${r.maxLogpDiff} (mean ${r.meanLogpDiff}) nats`);
  });

  test('the merged design is refused for int8 with a message that says why', async () => {
    await assert.rejects(loadModel({ model: dir, device: 'cpu', variant: 'int8' }, undefined, { design: 'merged' }), (e: unknown) => e instanceof ModelError && /only the quals-step graphs/.test(e.message));
  });
});

describe('import --variant int8 on the real HF fixtures', () => {
  for (const model of ['bart-a', 't5-a'] as const) {
    test(`${model}: deterministic int8 files, fp32 files unchanged, int8 close to fp32`, async () => {
      const plain = await importCheckpoint(fixtureDir(model), path.join(tmp, `${model}-fp32`));
      const a = await importCheckpoint(fixtureDir(model), path.join(tmp, `${model}-int8-a`), { variant: 'int8' });
      const b = await importCheckpoint(fixtureDir(model), path.join(tmp, `${model}-int8-b`), { variant: 'int8' });
      for (const f of [...INT8_FILES, ...INT8_FILES.map((x) => `${x}_data`)]) {
        assert.ok(a.files.includes(f), `${f} written`);
        assert.ok(fs.readFileSync(path.join(a.outDir, f)).equals(fs.readFileSync(path.join(b.outDir, f))), `${f} is deterministic`);
      }
      for (const f of [...GRAPH_FILES, 'onnx/decoder_step_quals.onnx', 'onnx/cross_kv_quals.onnx']) {
        assert.ok(fs.readFileSync(path.join(a.outDir, f)).equals(fs.readFileSync(path.join(plain.outDir, f))), `${f} is the same with and without int8`);
      }
      assert.ok(!plain.files.some((f) => f.includes('_int8')));
      assert.deepEqual(Object.keys(readModelFolder(a.outDir, 'int8').qualsJson?.graphs?.variants ?? {}), ['int8']);
      const g = await graphErrors(a.outDir);
      assert.ok(g.crossKv > 1e-4 && g.crossKv < 0.02, `cross-attention cache relative RMS ${g.crossKv}`);
      assert.ok(g.logits > 1e-4 && g.logits < 0.25, `step decoder logits relative RMS ${g.logits}`);
      if (model === 'bart-a') {
        const r = await compareVariants(a.outDir, 'The team won the match in Paris.', [[100, 200, 300, 400, 2], [7, 8, 9, 2]]);
        assert.ok(r.logitsRelRms < 0.1, `first logits relative RMS ${r.logitsRelRms}`);
        assert.ok(r.maxLogpDiff < 1.5 && r.meanLogpDiff < 0.5, `teacher-forced log-probs differ by up to ${r.maxLogpDiff} (mean ${r.meanLogpDiff}) nats`);
      }
    });
  }
});

describe('choosing the variant', () => {
  test('--variant int8 selects it; an unknown variant is refused with the list', () => {
    assert.equal(engineConfigFromFlags({ variant: 'int8' }).variant, 'int8');
    assert.equal(engineConfigFromFlags({}).variant, 'fp32');
    assert.throws(() => engineConfigFromFlags({ variant: 'int4' }), (e: unknown) => e instanceof OptionsError && /fp32, int8, quantized or fp16/.test(e.message));
  });

  test('a folder without int8 files: the error names the import command with the folder\'s own source', async () => {
    const dir = (await importCheckpoint(fixtureDir('bart-a'), path.join(tmp, 'fp32-only'))).outDir;
    const check = (e: unknown) => {
      assert.ok(e instanceof ModelError && e.code === 'missing-file', String(e));
      assert.match(e.message, /has no int8 variant/);
      assert.match(e.message, /it has the fp32 variant/);
      assert.ok(e.message.includes(`quals model import ${JSON.stringify(fixtureDir('bart-a'))} --out ${JSON.stringify(dir)} --overwrite --variant int8`), e.message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    };
    assert.throws(() => readModelFolder(dir, 'int8'), check);
    await assert.rejects(loadModel({ model: dir, device: 'cpu', variant: 'int8' }), check);
  });

  test('`quals model import --variant int8` writes the variant; a bad value is a usage error', async () => {
    const out = path.join(tmp, 'cli-int8');
    const write = process.stdout.write;
    process.stdout.write = () => true;
    let code: number;
    let bad: number;
    try {
      code = await runModelCommand(['import', fixtureDir('t5-a'), '--out', out, '--variant', 'int8', '--quiet']);
    } finally {
      process.stdout.write = write;
    }
    const errWrite = process.stderr.write;
    let stderr = '';
    process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
    try {
      bad = await runModelCommand(['import', fixtureDir('t5-a'), '--out', path.join(tmp, 'cli-bad'), '--variant', 'int4', '--quiet']);
    } finally {
      process.stderr.write = errWrite;
    }
    assert.equal(code, 0);
    assert.ok(readModelFolder(out, 'int8').stepPaths?.decoder.endsWith('decoder_step_quals_int8.onnx'));
    assert.equal(bad, 1);
    assert.match(stderr, /--variant must be fp32 or int8/);
  });
});
