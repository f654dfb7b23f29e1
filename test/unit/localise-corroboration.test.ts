/**
 * How localise() weighs QA pairs against each other (src/scoring/localise.ts): a pair just below
 * the threshold needs a second question, two questions the source answers alike otherwise make a
 * finding, and a pair the summary itself does not support corroborates nothing. The pairs are the
 * toy model's own (scripts/localisation-figure.ts), trimmed to the tokens that matter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blamedWords, findingMessage, localise } from '../../src/scoring/localise';
import type { QaPairResult, SourceAnswer, TokenEvidence } from '../../src/scoring/result';
import { pair, result, span } from './server-fixtures';

const OPTS = { threshold: -0.5 };
/** A token of the question or answer: its offset in that string, and its drop (log p | summary - log p | source). */
const tok = (text: string, role: TokenEvidence['role'], start: number, drop: number, logpSummary = 0): TokenEvidence => ({
  text, role, start, end: start + text.trimStart().length, logpSummary, logpSource: logpSummary - drop,
});
const says = (text: string, agrees = false): SourceAnswer => ({
  text, meanLogp: -0.2, agrees, span: { start: 0, end: text.length, range: { start: { line: 0, character: 0 }, end: { line: 0, character: text.length } } },
});
const at = (summary: string, f: { start: number; end: number }) => summary.slice(f.start, f.end);

// Sources 49-96, #76: "Whyte was born in Chicago in 1999." is faithful; the toy model doubts "Whyte".
const BORN = 'Whyte was born in Chicago in 1999.';
const whenBorn = (score: number, question = 'When was Whyte born?'): QaPairResult =>
  pair({ id: 'q1', question, answer: '1999', score, spans: [span(BORN, '1999')],
    tokens: [tok('When', 'question', 0, 0.05), tok(' Whyte', 'question', question.indexOf('Whyte'), 2.35), tok('1999', 'answer', 0, 0.4)], sourceAnswer: says('1999', true) });
const whereBorn = (score: number): QaPairResult =>
  pair({ id: 'q2', question: 'Where was Whyte born?', answer: 'Chicago', score, spans: [span(BORN, 'Chicago')],
    tokens: [tok('Where', 'question', 0, 0.61), tok(' Whyte', 'question', 10, 2.19), tok('Chicago', 'answer', 0, 0.79)], sourceAnswer: says('Chicago', true) });

test('a pair just below the threshold is reported only with a second question blaming the same word', () => {
  assert.deepEqual(localise(result([whenBorn(-0.52)]), BORN, OPTS), [], 'one marginal pair alone');
  assert.deepEqual(localise(result([whenBorn(-0.52), whenBorn(-0.47, 'When was Whyte  born?')]), BORN, OPTS), [], 'the same question twice is one opinion');
  assert.deepEqual(localise(result([whenBorn(-0.52), whereBorn(-0.35)]), BORN, OPTS), [], 'the second question scores too well to count');
  const [f, ...rest] = localise(result([whenBorn(-0.52), whereBorn(-0.45)]), BORN, OPTS);
  assert.equal(rest.length, 0);
  assert.equal(at(BORN, f!), 'Whyte');
  assert.deepEqual(f!.pairs.map((p) => p.id), ['q1'], 'only flagged pairs are listed');
  assert.equal(findingMessage(f!), 'Not supported by source: "Whyte" in "When was Whyte born?" (QUALS -0.52)');
  assert.equal(at(BORN, localise(result([whenBorn(-0.61)]), BORN, OPTS)[0]!), 'Whyte', 'well below the threshold, one pair is enough');
});

// Sources 1-48, #11 (swap Fiorentina -> Rangers): no pair crosses the threshold, but two different
// questions answer "Rangers" and the source answers both "Fiorentina".
const GOALS = 'Whyte scored 21 goals for Rangers. Moore scored 49 goals for Rangers.';
const scoredFor = (id: string, who: string, score: number, o: { source?: string; answerLogp?: number } = {}): QaPairResult =>
  pair({ id, question: `Who did ${who} score for?`, answer: 'Rangers', score, spans: [span(GOALS, 'Rangers')],
    tokens: [tok('Who', 'question', 0, 0.12), tok(` ${who}`, 'question', 8, who === 'Whyte' ? 1.5 : 0.4), tok('Rangers', 'answer', 0, 0.9, o.answerLogp ?? 0)],
    sourceAnswer: says(o.source ?? 'Fiorentina') });

test('two questions that the source answers with the same other answer blame the answer', () => {
  const pairs = [scoredFor('q2', 'Moore', -0.23), scoredFor('q1', 'Whyte', -0.35)];
  assert.deepEqual(blamedWords(pairs[1]!, GOALS).map((w) => w.text), ['Whyte'], 'on its own the pair points elsewhere');
  const [f, ...rest] = localise(result(pairs), GOALS, OPTS);
  assert.equal(rest.length, 0);
  assert.deepEqual([f!.start, at(GOALS, f!), f!.role], [26, 'Rangers', 'answer']);
  assert.deepEqual(f!.pairs.map((p) => p.id), ['q1', 'q2']);
  assert.equal(findingMessage(f!), 'Not supported by source: "Rangers"; source says "Fiorentina" (QUALS -0.35; 2 QA pairs)');
});

test('no consistent contradiction: different source answers, one pair, near-zero scores, answers the summary doubts', () => {
  const none = (pairs: QaPairResult[], why: string) => assert.deepEqual(localise(result(pairs), GOALS, OPTS), [], why);
  none([scoredFor('q1', 'Whyte', -0.35), scoredFor('q2', 'Moore', -0.23, { source: 'Celtic' })], 'the source answers each differently');
  none([scoredFor('q1', 'Whyte', -0.35)], 'one question');
  none([scoredFor('q1', 'Whyte', -0.35), scoredFor('q2', 'Moore', -0.04)], 'the second pair loses almost nothing');
  // A generated pair can mismatch its own summary ("Who did Monaco sign? Lewis" when Monaco signed Clarke).
  none([scoredFor('q1', 'Whyte', -0.35), scoredFor('q2', 'Moore', -0.23, { answerLogp: -1.37 })], 'the summary itself doubts the answer');
});

test('with no standout word in the summary, an answer the source agrees with is not blamed', () => {
  // Sources 1-48, #47: the question asks about "Mills", who is not in the summary; the source agrees on "July".
  const S = 'Taylor visited Lisbon in July.';
  const p = pair({ id: 'q1', question: 'When did Mills visit?', answer: 'July', score: -0.78, spans: [span(S, 'July')],
    tokens: [tok('When', 'question', 0, 0), tok(' Mills', 'question', 9, 6.08), tok('July', 'answer', 0, 0.46)], sourceAnswer: says('July', true) });
  assert.deepEqual(blamedWords(p, S), []);
  assert.deepEqual(localise(result([p]), S, OPTS), []);
  const disagrees = { ...p, sourceAnswer: says('May') };
  assert.deepEqual(blamedWords(disagrees, S).map((w) => at(S, w)), ['July'], 'the answer span when the source answers otherwise');
});
