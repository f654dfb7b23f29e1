import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtmlReport, type ReportInput } from '../../src/report/html-report';
import { describeSettings } from '../../src/scoring/input-notes';
import type { ComputedWith } from '../../src/scoring/result';
import { fixtureResult, SOURCE, SUMMARY } from './explorer-fixture';

const input = (computedWith?: ComputedWith): ReportInput => {
  const result = fixtureResult();
  if (computedWith) result.computedWith = computedWith;
  else delete result.computedWith;
  return { summaryName: 's.md', sourceName: 'a.md', summaryText: SUMMARY, sourceText: SOURCE, result, threshold: -1, generatedAt: new Date('2025-01-02T03:04:05Z') };
};

const COMPUTED: ComputedWith = {
  mode: 'paper',
  beamSearch: 'grouped',
  options: { numBeams: 30, numBeamGroups: 30, diversityStrength: 0.3, diversityCount: 'hamming', minLength: 6, maxLength: 60, lengthPenalty: 1, maxPairs: 10 },
  origin: { numBeams: 'model', numBeamGroups: 'model', diversityStrength: 'model', minLength: 'model', maxPairs: 'user' },
};

test('the report carries the settings line of the CLI and the explorer, with where each setting came from', () => {
  const html = renderHtmlReport(input(COMPUTED));
  const line = /<p class="meta meta-settings">Settings: ([^<]*)<\/p>/.exec(html);
  assert.ok(line, 'a settings line');
  assert.equal(line[1], describeSettings({ computedWith: COMPUTED }).replace(/'/g, '&#39;'));
  assert.match(line[1]!, /^paper mode, grouped search; settings\/flags: maxPairs 10; model&#39;s quals\.json: numBeams 30, .*minLength 6/);
  // Before the verdict, beside the model line.
  assert.ok(html.indexOf('meta-settings') < html.indexOf('class="overall'));
});

test('the settings line is escaped (a model\'s quals.json is untrusted) and absent without computedWith', () => {
  const hostile: ComputedWith = { ...COMPUTED, options: { ...COMPUTED.options, minLength: '<img src=x onerror=alert(1)>' } };
  const html = renderHtmlReport(input(hostile));
  assert.ok(!html.includes('<img'), 'no markup from option values');
  assert.match(html, /minLength &lt;img src=x onerror=alert\(1\)&gt;/);
  assert.ok(!renderHtmlReport(input()).includes('meta-settings'));
});

test('each pair\'s chart in the report has the explorer\'s log-prob axis, ending at 0, and styles for it', () => {
  const html = renderHtmlReport(input(COMPUTED));
  const charts = html.split('class="chart"').length - 1;
  assert.ok(charts > 0, 'charts rendered');
  assert.equal(html.split('class="chart-axis"').length - 1, charts, 'one axis per chart');
  assert.match(html, /<span class="axis-tick last"[^>]*>0<\/span>/);
  assert.match(html, /\.axis-track \{/, 'the axis is styled in the standalone file');
});
