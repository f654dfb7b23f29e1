import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { diagnosticMessage, toDiagnostics, type FindingData, type Placement } from '../../src/server/diagnostics';
import { pair, result, span } from './server-fixtures';

const SOURCE = 'Fury beat Klitschko in Dusseldorf on Saturday.';
const SUMMARY = 'Fury beat Klitschko in Paris on Saturday.';
const summaryDoc = TextDocument.create('file:///w/a.summary.md', 'markdown', 3, `---\nsource: a.md\n---\n${SUMMARY}`);
const OFFSET = '---\nsource: a.md\n---\n'.length;
const sourceDoc = TextDocument.create('file:///w/a.md', 'markdown', 1, SOURCE);
const place: Placement = {
  summaryRange: (s, e) => ({ start: summaryDoc.positionAt(OFFSET + s), end: summaryDoc.positionAt(OFFSET + e) }),
  sourceLocation: (s, e) => ({ uri: sourceDoc.uri, range: { start: sourceDoc.positionAt(s), end: sourceDoc.positionAt(e) } }),
};
const opts = { threshold: -1, severity: 'warning' as const, uri: summaryDoc.uri, ignored: [] };

const wrong = pair({
  id: 'q1',
  question: 'Where did Fury fight?',
  answer: 'Paris',
  score: -2.63,
  spans: [span(SUMMARY, 'Paris')],
  sourceAnswer: { text: ' Dusseldorf', meanLogp: -0.1, span: span(SOURCE, 'Dusseldorf'), agrees: false },
});
const right = pair({ id: 'q2', question: 'Who beat Klitschko?', answer: 'Fury', score: -0.1, spans: [span(SUMMARY, 'Fury')] });

test('one diagnostic per flagged pair, on the answer span mapped into the document', () => {
  const [d, ...rest] = toDiagnostics(result([wrong, right]), place, opts);
  assert.equal(rest.length, 0, 'the supported pair is not flagged');
  assert.ok(d);
  assert.equal(summaryDoc.getText(d.range), 'Paris');
  assert.equal(d.source, 'QUALS');
  assert.equal(d.code, 'q1');
  assert.equal(d.severity, DiagnosticSeverity.Warning);
  assert.equal(d.message, 'Not supported by source: "Paris"; source says "Dusseldorf" (QUALS -2.63)');
  const rel = d.relatedInformation?.[0];
  assert.equal(rel?.location.uri, sourceDoc.uri);
  assert.equal(sourceDoc.getText(rel!.location.range), 'Dusseldorf');
  assert.deepEqual((d.data as FindingData).sourceAnswer, 'Dusseldorf');
});

test('threshold and severity settings decide what is flagged and how', () => {
  assert.equal(toDiagnostics(result([wrong, right]), place, { ...opts, threshold: -3 }).length, 0);
  const both = toDiagnostics(result([wrong, right]), place, { ...opts, threshold: 0, severity: 'error' });
  assert.deepEqual(both.map((d) => [d.code, d.severity]), [['q1', DiagnosticSeverity.Error], ['q2', DiagnosticSeverity.Error]]);
  const agrees = both[1]!;
  assert.equal(agrees.message, 'Not supported by source: "Fury" (QUALS -0.10)', 'no "source says" without a differing answer');
  assert.equal(agrees.relatedInformation, undefined);
});

test('ignored findings (same file, question and answer) and no-pairs results give no diagnostics', () => {
  const ignored = [{ uri: summaryDoc.uri, question: wrong.question, answer: 'Paris' }];
  assert.equal(toDiagnostics(result([wrong]), place, { ...opts, ignored }).length, 0);
  assert.equal(toDiagnostics(result([wrong]), place, { ...opts, ignored: [{ ...ignored[0]!, uri: 'file:///other' }] }).length, 1);
  assert.equal(toDiagnostics(result([], 'no-pairs'), place, opts).length, 0);
  assert.equal(toDiagnostics(result([{ ...wrong, spans: [] }]), place, opts).length, 0, 'no span, nothing to underline');
});

test('JSONL findings carry their line', () => {
  const [d] = toDiagnostics(result([wrong]), place, opts, 7);
  assert.equal((d!.data as FindingData).line, 7);
});

test('messages stay one short line', () => {
  const long = pair({ ...wrong, answer: `a\nb ${'x'.repeat(200)}` });
  const m = diagnosticMessage(long);
  assert.ok(!m.includes('\n'));
  assert.ok(m.length < 200);
});

test('with the scored summary, the squiggle sits on the word the tokens blame and merged pairs are listed', () => {
  const tok = (text: string, role: 'question' | 'answer', start: number, logpSource: number) => ({ text, role, start, end: start + text.trim().length, logpSummary: 0, logpSource });
  // "Where did Fury fight?" -> "Paris": the answer token drops; "Who fought in Paris?" -> "Fury": the question's "Paris" drops.
  const onAnswer = { ...wrong, tokens: [tok('Where', 'question', 0, -0.1), tok('Paris', 'answer', 0, -9)] };
  const onQuestion = pair({
    id: 'q2',
    question: 'Who fought in Paris?',
    answer: 'Fury',
    score: -1.3, // clearly below the threshold (-1): a pair just below it would need a second question
    spans: [span(SUMMARY, 'Fury')],
    tokens: [tok('Who', 'question', 0, -0.1), tok(' Paris', 'question', 14, -7), tok('Fury', 'answer', 0, 0)],
    sourceAnswer: { text: 'Fury', meanLogp: -0.1, span: span(SOURCE, 'Fury'), agrees: true },
  });
  const [d, ...rest] = toDiagnostics(result([onQuestion, onAnswer]), place, { ...opts, summary: SUMMARY });
  assert.equal(rest.length, 0, 'both pairs blame "Paris": one diagnostic');
  assert.equal(summaryDoc.getText(d!.range), 'Paris');
  assert.equal(d!.message, 'Not supported by source: "Paris"; source says "Dusseldorf" (QUALS -2.63; 2 QA pairs)');
  const data = d!.data as FindingData;
  assert.deepEqual(data.pairs?.map((p) => p.id), ['q1', 'q2']);
  assert.equal(summaryDoc.getText(data.answerRange!), 'Paris');
  assert.deepEqual(d!.relatedInformation?.map((r) => sourceDoc.getText(r.location.range)), ['Dusseldorf', 'Fury']);
  // Alone, the question pair's finding names its question and offers no "source says" (the source agrees).
  const [q] = toDiagnostics(result([onQuestion]), place, { ...opts, summary: SUMMARY });
  assert.equal(q!.message, 'Not supported by source: "Paris" in "Who fought in Paris?" (QUALS -1.30)');
  assert.equal((q!.data as FindingData).sourceAnswer, null);
});
