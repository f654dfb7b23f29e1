import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blamedWords, findingMessage, formatScore, largestDrops, localise } from '../../src/scoring/localise';
import type { TokenEvidence } from '../../src/scoring/result';
import { pair, result, span } from './server-fixtures';

// examples/boxing: the source says Fury beat Klitschko; the summary says Joshua did.
const SUMMARY = 'Joshua beat Klitschko in Dusseldorf on Saturday.';
const tok = (text: string, role: TokenEvidence['role'], start: number | null, logpSummary: number, logpSource: number): TokenEvidence => ({
  text, role, start, end: start === null ? null : start + text.trimStart().length, logpSummary, logpSource,
});

const who = pair({
  id: 'q1',
  question: 'Who beat Klitschko?',
  answer: 'Joshua',
  score: -2.35,
  spans: [span(SUMMARY, 'Joshua')],
  tokens: [tok('Who', 'question', 0, -0.88, -0.92), tok(' beat', 'question', 4, -1, -1.29), tok(' Klitschko', 'question', 9, 0, 0), tok(' strutConnector', 'separator', null, 0, 0), tok('Joshua', 'answer', 0, 0, -16.1), tok('</s>', 'eos', null, 0, 0)],
  sourceAnswer: { text: 'Fury', meanLogp: -0.1, span: { start: 0, end: 4, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 4 } } }, agrees: false },
});
// The source gives the same answer ("Dusseldorf"): the unsupported word is the question's "Joshua".
const where = pair({
  id: 'q5',
  question: 'Where did Joshua fight?',
  answer: 'Dusseldorf',
  score: -1.73,
  spans: [span(SUMMARY, 'Dusseldorf')],
  tokens: [tok('Where', 'question', 0, -1.85, -1.56), tok(' did', 'question', 6, 0, -0.67), tok(' Joshua', 'question', 10, 0, -13.5), tok(' fight', 'question', 17, 0, 0), tok('Dusseldorf', 'answer', 0, 0, 0)],
  sourceAnswer: { text: 'Dusseldorf', meanLogp: -0.1, span: null, agrees: true },
});
const fine = pair({ id: 'q2', question: 'When did Joshua fight?', answer: 'Saturday', score: -0.03, spans: [span(SUMMARY, 'Saturday')], tokens: [tok('Saturday', 'answer', 0, 0, -0.03)] });

test('a question word that the source does not support is blamed, not the answer the source agrees with', () => {
  const [w, ...rest] = blamedWords(where, SUMMARY);
  assert.equal(rest.length, 0);
  assert.deepEqual([w!.text, w!.role, SUMMARY.slice(w!.start, w!.end)], ['Joshua', 'question', 'Joshua']);
  assert.match(findingMessage({ ...w!, pairs: [where] }), /^Not supported by source: "Joshua" in "Where did Joshua fight\?" \(QUALS -1\.73\)$/);
});

test('pairs blaming the same word merge into one finding, worst pair first', () => {
  const findings = localise(result([where, who, fine]), SUMMARY, { threshold: -0.5 });
  assert.equal(findings.length, 1);
  const [f] = findings;
  assert.deepEqual([f!.start, f!.end, f!.role], [0, 6, 'answer']);
  assert.deepEqual(f!.pairs.map((p) => p.id), ['q1', 'q5']);
  assert.equal(findingMessage(f!), 'Not supported by source: "Joshua"; source says "Fury" (QUALS -2.35; 2 QA pairs)');
});

test('with no standout token the finding falls back to the answer span', () => {
  const flat = pair({ ...who, tokens: who.tokens.map((t) => ({ ...t, logpSource: t.logpSummary - 0.2 })) });
  const [w] = blamedWords(flat, SUMMARY);
  assert.deepEqual([SUMMARY.slice(w!.start, w!.end), w!.role], ['Joshua', 'answer']);
});

test('skipped (ignored) and supported pairs give no findings; no-pairs results none at all', () => {
  assert.equal(localise(result([who, where]), SUMMARY, { threshold: -0.5, skip: () => true }).length, 0);
  assert.equal(localise(result([fine]), SUMMARY, { threshold: -0.5 }).length, 0);
  assert.equal(localise(result([], 'no-pairs'), SUMMARY, { threshold: -0.5 }).length, 0);
});

test('three pairs that each get another answer from the source corroborate one word below the threshold', () => {
  // examples/news.jsonl line 2: "Everton won 55 games in 2015." where the source says Arsenal did.
  const S = 'Everton won 55 games in 2015.';
  const src = (text: string) => ({ text, meanLogp: -0.1, span: { start: 0, end: text.length, range: { start: { line: 0, character: 0 }, end: { line: 0, character: text.length } } }, agrees: false });
  const mk = (id: string, question: string, answer: string, score: number, qAt: number) =>
    pair({ id, question, answer, score, spans: [span(S, answer)], tokens: [tok(' Everton', 'question', qAt, 0, -1.4), tok(answer, 'answer', 0, 0, -0.9)], sourceAnswer: src(`x${id}`) });
  const pairs = [mk('q1', 'When did Everton win?', '2015', -0.33, 9), mk('q2', 'How many did Everton win?', '55', -0.37, 13)];
  assert.equal(localise(result(pairs), S, { threshold: -0.5 }).length, 0, 'two weak pairs are not enough');
  const third = pair({ id: 'q3', question: 'Which team won 55 games?', answer: 'Everton', score: -0.39, spans: [span(S, 'Everton')], tokens: [tok('Everton', 'answer', 0, 0, -1.1)], sourceAnswer: src('Arsenal') });
  const [f, ...rest] = localise(result([...pairs, third]), S, { threshold: -0.5 });
  assert.equal(rest.length, 0);
  assert.equal(S.slice(f!.start, f!.end), 'Everton');
  assert.equal(f!.pairs.length, 3);
  assert.equal(findingMessage(f!), 'Not supported by source: "Everton"; source says "Arsenal" (QUALS -0.39; 3 QA pairs)');
});

test('largest drops: question and answer tokens only, largest first; one rounding of scores', () => {
  assert.deepEqual(largestDrops(where).map((t) => t.text.trim()), ['Joshua', 'did', 'fight']);
  assert.equal(formatScore(-0.0004), '0.00');
  assert.equal(formatScore(-2.345), '-2.35');
});
