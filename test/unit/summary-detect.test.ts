import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCheckedFile, type DetectInput } from '../../src/client/summary-detect';

const input = (over: Partial<DetectInput> & { files?: string[] }): DetectInput => {
  const files = new Set(over.files ?? []);
  return {
    path: '/w/news/a.summary.md',
    relativePath: 'news/a.summary.md',
    text: 'Fury won.',
    pairs: undefined,
    jsonlFields: undefined,
    remembered: false,
    exists: async (rel) => files.has(rel),
    ...over,
  };
};

test('a summary is checked when a default rule finds its source, a directive names one, or the user paired it', async () => {
  assert.equal(await isCheckedFile(input({ files: ['news/a.md'] })), true);
  assert.equal(await isCheckedFile(input({ files: ['news/a.txt'] })), true);
  assert.equal(await isCheckedFile(input({})), false, 'x.summary.md without x.md is not paired');
  assert.equal(await isCheckedFile(input({ text: '<!-- quals-source: ../src/a.md -->\nFury won.' })), true, 'even before the named source exists');
  assert.equal(await isCheckedFile(input({ text: '---\nsource: a.md\n---\nFury won.' })), true);
  assert.equal(await isCheckedFile(input({ remembered: true })), true);
});

test('an ordinary markdown file is not, and quals.pairs replaces the default rules', async () => {
  const readme = { path: '/w/README.md', relativePath: 'README.md', text: '# Project\n' };
  assert.equal(await isCheckedFile(input({ ...readme, files: ['README.md', 'README.txt'] })), false);
  const pairs = [{ summary: 'out/*.md', source: 'in/$1.txt' }];
  const out = { path: '/w/out/x.md', relativePath: 'out/x.md' };
  assert.equal(await isCheckedFile(input({ ...out, pairs, files: ['in/x.txt'] })), true);
  assert.equal(await isCheckedFile(input({ pairs, files: ['news/a.md'] })), false, 'the defaults no longer apply');
  assert.equal(await isCheckedFile(input({ pairs: [{ summary: 3 }], files: ['news/a.md'] })), false, 'a malformed rule is dropped, not the defaults restored');
});

test('a JSONL file is checked only when its lines carry the configured fields', async () => {
  const jsonl = (text: string, jsonlFields?: unknown) => isCheckedFile(input({ path: '/w/d.jsonl', relativePath: 'd.jsonl', text, jsonlFields }));
  assert.equal(await jsonl('\n{"document":"A.","summary":"B."}\n'), true);
  assert.equal(await jsonl('{"article":"A.","highlights":"B."}'), true);
  assert.equal(await jsonl('{"event":"click","ts":1}\n{"event":"view","ts":2}\n'), false, 'a log file is not a dataset');
  assert.equal(await jsonl('{"src":"A","tgt":"B"}', [{ document: 'src', summary: 'tgt' }]), true);
  assert.equal(await jsonl('{"document":"A.","summary":"B."}', [{ document: 'src', summary: 'tgt' }]), false);
  const late = `${'{"x":1}\n'.repeat(60)}{"document":"A.","summary":"B."}`;
  assert.equal(await jsonl(late), false, 'only the first lines are read');
});
