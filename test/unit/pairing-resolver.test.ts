import { test } from 'node:test';
import assert from 'node:assert/strict';
import { URI } from 'vscode-uri';
import { DEFAULT_PAIR_RULES } from '../../src/scoring/pairing';
import { resolvePairing } from '../../src/server/pairing-resolver';

const W = '/w';
const uri = (p: string) => URI.file(p).toString();
const files = new Set(['/w/news/a.md', '/w/news/a.txt', '/w/other/b.md', '/w/sources/c.txt']);
const base = { rules: DEFAULT_PAIR_RULES, remembered: {}, workspaceFolders: [W], exists: (p: string) => files.has(p) };

test('precedence: directive, then rules, then the remembered choice', () => {
  const summary = uri('/w/news/a.summary.md');
  const remembered = { [summary]: uri('/w/other/b.md') };
  const d = resolvePairing({ ...base, remembered, uri: summary, text: 'x <!-- quals-source: ../other/b.md -->' });
  assert.deepEqual(d, { via: 'directive', sourcePath: '/w/other/b.md', sourceUri: uri('/w/other/b.md') });
  const r = resolvePairing({ ...base, remembered, uri: summary, text: 'x' });
  assert.deepEqual(r, { via: 'rule', sourcePath: '/w/news/a.md', sourceUri: uri('/w/news/a.md') }, 'x.md before x.txt');
  const m = resolvePairing({ ...base, uri: uri('/w/notes/n.md'), remembered: { [uri('/w/notes/n.md')]: uri('/w/other/b.md') }, text: 'x' });
  assert.equal(m.via, 'remembered');
  assert.equal(resolvePairing({ ...base, uri: uri('/w/summaries/c.txt'), text: 'x' }).via, 'rule');
});

test('missing sources are reported, never replaced by a guess', () => {
  const d = resolvePairing({ ...base, uri: uri('/w/news/a.summary.md'), text: '<!-- quals-source: gone.md -->' });
  assert.deepEqual(d, { via: null, message: 'The source named in the summary does not exist: /w/news/gone.md', missingSource: '/w/news/gone.md' });
  const none = resolvePairing({ ...base, uri: uri('/w/notes/n.md'), text: 'x' });
  assert.equal(none.via, null);
  assert.match(none.via === null ? none.message : '', /quals-source.*Pair with Source/);
  const stale = resolvePairing({ ...base, uri: uri('/w/n.md'), remembered: { [uri('/w/n.md')]: uri('/w/gone.md') }, text: 'x' });
  assert.equal(stale.via === null && stale.missingSource, '/w/gone.md');
});

test('JSONL files pair line by line; non-file documents are not paired', () => {
  assert.deepEqual(resolvePairing({ ...base, uri: uri('/w/data/x.jsonl'), text: '' }), { via: 'jsonl' });
  assert.equal(resolvePairing({ ...base, uri: 'untitled:Untitled-1', text: '<!-- quals-source: /w/news/a.md -->' }).via, null);
});
