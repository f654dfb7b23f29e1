import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeActionsFor } from '../../src/server/code-actions';
import { toDiagnostics, type Placement } from '../../src/server/diagnostics';
import { pair, result, span } from './server-fixtures';

const SUMMARY = 'Fury beat Klitschko in Paris on Saturday.';
const doc = TextDocument.create('file:///w/a.summary.md', 'markdown', 1, SUMMARY);
const place: Placement = {
  summaryRange: (s, e) => ({ start: doc.positionAt(s), end: doc.positionAt(e) }),
  sourceLocation: (s, e) => ({ uri: 'file:///w/a.md', range: { start: { line: 0, character: s }, end: { line: 0, character: e } } }),
};
const flagged = (sourceText: string | null, agrees = false) =>
  toDiagnostics(
    result([
      pair({
        id: 'q1',
        question: 'Where?',
        answer: 'Paris',
        score: -3,
        spans: [span(SUMMARY, 'Paris')],
        sourceAnswer: sourceText === null ? null : { text: sourceText, meanLogp: -0.2, span: null, agrees },
      }),
    ]),
    place,
    { threshold: -1, severity: 'warning', uri: doc.uri, ignored: [] },
  );

test('replace with the source answer edits exactly the flagged span', () => {
  const diagnostics = flagged(' Dusseldorf');
  const actions = codeActionsFor(doc, diagnostics);
  assert.deepEqual(actions.map((a) => a.title), [
    "Replace with source answer 'Dusseldorf'",
    'Ignore this finding',
    "Ignore 'Paris' in this file (inline comment)",
    'Disable QUALS for this file',
    'Re-check with QUALS',
  ]);
  const edits = actions[0]!.edit!.changes![doc.uri]!;
  assert.equal(TextDocument.applyEdits(doc, edits), 'Fury beat Klitschko in Dusseldorf on Saturday.');
  assert.deepEqual(actions[1]!.command, {
    title: 'Ignore this finding',
    command: 'quals.ignoreFinding',
    arguments: [{ uri: doc.uri, question: 'Where?', answer: 'Paris' }],
  });
  assert.deepEqual(actions[3]!.command?.arguments, [doc.uri]);
});

const isReplace = (a: { title: string }) => a.title.startsWith('Replace with source answer');

test('no replacement without a differing source answer, or when the text moved since the check', () => {
  assert.ok(!codeActionsFor(doc, flagged(null)).some(isReplace));
  assert.ok(!codeActionsFor(doc, flagged('Paris', true)).some(isReplace));
  const edited = TextDocument.create(doc.uri, 'markdown', 2, 'Fury beat Klitschko in Rome on Saturday.');
  assert.ok(!codeActionsFor(edited, flagged('Dusseldorf')).some(isReplace));
});

test("other tools' diagnostics get no QUALS actions", () => {
  const foreign = { ...flagged('Dusseldorf')[0]!, source: 'cSpell' };
  assert.deepEqual(codeActionsFor(doc, [foreign]), []);
});

test('a merged finding replaces the whole answer and is ignored as a whole', () => {
  const S = 'Fury beat Klitschko in New Paris on Saturday.';
  const d2 = TextDocument.create(doc.uri, 'markdown', 1, S);
  const pl: Placement = { ...place, summaryRange: (s, e) => ({ start: d2.positionAt(s), end: d2.positionAt(e) }) };
  const tok = (text: string, role: 'question' | 'answer', start: number, logpSource: number) => ({ text, role, start, end: start + text.trim().length, logpSummary: 0, logpSource });
  const where = pair({
    id: 'q1', question: 'Where?', answer: 'New Paris', score: -3, spans: [span(S, 'New Paris')],
    tokens: [tok('New', 'answer', 0, -0.1), tok(' Paris', 'answer', 4, -8)],
    sourceAnswer: { text: 'Dusseldorf', meanLogp: -0.2, span: null, agrees: false },
  });
  const who = pair({ id: 'q2', question: 'Who fought in Paris?', answer: 'Fury', score: -1, spans: [span(S, 'Fury')], tokens: [tok(' Paris', 'question', 14, -6)] });
  const [d, ...rest] = toDiagnostics(result([where, who]), pl, { threshold: -0.5, severity: 'warning', uri: doc.uri, ignored: [], summary: S });
  assert.equal(rest.length, 0);
  assert.equal(d2.getText(d!.range), 'Paris', 'the squiggle is on the blamed word');
  const actions = codeActionsFor(d2, [d!]);
  assert.equal(TextDocument.applyEdits(d2, actions[0]!.edit!.changes![doc.uri]!), 'Fury beat Klitschko in Dusseldorf on Saturday.');
  assert.deepEqual(actions[1]!.command?.arguments, [
    { uri: doc.uri, question: 'Where?', answer: 'New Paris' },
    { uri: doc.uri, question: 'Who fought in Paris?', answer: 'Fury' },
  ]);
});

test('the inline ignore writes a quals-ignore comment at the top, after front matter, or into the existing comment', () => {
  const inline = (text: string, uri = doc.uri) => {
    const d = TextDocument.create(uri, 'markdown', 1, text);
    const at = text.indexOf('Paris');
    const diagnostic = { ...flagged('Dusseldorf')[0]!, range: { start: d.positionAt(at), end: d.positionAt(at + 5) } };
    const action = codeActionsFor(d, [diagnostic]).find((a) => a.title === "Ignore 'Paris' in this file (inline comment)");
    return action && { action, after: TextDocument.applyEdits(d, action.edit!.changes![uri]!) };
  };
  const top = inline(SUMMARY)!;
  assert.equal(top.after, `<!-- quals-ignore: Paris -->\n${SUMMARY}`);
  // Nothing changes until it is picked: an edit, then a re-check so the squiggle goes before a save.
  assert.deepEqual(top.action.command, { title: top.action.title, command: 'quals.recheck', arguments: [doc.uri] });
  assert.equal(inline(`---\ntitle: x\n---\n${SUMMARY}`)!.after, `---\ntitle: x\n---\n<!-- quals-ignore: Paris -->\n${SUMMARY}`);
  assert.equal(inline(`${SUMMARY}\n<!-- quals-ignore: Lyon -->\n`)!.after, `${SUMMARY}\n<!-- quals-ignore: Lyon, Paris -->\n`);
  assert.equal(inline(`${SUMMARY}<!--quals-ignore:-->`)!.after, `${SUMMARY}<!--quals-ignore: Paris-->`);
  assert.equal(inline(SUMMARY, 'file:///w/data.jsonl'), undefined, 'a JSONL line must stay JSON');
  // A CRLF file keeps CRLF line endings.
  assert.equal(inline(`${SUMMARY}\r\nMore.\r\n`)!.after, `<!-- quals-ignore: Paris -->\r\n${SUMMARY}\r\nMore.\r\n`);
});
