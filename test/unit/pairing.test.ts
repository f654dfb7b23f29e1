import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blankDirectives,
  directiveInsertOffset,
  findIgnoreDirectives,
  ignoreDirectiveText,
  ignoredWords,
  isIgnoredWord,
  DEFAULT_PAIR_RULES,
  findDirective,
  globToRegExp,
  readJsonlLine,
  scoredSummaryText,
  sourceCandidates,
  splitLines,
} from '../../src/scoring/pairing';

const sources = (path: string) => sourceCandidates(path, DEFAULT_PAIR_RULES).map((c) => c.source);

test('default rules pair x.summary.md with x.md then x.txt, in any folder', () => {
  assert.deepEqual(sources('news/fury.summary.md'), ['news/fury.md', 'news/fury.txt']);
  assert.deepEqual(sources('fury.summary.md'), ['fury.md', 'fury.txt']);
  assert.deepEqual(sources('a/b/fury.summary.txt'), ['a/b/fury.txt', 'a/b/fury.md']);
});

test('default rules pair summaries/x with sources/x', () => {
  assert.deepEqual(sources('summaries/x.txt'), ['sources/x.txt']);
  assert.deepEqual(sources('data/summaries/x.txt'), ['data/sources/x.txt']);
  assert.deepEqual(sources('summaries/deep/x.txt'), [], '* does not cross folders');
  assert.deepEqual(sources('notes/x.md'), []);
});

test('user rules: captures, braces, single string source, malformed rules ignored', () => {
  const rules = [
    { summary: 'out/*-{sum,abs}.md', source: 'in/$1.txt' },
    { summary: 42, source: 'x' } as unknown as { summary: string; source: string },
    { summary: '*.md', source: '$1.md' }, // would pair a file with itself: dropped
  ];
  assert.deepEqual(sourceCandidates('out/a-abs.md', rules).map((c) => c.source), ['in/a.txt']);
  assert.deepEqual(sourceCandidates('b.md', rules), []);
});

test('globToRegExp escapes regex characters and anchors', () => {
  assert.ok(globToRegExp('a+b(1).md').test('a+b(1).md'));
  assert.ok(!globToRegExp('a.md').test('xa.md'));
  assert.ok(!globToRegExp('a.md').test('abmd'));
});

test('directive comment and front matter name the source; the comment wins', () => {
  assert.deepEqual(findDirective('Fury won.\n<!-- quals-source: ../src/a.txt -->\n'), { source: '../src/a.txt', kind: 'comment' });
  assert.deepEqual(findDirective('---\ntitle: x\nsource: "art icle.md"\n---\nFury won.'), { source: 'art icle.md', kind: 'front-matter' });
  assert.deepEqual(findDirective('---\nsource: a.md\n---\n<!-- quals-source: b.md -->'), { source: 'b.md', kind: 'comment' });
  assert.equal(findDirective('source: a.md\nno front matter'), null);
  assert.equal(findDirective('<!-- quals-source: -->'), null);
});

test('scored summary text drops front matter and blanks directives, keeping offsets mappable', () => {
  const doc = '---\nsource: a.md\n---\nFury beat Joshua. <!-- quals-source: a.md --> Then left.';
  const { text, offset } = scoredSummaryText(doc);
  assert.equal(offset, '---\nsource: a.md\n---\n'.length);
  assert.ok(text.startsWith('Fury beat Joshua.'));
  assert.ok(!text.includes('quals-source'));
  const at = text.indexOf('Then');
  assert.equal(doc.slice(offset + at, offset + at + 4), 'Then');
});

test('JSONL: default fields, CNN/DM fields, offsets through escapes', () => {
  const line = '{"id":1,"meta":{"summary":"nested"},"document":"Fury beat Joshua.","summary":"Caf\\u00e9 \\"Fury\\" won\\nbig"}';
  const r = readJsonlLine(line);
  assert.equal(r.kind, 'pair');
  if (r.kind !== 'pair') return;
  assert.equal(r.pair.summary, 'Café "Fury" won\nbig');
  const s = r.pair.summary.indexOf('Fury');
  const raw = line.slice(r.pair.rawOffsets[s], r.pair.rawOffsets[s + 4]);
  assert.equal(raw, 'Fury');
  const w = r.pair.summary.indexOf('won');
  assert.equal(line.slice(r.pair.rawOffsets[w], r.pair.rawOffsets[w + 3]), 'won');
  assert.equal(line[r.pair.rawOffsets[r.pair.summary.length]!], '"', 'end offset is the closing quote');

  const cnn = readJsonlLine('{"article": "A.", "highlights": "B."}');
  assert.equal(cnn.kind === 'pair' && cnn.pair.fields.summary, 'highlights');
  const custom = readJsonlLine('{"src":"A","tgt":"B"}', [{ document: 'src', summary: 'tgt' }]);
  assert.equal(custom.kind === 'pair' && custom.pair.summary, 'B');
});

test('JSONL: blank, invalid and field-less lines are reported, not guessed', () => {
  assert.deepEqual(readJsonlLine('   '), { kind: 'blank' });
  assert.equal(readJsonlLine('{oops').kind, 'skip');
  assert.equal(readJsonlLine('[1,2]').kind, 'skip');
  const r = readJsonlLine('{"document":"A","summary":3}');
  assert.ok(r.kind === 'skip' && /"document"\/"summary"/.test(r.reason));
});

test('splitLines keeps offsets for LF and CRLF', () => {
  assert.deepEqual(splitLines('a\r\nbc\n'), [{ text: 'a', offset: 0 }, { text: 'bc', offset: 3 }, { text: '', offset: 6 }]);
});

test('JSONL: the document field is mapped too (related information points into it)', () => {
  const line = '{"document":"Tab\\there Fury","summary":"x"}';
  const r = readJsonlLine(line);
  assert.ok(r.kind === 'pair');
  const at = r.pair.document.indexOf('Fury');
  assert.equal(line.slice(r.pair.documentRawOffsets[at], r.pair.documentRawOffsets[at + 4]), 'Fury');
});

test('blankDirectives keeps offsets and line breaks but hides front matter and directive comments', () => {
  const text = '---\r\nsource: a.md\r\n---\r\n<!-- quals-source: b.md -->\nFury won.';
  const out = blankDirectives(text);
  assert.equal(out.length, text.length);
  assert.equal(out.replace(/\s+/g, ' ').trim(), 'Fury won.');
  assert.equal(out.split('\n').length, text.split('\n').length);
});

test('quals-ignore comments: words listed, comma-separated, any number of comments, case and spacing normalised', () => {
  const text = 'Usyk was born in Lyon.\n<!-- quals-ignore: Lyon,  Joshua   Klitschko ,, -->\n<!--quals-ignore:Paris-->';
  const ds = findIgnoreDirectives(text);
  assert.equal(ds.length, 2);
  assert.deepEqual(ds[0]!.words, ['lyon', 'joshua klitschko']);
  assert.equal(text.slice(ds[0]!.start, ds[0]!.end), '<!-- quals-ignore: Lyon,  Joshua   Klitschko ,, -->');
  assert.equal(text.slice(ds[1]!.insertAt, ds[1]!.end), '-->');
  assert.deepEqual(ignoredWords(text), ['lyon', 'joshua klitschko', 'paris']);
  assert.deepEqual(ignoredWords('<!-- quals-ignore: -->'), []);
  assert.deepEqual(ignoredWords('quals-ignore: Lyon'), [], 'only the comment form counts');
});

test('a blamed word matches a listed word or a word run of a listed phrase, never a partial word', () => {
  const listed = ['lyon', 'joshua klitschko'];
  assert.ok(isIgnoredWord('Lyon', listed));
  assert.ok(isIgnoredWord(' LYON ', listed));
  assert.ok(isIgnoredWord('Klitschko', listed));
  assert.ok(isIgnoredWord('Joshua  Klitschko', listed));
  assert.ok(!isIgnoredWord('Lyons', listed));
  assert.ok(!isIgnoredWord('Klit', listed));
  assert.ok(!isIgnoredWord('Lyon Airport', listed));
  assert.ok(!isIgnoredWord('', listed));
});

test('quals-ignore comments are never scored: blanked with offsets and line breaks kept', () => {
  const doc = '---\nsource: a.md\n---\nUsyk was born in Lyon.\r\n<!-- quals-ignore: Lyon --> Then left.\n';
  const { text, offset } = scoredSummaryText(doc);
  assert.ok(!text.includes('quals-ignore') && !text.includes('Lyon -->'));
  assert.equal(text.length, doc.length - offset);
  const at = text.indexOf('Then');
  assert.equal(doc.slice(offset + at, offset + at + 4), 'Then');
  assert.equal(text.replace(/\s+/g, ' ').trim(), 'Usyk was born in Lyon. Then left.');
  const blanked = blankDirectives(doc);
  assert.equal(blanked.length, doc.length);
  assert.equal(blanked.replace(/\s+/g, ' ').trim(), 'Usyk was born in Lyon. Then left.');
});

test('the text of a new ignore comment, and where it goes', () => {
  assert.equal(ignoreDirectiveText(' New  York '), '<!-- quals-ignore: New York -->');
  assert.equal(ignoreDirectiveText('a, b'), null, 'a comma would split the word');
  assert.equal(ignoreDirectiveText('x-->'), null);
  assert.equal(directiveInsertOffset('Fury won.'), 0);
  assert.equal(directiveInsertOffset('---\ntitle: x\n---\nFury won.'), '---\ntitle: x\n---\n'.length);
});
