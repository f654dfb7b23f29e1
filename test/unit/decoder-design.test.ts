// The `quals-step` decoder design (no If, batch-1 cross-attention cache, beam reordering and
// log-softmax + top-k / gather inside the graph) against the Optimum merged decoder of the same
// generated model: same hypotheses, same scores.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTestModel } from '../../src/modelgen/random-bart';
import { beamContinuations, beamContinuationsEach, beamSearch } from '../../src/scoring/model/generate';
import { type LoadedModel, loadModel } from '../../src/scoring/model/loader';
import { floatData } from '../../src/scoring/model/ort';
import { readModelFolder } from '../../src/models/model-files';

const dir = ensureTestModel(join(tmpdir(), 'quals-test-models', 'tiny-1234'), { size: 'tiny', seed: 1234 });

describe('decoder designs: quals-step equals the merged decoder', () => {
  let step: LoadedModel;
  let merged: LoadedModel;
  before(async () => {
    step = await loadModel({ model: dir, device: 'cpu' });
    merged = await loadModel({ model: dir, device: 'cpu' }, undefined, { design: 'merged' });
  });
  after(async () => {
    await step?.dispose();
    await merged?.dispose();
  });
  const source = 'The team won the match in Paris and he scored 12 goals. She was born in London in 2019.';

  it('generated models record the design and the loader picks it', () => {
    const folder = readModelFolder(dir);
    assert.equal(folder.qualsJson?.graphs?.design, 'quals-step');
    assert.ok(folder.stepPaths);
    assert.equal(step.seq2seq.design, 'quals-step');
    assert.equal(merged.seq2seq.design, 'merged');
  });

  it('step graphs of an older interface are not run: fp32 falls back to the merged decoder and says why, int8 says to import again', async () => {
    const old = mkdtempSync(join(tmpdir(), 'quals-old-step-'));
    try {
      cpSync(dir, old, { recursive: true });
      const quals = JSON.parse(readFileSync(join(old, 'quals.json'), 'utf8')) as { graphs: Record<string, unknown> };
      delete quals.graphs.stepGraphs; // what the previous version wrote
      writeFileSync(join(old, 'quals.json'), JSON.stringify(quals));
      const folder = readModelFolder(old);
      assert.equal(folder.stepPaths, undefined);
      assert.match(folder.outdatedStepGraphs ?? '', /another version of QUALS \(step graphs version 1; this one runs 2\).*merged decoder.*import the model again.*--variant int8/);
      const logs: string[] = [];
      const model = await loadModel({ model: old, device: 'cpu', log: (l) => logs.push(l) });
      try {
        assert.equal(model.seq2seq.design, 'merged');
        assert.ok(logs.some((l) => l.includes('another version of QUALS')), logs.join('\n'));
      } finally {
        await model.dispose();
      }
      assert.throws(() => readModelFolder(old, 'int8'), (e: Error & { code?: string }) => e.code === 'invalid-file' && /another version of QUALS.*--variant int8/.test(e.message));
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });

  it('encoding, first logits and teacher forcing agree', async () => {
    const ids = step.format.encodeInput(source).ids;
    const a = await step.seq2seq.encode(ids);
    const b = await merged.seq2seq.encode(ids);
    const la = floatData(a.firstLogits);
    const lb = floatData(b.firstLogits);
    let d = 0;
    for (let i = 0; i < la.length; i++) d = Math.max(d, Math.abs(la[i]! - lb[i]!));
    assert.ok(d < 1e-4, `first logits differ by ${d}`);
    const targets = [[5, 40, 41, 7, 99, 42, 2], [9, 8, 7, 2], [30, 31, 32, 33, 34, 35, 36, 37, 2]];
    const ta = await step.seq2seq.teacherForce(a, targets, 1e9);
    const tb = await merged.seq2seq.teacherForce(b, targets, 1e9);
    const tc = await step.seq2seq.teacherForce(a, targets, 1, [5]);
    const td = await merged.seq2seq.teacherForce(b, targets, 1, [5]);
    for (let i = 0; i < targets.length; i++) {
      ta[i]!.forEach((v, t) => assert.ok(Math.abs(v - tb[i]![t]!) < 1e-5, `target ${i} token ${t}: ${v} vs ${tb[i]![t]}`));
      tc[i]!.forEach((v, t) => assert.ok(Math.abs(v - td[i]![t]!) < 1e-5));
    }
  });

  for (const beamSearchImpl of ['grouped', 'fairseq', 'hf'] as const) {
    it(`${beamSearchImpl} diverse beam search: identical hypotheses and scores`, async () => {
      const ids = step.format.encodeInput(source).ids;
      const config = { numBeams: 8, numBeamGroups: 4, diversityStrength: 0.5, diversityCount: 'fairseq' as const, minLength: 3, maxLength: 12, lengthPenalty: 1, eosId: 2, padId: 1, beamSearch: beamSearchImpl };
      const ha = await beamSearch(step.seq2seq, await step.seq2seq.encode(ids), config);
      const hb = await beamSearch(merged.seq2seq, await merged.seq2seq.encode(ids), config);
      const hc = await beamSearch(step.seq2seq, await step.seq2seq.encode(ids), config, undefined, [7]);
      const hd = await beamSearch(merged.seq2seq, await merged.seq2seq.encode(ids), config, undefined, [7]);
      for (const [x, y] of [[ha, hb], [hc, hd]] as const) {
        assert.equal(x.length, y.length);
        x.forEach((h, i) => {
          assert.deepEqual(h.tokens, y[i]!.tokens);
          assert.ok(Math.abs(h.score - y[i]!.score) < 1e-5);
        });
      }
    });
  }

  it('rows that repeat a row (same past, same token) run once and get its results; their continuations stay shared', async () => {
    const ids = step.format.encodeInput(source).ids;
    const sm = step.seq2seq;
    const enc = await sm.encode(ids);
    const tokens = [5, 9, 5, 9, 30];
    const before = sm.counters.decoderTokens;
    const one = await sm.stepTopK(sm.startState(enc, 5), tokens, 6, [2]);
    assert.equal(sm.counters.decoderTokens - before, 3, 'three distinct rows were computed');
    const merges = await merged.seq2seq.stepTopK(merged.seq2seq.startState(await merged.seq2seq.encode(ids), 5), tokens, 6, [2]);
    assert.deepEqual(Array.from(one.scores.ids), Array.from(merges.scores.ids));
    one.scores.logp.forEach((v, i) => assert.ok(Math.abs(v - merges.scores.logp[i]!) < 1e-5));
    assert.deepEqual(Array.from(one.scores.extraLogp.subarray(0, 1)), Array.from(one.scores.extraLogp.subarray(2, 3)));
    // The copies share their new cache rows, so the next step with equal tokens is shared again.
    const mid = sm.counters.decoderTokens;
    const two = await sm.stepTopK(one.state, [7, 7, 7, 8, 7], 6, [2]);
    assert.equal(sm.counters.decoderTokens - mid, 4, 'rows 0 and 2 (same sequence, same token) run once');
    assert.deepEqual(Array.from(two.scores.logp.subarray(0, 6)), Array.from(two.scores.logp.subarray(12, 18)));
  });

  it('beam continuations of forced prompts agree', async () => {
    const ids = step.format.encodeInput(source).ids;
    const prompts = [[5, 40], [9, 8, 7], [30]];
    const cfg = { numBeams: 4, maxLength: 6, eosId: 2, padId: 1 };
    const a = await beamContinuations(step.seq2seq, await step.seq2seq.encode(ids), prompts, cfg);
    const b = await beamContinuations(merged.seq2seq, await merged.seq2seq.encode(ids), prompts, cfg);
    a.forEach((cands, i) => cands.forEach((c, j) => {
      assert.deepEqual(c.ids, b[i]![j]!.ids);
      assert.ok(Math.abs(c.meanLogp - b[i]![j]!.meanLogp) < 1e-5);
    }));
  });

  // Prompts of different lengths (the shortest forced in the first pass, the others a token per
  // call), searches that finish at different steps, a repeated prompt, an empty one.
  const prompts = [[5, 40], [9, 8, 7, 6, 5, 4, 3], [30], [5, 40], [], [11, 12, 13, 14], [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60]];
  for (const design of ['quals-step', 'merged'] as const) {
    for (const cfg of [{ numBeams: 4, maxLength: 8, eosId: 2, padId: 1 }, { numBeams: 3, maxLength: 3, eosId: 2, padId: 1 }]) {
      it(`${design}: all prompts in one batched search equal one search per prompt (${cfg.numBeams} beams, ${cfg.maxLength} tokens)`, async () => {
        const model = design === 'quals-step' ? step : merged;
        const enc = await model.seq2seq.encode(model.format.encodeInput(source).ids);
        const runsBefore = model.seq2seq.counters.decoderRuns;
        const each = await beamContinuationsEach(model.seq2seq, enc, prompts, cfg);
        const eachRuns = model.seq2seq.counters.decoderRuns - runsBefore;
        const batched = await beamContinuations(model.seq2seq, enc, prompts, cfg);
        const batchedRuns = model.seq2seq.counters.decoderRuns - runsBefore - eachRuns;
        assert.equal(batched.length, prompts.length);
        const lengths = new Set<number>();
        batched.forEach((cands, i) => {
          assert.equal(cands.length, each[i]!.length, `prompt ${i}: candidate count`);
          cands.forEach((c, j) => {
            assert.deepEqual(c.ids, each[i]![j]!.ids, `prompt ${i} candidate ${j}`);
            assert.ok(Math.abs(c.meanLogp - each[i]![j]!.meanLogp) < 1e-5, `prompt ${i} candidate ${j}: ${c.meanLogp} vs ${each[i]![j]!.meanLogp}`);
            lengths.add(c.ids.length);
          });
        });
        assert.ok(lengths.size > 1, 'the searches should end at different lengths');
        // One call per step for all rows: the first pass, the longer prompts' remaining tokens, the longest search.
        const spread = Math.max(...prompts.map((p) => p.length)) - Math.min(...prompts.map((p) => p.length));
        assert.ok(batchedRuns <= 1 + spread + cfg.maxLength && batchedRuns < eachRuns, `batched ${batchedRuns} decoder runs vs ${eachRuns} one search per prompt`);
      });
    }
  }
});
