import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResultParams } from '../../src/protocol';
import { explorerCsp, explorerHtml, makeNonce } from '../../src/client/explorer/explorer-html';
import { deriveState, type StateInputs } from '../../src/client/explorer/explorer-state';
import { locatePair, scoredTexts } from '../../src/client/explorer/locations';
import { fixtureResult, fixtureVerdicts, SOURCE, SUMMARY } from './explorer-fixture';

const summary = { uri: 'file:///w/fight.summary.md', name: 'fight.summary.md' };
const params: ResultParams = { uri: summary.uri, version: 3, sourceUri: 'file:///w/fight.md', result: fixtureResult(), verdicts: fixtureVerdicts() };
const inputs = (over: Partial<StateInputs> = {}): StateInputs => ({
  summary,
  version: 3,
  results: [params],
  status: { uri: summary.uri, version: 3, state: 'done', score: -0.9 },
  model: { state: 'ready', model: '/m', device: 'cpu' },
  cursorLine: 0,
  threshold: -1,
  nameOf: (u) => u.slice(u.lastIndexOf('/') + 1),
  ...over,
});

test('state: a finished check shows the result with the source name and threshold', () => {
  const s = deriveState(inputs());
  assert.equal(s.kind, 'result');
  if (s.kind !== 'result') return;
  assert.deepEqual([s.source.name, s.settings.threshold, s.rescoring, s.outdated], ['fight.md', -1, false, false]);
  const edited = deriveState(inputs({ version: 4 }));
  assert.ok(edited.kind === 'result' && edited.outdated);
});

test('state: every empty and error case maps to its view state', () => {
  const kind = (over: Partial<StateInputs>) => deriveState(inputs(over)).kind;
  assert.equal(kind({ summary: null }), 'no-summary');
  assert.equal(kind({ results: [], status: undefined }), 'no-summary');
  assert.equal(kind({ results: [], status: { uri: summary.uri, version: 3, state: 'unpaired', message: 'How to pair...' } }), 'not-paired');
  assert.equal(kind({ results: [], status: { uri: summary.uri, version: 3, state: 'checking' } }), 'scoring');
  assert.equal(kind({ status: { uri: summary.uri, version: 4, state: 'checking' } }), 'result');
  assert.equal(kind({ results: [], status: { uri: summary.uri, version: 3, state: 'error', message: 'Source is binary.' } }), 'error');
  assert.equal(kind({ results: [], status: { uri: summary.uri, version: 3, state: 'disabled' } }), 'disabled');
  assert.equal(kind({ model: { state: 'error', model: '', code: 'not-configured', message: 'Set "quals.model".' } }), 'model-missing');
  assert.equal(kind({ model: { state: 'error', model: '/m', code: 'runtime', message: 'ORT failed' } }), 'result');
  const rescoring = deriveState(inputs({ status: { uri: summary.uri, version: 4, state: 'checking' } }));
  assert.ok(rescoring.kind === 'result' && rescoring.rescoring);
});

test('state: a dataset shows the line under the cursor', () => {
  const line = (n: number): ResultParams => ({ ...params, sourceUri: summary.uri, line: n, summaryOffset: 0 });
  const s = deriveState(inputs({ results: [line(0), line(2), line(5)], cursorLine: 4 }));
  assert.ok(s.kind === 'result');
  if (s.kind !== 'result') return;
  assert.equal(s.summary.name, 'fight.summary.md, line 3');
  assert.equal(s.source.name, 'its document field');
});

test('CSP: nothing but the nonce script and the webview origin styles', () => {
  assert.equal(explorerCsp('https://x.vscode-cdn.net', 'abc'), "default-src 'none'; style-src https://x.vscode-cdn.net; font-src https://x.vscode-cdn.net; img-src https://x.vscode-cdn.net; script-src 'nonce-abc'");
  const html = explorerHtml({ cspSource: 'https://x.vscode-cdn.net', scriptUri: 'https://x/main.js', styleUri: 'https://x/main.css', nonce: 'n0nce' });
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'nonce-n0nce'">/);
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]![1]!, /nonce="n0nce" src="https:\/\/x\/main\.js"/);
  assert.equal(scripts[0]![2], '', 'no inline script');
  assert.doesNotMatch(html, /<style|style=|unsafe-inline|unsafe-eval/);
  assert.notEqual(makeNonce(), makeNonce());
  assert.match(makeNonce(), /^[A-Za-z0-9+/]{22}==$/);
});

test('locations: a plain summary shifts spans past its front matter', () => {
  const frontMatter = '---\nsource: fight.md\n---\n';
  const pair = params.result.pairs[1]!; // "Klitschko"
  const where = locatePair({ ...params, summaryOffset: frontMatter.length }, pair, frontMatter + SUMMARY);
  assert.equal((frontMatter + SUMMARY).slice(where.answer!.start, where.answer!.end), 'Klitschko');
  assert.equal(SOURCE.slice(where.evidence!.start, where.evidence!.end), 'Wladimir Klitschko');
  assert.equal(locatePair(params, pair, 'short').answer, null, 'a span past the end of an edited text is not selected');
});

test('locations: dataset lines map decoded spans back through JSON escapes', () => {
  const line = JSON.stringify({ document: SOURCE, summary: SUMMARY }); // the newlines become \n escapes
  const text = `{"document": "x", "summary": "y"}\n${line}\n`;
  const p: ResultParams = { ...params, sourceUri: summary.uri, line: 1, summaryOffset: 0 };
  const q3 = p.result.pairs[2]!; // "twelve", after the escaped newline
  const where = locatePair(p, q3, text);
  assert.equal(text.slice(where.answer!.start, where.answer!.end), 'twelve');
  const q2 = locatePair(p, p.result.pairs[1]!, text);
  assert.equal(text.slice(q2.evidence!.start, q2.evidence!.end), 'Wladimir Klitschko');
  assert.deepEqual(scoredTexts(p, text, undefined), { summary: SUMMARY, source: SOURCE });
  assert.equal(scoredTexts({ ...p, line: 7 }, text, undefined), null);
});
