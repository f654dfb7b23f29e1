import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { StepScores } from '../../src/scoring/model/beam-search';
import {
  type Candidates,
  type FairseqSearchConfig,
  FairseqBeamSearch,
  FairseqGenerator,
  diverseCandidates,
  fairseqCandidatesPerRow,
} from '../../src/scoring/model/fairseq-search';

const EOS = 2;
const PAD = 1;
const FIXTURES = new URL('../fixtures/hf-reference/bart-a/', import.meta.url);

interface TraceStep {
  step: number;
  cand_scores: number[][];
  cand_indices: number[][];
  cand_beams: number[][];
}
type Trace = Record<string, Record<string, { source_index: number; search_steps: TraceStep[] }[]>>;
interface RefHypothesis {
  tokens: number[];
  score: number;
  unnormalized_score: number;
  positional_scores: number[];
}
interface Reference {
  generation: {
    variants: Record<string, { configs: Record<string, { settings: { beam: number; diverse_beam_groups: number; min_len: number; max_len_b: number }; per_source: { hypotheses: RefHypothesis[] }[] }> }>;
  };
}

// Python's json writes -Infinity (the candidates past the forced EOS at step max_len).
const trace = JSON.parse(readFileSync(new URL('fairseq-trace.json', FIXTURES), 'utf8').replace(/-Infinity/g, '-1e999')) as Trace;
const reference = JSON.parse(readFileSync(new URL('fairseq-reference.json', FIXTURES), 'utf8')) as Reference;

const candidatesOf = (s: TraceStep): Candidates => ({ scores: s.cand_scores[0]!, indices: s.cand_indices[0]!, beams: s.cand_beams[0]! });

describe("fairseq's SequenceGenerator bookkeeping, replayed from the authors' own search trace", () => {
  it('a hand-checked step: EOS finished only from the first `beam` columns, beams refilled from the first `beam` non-EOS columns (across groups)', () => {
    // eos_bias_29, config a (6 beams, 3 groups, min_len 4), source 1, step 4: the first step EOS is allowed.
    const steps = trace.eos_bias_29!.a![1]!.search_steps;
    const gen = new FairseqGenerator({ numBeams: 6, numBeamGroups: 3, minLength: 4, maxLength: 16, lengthPenalty: 1, eosId: EOS });
    for (const s of steps.slice(0, 4)) assert.equal(gen.advance(candidatesOf(s)).done, false);
    const before = gen.beamTokens();
    const step4 = steps[4]!;
    // columns:   0        1       2       3        4        5       | 6        7        8        9      10       11
    // (beam,tok) (0,45256)(4,EOS) (2,EOS) (3,45256)(1,45256)(5,15058)| (0,22170)(1,22170)(5,18102)(3,EOS)(4,11077)(5,EOS)
    assert.deepEqual(step4.cand_indices[0], [45256, EOS, EOS, 45256, 45256, 15058, 22170, 22170, 18102, EOS, 11077, EOS]);
    assert.deepEqual(step4.cand_beams[0], [0, 4, 2, 3, 1, 5, 0, 1, 5, 3, 4, 5]);
    const d = gen.advance(candidatesOf(step4));
    assert.equal(d.done, false);
    // Columns 1 and 2 (EOS, within the first 6) finish beams 4 and 2, in column order; the EOS in
    // columns 9 and 11 are dropped. Next beams: columns 0, 3, 4, 5, 6, 7.
    assert.deepEqual(d.sourceRows, [0, 3, 1, 5, 0, 1]);
    assert.deepEqual(d.tokens, [45256, 45256, 45256, 15058, 22170, 22170]);
    // New beam i belongs to group i % 3: beam 1 (group 1) continues old beam 3 (group 0), beam 3
    // (group 0) continues old beam 5 (group 2), beam 4 (group 1) continues old beam 0 (group 0).
    assert.deepEqual(gen.beamTokens()[1], [...before[3]!, 45256]);
    assert.deepEqual(gen.beamTokens()[3], [...before[5]!, 15058]);
    assert.deepEqual(gen.beamTokens()[4], [...before[0]!, 22170]);
    assert.deepEqual(gen.cumScores(), [0, 3, 4, 5, 6, 7].map((j) => step4.cand_scores[0]![j]!));
    // The two finished hypotheses are the authors' (score = cumulative / 5 tokens incl. EOS).
    const finished = gen.result();
    assert.deepEqual(
      finished.map((h) => h.tokens),
      [
        [...before[4]!, EOS],
        [...before[2]!, EOS],
      ],
    );
    assert.ok(Math.abs(finished[0]!.score - step4.cand_scores[0]![1]! / 5) < 1e-12);
    const authors = reference.generation.variants.eos_bias_29!.configs.a!.per_source[1]!.hypotheses;
    for (const h of finished) {
      const same = authors.find((a) => a.tokens.join() === h.tokens.join())!;
      assert.ok(same, `hypothesis ${h.tokens.join(',')} is one of the authors'`);
      assert.ok(Math.abs(h.score - same.score) < 1e-6);
    }
  });

  for (const [variant, configs] of Object.entries(trace)) {
    for (const [config, sources] of Object.entries(configs)) {
      it(`${variant}/${config}: every step of the trace gives the authors' hypotheses, order, scores and positional scores`, () => {
        const c = reference.generation.variants[variant]!.configs[config]!;
        const s = c.settings;
        for (const src of sources) {
          const gen = new FairseqGenerator({ numBeams: s.beam, numBeamGroups: s.diverse_beam_groups, minLength: s.min_len, maxLength: s.max_len_b, lengthPenalty: 1, eosId: EOS });
          let done = false;
          for (const st of src.search_steps) {
            assert.equal(done, false, 'the search ran past its end');
            assert.equal(gen.step, st.step);
            done = gen.advance(candidatesOf(st)).done;
          }
          assert.equal(done, true, 'the trace ends where the search ends');
          const got = gen.result();
          const want = c.per_source[src.source_index]!.hypotheses;
          assert.equal(got.length, want.length);
          got.forEach((h, i) => {
            assert.deepEqual(h.tokens, want[i]!.tokens, `source ${src.source_index} rank ${i}`);
            assert.ok(Math.abs(h.score - want[i]!.score) < 1e-5, `score ${h.score} vs ${want[i]!.score}`);
            assert.ok(Math.abs(h.sumLogp - want[i]!.unnormalized_score) < 1e-4);
            h.positionalScores.forEach((p, t) => assert.ok(Math.abs(p - want[i]!.positional_scores[t]!) < 1e-5, `positional ${t}`));
          });
        }
      });
    }
  }

  it('max_len_b counts as fairseq does: at most max_len_b tokens + EOS, the EOS forced at step max_len', () => {
    const plain = trace.plain!.a![0]!;
    assert.equal(plain.search_steps.length, 17); // steps 0..16 for max_len_b 16
    const last = plain.search_steps[16]!;
    assert.ok(last.cand_indices[0]!.slice(0, 6).every((t) => t === EOS));
    const hyps = reference.generation.variants.plain!.configs.a!.per_source[0]!.hypotheses;
    assert.ok(hyps.every((h) => h.tokens.length === 17));
  });
});

/** StepScores from explicit per-row distributions (token -> log p), best first. */
function scoresOf(rows: Record<number, number>[], eos = -50): StepScores {
  const K = Math.max(...rows.map((r) => Object.keys(r).length));
  const logp = new Float32Array(rows.length * K).fill(-Infinity);
  const ids = new Int32Array(rows.length * K);
  const eosLogp = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    const entries = Object.entries(r)
      .map(([t, lp]) => [Number(t), lp] as const)
      .sort((a, b) => b[1] - a[1]);
    entries.forEach(([t, lp], j) => {
      ids[i * K + j] = t;
      logp[i * K + j] = lp;
    });
    eosLogp[i] = r[EOS] ?? eos;
  });
  return { rows: rows.length, k: K, logp, ids, eosLogp };
}

describe("fairseq's DiverseBeamSearch.step", () => {
  const config: FairseqSearchConfig = { numBeams: 4, numBeamGroups: 2, diversityStrength: 0.5, minLength: 0, maxLength: 10, lengthPenalty: 1, eosId: EOS, padId: PAD };

  it('step 0: each group expands its first beam; later groups pay 0.5 per earlier-group PROPOSAL; columns interleave groups', () => {
    const c = diverseCandidates(0, scoresOf([{ 10: -0.1, 11: -0.2, 12: -0.3, 13: -5, [PAD]: -0.05 }]), [], [], config);
    // group 0 proposes 10, 11, 12, 13 (pad is never chosen); group 1 sees all four penalised by 0.5 (ranks unchanged)
    assert.deepEqual(c.indices, [10, 10, 11, 11, 12, 12, 13, 13]);
    assert.deepEqual(c.beams, [0, 1, 0, 1, 0, 1, 0, 1]);
    assert.deepEqual(
      c.scores.map((x) => Math.round(x * 100) / 100),
      [-0.1, -0.6, -0.2, -0.7, -0.3, -0.8, -5, -5.5],
    );
  });

  it('later steps: group g owns beams g, g+G, ... (strided) and ranks by cumulative score; EOS banned before min_len, alone at max_len', () => {
    const rows: Record<number, number>[] = [{ 10: -0.1, 11: -1 }, { 20: -0.1, 21: -1 }, { 10: -0.2, [EOS]: -0.3 }, { 30: -0.1, [EOS]: -0.2 }];
    const cum = [-1, -2, -1.5, -3];
    const c = diverseCandidates(2, scoresOf(rows), cum, cum, config);
    // group 0 = beams 0 and 2: (0,10) -1.1, (2,10) -1.7, (2,EOS) -1.8, (0,11) -2; group 1 = beams 1, 3
    // with 10 and EOS penalised once: (1,20) -2.1, (1,21) -3, (3,30) -3.1, (3,EOS) -3.2 - 0.5
    assert.deepEqual(c.indices, [10, 20, 10, 21, EOS, 30, 11, EOS]);
    assert.deepEqual(c.beams, [0, 1, 2, 1, 2, 3, 0, 3]);
    const banned = diverseCandidates(2, scoresOf(rows), cum, cum, { ...config, minLength: 3 });
    assert.ok(!banned.indices.includes(EOS));
    const last = diverseCandidates(10, scoresOf(rows, -7), cum, cum, config);
    assert.deepEqual(last.indices.slice(0, 4), [EOS, EOS, EOS, EOS]);
    // the forced EOS pays the penalty too: group 1's EOS was proposed twice by group 0
    assert.deepEqual(last.beams.slice(0, 4), [2, 3, 0, 1]);
    assert.ok(Math.abs(last.scores[1]! - (-3 - 0.2 - 1)) < 1e-6);
    assert.ok(Math.abs(last.scores[3]! - (-2 - 7 - 1)) < 1e-6);
    assert.deepEqual(last.scores.slice(4), [-Infinity, -Infinity, -Infinity, -Infinity]);
  });

  it('asks the helper for enough candidates per row (2 x beam + pad + EOS)', () => {
    assert.equal(fairseqCandidatesPerRow({ numBeams: 60 }), 122);
  });
});

describe('fairseq search on a toy model', () => {
  /** A deterministic toy "model": log-probs over V tokens that depend on the whole prefix. */
  function toyLogp(prefix: readonly number[], V: number): Float64Array {
    let h = 2166136261;
    for (const t of [...prefix, 97]) h = Math.imul(h ^ (t + 1), 16777619) >>> 0;
    const logits = Array.from({ length: V }, (_, v) => {
      h = Math.imul(h ^ (v + 31), 2246822519) >>> 0;
      return ((h % 1000) / 1000) * 4;
    });
    const m = Math.max(...logits);
    const z = Math.log(logits.reduce((a, x) => a + Math.exp(x - m), 0)) + m;
    return Float64Array.from(logits, (x) => x - z);
  }

  function run(config: FairseqSearchConfig, V: number) {
    const search = new FairseqBeamSearch(config);
    let prefixes: number[][] = [[]];
    for (;;) {
      const rows = prefixes.map((p) => Object.fromEntries([...toyLogp(p, V)].map((lp, t) => [t, lp])));
      const d = search.step(scoresOf(rows));
      if (d.done) break;
      const prev = prefixes.length === 1 ? new Array(config.numBeams).fill(prefixes[0]) : prefixes;
      prefixes = d.sourceRows.map((src, i) => [...prev[src]!, d.tokens[i]!]);
    }
    return search.result();
  }

  it('returns exactly `beam` hypotheses sorted by normalised score, penalty included', () => {
    const got = run({ numBeams: 6, numBeamGroups: 6, diversityStrength: 0.5, minLength: 2, maxLength: 5, lengthPenalty: 1, eosId: EOS, padId: PAD }, 7);
    assert.equal(got.length, 6);
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1]!.score >= got[i]!.score);
    for (const h of got) {
      assert.ok(h.tokens.length >= 3 && h.tokens.length <= 6);
      assert.ok(Math.abs(h.positionalScores.reduce((a, b) => a + b, 0) - h.sumLogp) < 1e-4);
      assert.ok(h.rawSumLogp >= h.sumLogp - 1e-9);
    }
  });
});
