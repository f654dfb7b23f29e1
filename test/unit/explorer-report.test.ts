import { test } from 'node:test';
import assert from 'node:assert/strict';
import { highlightSpans, renderHtmlReport, type ReportInput } from '../../src/report/html-report';
import { textOf, toHtml } from '../../webview/vnode';
import { fixtureResult, fixtureVerdicts, SOURCE, SUMMARY, spanOf } from './explorer-fixture';

const input = (over: Partial<ReportInput> = {}): ReportInput => ({
  summaryName: 'fight.summary.md',
  sourceName: 'fight.md',
  summaryText: SUMMARY,
  sourceText: SOURCE,
  result: fixtureResult(),
  threshold: -1,
  generatedAt: new Date('2025-01-02T03:04:05Z'),
  ...over,
});

const ALLOWED_TAGS = new Set(['!DOCTYPE', 'html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'p', 'section', 'span', 'strong', 'div', 'mark', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'figure', 'figcaption', 'blockquote']);

test('the report marks each answer span in the summary, worst pair first in the table', () => {
  const html = renderHtmlReport(input());
  assert.match(html, /<mark class="flagged" title="Who beat Tyson Fury\? → Klitschko \(−2\.\d\d\)">Klitschko<\/mark>/);
  assert.match(html, /<mark class="supported" title="Where was the fight\? → Düsseldorf \(−0\.08\)">Düsseldorf<\/mark>/);
  const rows = [...html.matchAll(/<tr class="(flagged|supported)"><td class="num">([^<]+)</g)].map((m) => [m[1], m[2]]);
  assert.deepEqual(rows.map((r) => r[0]), ['flagged', 'supported', 'supported']);
  assert.match(html, /Some unsupported content/);
  assert.equal((html.match(/class="token-row /g) ?? []).length, 6 + 8 + 5, "question and answer tokens only");
  // The evidence for "Klitschko" is quoted from the source with the source's answer marked.
  assert.match(html, /<blockquote class="evidence">Tyson Fury beat <mark class="supported">Wladimir Klitschko<\/mark> in Düsseldorf/);
});

test('overlapping spans are split and take the worst covering pair', () => {
  const result = fixtureResult();
  const text = 'Tyson Fury won.';
  result.pairs[0]!.spans = [spanOf(text, 'Tyson Fury')];
  result.pairs[1]!.spans = [spanOf(text, 'Fury')];
  result.pairs[2]!.spans = [{ start: 40, end: 50, range: { start: { line: 0, character: 40 }, end: { line: 0, character: 50 } } }];
  const parts = highlightSpans(text, result.pairs, fixtureVerdicts(result));
  assert.deepEqual(parts.map((p) => (typeof p === 'string' ? p : `[${textOf(p)}:${toHtml(p).match(/class="(flagged|supported)"/)![1]}]`)), [
    '[Tyson :supported]',
    '[Fury:flagged]',
    ' won.',
  ]);
});

test('all document and model text is escaped and the page can run no script', () => {
  const result = fixtureResult();
  result.pairs[1]!.question = '</title><script>alert(1)</script>';
  result.pairs[1]!.answer = '<img src=x onerror=alert(2)>';
  result.pairs[1]!.tokens[6]!.text = '<svg onload=alert(3)>';
  result.model.name = '"><iframe src=//evil>';
  const summaryText = 'A <b>bold</b> claim & "quote" with <img src=x onerror=alert(2)>.';
  for (const p of result.pairs) p.spans = [];
  result.pairs[1]!.spans = [spanOf(summaryText, '<img src=x onerror=alert(2)>')];
  const html = renderHtmlReport(input({ summaryText, result, summaryName: '<script>x</script>.md', sourceText: undefined }));
  // Every "<" must open a well-formed tag of the allowed set whose attributes are all quoted and none an event handler.
  const TAG = /<(\/?)(!DOCTYPE|[a-zA-Z][a-zA-Z0-9]*)((?:\s+[\w-]+(?:="[^"]*")?)*)\s*>/g;
  const tags = [...html.matchAll(TAG)];
  assert.deepEqual([...new Set(tags.map((m) => m[2]!))].filter((t) => !ALLOWED_TAGS.has(t)), []);
  const attrNames = tags.flatMap((m) => [...m[3]!.matchAll(/\s([\w-]+)(?:="[^"]*")?/g)].map((a) => a[1]!));
  assert.deepEqual(attrNames.filter((a) => /^on/i.test(a)), []);
  assert.equal(html.replace(TAG, '').includes('<'), false);
  assert.match(html, /content="default-src 'none'; style-src 'unsafe-inline'"/);
  assert.match(html, /A &lt;b&gt;bold&lt;\/b&gt; claim &amp; &quot;quote&quot;/);
  assert.match(html, /&lt;svg onload=alert\(3\)&gt;/);
});

test('no answerable pairs: the report says so and shows the summary unmarked', () => {
  const result = { ...fixtureResult(), status: 'no-pairs' as const, score: null, pairs: [] };
  const html = renderHtmlReport(input({ result }));
  assert.match(html, /No answerable QA pairs/);
  assert.doesNotMatch(html, /<mark class="(flagged|supported)" title/);
  assert.doesNotMatch(html, /<table/);
  assert.ok(html.includes('Klitschko beat Tyson Fury in Düsseldorf.\nThe fight went twelve rounds.'));
});
