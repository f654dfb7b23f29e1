import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BeamSearchConfig, DiverseBeamSearch, type StepScores, candidatesPerRow } from '../../src/scoring/model/beam-search';

const EOS = 2;
const PAD = 1;

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

/** StepScores for rows with the given prefixes: each row's full distribution, best first. */
function stepScores(prefixes: readonly (readonly number[])[], V: number, k: number): StepScores {
  const kk = Math.min(k, V);
  const logp = new Float32Array(prefixes.length * kk);
  const ids = new Int32Array(prefixes.length * kk);
  const eosLogp = new Float32Array(prefixes.length);
  prefixes.forEach((p, r) => {
    const lp = toyLogp(p, V);
    const order = [...lp.keys()].sort((a, b) => lp[b]! - lp[a]!).slice(0, kk);
    order.forEach((v, j) => {
      logp[r * kk + j] = lp[v]!;
      ids[r * kk + j] = v;
    });
    eosLogp[r] = lp[EOS]!;
  });
  return { rows: prefixes.length, k: kk, logp, ids, eosLogp };
}

/** Runs the search against the toy model, tracking each row's prefix from the decisions. */
function runSearch(config: BeamSearchConfig, V: number) {
  const search = new DiverseBeamSearch(config);
  const K = candidatesPerRow(config);
  let prefixes: number[][] = [[]];
  for (;;) {
    const scores = stepScores(prefixes, V, K);
    const d = search.step(scores);
    if (d.done) break;
    const prev = prefixes.length === 1 ? new Array(config.numBeams).fill(prefixes[0]) : prefixes;
    prefixes = d.sourceRows.map((src, i) => [...prev[src]!, d.tokens[i]!]);
  }
  return search.result();
}

function enumerate(V: number, maxLength: number, minLength: number) {
  const out: { tokens: number[]; score: number }[] = [];
  const walk = (prefix: number[], sum: number) => {
    const lp = toyLogp(prefix, V);
    if (prefix.length >= minLength) {
      const tokens = [...prefix, EOS];
      out.push({ tokens, score: (sum + lp[EOS]!) / tokens.length });
    }
    if (prefix.length + 1 >= maxLength) return;
    for (let v = 0; v < V; v++) if (v !== EOS) walk([...prefix, v], sum + lp[v]!);
  };
  walk([], 0);
  return out.sort((a, b) => b.score - a.score);
}

const base: BeamSearchConfig = { numBeams: 64, numBeamGroups: 1, diversityStrength: 0, diversityCount: 'fairseq', minLength: 0, maxLength: 3, lengthPenalty: 1, eosId: EOS, padId: PAD };

describe('diverse beam search', () => {
  it('with one group and enough beams returns the exact top-k of exhaustive enumeration', () => {
    const V = 5;
    const truth = enumerate(V, 3, 0);
    const got = runSearch(base, V);
    assert.equal(got.length, truth.length);
    got.forEach((h, i) => {
      assert.deepEqual(h.tokens, truth[i]!.tokens);
      assert.ok(Math.abs(h.score - truth[i]!.score) < 1e-5, `score ${h.score} vs ${truth[i]!.score}`);
    });
  });

  it('respects the minimum length (EOS banned) and the maximum length (EOS forced)', () => {
    const V = 4;
    const truth = enumerate(V, 4, 2);
    const got = runSearch({ ...base, minLength: 2, maxLength: 4 }, V);
    assert.deepEqual(
      got.map((h) => h.tokens),
      truth.map((t) => t.tokens),
    );
    for (const h of got) {
      assert.ok(h.tokens.length >= 3 && h.tokens.length <= 4);
      assert.equal(h.tokens.at(-1), EOS);
      assert.equal(h.tokens.slice(0, -1).includes(EOS), false);
    }
  });

  it('lowers a later group\'s log-prob by strength x earlier proposals (fairseq counting)', () => {
    // Two groups of one beam; both see the same distribution: a=5 > b=4 > c=3 > EOS=2 > pad.
    const config: BeamSearchConfig = { ...base, numBeams: 2, numBeamGroups: 2, diversityStrength: 0.7, minLength: 1, maxLength: 5 };
    const search = new DiverseBeamSearch(config);
    const lp = [Math.log(0.05), Math.log(0.05), Math.log(0.1), Math.log(0.2), Math.log(0.25), Math.log(0.35)];
    const order = [5, 4, 3, 2, 0, 1];
    const row = { logp: Float32Array.from(order.map((v) => lp[v]!)), ids: Int32Array.from(order) };
    const d = search.step({ rows: 1, k: 6, logp: row.logp, ids: row.ids, eosLogp: Float32Array.of(lp[EOS]!) });
    // Group 0 proposes {5, 4}; group 1: 5 -> ln .35 - .7 = -1.75, 4 -> ln .25 - .7 = -2.09, 3 -> ln .2 = -1.61.
    assert.deepEqual(d.tokens, [5, 3]);
    // With a weak penalty, group 1 keeps token 5 (ln .35 - .1 = -1.15 > ln .2).
    const weak = new DiverseBeamSearch({ ...config, diversityStrength: 0.1 });
    const d2 = weak.step({ rows: 1, k: 6, logp: row.logp, ids: row.ids, eosLogp: Float32Array.of(lp[EOS]!) });
    assert.deepEqual(d2.tokens, [5, 5]);
  });

  it('with Hamming counting, only the tokens earlier groups selected are penalised', () => {
    // Three groups of one beam over 5 (.35) > 4 (.25) > 3 (.2). Group 0 picks 5 and proposes {5, 4}.
    const lp = [Math.log(0.05), Math.log(0.05), Math.log(0.1), Math.log(0.2), Math.log(0.25), Math.log(0.35)];
    const order = [5, 4, 3, 2, 0, 1];
    const scores = { rows: 1, k: 6, logp: Float32Array.from(order.map((v) => lp[v]!)), ids: Int32Array.from(order), eosLogp: Float32Array.of(lp[EOS]!) };
    const config: BeamSearchConfig = { ...base, numBeams: 3, numBeamGroups: 3, diversityStrength: 0.4, minLength: 1, maxLength: 5 };
    // fairseq: group 1 sees 5 -> -1.45, 4 -> -1.79, 3 -> -1.61, picks 5 and proposes {5, 3};
    // group 2 sees 5 -> -1.85, 4 -> -1.79, 3 -> -2.01 and picks 4.
    assert.deepEqual(new DiverseBeamSearch(config).step(scores).tokens, [5, 5, 4]);
    // Hamming: group 1 sees 5 -> -1.45, 4 -> -1.39 (4 was proposed, not selected): 4;
    // group 2 sees 5 -> -1.45, 4 -> -1.79, 3 -> -1.61: 5.
    assert.deepEqual(new DiverseBeamSearch({ ...config, diversityCount: 'hamming' }).step(scores).tokens, [5, 4, 5]);
  });

  it('keeps the penalty in the hypothesis score and the raw sum separately', () => {
    const config: BeamSearchConfig = { ...base, numBeams: 2, numBeamGroups: 2, diversityStrength: 1, minLength: 0, maxLength: 1 };
    const search = new DiverseBeamSearch(config);
    // maxLength 1: EOS is forced at the first step for both groups; group 1 pays one proposal of EOS... and of token 3.
    const d = search.step({ rows: 1, k: 2, logp: Float32Array.of(Math.log(0.6), Math.log(0.3)), ids: Int32Array.of(3, EOS), eosLogp: Float32Array.of(Math.log(0.3)) });
    assert.equal(d.done, true);
    const hyps = search.result();
    assert.equal(hyps.length, 2);
    const g1 = hyps.find((h) => h.group === 1)!;
    assert.ok(Math.abs(g1.rawSumLogp - Math.log(0.3)) < 1e-6);
    assert.ok(Math.abs(g1.sumLogp - (Math.log(0.3) - 1)) < 1e-6, 'one earlier proposal of EOS costs strength 1');
  });

  it('diversity makes groups produce different sequences', () => {
    const V = 6;
    const plain = runSearch({ ...base, numBeams: 6, numBeamGroups: 6, diversityStrength: 0, minLength: 2, maxLength: 4 }, V);
    const diverse = runSearch({ ...base, numBeams: 6, numBeamGroups: 6, diversityStrength: 3, minLength: 2, maxLength: 4 }, V);
    const distinct = (hs: { tokens: number[] }[]) => new Set(hs.map((h) => h.tokens.join(','))).size;
    assert.equal(distinct(plain), 1, 'without a penalty every one-beam group follows the same greedy path');
    assert.ok(distinct(diverse) >= 4, `diverse groups found ${distinct(diverse)} distinct sequences`);
  });
});
