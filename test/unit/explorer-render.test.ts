import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExplorerState } from '../../src/shared/explorer-messages';
import { DEFAULT_UI, parseUiState, renderExplorer, renderRegions, type UiState } from '../../webview/render';
import { byClass, findAll, textOf, toHtml } from '../../webview/vnode';
import { barAxis, formatNumber, listPairs, readResult, tokenBars } from '../../webview/view-model';
import { fixtureResult, fixtureVerdicts } from './explorer-fixture';

const summary = { uri: 'file:///w/fight.summary.md', name: 'fight.summary.md' };
const source = { uri: 'file:///w/fight.md', name: 'fight.md' };

function resultState(over: Partial<Extract<ExplorerState, { kind: 'result' }>> = {}): ExplorerState {
  const result = over.result ?? fixtureResult();
  const verdicts = fixtureVerdicts(result, over.settings?.threshold ?? -1);
  return { kind: 'result', summary, source, result, settings: { threshold: -1 }, verdicts, rescoring: false, outdated: false, ...over };
}

const rowIds = (state: ExplorerState, ui: UiState) =>
  findAll(renderExplorer(state, ui), (el) => el.attrs.role === 'option').map((el) => el.attrs['data-pair']);

test('lists pairs worst first by default and in summary order when asked', () => {
  const state = resultState();
  assert.deepEqual(rowIds(state, DEFAULT_UI), ['q2', 'q1', 'q3']);
  // Summary: "Klitschko beat ... Düsseldorf.\nThe fight went twelve rounds."
  assert.deepEqual(rowIds(state, { ...DEFAULT_UI, sort: 'position' }), ['q2', 'q1', 'q3']);
});

test('position sort follows the answer spans, not selection order', () => {
  const result = fixtureResult();
  // Make q3 the worst so the two orders differ.
  result.pairs[2]!.score = -5;
  const ids = (sort: 'score' | 'position') => listPairs(result.pairs, sort, false, fixtureVerdicts(result)).map((p) => p.id);
  assert.deepEqual(ids('score'), ['q3', 'q2', 'q1']);
  assert.deepEqual(ids('position'), ['q2', 'q1', 'q3']);
});

test('"only flagged" keeps just the pairs under the threshold', () => {
  assert.deepEqual(rowIds(resultState(), { ...DEFAULT_UI, flaggedOnly: true }), ['q2']);
  const none = renderExplorer(resultState({ settings: { threshold: -10 } }), { ...DEFAULT_UI, flaggedOnly: true });
  assert.match(textOf(none), /No flagged pairs/);
});

test('a row shows question, the summary answer, what the source says and the score', () => {
  const row = findAll(renderExplorer(resultState(), DEFAULT_UI), (el) => el.attrs['data-pair'] === 'q2' && el.attrs.role === 'option')[0]!;
  const text = textOf(row);
  assert.match(text, /Who beat Tyson Fury\?/);
  assert.match(text, /Summary: Klitschko/);
  assert.match(text, /Source: Wladimir Klitschko/);
  assert.match(text, /−2\.\d\d/);
  assert.ok(row.attrs.class!.includes('flagged'));
  assert.match(textOf(byClass(row, 'badge')[0]!), /unsupported/);
});

test('header: score, plain-words reading, pairs, model and device', () => {
  const header = renderRegions(resultState(), DEFAULT_UI).header;
  const text = textOf(header);
  assert.match(text, /Some unsupported content/);
  assert.match(text, /1 of 3 QA pairs are not supported/);
  assert.match(text, /3 QA pairs/);
  assert.match(text, /tiny-qagen on CPU/);
  assert.equal(byClass(header, 'truncation').length, 0);
});

test('readings follow the threshold', () => {
  const r = fixtureResult();
  const at = (th: number) => readResult(r, th, fixtureVerdicts(r, th)).level;
  assert.equal(at(-10), 'consistent');
  assert.equal(at(-1), 'some-unsupported');
  assert.equal(at(-0.05), 'largely-unsupported');
  assert.equal(readResult({ ...r, status: 'no-pairs', score: null, pairs: [] }, -1, {}).level, 'no-pairs');
});

test('truncation warning appears when the source was cut', () => {
  const result = fixtureResult();
  result.source = { tokensKept: 1022, tokensTotal: 3000, truncated: true, charsKept: 5000 };
  const header = renderRegions(resultState({ result }), DEFAULT_UI).header;
  assert.match(textOf(byClass(header, 'truncation')[0]!), /first 1022 of 3000 tokens/);
});

test('the selected pair gets a two-bar chart row per question and answer token, answer tokens marked', () => {
  const tree = renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2' });
  const rows = byClass(tree, 'token-row');
  assert.equal(rows.length, 8, 'the separator and end tokens are not charted');
  assert.deepEqual(byClass(tree, 'role-answer').map(textOf), ['AK', 'Alit', 'Aschko']);
  for (const row of rows) {
    assert.equal(byClass(row, 'bar-summary').length, 1);
    assert.equal(byClass(row, 'bar-source').length, 1);
  }
  // "lit": likely given the summary, unlikely given the source -> long vs short bar.
  const lit = rows[6]!;
  const width = (cls: string) => parseFloat(byClass(lit, cls)[0]!.style.width!);
  assert.ok(width('bar-summary') > 95 && width('bar-source') < 10, `${width('bar-summary')} vs ${width('bar-source')}`);
  assert.match(lit.attrs.title!, /given summary: log p = −0\.10; given source: log p = −7\.50/);
  const selected = findAll(tree, (el) => el.attrs['aria-selected'] === 'true');
  assert.deepEqual(selected.map((el) => el.attrs['data-pair']), ['q2']);
});

test('bars on the p scale are probabilities', () => {
  const bars = tokenBars(fixtureResult().pairs[1]!.tokens, 'p');
  assert.ok(Math.abs(bars[7]!.source.fraction - Math.exp(-7.5)) < 1e-12);
  assert.ok(Math.abs(bars[7]!.summary.fraction - Math.exp(-0.1)) < 1e-12);
  const tree = renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2', scale: 'p' });
  assert.match(byClass(tree, 'token-row')[6]!.attrs.title!, /given summary: p = 90\.5%; given source: p = 5\.5e-4/);
});

test('empty and error states say what to do', () => {
  const cases: [ExplorerState, RegExp, string | null][] = [
    [{ kind: 'no-summary', candidate: null }, /Open a summary/, null],
    [{ kind: 'no-summary', candidate: summary }, /No QUALS result for fight\.summary\.md/, 'rescore'],
    [{ kind: 'not-paired', summary }, /fight\.summary\.md is not paired/, 'pairWithSource'],
    [{ kind: 'not-paired', summary, message: 'Add <!-- quals-source: path --> to pair.' }, /Add <!-- quals-source/, 'pairWithSource'],
    [{ kind: 'disabled', summary, message: 'QUALS is disabled for this file.' }, /QUALS is off/, 'enableForFile'],
    [{ kind: 'model-missing', summary, message: 'Set quals.model to a QAGen model folder.' }, /quals\.model/, 'chooseModel'],
    [{ kind: 'error', summary, message: 'The source fight.md was deleted.' }, /was deleted/, 'rescore'],
  ];
  for (const [state, text, action] of cases) {
    const tree = renderExplorer(state, DEFAULT_UI);
    assert.match(textOf(tree), text);
    const actions = findAll(tree, (el) => el.attrs['data-action'] !== undefined).map((el) => el.attrs['data-action']);
    assert.deepEqual(actions, action ? [action] : []);
    assert.equal(findAll(tree, (el) => el.attrs.role === 'option').length, 0);
  }
  const scoring = renderExplorer({ kind: 'scoring', summary, source }, DEFAULT_UI);
  assert.equal(findAll(scoring, (el) => el.tag === 'vscode-progress-bar').length, 1);
  assert.match(textOf(scoring), /answering them from fight\.md/);
});

test('a re-check keeps the old result visible under a progress bar', () => {
  const tree = renderExplorer(resultState({ rescoring: true }), DEFAULT_UI);
  assert.equal(findAll(tree, (el) => el.tag === 'vscode-progress-bar').length, 1);
  assert.equal(rowIds(resultState({ rescoring: true }), DEFAULT_UI).length, 3);
});

test('an edited summary says its result is outdated', () => {
  const header = renderRegions(resultState({ outdated: true }), DEFAULT_UI).header;
  assert.match(textOf(byClass(header, 'outdated')[0]!), /changed after this check/);
  assert.equal(byClass(renderRegions(resultState(), DEFAULT_UI).header, 'outdated').length, 0);
});

test('no answerable pairs: explicit message, no score, no list', () => {
  const result = { ...fixtureResult(), status: 'no-pairs' as const, score: null, pairs: [], message: 'No question generated from the summary has its answer in the summary.' };
  const regions = renderRegions(resultState({ result }), DEFAULT_UI);
  assert.match(textOf(regions.header), /No answerable QA pairs/);
  assert.equal(byClass(regions.header, 'overall-score').length, 0);
  assert.equal(regions.list, null);
  assert.equal(regions.detail, null);
});

test('document and model text is never markup', () => {
  const result = fixtureResult();
  result.pairs[1]!.question = '<img src=x onerror=alert(1)>?';
  result.pairs[1]!.answer = '"><script>alert(2)</script>';
  result.pairs[1]!.tokens[0]!.text = '<b>';
  const html = toHtml(renderExplorer(resultState({ result, summary: { uri: 'x', name: '<i>evil.md</i>' } }), { ...DEFAULT_UI, selectedPairId: 'q2' }));
  assert.doesNotMatch(html, /<img|<script|<b>|<i>/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;\?/);
  assert.match(html, /&lt;i&gt;evil\.md&lt;\/i&gt;/);
});

test('saved UI state is read defensively', () => {
  assert.deepEqual(parseUiState(undefined), DEFAULT_UI);
  assert.deepEqual(parseUiState({ sort: 'position', flaggedOnly: true, scale: 'p', selectedPairId: 'q3', showSpecial: true }), {
    sort: 'position',
    flaggedOnly: true,
    scale: 'p',
    selectedPairId: 'q3',
    showSpecial: true,
  });
  assert.equal(parseUiState({ showSpecial: 'yes' }).showSpecial, false);
  assert.deepEqual(parseUiState({ sort: 'bogus', flaggedOnly: 'yes', selectedPairId: 7 }), DEFAULT_UI);
});

test('the chart comes before the list, so the side bar shows it above the list', () => {
  const tree = renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2' });
  const order = tree.children.map((c) => (typeof c === 'string' ? c : (c.attrs.class ?? '').split(' ')[0]));
  assert.deepEqual(order, ['result-header', 'toolbar', 'pair-detail', 'pair-list']);
});

test('no button repeats the title-bar actions (Copy as JSON, Save report) or another button', () => {
  const tree = renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2' });
  const buttons = findAll(tree, (el) => el.tag === 'vscode-button').map(textOf);
  assert.deepEqual(buttons, ['Show in source']);
  assert.equal(findAll(tree, (el) => el.attrs['data-action'] === 'copyJson' || el.attrs['data-action'] === 'saveReport').length, 0);
  // With no pairs there is nothing to sort or filter: no toolbar at all.
  const result = { ...fixtureResult(), status: 'no-pairs' as const, score: null, pairs: [] };
  assert.equal(renderRegions(resultState({ result }), DEFAULT_UI).toolbar, null);
});

test('⟨sep⟩ and ⟨end⟩ are charted only when the toggle is on, on the same scale', () => {
  const labels = (showSpecial: boolean) => byClass(renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2', showSpecial }), 'token-text').map(textOf);
  assert.deepEqual(labels(false), ['Who', 'beat', 'Tyson', 'Fury', '?', 'K', 'lit', 'schko']);
  assert.deepEqual(labels(true), ['Who', 'beat', 'Tyson', 'Fury', '?', '⟨sep⟩', 'K', 'lit', 'schko', '⟨end⟩']);
  const widths = (showSpecial: boolean) =>
    findAll(renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2', showSpecial }), (el) => el.attrs.class === 'bar bar-source').map((b) => b.style.width);
  assert.deepEqual(widths(true).filter((_, i) => i !== 5 && i !== 9), widths(false), 'showing the separator does not rescale the bars');
  const toggle = findAll(renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2' }), (el) => el.attrs['data-control'] === 'special')[0]!;
  assert.equal(toggle.attrs.checked, undefined, 'off by default');
});

test('the bars have an axis in log-prob units that ends on round ticks; the p scale runs 0..100%', () => {
  const tokens = fixtureResult().pairs[1]!.tokens; // lowest log p -7.5
  const axis = barAxis(tokens, 'logp');
  assert.equal(axis.floor, -8);
  assert.deepEqual(axis.ticks.map((t) => t.label), ['−8', '−6', '−4', '−2', '0']);
  assert.deepEqual(axis.ticks.map((t) => t.fraction), [0, 0.25, 0.5, 0.75, 1]);
  // A bar of value v reaches the tick of v.
  const [bar] = tokenBars([{ ...tokens[0]!, logpSummary: -4, logpSource: -2 }], 'logp', axis);
  assert.equal(bar!.summary.fraction, 0.5);
  assert.equal(bar!.source.fraction, 0.75);
  // Small pairs get fractional steps; huge ones coarse steps; never more than 4 intervals.
  const flat = (lo: number) => [{ ...tokens[0]!, logpSummary: lo, logpSource: -0.1 }];
  assert.deepEqual(barAxis(flat(-0.3), 'logp').ticks.map((t) => t.label), ['−1.5', '−1.0', '−0.5', '0.0']);
  assert.deepEqual(barAxis(flat(-37), 'logp').ticks.map((t) => t.label), ['−40', '−30', '−20', '−10', '0']);
  assert.deepEqual(barAxis(flat(-Infinity), 'logp').floor, -1.5, 'a ruled-out token does not stretch the axis');
  assert.deepEqual(barAxis(tokens, 'p').ticks.map((t) => t.label), ['0%', '25%', '50%', '75%', '100%']);
  const rendered = byClass(renderExplorer(resultState(), { ...DEFAULT_UI, selectedPairId: 'q2' }), 'axis-tick');
  assert.deepEqual(rendered.map(textOf), ['−8', '−6', '−4', '−2', '0']);
  assert.deepEqual(rendered.map((t) => t.style.left), ['0.0%', '25.0%', '50.0%', '75.0%', '100.0%']);
});

test('one rounding, and a value that rounds to zero reads 0.00, never −0.00', () => {
  assert.equal(formatNumber(-0.004), '0.00');
  assert.equal(formatNumber(-0), '0.00');
  assert.equal(formatNumber(-0.0049, 1), '0.0');
  assert.equal(formatNumber(-0.4, 0), '0');
  assert.equal(formatNumber(-0.005), '−0.01');
  assert.equal(formatNumber(-2.345), '−2.35');
  assert.equal(formatNumber(1.5), '1.50');
  assert.equal(formatNumber(-Infinity), '−∞');
  const result = fixtureResult();
  result.pairs[1]!.tokens[0]!.logpSource = -0.302; // difference −0.002 for "Who"
  const html = toHtml(renderExplorer(resultState({ result }), { ...DEFAULT_UI, selectedPairId: 'q2' }));
  assert.match(html, /“Who” \(question\)[^"]*difference 0\.00/);
  assert.doesNotMatch(html, /[−-]0\.00/);
});

test('the settings line is folded into a disclosure', () => {
  const computedWith = { mode: 'paper' as const, beamSearch: 'grouped' as const, options: { numBeams: 30 }, origin: { numBeams: 'user' as const } };
  const header = renderRegions(resultState({ result: { ...fixtureResult(), computedWith } }), DEFAULT_UI).header;
  const folded = byClass(header, 'meta-settings')[0]!;
  assert.equal(folded.tag, 'details');
  assert.equal(folded.attrs.open, undefined, 'closed by default');
  assert.equal(textOf(findAll(folded, (el) => el.tag === 'summary')[0]!), 'Settings');
  assert.match(textOf(folded), /numBeams 30/);
  assert.equal(byClass(renderRegions(resultState(), DEFAULT_UI).header, 'meta-settings').length, 0, 'absent from older results');
});
