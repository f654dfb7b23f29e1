/**
 * The server's check pipeline with the real engine and the trained toy model; only the LSP
 * connection is replaced by recording sinks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import type { DocumentStatusParams, ResultParams, WorkspaceStateParams } from '../../src/protocol';
import { createEngine } from '../../src/scoring/engine';
import type { QualsEngine } from '../../src/scoring/engine-api';
import { Checker } from '../../src/server/checker';
import { DEFAULT_SETTINGS } from '../../src/server/settings';

const MODEL = fileURLToPath(new URL('../../models/tiny-qagen', import.meta.url));
const SOURCE = 'Fury beat Klitschko in Dusseldorf on Saturday. The crowd was loud. Arsenal signed Wilder for 40 million.\n';
const SUMMARY = 'Fury beat Klitschko in Paris on Saturday. Arsenal signed Wilder for 40 million.\n';

let engine: QualsEngine;
before(async () => {
  engine = await createEngine({ model: MODEL, device: 'cpu' });
});
after(() => engine?.dispose());

function setup(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'quals-checker-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const docs = new Map<string, TextDocument>();
  const published: { uri: string; version: number; diagnostics: Diagnostic[] }[] = [];
  const results: ResultParams[] = [];
  const statuses: DocumentStatusParams[] = [];
  const state: WorkspaceStateParams = { pairs: {}, ignored: [], disabled: [] };
  let beforeScore: (() => void) | undefined;
  const checker = new Checker({
    document: (uri) => docs.get(uri),
    settings: async () => ({ ...DEFAULT_SETTINGS }),
    engine: async () => ({
      ...engine,
      info: engine.info,
      options: engine.options,
      score: (r) => {
        beforeScore?.();
        return engine.score(r);
      },
      dispose: async () => undefined,
    }),
    workspaceFolders: () => [dir],
    state: () => state,
    publishDiagnostics: (uri, version, diagnostics) => void published.push({ uri, version, diagnostics }),
    sendResult: (p) => void results.push(p),
    sendStatus: (p) => statuses.push(p),
    log: () => undefined,
  });
  const open = (name: string, version = 1) => {
    const uri = URI.file(join(dir, name)).toString();
    docs.set(uri, TextDocument.create(uri, 'markdown', version, files[name] ?? ''));
    return uri;
  };
  return { dir, docs, checker, published, results, statuses, state, open, onScore: (f: () => void) => (beforeScore = f) };
}

test('a paired summary gets its flagged phrase and one result for the version it was computed on', async () => {
  const t = setup({ 'a.md': SOURCE, 'a.summary.md': SUMMARY });
  const uri = t.open('a.summary.md', 4);
  const r = await t.checker.check(uri, new AbortController().signal);
  assert.equal(r.state, 'done');
  const last = t.published.at(-1)!;
  assert.equal(last.version, 4);
  const doc = t.docs.get(uri)!;
  assert.ok(last.diagnostics.some((d) => doc.getText(d.range) === 'Paris'), JSON.stringify(last.diagnostics.map((d) => d.message)));
  assert.deepEqual(t.results.map((x) => [x.version, x.sourceUri.endsWith('/a.md')]), [[4, true]]);
  assert.deepEqual(t.statuses.map((s) => s.state), ['checking', 'done']);
  assert.deepEqual(t.checker.summariesOf(URI.file(join(t.dir, 'a.md')).toString()), [uri]);
});

test('a quals-ignore comment hides findings on its word, is not scored, and keeps the other squiggles in place', async () => {
  const plain = setup({ 'a.md': SOURCE, 'a.summary.md': SUMMARY });
  const plainUri = plain.open('a.summary.md');
  await plain.checker.check(plainUri, new AbortController().signal);
  const before = plain.published.at(-1)!.diagnostics.filter((d) => d.data);
  assert.ok(before.some((d) => plain.docs.get(plainUri)!.getText(d.range) === 'Paris'), 'the finding the comment will hide');

  const withComment = `<!-- quals-ignore: paris -->\n${SUMMARY}`;
  const t = setup({ 'a.md': SOURCE, 'a.summary.md': withComment });
  const uri = t.open('a.summary.md');
  assert.equal((await t.checker.check(uri, new AbortController().signal)).state, 'done');
  const doc = t.docs.get(uri)!;
  const after = t.published.at(-1)!.diagnostics.filter((d) => d.data);
  assert.ok(!after.some((d) => doc.getText(d.range) === 'Paris'), JSON.stringify(after.map((d) => d.message)));
  // The comment is blanked, not scored: the same QA pairs and score as without it, and every other
  // finding on the same words, shifted by the comment's line.
  assert.deepEqual(t.results[0]!.result.pairs.map((p) => [p.question, p.answer]), plain.results[0]!.result.pairs.map((p) => [p.question, p.answer]));
  assert.equal(t.results[0]!.result.score, plain.results[0]!.result.score);
  const words = (ds: Diagnostic[], d: TextDocument) => ds.map((x) => d.getText(x.range)).filter((w) => w !== 'Paris');
  assert.deepEqual(words(after, doc), words(before, plain.docs.get(plainUri)!));
  for (const d of after) assert.equal(d.range.start.line, 1);
});

test('an edit during scoring makes the result stale: nothing is published', async () => {
  const t = setup({ 'a.md': SOURCE, 'a.summary.md': SUMMARY });
  const uri = t.open('a.summary.md', 1);
  t.onScore(() => {
    const doc = t.docs.get(uri)!;
    TextDocument.update(doc, [{ text: 'Fury won. ' }], 2);
  });
  const r = await t.checker.check(uri, new AbortController().signal);
  assert.equal(r.state, 'cancelled');
  assert.equal(t.published.length, 0);
  assert.equal(t.results.length, 0);
});

test('an aborted check publishes nothing and reports cancelled', async () => {
  const t = setup({ 'a.md': SOURCE, 'a.summary.md': SUMMARY });
  const uri = t.open('a.summary.md');
  const controller = new AbortController();
  t.onScore(() => controller.abort());
  assert.equal((await t.checker.check(uri, controller.signal)).state, 'cancelled');
  assert.equal(t.published.length, 0);
});

test('unpaired, disabled and missing-source documents say why', async () => {
  const t = setup({ 'lonely.md': SUMMARY, 'b.summary.md': `<!-- quals-source: gone.md -->\n${SUMMARY}`, 'c.summary.md': SUMMARY, 'c.md': SOURCE });
  const lonely = t.open('lonely.md');
  assert.equal((await t.checker.check(lonely, new AbortController().signal)).state, 'unpaired');
  assert.deepEqual(t.published.at(-1)?.diagnostics, [], 'stale diagnostics are cleared');
  const b = t.open('b.summary.md');
  const missing = await t.checker.check(b, new AbortController().signal);
  assert.equal(missing.state, 'error');
  assert.deepEqual(t.published.at(-1)?.diagnostics.map((d) => d.code), ['source-missing']);
  const c = t.open('c.summary.md');
  t.state.disabled.push(c);
  assert.equal((await t.checker.check(c, new AbortController().signal)).state, 'disabled');
});

test('JSONL: diagnostics land on the summary inside each line, results carry line and offset', async () => {
  const lines = [
    JSON.stringify({ document: SOURCE.trim(), summary: SUMMARY.trim() }),
    'not json',
    JSON.stringify({ article: 'Usyk was born in Vienna in 1987.', highlights: 'Usyk was born in Vienna in 1987.' }),
  ];
  const t = setup({ 'd.jsonl': lines.join('\n') + '\n' });
  const uri = t.open('d.jsonl');
  const r = await t.checker.check(uri, new AbortController().signal);
  assert.equal(r.state, 'done');
  assert.match(r.message ?? '', /2 line\(s\) scored, 1 skipped/);
  const doc = t.docs.get(uri)!;
  const diagnostics = t.published.at(-1)!.diagnostics;
  const paris = diagnostics.find((d) => doc.getText(d.range) === 'Paris');
  assert.ok(paris, 'Paris flagged inside line 0');
  assert.equal(paris.range.start.line, 0);
  assert.ok(paris.range.start.character > lines[0]!.indexOf('"summary"'));
  const byLine = new Map(t.results.map((x) => [x.line, x]));
  assert.deepEqual([...byLine.keys()].sort(), [0, 2]);
  const first = byLine.get(0)!;
  assert.equal(doc.getText().slice(first.summaryOffset!, first.summaryOffset! + 4), 'Fury');
});
