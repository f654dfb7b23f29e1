/**
 * Pure view logic of the QUALS explorer: which pairs are flagged (from the server's verdicts), in which order they are listed,
 * how the overall score reads in plain words and how long each token's bars are. Shared by the
 * webview and the standalone HTML report; no DOM, no `vscode`.
 */
import type { QaPairResult, QualsResult, TokenEvidence, TokenRole } from '../src/scoring/result';
import { inputNotes } from '../src/scoring/input-notes';
import type { PairVerdict, Verdict } from '../src/scoring/localise';

export type SortOrder = 'score' | 'position';
export type BarScale = 'p' | 'logp';

/** Each pair's verdict by id (src/scoring/localise.ts, pairVerdicts). */
export type Verdicts = Readonly<Record<string, PairVerdict>>;

/** A pair's verdict; a pair missing from the map (never sent by the server) reads as doubtful, never as supported. */
export function verdictOf(verdicts: Verdicts, pair: QaPairResult): PairVerdict {
  return verdicts[pair.id] ?? { verdict: 'doubtful' };
}

/** A pair is flagged (listed by "Only flagged") when it is unsupported or doubtful. */
export function isFlagged(verdicts: Verdicts, pair: QaPairResult): boolean {
  return verdictOf(verdicts, pair).verdict !== 'supported';
}

export type ReadingLevel = 'consistent' | 'some-unsupported' | 'largely-unsupported' | 'no-pairs';

export interface Reading {
  level: ReadingLevel;
  /** Plain words for the header, e.g. "Some unsupported content". */
  label: string;
  /** One sentence explaining the label. */
  detail: string;
  /** Pairs that are part of a finding (what the squiggles mark). */
  flagged: number;
  /** Pairs below the threshold (or seconding a finding) that are no finding. */
  doubtful: number;
}

/**
 * Reads the overall result in plain words from the same verdicts as the squiggles, so the header
 * never disagrees with them: no unsupported pair = consistent (doubtful pairs are named, not
 * counted as unsupported); the mean below the threshold, or half the pairs or more unsupported =
 * largely unsupported; otherwise some content is unsupported.
 */
export function readResult(result: QualsResult, threshold: number, verdicts: Verdicts): Reading {
  if (result.status === 'no-pairs' || result.score === null || result.pairs.length === 0) {
    return {
      level: 'no-pairs',
      label: 'No answerable QA pairs',
      detail: result.message ?? 'The model found no question whose answer occurs in the summary, so there is no score.',
      flagged: 0,
      doubtful: 0,
    };
  }
  const count = (v: Verdict) => result.pairs.filter((p) => verdictOf(verdicts, p).verdict === v).length;
  const flagged = count('unsupported');
  const doubtful = count('doubtful');
  const n = result.pairs.length;
  const doubts = doubtful === 0 ? '' : ` ${doubtful} ${doubtful === 1 ? 'is' : 'are'} doubtful: below the threshold or close to it, but not a finding.`;
  if (flagged === 0) {
    const detail = doubtful === 0 ? `All ${n} QA pairs are supported by the source.` : `No finding: no word of the summary is marked.${doubts}`;
    return { level: 'consistent', label: 'Consistent with the source', detail, flagged, doubtful };
  }
  const what = `${flagged} of ${n} QA ${n === 1 ? 'pair is' : 'pairs are'} not supported by the source.${doubts}`;
  if (result.score < threshold || flagged * 2 >= n) {
    return { level: 'largely-unsupported', label: 'Largely unsupported', detail: what, flagged, doubtful };
  }
  return { level: 'some-unsupported', label: 'Some unsupported content', detail: what, flagged, doubtful };
}

/** First occurrence of the answer in the summary; pairs without one sort last by position. */
function position(pair: QaPairResult): number {
  return pair.spans.length > 0 ? Math.min(...pair.spans.map((s) => s.start)) : Number.MAX_SAFE_INTEGER;
}

/**
 * The pairs as listed: `score` = worst (lowest) first, `position` = order in the summary; ties keep
 * selection order so the list does not jump between identical results.
 */
export function listPairs(pairs: readonly QaPairResult[], sort: SortOrder, flaggedOnly: boolean, verdicts: Verdicts): QaPairResult[] {
  const indexed = pairs.map((pair, i) => ({ pair, i }));
  const kept = flaggedOnly ? indexed.filter(({ pair }) => isFlagged(verdicts, pair)) : indexed;
  const key = sort === 'score' ? (p: QaPairResult) => p.score : position;
  return kept.sort((a, b) => key(a.pair) - key(b.pair) || a.i - b.i).map(({ pair }) => pair);
}

export interface Bar {
  /** The value shown on hover: a probability or a log-probability. */
  value: number;
  /** Bar length as a fraction of the full width, 0..1; longer = more likely. */
  fraction: number;
}

export interface TokenBars {
  /** The token as displayed: trimmed, special tokens named. */
  label: string;
  role: TokenRole;
  summary: Bar;
  source: Bar;
  /** log p(source) - log p(summary): strongly negative where the source does not back the token. */
  delta: number;
}

/** Display text of a token: BPE tokens carry their leading space, special tokens get a name. */
export function tokenLabel(token: TokenEvidence): string {
  if (token.role === 'separator') return '⟨sep⟩';
  if (token.role === 'eos') return '⟨end⟩';
  const t = token.text.trim();
  return t === '' ? '␣' : t;
}

/** The tokens the chart shows: question and answer, plus the separator and end when asked for. */
export function chartTokens(tokens: readonly TokenEvidence[], showSpecial: boolean): TokenEvidence[] {
  return showSpecial ? [...tokens] : tokens.filter((t) => t.role === 'question' || t.role === 'answer');
}

export interface AxisTick {
  /** Where the tick sits along the bar, 0..1 (the same fraction a bar of that value reaches). */
  fraction: number;
  label: string;
}

export interface BarAxis {
  /** The log-probability at the left end of the `logp` scale (a bar of this value is empty). */
  floor: number;
  ticks: AxisTick[];
  /** What the axis measures, for its caption. */
  unit: string;
}

/**
 * The scale of a pair's bars. On `logp` the left end is a round number just below the pair's lowest
 * finite log-probability, so the axis ends on a labelled tick and the lowest bar is still a sliver;
 * on `p` the axis runs 0..100%.
 */
export function barAxis(tokens: readonly TokenEvidence[], scale: BarScale): BarAxis {
  if (scale === 'p') {
    return { floor: -Infinity, unit: 'p (probability)', ticks: [0, 0.25, 0.5, 0.75, 1].map((f) => ({ fraction: f, label: `${f * 100}%` })) };
  }
  const finite = tokens.flatMap((t) => [t.logpSummary, t.logpSource]).filter(Number.isFinite);
  const extent = Math.max(1, -Math.min(0, ...finite)) * 1.05;
  // The smallest 1-2-5 step that spans the extent in at most 4 intervals.
  let step = 0.5;
  for (let k = 0; Math.ceil(extent / step) > 4; k++) step = [1, 2, 5][k % 3]! * 10 ** Math.floor(k / 3);
  const intervals = Math.ceil(extent / step);
  const floor = -intervals * step;
  const ticks = Array.from({ length: intervals + 1 }, (_, i) => {
    const value = floor + i * step;
    return { fraction: i / intervals, label: formatNumber(value, Number.isInteger(step) ? 0 : 1) };
  });
  return { floor, unit: 'log p', ticks };
}

/**
 * Bars for a pair's tokens. On the `p` scale the length is the probability itself; on the `logp`
 * scale it runs from the axis floor (empty) to 0 (full), so both scales read "longer = more
 * likely". Pass the axis of ALL the pair's tokens so hiding the separator does not rescale.
 */
export function tokenBars(tokens: readonly TokenEvidence[], scale: BarScale, axis: BarAxis = barAxis(tokens, scale)): TokenBars[] {
  const { floor } = axis;
  const bar = (logp: number): Bar => {
    if (scale === 'p') return { value: Math.exp(logp), fraction: clamp01(Math.exp(logp)) };
    return { value: logp, fraction: Number.isFinite(logp) ? clamp01((logp - floor) / -floor) : 0 };
  };
  return tokens.map((t) => ({
    label: tokenLabel(t),
    role: t.role,
    summary: bar(t.logpSummary),
    source: bar(t.logpSource),
    delta: t.logpSource - t.logpSummary,
  }));
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * Scores and log-probabilities: rounded once, to two decimals, with a real minus sign. A value that
 * rounds to zero (including -0) reads "0.00", never "−0.00".
 */
export function formatNumber(x: number, digits = 2): string {
  if (x === -Infinity) return '−∞';
  if (Number.isNaN(x)) return '–';
  const s = x.toFixed(digits);
  if (/^-0(\.0*)?$/.test(s)) return s.slice(1);
  return s.startsWith('-') ? `−${s.slice(1)}` : s;
}

/** Probabilities: percentages for readability, small ones in scientific notation. */
export function formatProbability(p: number): string {
  if (p >= 0.001) return `${(p * 100).toFixed(1)}%`;
  return p === 0 ? '0' : p.toExponential(1);
}

/** The value as the hover shows it on the given scale. */
export function formatBarValue(bar: Bar, scale: BarScale): string {
  return scale === 'p' ? `p = ${formatProbability(bar.value)}` : `log p = ${formatNumber(bar.value)}`;
}

/** "Source truncated" / "read in windows" warning text, or null when both texts were read whole. */
export function truncationWarning(result: QualsResult): string | null {
  const s = result.source;
  const cut = s.truncated ? `Source truncated: the model read the first ${s.tokensKept} of ${s.tokensTotal} tokens (up to character ${s.charsKept}); evidence after that is not considered.` : null;
  const others = inputNotes(result).filter((n) => !n.startsWith('source truncated')).map((n) => `${n[0]!.toUpperCase()}${n.slice(1)}.`);
  const all = [...(cut ? [cut] : []), ...others];
  return all.length ? all.join(' ') : null;
}
