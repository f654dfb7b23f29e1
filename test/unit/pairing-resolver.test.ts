import { test } from 'node:test';
import assert from 'node:assert/strict';
import { URI } from 'vscode-uri';
import { isCheckedFile } from '../../src/client/summary-detect';
import { DEFAULT_PAIR_RULES, type PairRule } from '../../src/scoring/pairing';
import { resolvePairing, type Pairing } from '../../src/server/pairing-resolver';

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
  assert.equal(stale.via === null && stale.message, 'The paired source no longer exists: /w/gone.md');
});

test('nested workspace folders: rules are relative to the first folder holding the summary, in the given order', () => {
  const rules = [{ summary: 'summaries/*', source: 'sources/$1' }];
  const nested = { ...base, rules, uri: uri('/w/sub/summaries/x.md'), text: 'x', exists: (p: string) => p === '/w/sub/sources/x.md' };
  assert.equal(resolvePairing({ ...nested, workspaceFolders: ['/w', '/w/sub'] }).via, null, 'in /w the summary is sub/summaries/x.md');
  assert.deepEqual(resolvePairing({ ...nested, workspaceFolders: ['/w/sub', '/w'] }), { via: 'rule', sourcePath: '/w/sub/sources/x.md', sourceUri: uri('/w/sub/sources/x.md') });
});

/** The client starts the server for a file exactly when the server pairs it, or reports its directive's missing source. */
// The server checks a file it pairs, and reports on one whose named or remembered source is missing.
const serverChecks = (p: Pairing) => p.via !== null || p.missingSource !== undefined;

test('the client\'s lazy-start verdict follows the server\'s pairing', async () => {
  const nestedRule = [{ summary: 'summaries/*', source: 'sources/$1' }];
  const cases: { name: string; path: string; text?: string; folders?: string[]; rules?: PairRule[]; remembered?: string; files: string[] }[] = [
    { name: 'rule', path: '/w/news/a.summary.md', files: ['/w/news/a.md'] },
    { name: 'no source', path: '/w/news/a.summary.md', files: [] },
    { name: 'directive, source present', path: '/w/n.md', text: '<!-- quals-source: s.md -->', files: ['/w/s.md'] },
    { name: 'directive, source missing', path: '/w/n.md', text: '<!-- quals-source: s.md -->', files: [] },
    { name: 'remembered, source present', path: '/w/n.md', remembered: '/w/s.md', files: ['/w/s.md'] },
    { name: 'remembered, source deleted', path: '/w/n.md', remembered: '/w/gone.md', files: [] },
    { name: 'rule before a deleted remembered source', path: '/w/news/a.summary.md', remembered: '/w/gone.md', files: ['/w/news/a.md'] },
    { name: 'nested folders, outer first', path: '/w/sub/summaries/x.md', folders: ['/w', '/w/sub'], rules: nestedRule, files: ['/w/sub/sources/x.md'] },
    { name: 'nested folders, inner first', path: '/w/sub/summaries/x.md', folders: ['/w/sub', '/w'], rules: nestedRule, files: ['/w/sub/sources/x.md'] },
    { name: 'outside every folder', path: '/else/summaries/x.md', folders: ['/w'], rules: nestedRule, files: ['/else/sources/x.md'] },
  ];
  for (const c of cases) {
    const files = new Set(c.files);
    const folders = c.folders ?? [W];
    const rules = c.rules ?? DEFAULT_PAIR_RULES;
    const server = resolvePairing({
      uri: uri(c.path),
      text: c.text ?? 'x',
      rules,
      remembered: c.remembered ? { [uri(c.path)]: uri(c.remembered) } : {},
      workspaceFolders: folders,
      exists: (p) => files.has(p),
    });
    const client = await isCheckedFile({ path: c.path, text: c.text ?? 'x', workspaceFolders: folders, pairs: rules, jsonlFields: undefined, remembered: c.remembered, exists: async (p) => files.has(p) });
    assert.equal(client, serverChecks(server), `${c.name}: client ${client}, server ${JSON.stringify(server)}`);
  }
});

test('JSONL files pair line by line; non-file documents are not paired', () => {
  assert.deepEqual(resolvePairing({ ...base, uri: uri('/w/data/x.jsonl'), text: '' }), { via: 'jsonl' });
  assert.equal(resolvePairing({ ...base, uri: 'untitled:Untitled-1', text: '<!-- quals-source: /w/news/a.md -->' }).via, null);
});
