/**
 * One story on every surface (issue #12): a QA pair's verdict comes from the same findings as the
 * squiggles (src/scoring/localise.ts, pairVerdicts), and the explorer, the CLI report and the HTML
 * report all show it. A pair just below the threshold that no second question backs makes no
 * squiggle, so it is "doubtful" everywhere, never "unsupported"; with a second question it is.
 * The pairs are the toy model's own (sources 49-96, #76), as in localise-corroboration.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport } from '../../src/cli/report';
import { statusBarView } from '../../src/client/status-bar-logic';
import { renderHtmlReport } from '../../src/report/html-report';
import { countVerdicts, pairVerdicts, verdictText } from '../../src/scoring/localise';
import type { QaPairResult, QualsResult, SourceAnswer, TokenEvidence } from '../../src/scoring/result';
import { isFindingDiagnostic } from '../../src/protocol';
import { diagnosticVerdicts, inputNoteDiagnostics, toDiagnostics, type Placement } from '../../src/server/diagnostics';
import type { ExplorerState } from '../../src/shared/explorer-messages';
import { DEFAULT_UI, renderExplorer, renderRegions } from '../../webview/render';
import { byClass, findAll, textOf } from '../../webview/vnode';
import { pair, result, span } from './server-fixtures';

const TH = -0.5;
const BORN = 'Whyte was born in Chicago in 1999.';
const tok = (text: string, role: TokenEvidence['role'], start: number, drop: number): TokenEvidence => ({
  text, role, start, end: start + text.trimStart().length, logpSummary: 0, logpSource: -drop,
});
const agrees = (text: string): SourceAnswer => ({
  text, meanLogp: -0.2, agrees: true, span: { start: 0, end: text.length, range: { start: { line: 0, character: 0 }, end: { line: 0, character: text.length } } },
});
const whenBorn = (score: number): QaPairResult =>
  pair({ id: 'q1', question: 'When was Whyte born?', answer: '1999', score, spans: [span(BORN, '1999')],
    tokens: [tok('When', 'question', 0, 0.05), tok(' Whyte', 'question', 9, 2.35), tok('1999', 'answer', 0, 0.4)], sourceAnswer: agrees('1999') });
const whereBorn = (score: number): QaPairResult =>
  pair({ id: 'q2', question: 'Where was Whyte born?', answer: 'Chicago', score, spans: [span(BORN, 'Chicago')],
    tokens: [tok('Where', 'question', 0, 0.61), tok(' Whyte', 'question', 10, 2.19), tok('Chicago', 'answer', 0, 0.79)], sourceAnswer: agrees('Chicago') });
const right = (): QaPairResult =>
  pair({ id: 'q3', question: 'Who was born in Chicago?', answer: 'Whyte', score: -0.05, spans: [span(BORN, 'Whyte')],
    tokens: [tok('Who', 'question', 0, 0.02), tok('Whyte', 'answer', 0, 0.03)], sourceAnswer: agrees('Whyte') });

/** q1 alone just below the threshold; q2 scores too well to back it. */
const LONE = () => result([whenBorn(-0.52), whereBorn(-0.35), right()]);
/** q1 just below the threshold, backed by q2 (below 0.8 x threshold, blaming the same "Whyte"). */
const BACKED = () => result([whenBorn(-0.52), whereBorn(-0.45), right()]);

const place: Placement = {
  summaryRange: (s, e) => ({ start: { line: 0, character: s }, end: { line: 0, character: e } }),
  sourceLocation: (s, e) => ({ uri: 'file:///w/a.md', range: { start: { line: 0, character: s }, end: { line: 0, character: e } } }),
};
const diagOpts = { threshold: TH, severity: 'warning' as const, uri: 'file:///w/a.summary.md', ignored: [], summary: BORN };

function explorerState(r: QualsResult): ExplorerState {
  const doc = { uri: 'file:///w/a.summary.md', name: 'a.summary.md' };
  // What the server sends with the result: judged with the diagnostics.
  return { kind: 'result', summary: doc, source: { uri: 'file:///w/a.md', name: 'a.md' }, result: r, settings: { threshold: TH }, verdicts: diagnosticVerdicts(r, diagOpts), rescoring: false, outdated: false };
}
const badge = (state: ExplorerState, id: string, ui = DEFAULT_UI) => {
  const row = findAll(renderExplorer(state, ui), (el) => el.attrs.role === 'option' && el.attrs['data-pair'] === id)[0];
  return row ? textOf(row) : undefined;
};

test('verdicts: a lone marginal pair is doubtful, a backed one unsupported, its backer doubtful', () => {
  assert.deepEqual(pairVerdicts(LONE(), BORN, { threshold: TH }), {
    q1: { verdict: 'doubtful', why: 'unconfirmed' },
    q2: { verdict: 'supported' },
    q3: { verdict: 'supported' },
  });
  assert.deepEqual(pairVerdicts(BACKED(), BORN, { threshold: TH }), {
    q1: { verdict: 'unsupported' },
    q2: { verdict: 'doubtful', why: 'seconds' },
    q3: { verdict: 'supported' },
  });
  assert.equal(verdictText({ verdict: 'doubtful', why: 'unconfirmed' }), 'doubtful — no second question confirms it');
  assert.deepEqual(pairVerdicts(result([whenBorn(-0.61)]), BORN, { threshold: TH }), { q1: { verdict: 'unsupported' } }, 'well below the threshold, alone');
});

test('verdicts: no word to mark, an ignored pair and an ignored word are doubtful, not supported', () => {
  const S = 'Taylor visited Lisbon in July.';
  const mills = pair({ id: 'q1', question: 'When did Mills visit?', answer: 'July', score: -0.78, spans: [span(S, 'July')],
    tokens: [tok('When', 'question', 0, 0), tok(' Mills', 'question', 9, 6.08), tok('July', 'answer', 0, 0.46)], sourceAnswer: agrees('July') });
  assert.deepEqual(pairVerdicts(result([mills]), S, { threshold: TH }).q1, { verdict: 'doubtful', why: 'no-word' });
  const strong = result([whenBorn(-0.9), right()]);
  assert.equal(pairVerdicts(strong, BORN, { threshold: TH, skip: (p) => p.id === 'q1' }).q1!.why, 'ignored');
  const hidden = diagnosticVerdicts(strong, { ...diagOpts, ignoredWords: ['whyte'] });
  assert.deepEqual([hidden.q1, toDiagnostics(strong, place, { ...diagOpts, ignoredWords: ['whyte'] }).length], [{ verdict: 'doubtful', why: 'ignored' }, 0]);
});

test('diagnostics, status bar and verdicts agree: unsupported pairs are exactly the diagnostics\' pairs', () => {
  for (const r of [LONE(), BACKED(), result([whenBorn(-0.61), right()])]) {
    const diagnostics = toDiagnostics(r, place, diagOpts);
    const listed = new Set(diagnostics.flatMap((d) => (d.data as { pairs: { id: string }[] }).pairs.map((p) => p.id)));
    const verdicts = diagnosticVerdicts(r, diagOpts);
    assert.deepEqual([...listed].sort(), Object.keys(verdicts).filter((id) => verdicts[id]!.verdict === 'unsupported').sort());
  }
  const status = { uri: 'file:///w/a.summary.md', version: 1, state: 'done' as const, score: LONE().score };
  assert.equal(statusBarView(true, status, undefined, toDiagnostics(LONE(), place, diagOpts).length)?.text, '$(check) QUALS: consistent');
});

test('the status bar counts findings only: a "source truncated" note is not an unsupported finding', () => {
  const r = LONE();
  r.source = { tokensKept: 126, tokensTotal: 400, truncated: true, charsKept: 577, limit: 126 };
  const notes = inputNoteDiagnostics(r, place);
  assert.equal(notes.length, 1, 'the truncated source gets its information note');
  const all = [...toDiagnostics(r, place, diagOpts), ...notes];
  assert.equal(all.filter(isFindingDiagnostic).length, 0);
  const status = { uri: 'file:///w/a.summary.md', version: 1, state: 'done' as const, score: r.score };
  assert.equal(statusBarView(true, status, undefined, all.filter(isFindingDiagnostic).length)?.text, '$(check) QUALS: consistent');
  assert.equal(isFindingDiagnostic({ source: 'QUALS', code: { value: 'q1', target: {} } }), true, 'a code with a link still counts');
  assert.equal(isFindingDiagnostic({ source: 'QUALS', code: 'source-missing' }), false);
});

test('explorer: the lone marginal pair reads doubtful, the header consistent, "Only flagged" still lists it', () => {
  const state = explorerState(LONE());
  assert.match(badge(state, 'q1')!, /doubtful/);
  assert.doesNotMatch(badge(state, 'q1')!, /unsupported/);
  assert.match(badge(state, 'q1')!, /no second question confirms it/);
  const header = textOf(renderRegions(state, DEFAULT_UI).header);
  assert.match(header, /Consistent with the source/);
  assert.doesNotMatch(header, /not supported/);
  assert.match(header, /1 is doubtful/);
  const flaggedOnly = { ...DEFAULT_UI, flaggedOnly: true };
  assert.deepEqual(findAll(renderExplorer(state, flaggedOnly), (el) => el.attrs.role === 'option').map((el) => el.attrs['data-pair']), ['q1']);
  const row = findAll(renderExplorer(state, DEFAULT_UI), (el) => el.attrs['data-pair'] === 'q1' && el.attrs.role === 'option')[0]!;
  assert.equal(byClass(row, 'badge')[0]!.attrs['data-verdict'], 'doubtful');
  assert.ok(row.attrs.class!.includes('doubtful') && !row.attrs.class!.includes('flagged'));
});

test('explorer: the backed pair reads unsupported and is counted', () => {
  const state = explorerState(BACKED());
  assert.match(badge(state, 'q1')!, /unsupported/);
  assert.match(badge(state, 'q2')!, /doubtful — above the threshold, but it backs a finding/);
  const header = textOf(renderRegions(state, DEFAULT_UI).header);
  assert.match(header, /1 of 3 QA pairs are not supported by the source\. 1 is doubtful/);
});

test('CLI report: the lone pair is "?" doubtful with no [[ ]]; the backed one ✗ with its word marked', () => {
  const lone = renderReport(LONE(), BORN, { color: false, threshold: TH });
  assert.match(lone, /3 QA pairs, 0 unsupported, 1 doubtful \(threshold -0.5\)/);
  assert.match(lone, /^ {2}\? -0\.520 {2}When was Whyte born\?/m);
  assert.match(lone, /doubtful — no second question confirms it/);
  assert.doesNotMatch(lone, /✗/);
  assert.match(lone, /^Whyte was born in Chicago in 1999\.$/m, 'no word marked');
  const backed = renderReport(BACKED(), BORN, { color: false, threshold: TH });
  assert.match(backed, /3 QA pairs, 1 unsupported, 1 doubtful/);
  assert.match(backed, /^ {2}✗ -0\.520 {2}When was Whyte born\?/m);
  assert.match(backed, /\[\[Whyte\]\] was born/);
  assert.equal(countVerdicts(pairVerdicts(BACKED(), BORN, { threshold: TH })).unsupported, (backed.match(/✗/g) ?? []).length);
});

test('HTML report: the lone pair is marked doubtful, the backed one flagged', () => {
  const html = (r: QualsResult) => renderHtmlReport({ summaryName: 'a.summary.md', sourceName: 'a.md', summaryText: BORN, result: r, threshold: TH, generatedAt: new Date(0) });
  const rows = (h: string) => [...h.matchAll(/<tr class="(\w+)"><td class="num">([^<]+)</g)].map((m) => `${m[2]}:${m[1]}`);
  const lone = html(LONE());
  assert.deepEqual(rows(lone), ['−0.52:doubtful', '−0.35:supported', '−0.05:supported']);
  assert.match(lone, /<mark class="doubtful" title="When was Whyte born\? → 1999 \(−0\.52\)">1999<\/mark>/);
  assert.match(lone, /<td>doubtful — no second question confirms it<\/td>/);
  assert.match(lone, /Consistent with the source/);
  assert.doesNotMatch(lone, /class="flagged" title|not supported by the source/);
  const backed = html(BACKED());
  assert.deepEqual(rows(backed), ['−0.52:flagged', '−0.45:doubtful', '−0.05:supported']);
  assert.match(backed, /· not supported by the source/);
});
