// Long inputs (issue 11, item 5): a text over the model's limit is read in overlapping windows in
// paper mode (best window's LL_D per pair; summary windows pooled before selection), truncated as
// the authors did in reference mode, and reported either way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngine } from '../../src/scoring/engine';
import type { QualsEngine } from '../../src/scoring/engine-api';
import { countInputs, describeInputCounts, describeSettings, emptyInputCounts, inputHandling, inputNotes } from '../../src/scoring/input-notes';
import { planWindows } from '../../src/scoring/windows';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { renderReport } from '../../src/cli/report';
import { DEFAULT_OPTIONS, OPTION_KEYS } from '../../src/scoring/options';
import type { ComputedWith, QualsResult } from '../../src/scoring/result';
import { inputNoteDiagnostics, type Placement } from '../../src/server/diagnostics';
import { truncationWarning } from '../../webview/view-model';
import { pair, result, span } from './server-fixtures';

const TOY = 'models/tiny-qagen';
const FILLER = ['The crowd was loud.', 'The mood was tense.', 'Harris joined Brentford in July.'];
const FACT = 'Ruiz scored 55 goals for Burnley.';

/** Filler sentences until about `words` words. */
function filler(words: number): string {
  let s = '';
  for (let i = 0; s.split(' ').length < words; i++) s += `${FILLER[i % FILLER.length]} `;
  return s;
}

describe('planWindows', () => {
  const text = Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ');
  const tokens = (s: string) => s.split(' ').filter(Boolean).length;
  const windows = planWindows(text, tokens(text), 50, (s) => tokens(s) <= 50);

  it('covers the text with overlapping windows that each fit, cut at whitespace', () => {
    assert.ok(windows.length >= 9, `${windows.length} windows`);
    assert.equal(windows[0]!.start, 0);
    assert.equal(windows.at(-1)!.end, text.length);
    for (const [i, w] of windows.entries()) {
      const slice = text.slice(w.start, w.end);
      assert.ok(tokens(slice) <= 50, `window ${i} has ${tokens(slice)} tokens`);
      assert.ok(!/^\s|\s$/.test(slice) && (w.start === 0 || text[w.start - 1] === ' '), `window ${i} is cut inside a word: "${slice}"`);
      if (i > 0) assert.ok(w.start < windows[i - 1]!.end && w.start > windows[i - 1]!.start, `window ${i} does not overlap the previous one`);
    }
    // Linear cost: about limit x (1 - overlap) new tokens per window.
    assert.ok(windows.length <= Math.ceil(400 / (50 * 0.7)) + 1);
  });

  it('is one window when the text fits', () => {
    assert.deepEqual(planWindows('a b c', 3, 10, () => true), [{ start: 0, end: 5 }]);
  });
});

describe('long inputs on the toy model', () => {
  let engine: QualsEngine;
  before(async () => {
    engine = await createEngine({ model: TOY, device: 'cpu' });
  });
  after(async () => {
    await engine?.dispose();
  });

  const source = `${filler(300)}${FACT}`; // about 3x the toy's 127-token limit, the fact in the last window

  it('paper mode reads a 3x-limit source in windows, reports each pair\'s best window, and says so', async () => {
    const r = await engine.score({ source, summary: FACT });
    assert.equal(r.status, 'ok');
    assert.equal(r.source.truncated, false);
    assert.equal(inputHandling(r.source), 'windowed');
    const windows = r.source.windows!;
    assert.ok(windows.length >= 3, `${windows.length} windows`);
    assert.ok(r.source.tokensTotal > 2.5 * r.source.limit!);
    assert.equal(windows[0]!.start, 0);
    assert.equal(windows.at(-1)!.end, source.length);
    for (const w of windows) assert.ok(w.tokens <= r.source.limit!);
    assert.match(inputNotes(r).join('\n'), /source read in \d+ overlapping windows/);
    for (const p of r.pairs) {
      assert.ok(Number.isInteger(p.sourceWindow) && p.sourceWindow! < windows.length);
      const w = windows[p.sourceWindow!]!;
      if (p.sourceAnswer?.span) assert.ok(p.sourceAnswer.span.start >= w.start && p.sourceAnswer.span.end <= w.end, '"show in source" goes to the window');
    }
    // The reported LL_D is the best window's: the same pair scored on each window's text alone.
    const perWindow = await Promise.all(windows.map((w) => engine.score({ source: source.slice(w.start, w.end), summary: FACT })));
    for (const [i, p] of r.pairs.entries()) {
      const lls = perWindow.map((x) => x.pairs[i]!.llSource);
      assert.ok(Math.abs(p.llSource - lls[p.sourceWindow!]!) < 1e-4, `pair ${i}: ${p.llSource} vs ${lls[p.sourceWindow!]}`);
      assert.ok(Math.abs(p.llSource - Math.max(...lls)) < 1e-4);
    }
    // The fact is only in the last window: truncation to the first would have scored it lower.
    const ruiz = r.pairs.findIndex((p) => p.answer === 'Ruiz');
    if (ruiz >= 0) assert.ok(r.pairs[ruiz]!.llSource > perWindow[0]!.pairs[ruiz]!.llSource);
  });

  it('reference mode keeps the authors\' truncation and reports it', async () => {
    const r = await engine.score({ source, summary: FACT, options: { mode: 'reference' } });
    assert.equal(r.source.truncated, true);
    assert.equal(r.source.windows, undefined);
    assert.equal(r.source.tokensKept, r.source.limit);
    assert.match(inputNotes(r)[0]!, /^source truncated: the model read \d+ of \d+ tokens/);
    for (const p of r.pairs) assert.equal(p.sourceWindow, undefined);
  });

  it('a long summary is split into windows whose pairs are pooled before selection', async () => {
    const summary = `${filler(250)}${FACT}`;
    const r = await engine.score({ source, summary });
    assert.equal(inputHandling(r.summaryInput), 'windowed');
    const n = r.summaryInput!.windows!.length;
    assert.ok(n >= 2);
    assert.equal(r.summaryTokens, r.summaryInput!.tokensTotal);
    assert.equal(r.candidates.generated, n * engine.options.numBeams);
    const from = new Set(r.pairs.map((p) => p.summaryWindow));
    assert.ok(from.size >= 2, `pairs from windows ${[...from].join(', ')}`);
    assert.match(inputNotes(r).join('\n'), /summary read in \d+ overlapping windows/);
    const counts = countInputs(countInputs(emptyInputCounts(), r), { source: { tokensKept: 1, tokensTotal: 2, truncated: true, charsKept: 1 } });
    assert.deepEqual(counts, { sourceTruncated: 1, sourceWindowed: 1, summaryTruncated: 0, summaryWindowed: 1 });
    assert.equal(describeInputCounts(counts), 'long inputs: 1 source windowed, 1 source truncated, 1 summary windowed');
  });

  it('short texts are read whole and carry no window fields', async () => {
    const r = await engine.score({ source: `${FACT} The crowd was loud.`, summary: FACT });
    assert.equal(inputHandling(r.source), 'whole');
    assert.equal(r.source.windows, undefined);
    assert.deepEqual(inputNotes(r), []);
    for (const p of r.pairs) assert.equal(p.sourceWindow, undefined);
  });
});

describe('truncation and windowing reported everywhere (hand-made results)', () => {
  const windowed = (): QualsResult => {
    const r = result([pair({ id: 'q1', question: 'Who?', answer: 'Ruiz', score: -0.1 })]);
    r.source = { tokensKept: 300, tokensTotal: 300, truncated: false, charsKept: 1500, limit: 127, windows: [0, 1, 2].map((i) => ({ ...span('x'.repeat(1500), 'x'), start: i * 400, end: i * 400 + 700, tokens: 127 })) };
    r.computedWith = {
      mode: 'paper',
      beamSearch: 'grouped',
      options: { ...DEFAULT_OPTIONS, numBeams: 30, maxPairs: 3 },
      origin: Object.fromEntries(OPTION_KEYS.map((k) => [k, k === 'numBeams' ? 'model' : k === 'maxPairs' ? 'user' : 'default'])) as ComputedWith['origin'],
    };
    return r;
  };
  const place: Placement = {
    summaryRange: (s, e) => ({ start: { line: 0, character: s }, end: { line: 0, character: e } }),
    sourceLocation: (s, e) => ({ uri: 'file:///src.txt', range: { start: { line: 0, character: s }, end: { line: 0, character: e } } }),
  };

  it('the CLI report header: settings with their origins, then the windows', () => {
    const text = renderReport(windowed(), 'Ruiz scored.', { color: false, threshold: -0.5 });
    assert.match(text, /settings: paper mode, grouped search; settings\/flags: maxPairs 3; model's quals.json: numBeams 30; default: .*minLength 8/);
    assert.match(text, /source read in 3 overlapping windows \(300 tokens; limit 127 per window\)/);
    assert.equal(describeSettings({}), '');
  });

  it('an information diagnostic without finding data; the cut point as related information when truncated', () => {
    assert.deepEqual(inputNoteDiagnostics(result([]), place), []);
    const [d] = inputNoteDiagnostics(windowed(), place);
    assert.equal(d!.severity, DiagnosticSeverity.Information);
    assert.equal(d!.data, undefined);
    assert.match(d!.message, /^QUALS: source read in 3 overlapping windows/);
    const cut = result([]);
    cut.source = { tokensKept: 126, tokensTotal: 400, truncated: true, charsKept: 577, limit: 126 };
    const [c] = inputNoteDiagnostics(cut, place);
    assert.match(c!.message, /source truncated: the model read 126 of 400 tokens \(up to character 577\)/);
    assert.equal(c!.relatedInformation![0]!.location.range.start.character, 577);
  });

  it('the explorer warning names windowing too', () => {
    assert.match(truncationWarning(windowed())!, /^Source read in 3 overlapping windows/);
    assert.equal(truncationWarning(result([])), null);
  });

  it('batch/eval end-of-run counts', () => {
    const c = emptyInputCounts();
    for (const r of [windowed(), result([]), { source: { tokensKept: 1, tokensTotal: 9, truncated: true, charsKept: 1 } }]) countInputs(c, r);
    assert.equal(describeInputCounts(c), 'long inputs: 1 source windowed, 1 source truncated');
    assert.equal(describeInputCounts(emptyInputCounts()), '');
  });
});
