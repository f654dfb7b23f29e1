import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { ensureTestModel } from '../../src/modelgen/random-bart';
import { ModelError } from '../../src/scoring/errors';
import type { Hypothesis } from '../../src/scoring/model/beam-search';
import { QAGEN_SEPARATOR, createFormat } from '../../src/scoring/model/formats';
import { readModelFolder } from '../../src/models/model-files';
import { TextTokenizer } from '../../src/scoring/model/tokenizer';
import { filterHypotheses } from '../../src/scoring/quals';
import { selectRoundRobin } from '../../src/scoring/selection';

const folder = readModelFolder(ensureTestModel(join(tmpdir(), 'quals-test-models', 'tiny-1234'), { size: 'tiny', seed: 1234 }));
const tok = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const EOS = 2;
const SEP = tok.tokenId(QAGEN_SEPARATOR)!;
const ctx = (modelType = 'bart', maxInputTokens = 1024) => ({ tokenizer: tok, config: { ...folder.config, model_type: modelType }, generationConfig: folder.generationConfig, maxInputTokens });
const qagen = createFormat('qagen', ctx());
const hyp = (tokens: number[], sumLogp: number): Hypothesis => ({ tokens, sumLogp, score: sumLogp / tokens.length, rawSumLogp: sumLogp, group: 0 });
const qa = (q: string, a: string) => [...tok.encode(q), SEP, ...tok.encode(a), EOS];

describe('qagen format', () => {
  it('the separator is one vocabulary token', () => {
    assert.deepEqual(tok.encode(' strutConnector'), [SEP]);
  });

  it('splits on exactly one separator; zero or two make a hypothesis malformed', () => {
    const [pair] = qagen.split(qa('Who won?', 'Paris'))!;
    assert.equal(pair!.question, 'Who won?');
    assert.equal(pair!.answer, 'Paris');
    assert.deepEqual(pair!.targetIds, qa('Who won?', 'Paris'));
    assert.equal(qagen.split([...tok.encode('Who won? Paris'), EOS]), null);
    assert.equal(qagen.split([...tok.encode('Who'), SEP, ...tok.encode('won'), SEP, ...tok.encode('Paris'), EOS]), null);
  });

  it('input: tokens + EOS, no BOS; truncation reported in tokens and characters', () => {
    const short = qagen.encodeInput('the team won');
    assert.deepEqual(short.ids, [...tok.encode('the team won'), EOS]);
    assert.equal(short.truncated, false);
    const small = createFormat('qagen', ctx('bart', 5));
    const long = small.encodeInput('the team won the match in Paris');
    assert.equal(long.truncated, true);
    assert.equal(long.tokensKept, 4);
    assert.equal(long.ids.length, 5);
    assert.equal(long.ids.at(-1), EOS);
    assert.equal('the team won the match in Paris'.slice(0, long.charsKept), tok.decode(tok.encode('the team won the match in Paris').slice(0, 4)));
  });

  it('a tokenizer without the separator is a format error that suggests lmqg', () => {
    const json = structuredClone(folder.tokenizerJson) as { model: { vocab: Record<string, number> } };
    delete json.model.vocab[QAGEN_SEPARATOR];
    const noSep = new TextTokenizer(json, folder.tokenizerConfig);
    assert.throws(() => createFormat('qagen', { ...ctx(), tokenizer: noSep }), (e: unknown) => e instanceof ModelError && e.code === 'format' && /lmqg/.test(e.message));
  });

  it('unknown format names are rejected', () => {
    assert.throws(() => createFormat('qags', ctx()), (e: unknown) => e instanceof ModelError && /Unknown model format "qags"/.test(e.message));
  });
});

describe('lmqg format', () => {
  const lmqg = createFormat('lmqg', ctx('t5'));
  it('T5 variants get the task prefix; the input carries the tokenizer\'s own special tokens (<s> … </s> here)', () => {
    assert.deepEqual(lmqg.encodeInput('the team won').ids, [0, ...tok.encode('generate question and answer: the team won'), EOS]);
    assert.deepEqual(createFormat('lmqg', ctx('bart')).encodeInput('the team won').ids, [0, ...tok.encode('the team won'), EOS]);
  });

  it('inputs and the decoder start follow the real Hugging Face checkpoints (fixtures)', () => {
    const real = (name: string) => {
      const f = readModelFolder(join(__dirname, '..', 'fixtures', 'hf-reference', name, 'onnx-layout'));
      const t = new TextTokenizer(f.tokenizerJson, f.tokenizerConfig);
      return { f, t, c: { tokenizer: t, config: f.config, generationConfig: { ...f.generationConfig, decoder_start_token_id: f.decoderStartTokenId }, maxInputTokens: 512 } };
    };
    // BART as transformers trains it: <s> text </s>, decoding from </s> then the forced <s>.
    const bart = real('bart-a');
    const bartLmqg = createFormat('lmqg', bart.c);
    assert.deepEqual(bartLmqg.encodeInput('The team won.').ids, [0, ...bart.t.encode('The team won.'), 2]);
    assert.equal(bartLmqg.decoderStartId, 2);
    assert.deepEqual(bartLmqg.decoderPrefix, [0]);
    // qagen keeps the authors' fairseq conventions on the same checkpoint: no <s>, no forced BOS.
    const bartQagen = createFormat('qagen', bart.c);
    assert.deepEqual(bartQagen.encodeInput('The team won.').ids, [...bart.t.encode('The team won.'), 2]);
    assert.deepEqual(bartQagen.decoderPrefix, []);
    // T5: text </s>, decoding from the pad token, no forced BOS; the prefix as trainer_config.json says.
    const t5 = real('t5-a');
    const text = 'The team won.';
    assert.deepEqual(createFormat('lmqg', t5.c).encodeInput(text).ids, [...t5.t.encode(`generate question and answer: ${text}`), 1]);
    assert.deepEqual(createFormat('lmqg', { ...t5.c, trainerConfig: { prefix_types: null } }).encodeInput(text).ids, [...t5.t.encode(text), 1]);
    assert.deepEqual(createFormat('lmqg', { ...bart.c, trainerConfig: { prefix_types: ['qag'] } }).encodeInput(text).ids, [0, ...bart.t.encode(`generate question and answer: ${text}`), 2]);
    assert.deepEqual(createFormat('lmqg', t5.c).decoderPrefix, []);
    assert.equal(createFormat('lmqg', t5.c).decoderStartId, 0);
  });

  it('splits "question: Q1, answer: A1 | question: Q2, answer: A2" into pairs scored on their own', () => {
    const pairs = lmqg.split([...tok.encode('question: Who won?, answer: Paris | question: Where was he born?, answer: London'), EOS])!;
    assert.deepEqual(
      pairs.map((p) => [p.question, p.answer]),
      [
        ['Who won?', 'Paris'],
        ['Where was he born?', 'London'],
      ],
    );
    assert.deepEqual(pairs[1]!.targetIds, [...tok.encode('question: Where was he born?,'), ...tok.encode(' answer:'), ...tok.encode(' London'), EOS]);
    assert.equal(lmqg.split([...tok.encode('Who won? Paris'), EOS]), null);
  });
});

describe('filter and select on hand-made hypotheses (spec section 3)', () => {
  const summary = 'Paris won the match. He scored 12 goals.';
  const hyps = [
    hyp(qa('Who won?', 'Paris'), -1),
    hyp(qa('Who won the match?', 'paris'), -2), // same answer, other question: second bucket pass
    hyp([...tok.encode('Who won? Paris'), EOS], -0.5), // malformed: no separator
    hyp(qa('Who won?', ''), -0.1), // empty answer: dropped (the reference keeps it)
    hyp(qa('Where?', 'London'), -0.2), // answer not in the summary
    hyp(qa('How many goals?', '12'), -3),
    hyp(qa('How many?', '2'), -0.3), // "2" only inside "12": not a whole word
    hyp(qa('Who won?', 'Paris'), -4), // duplicate (answer, question)
  ];

  it('keeps well-formed pairs with a non-empty, whole-word answer in the summary', () => {
    const { candidates, wellFormed } = filterHypotheses(hyps, (t) => qagen.split(t), summary);
    assert.equal(wellFormed, 7);
    assert.deepEqual(
      candidates.map((c) => [c.question, c.answer]),
      [
        ['Who won?', 'Paris'],
        ['Who won the match?', 'paris'],
        ['How many goals?', '12'],
        ['Who won?', 'Paris'],
      ],
    );
    assert.deepEqual(candidates[2]!.payload.spans.map((s) => summary.slice(s.start, s.end)), ['12']);
  });

  it('selects round-robin by answer, skipping the duplicate', () => {
    const { candidates } = filterHypotheses(hyps, (t) => qagen.split(t), summary);
    const picked = selectRoundRobin(candidates, 10).map((c) => `${c.question} -> ${c.answer}`);
    assert.deepEqual(picked, ['Who won? -> Paris', 'How many goals? -> 12', 'Who won the match? -> paris']);
  });
});
