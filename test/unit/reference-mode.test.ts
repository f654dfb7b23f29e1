import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { optionsFromFlags } from '../../src/cli/options-flags';
import { createFormat } from '../../src/scoring/model/formats';
import { createSearch } from '../../src/scoring/model/generate';
import { DiverseBeamSearch } from '../../src/scoring/model/beam-search';
import { FairseqBeamSearch } from '../../src/scoring/model/fairseq-search';
import { HfBeamSearch } from '../../src/scoring/model/hf-search';
import { TextTokenizer } from '../../src/scoring/model/tokenizer';
import { DEFAULT_OPTIONS, effectiveBeamSearch, resolveOptions } from '../../src/scoring/options';
import { filterHypothesesReference } from '../../src/scoring/quals';
import { type PairCandidate, authorsFilter, authorsQuals, selectAuthors, selectRoundRobin } from '../../src/scoring/selection';

const FIXTURES = new URL('../fixtures/hf-reference/bart-a/', import.meta.url);

interface QaDict {
  context: string;
  qa: string[];
  norm_scores: number[];
  unnorm_scores: number[];
}
interface Case {
  name: string;
  input: QaDict[][];
  output: { context: string; qas: { q: string; a: string; ns: number; uns: number }[] }[][];
}
const reference = JSON.parse(readFileSync(new URL('fairseq-reference.json', FIXTURES), 'utf8')) as { selection: { synthetic_cases: Case[] } };

function select(d: QaDict, maxQas = 10) {
  const cands: PairCandidate<{ ns: number }>[] = [];
  d.qa.forEach((qa, i) => {
    const s = authorsFilter(qa, d.context);
    if (s) cands.push({ question: s.question, answer: s.answer, sumScore: d.unnorm_scores[i]!, payload: { ns: d.norm_scores[i]! } });
  });
  return selectAuthors(cands, maxQas).map((c) => ({ q: c.question, a: c.answer, ns: c.payload.ns, uns: c.sumScore }));
}

describe("the QUALS authors' filter and selection (evaluate_hypo.py), reference mode", () => {
  for (const c of reference.selection.synthetic_cases) {
    it(`${c.name}: the authors' selected pairs`, () => {
      c.input.forEach((line, l) => line.forEach((d, j) => assert.deepEqual(select(d), c.output[l]![j]!.qas.map(({ q, a, ns, uns }) => ({ q, a, ns, uns })))));
    });
  }

  it('filter: exactly one " strutConnector"; the answer WITH its leading space must occur lower-cased; the empty answer passes', () => {
    const ctx = 'The city council approved a new budget.';
    assert.deepEqual(authorsFilter('What? strutConnector A New Budget', ctx), { question: 'What?', answer: ' A New Budget' });
    assert.deepEqual(authorsFilter('What? strutConnector', ctx), { question: 'What?', answer: '' });
    assert.equal(authorsFilter('Who? strutConnector The city', ctx), null, 'only occurrence starts the summary: no space before it');
    assert.equal(authorsFilter('What?strutConnector budget', ctx), null, 'no space before the separator');
    assert.equal(authorsFilter('Q strutConnector a strutConnector b', ctx), null);
    assert.deepEqual(authorsFilter('Q strutConnector counc', ctx), { question: 'Q', answer: ' counc' }, 'any substring, not a whole word');
  });

  it('selection: a duplicate (lower-cased) uses its turn; a pass that adds nothing stops; the cap is checked between passes', () => {
    const c = (q: string, a: string, s: number): PairCandidate<null> => ({ question: q, answer: a, sumScore: s, payload: null });
    const picked = selectAuthors([c('Q1', ' x', -1), c('q1', ' X', -2), c('Q2', ' x', -3), c('Q3', ' y', -1.5)]).map((p) => `${p.question}|${p.answer}`);
    // pass 1: x -> Q1, y -> Q3; pass 2: x -> "q1" is Q1 again (turn used), y empty -> nothing added -> stop
    assert.deepEqual(picked, ['Q1| x', 'Q3| y']);
    const many = Array.from({ length: 5 }, (_, i) => [c(`A${i}`, ` a${i}`, -i), c(`B${i}`, ` a${i}`, -10 - i)]).flat();
    assert.equal(selectAuthors(many, 3).length, 5, 'pass 1 adds all five answers although the cap is 3');
    assert.equal(authorsQuals([]), -1e5);
    assert.equal(authorsQuals([{ evalNs: -2, ns: -1 }, { evalNs: -0.25, ns: -0.5 }]), -0.375);
  });
});

describe('paper-mode selection', () => {
  it('de-duplicates (question, answer) lower-cased, as the authors do', () => {
    const c = (q: string, a: string, s: number): PairCandidate<null> => ({ question: q, answer: a, sumScore: s, payload: null });
    const picked = selectRoundRobin([c('Who won?', 'Fury', -1), c('who won?', 'FURY', -2), c('Who fought?', 'Fury', -3)], 10).map((p) => p.question);
    assert.deepEqual(picked, ['Who won?', 'Who fought?']);
  });
});

describe('reference mode pieces', () => {
  const tokenizerJson = JSON.parse(readFileSync(new URL('onnx-layout/tokenizer.json', FIXTURES), 'utf8')) as object;
  const tokenizerConfig = JSON.parse(readFileSync(new URL('onnx-layout/tokenizer_config.json', FIXTURES), 'utf8')) as object;
  const config = JSON.parse(readFileSync(new URL('onnx-layout/config.json', FIXTURES), 'utf8')) as Record<string, unknown>;
  const tokenizer = new TextTokenizer(tokenizerJson, tokenizerConfig);
  const format = createFormat('qagen', { tokenizer, config, generationConfig: config, maxInputTokens: 1024 });

  it('encoder input: the authors keep 1022 BPE tokens + </s> (paper mode 1023 + </s>), no <s>', () => {
    const long = 'The city council approved a new budget on Tuesday after a lengthy debate. '.repeat(100);
    const ref = format.encodeInput(long, { reference: true });
    const paper = format.encodeInput(long);
    assert.equal(ref.ids.length, 1023);
    assert.equal(ref.tokensKept, 1022);
    assert.equal(ref.ids[1022], 2);
    assert.equal(paper.ids.length, 1024);
    assert.deepEqual(ref.ids.slice(0, 1022), tokenizer.encode(long).slice(0, 1022));
    assert.notEqual(ref.ids[0], 0);
  });

  it('the reference filter splits the decoded text, keeps untrimmed strings and scores by the unnormalised score', () => {
    const summary = 'The council approved a new budget.';
    const sep = tokenizer.tokenId('ĠstrutConnector')!;
    const hyp = (text: string, answer: string, sumLogp: number) => ({
      tokens: [...tokenizer.encode(text), sep, ...tokenizer.encode(answer), 2],
      score: sumLogp / 10,
      sumLogp,
      rawSumLogp: sumLogp,
      group: 0,
    });
    const { candidates, wellFormed } = filterHypothesesReference(
      [hyp(' What was approved?', ' A NEW budget', -3), hyp(' Who?', ' The council', -2), hyp(' What?', ' budg', -4), { tokens: [100, 200, 2], score: -1, sumLogp: -3, rawSumLogp: -3, group: 0 }],
      format,
      tokenizer,
      summary,
      summary,
    );
    assert.equal(wellFormed, 3);
    assert.deepEqual(
      candidates.map((c) => [c.question, c.answer, c.sumScore]),
      [
        [' What was approved?', ' A NEW budget', -3],
        [' What?', ' budg', -4],
      ],
    );
    assert.equal(candidates[0]!.payload.split.answer, 'A NEW budget');
    assert.deepEqual(candidates[0]!.payload.split.targetIds, candidates[0]!.payload.hypothesis.tokens, 'LL_D scores the generated tokens');
    assert.equal(candidates[1]!.payload.spans.length, 1, 'a substring answer still gets its span');
  });
});

describe('search options', () => {
  it('beamSearch is a named option (grouped | fairseq | hf); reference mode always runs fairseq', () => {
    assert.equal(DEFAULT_OPTIONS.beamSearch, 'grouped');
    assert.equal(effectiveBeamSearch(resolveOptions({ beamSearch: 'hf' })), 'hf');
    assert.equal(effectiveBeamSearch(resolveOptions({ beamSearch: 'hf', mode: 'reference' })), 'fairseq');
    assert.throws(() => resolveOptions({ beamSearch: 'torch' as 'hf' }), /beamSearch must be one of "grouped", "fairseq", "hf"/);
    assert.deepEqual(optionsFromFlags({ 'beam-search': 'fairseq' }), { beamSearch: 'fairseq' });
  });

  it('each name builds its own bookkeeping', () => {
    const config = { numBeams: 6, numBeamGroups: 3, diversityStrength: 0.5, diversityCount: 'fairseq' as const, minLength: 1, maxLength: 5, lengthPenalty: 1, eosId: 2, padId: 1 };
    assert.ok(createSearch(config) instanceof DiverseBeamSearch);
    assert.ok(createSearch({ ...config, beamSearch: 'grouped' }) instanceof DiverseBeamSearch);
    assert.ok(createSearch({ ...config, beamSearch: 'fairseq' }) instanceof FairseqBeamSearch);
    assert.ok(createSearch({ ...config, beamSearch: 'hf' }) instanceof HfBeamSearch);
  });
});
