import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCheckedFile, type DetectInput } from '../../src/client/summary-detect';

const input = (over: Partial<DetectInput> & { files?: string[] }): DetectInput => {
  const files = new Set(over.files ?? []);
  return {
    path: '/w/news/a.summary.md',
    text: 'Fury won.',
    workspaceFolders: ['/w'],
    pairs: undefined,
    jsonlFields: undefined,
    exists: async (p) => files.has(p),
    ...over,
  };
};

test('a summary is checked when a default rule finds its source, a directive names one, or the user paired it', async () => {
  assert.equal(await isCheckedFile(input({ files: ['/w/news/a.md'] })), true);
  assert.equal(await isCheckedFile(input({ files: ['/w/news/a.txt'] })), true);
  assert.equal(await isCheckedFile(input({})), false, 'x.summary.md without x.md is not paired');
  assert.equal(await isCheckedFile(input({ text: '<!-- quals-source: ../src/a.md -->\nFury won.' })), true, 'even before the named source exists');
  assert.equal(await isCheckedFile(input({ text: '---\nsource: a.md\n---\nFury won.' })), true);
  assert.equal(await isCheckedFile(input({ remembered: '/w/other/b.md', files: ['/w/other/b.md'] })), true);
});

test('a remembered pairing whose source was deleted still starts the server, which reports the missing source', async () => {
  assert.equal(await isCheckedFile(input({ path: '/w/notes/n.md', remembered: '/w/gone.md' })), true);
  assert.equal(await isCheckedFile(input({ path: '/w/notes/n.md', remembered: '/w/gone.md', files: ['/w/gone.md'] })), true);
  // A rule still wins over the stale choice.
  assert.equal(await isCheckedFile(input({ remembered: '/w/gone.md', files: ['/w/news/a.md'] })), true);
});

test('nested workspace folders: rules are relative to the first folder holding the file, in the editor\'s order', async () => {
  const pairs = [{ summary: 'summaries/*', source: 'sources/$1' }];
  const nested = { path: '/w/sub/summaries/x.md', pairs, files: ['/w/sub/sources/x.md'] };
  // '/w' first: the file is sub/summaries/x.md there, which the rule does not match.
  assert.equal(await isCheckedFile(input({ ...nested, workspaceFolders: ['/w', '/w/sub'] })), false);
  assert.equal(await isCheckedFile(input({ ...nested, workspaceFolders: ['/w/sub', '/w'] })), true);
  assert.equal(await isCheckedFile(input({ ...nested, workspaceFolders: ['/elsewhere'] })), false, 'outside every folder: relative to its own folder');
  assert.equal(await isCheckedFile(input({ ...nested, workspaceFolders: ['/w/subsidiary', '/w/sub'] })), true, 'a folder is a path prefix only up to a separator');
});

test('an ordinary markdown file is not, and quals.pairs replaces the default rules', async () => {
  const readme = { path: '/w/README.md', text: '# Project\n' };
  assert.equal(await isCheckedFile(input({ ...readme, files: ['/w/README.md', '/w/README.txt'] })), false);
  const pairs = [{ summary: 'out/*.md', source: 'in/$1.txt' }];
  assert.equal(await isCheckedFile(input({ path: '/w/out/x.md', pairs, files: ['/w/in/x.txt'] })), true);
  assert.equal(await isCheckedFile(input({ pairs, files: ['/w/news/a.md'] })), false, 'the defaults no longer apply');
  assert.equal(await isCheckedFile(input({ pairs: [{ summary: 3 }], files: ['/w/news/a.md'] })), false, 'a malformed rule is dropped, not the defaults restored');
  const self = [{ summary: '*.md', source: '$1.md' }];
  assert.equal(await isCheckedFile(input({ path: '/w/x.md', pairs: self, files: ['/w/x.md'] })), false, 'a file is not its own source');
});

test('a JSONL file is checked only when its lines carry the configured fields', async () => {
  const jsonl = (text: string, jsonlFields?: unknown) => isCheckedFile(input({ path: '/w/d.jsonl', text, jsonlFields }));
  assert.equal(await jsonl('\n{"document":"A.","summary":"B."}\n'), true);
  assert.equal(await jsonl('{"article":"A.","highlights":"B."}'), true);
  assert.equal(await jsonl('{"event":"click","ts":1}\n{"event":"view","ts":2}\n'), false, 'a log file is not a dataset');
  assert.equal(await jsonl('{"src":"A","tgt":"B"}', [{ document: 'src', summary: 'tgt' }]), true);
  assert.equal(await jsonl('{"document":"A.","summary":"B."}', [{ document: 'src', summary: 'tgt' }]), false);
  const late = `${'{"x":1}\n'.repeat(60)}{"document":"A.","summary":"B."}`;
  assert.equal(await jsonl(late), false, 'only the first lines are read');
});
