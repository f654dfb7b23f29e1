import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepScores } from '../../src/scoring/model/beam-search';
import { diverseCandidates } from '../../src/scoring/model/fairseq-search';
import { type HfSearchConfig, HfBeamSearch, hfCandidatesPerRow, hfLengthCounting } from '../../src/scoring/model/hf-search';

const EOS = 2;
const PAD = 1;

/** StepScores from explicit per-row distributions (token -> log p), best first; missing entries are -inf. */
function scoresOf(rows: Record<number, number>[], eos = -50): StepScores {
  const K = Math.max(...rows.map((r) => Object.keys(r).length));
  const logp = new Float32Array(rows.length * K).fill(-Infinity);
  const ids = new Int32Array(rows.length * K).fill(99);
  const eosLogp = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    Object.entries(r)
      .map(([t, lp]) => [Number(t), lp] as const)
      .sort((a, b) => b[1] - a[1])
      .forEach(([t, lp], j) => {
        ids[i * K + j] = t;
        logp[i * K + j] = lp;
      });
    eosLogp[i] = r[EOS] ?? eos;
  });
  return { rows: rows.length, k: K, logp, ids, eosLogp };
}

const base: HfSearchConfig = {
  numBeams: 2,
  numBeamGroups: 1,
  diversityPenalty: 0,
  lengthPenalty: 1,
  maxLength: 10,
  minLength: 0,
  minNewTokens: 0,
  initialLength: 1,
  forcedEosId: null,
  eosId: EOS,
  padId: PAD,
};

const close = (a: number, b: number) => Math.abs(a - b) < 1e-6;

describe("Hugging Face's group beam search (HammingDiversityLogitsProcessor)", () => {
  it('penalises only the tokens earlier groups SELECTED at this step (fairseq penalises every proposal)', () => {
    const search = new HfBeamSearch({ ...base, numBeamGroups: 2, diversityPenalty: 0.5 });
    const row = { 10: -0.1, 11: -0.3, 12: -0.35, [EOS]: -9 };
    const d = search.step(scoresOf([row]));
    // group 0 selects 10; group 1 pays 0.5 on 10 only, so 11 (-0.3) beats 12 (-0.35)
    assert.deepEqual(d.tokens, [10, 11]);
    // fairseq: group 0 proposes 10 and 11, both penalised for group 1, which then takes 12
    const fs = diverseCandidates(0, scoresOf([row]), [], [], { numBeams: 2, numBeamGroups: 2, diversityStrength: 0.5, minLength: 0, maxLength: 10, lengthPenalty: 1, eosId: EOS, padId: PAD });
    assert.equal(fs.indices[1], 12);
  });

  it('a finished group carries pad at score 0, and its pad counts in later groups\' penalty', () => {
    const search = new HfBeamSearch({ ...base, numBeamGroups: 2, diversityPenalty: 0.5, maxLength: 5 });
    assert.deepEqual(search.step(scoresOf([{ 10: -0.1, 11: -0.2, [EOS]: -3 }])).tokens, [10, 11]);
    // group 0 ends [10, EOS] (-0.11 / 2); group 1 continues with 30
    let d = search.step(scoresOf([{ [EOS]: -0.01, 20: -6 }, { 30: -0.1, 31: -0.3, [EOS]: -4 }]));
    assert.deepEqual(d.tokens, [20, 30]);
    // group 0 is done: worst kept -0.055 >= best candidate -7.1 / 4
    d = search.step(scoresOf([{ 21: -1, 22: -2 }, { 40: -0.1, 41: -0.2 }]));
    assert.deepEqual(d.tokens, [21, 40]);
    d = search.step(scoresOf([{ 60: -0.1 }, { [PAD]: -0.1, 50: -0.3, [EOS]: -9 }]));
    assert.deepEqual(d.sourceRows, [0, 1]);
    assert.deepEqual(d.tokens, [PAD, 50], 'pad (-0.1) loses to 50 (-0.3) only through the 0.5 penalty');
    assert.equal(d.done, true);
    const result = search.result();
    assert.deepEqual(
      result.map((h) => h.tokens),
      [
        [10, EOS],
        [11, 30, 40, 50],
      ],
    );
    assert.ok(close(result[0]!.score, -0.11 / 2));
    assert.ok(close(result[1]!.score, -0.7 / 5), 'an open beam at max_length: sum / (start token + 4 tokens)');
    assert.deepEqual(
      result.map((h) => h.endedWithEos),
      [true, false],
    );
  });
});

describe("Hugging Face's BeamSearchScorer (early_stopping=False)", () => {
  it('EOS within the top k is a hypothesis (length = tokens before it + the start token), EOS ranked k or lower is skipped; forced EOS scores 0', () => {
    const search = new HfBeamSearch({ ...base, maxLength: 4, forcedEosId: EOS });
    let d = search.step(scoresOf([{ 10: -0.5, [EOS]: -0.6, 11: -1.0, 12: -2 }]));
    assert.deepEqual(d.tokens, [10, 11]);
    assert.deepEqual(d.sourceRows, [0, 0]);
    d = search.step(scoresOf([{ 20: -0.1, [EOS]: -0.7, 21: -3, 22: -4 }, { [EOS]: -0.05, 30: -0.9, 31: -2, 32: -3 }]));
    // ranks: (b0,20) -0.6, (b1,EOS) -1.05 -> hypothesis, (b0,EOS) -1.2 rank 2 -> skipped, (b1,30) -1.9
    assert.deepEqual(d.tokens, [20, 30]);
    assert.deepEqual(d.sourceRows, [0, 1]);
    // cur_len 3 == max_length - 1: only EOS, processed log-prob 0 (the model's -5 is not counted)
    d = search.step(scoresOf([{ 40: -0.1 }, { 41: -0.1 }], -5));
    assert.equal(d.done, true);
    const result = search.result();
    // [10, 20, EOS] (-0.6 / 3) evicts [EOS] (-0.6 / 1); [11, 30, EOS] (-1.9 / 3) is worse than the kept -1.05 / 2
    assert.deepEqual(
      result.map((h) => h.tokens),
      [
        [10, 20, EOS],
        [11, EOS],
      ],
    );
    assert.ok(close(result[0]!.score, -0.2));
    assert.ok(close(result[0]!.sumLogp, -0.6));
    assert.ok(close(result[1]!.score, -0.525));
  });

  it('without a forced EOS, beams still open at max_length are hypotheses scored sum / (start + generated)', () => {
    const search = new HfBeamSearch({ ...base, maxLength: 3 });
    assert.deepEqual(search.step(scoresOf([{ 10: -0.1, 11: -0.2, [EOS]: -5, 12: -6 }])).tokens, [10, 11]);
    const d = search.step(scoresOf([{ 20: -0.3, 21: -0.4, [EOS]: -7 }, { 30: -0.1, 31: -0.9, [EOS]: -7 }]));
    assert.equal(d.done, true);
    const result = search.result();
    assert.deepEqual(
      result.map((h) => h.tokens),
      [
        [11, 30],
        [10, 20],
      ],
    );
    assert.ok(close(result[0]!.score, -0.3 / 3));
    assert.ok(close(result[1]!.score, -0.4 / 3));
  });

  it('transformers 4.36+ normalise open beams by the generated length (4.35: start token included)', () => {
    const search = new HfBeamSearch({ ...base, maxLength: 3, lengths: 'generated' });
    search.step(scoresOf([{ 10: -0.1, 11: -0.2, [EOS]: -5, 12: -6 }]));
    search.step(scoresOf([{ 20: -0.3, 21: -0.4, [EOS]: -7 }, { 30: -0.1, 31: -0.9, [EOS]: -7 }]));
    assert.ok(close(search.result()[0]!.score, -0.3 / 2));
    assert.equal(hfLengthCounting('4.35.0 (main @ 0ed6729bb, v4.35.0 branch point)'), 'sequence');
    assert.equal(hfLengthCounting('4.26.1'), 'sequence');
    assert.equal(hfLengthCounting('4.36.0'), 'generated');
    assert.equal(hfLengthCounting('4.57.6'), 'generated');
    assert.equal(hfLengthCounting(undefined), 'generated');
  });

  it('min_length (start token included) and min_new_tokens ban EOS; a forced prefix counts in the length', () => {
    const withPrefix = new HfBeamSearch({ ...base, initialLength: 2, minLength: 3 });
    // cur_len 2 < min_length 3: EOS is banned although it is the best token
    assert.deepEqual(withPrefix.step(scoresOf([{ [EOS]: -0.01, 10: -1, 11: -2 }])).tokens, [10, 11]);
    const fresh = new HfBeamSearch({ ...base, minNewTokens: 1 });
    assert.deepEqual(fresh.step(scoresOf([{ [EOS]: -0.01, 10: -1, 11: -2 }])).tokens, [10, 11]);
    const free = new HfBeamSearch({ ...base });
    assert.deepEqual(free.step(scoresOf([{ [EOS]: -0.01, 10: -1, 11: -2 }])).tokens, [10, 11], 'EOS at rank 0 ends a hypothesis, the beams continue');
  });

  it('asks the helper for enough candidates per row (2k + the B - k selected tokens + EOS)', () => {
    assert.equal(hfCandidatesPerRow({ numBeams: 6, numBeamGroups: 3 }), 6 + 2 + 1);
  });
});
