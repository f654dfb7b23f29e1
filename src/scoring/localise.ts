/**
 * Token-level localisation of QUALS findings: which words of the SUMMARY a flagged QA pair blames.
 *
 * A QA pair says WHICH fact the source does not support; its per-token log-probabilities say WHICH
 * WORDS. For every question and answer word we take the largest drop in log-probability of its
 * tokens from summary to source, keep the words that drop most, and map them back to the summary:
 * answer words inside the answer's span, question words to their nearest whole-word occurrence.
 * Pairs that blame the same summary word become one finding. Pure: no editor or LSP imports, so
 * the language server and the CLI report mark the same words.
 */
import type { QaPairResult, QualsResult, TokenEvidence } from './result';
import { findOccurrences } from './spans';

/** A word of the summary that a pair's evidence blames. */
export interface BlamedWord {
  /** UTF-16 offsets into the summary text given to the engine. */
  start: number;
  end: number;
  /** The word as the pair writes it. */
  text: string;
  /** Whether the word comes from the pair's question or its answer. */
  role: 'question' | 'answer';
  /** Largest per-token drop, log p(token | summary) - log p(token | source), in nats. */
  drop: number;
}

/** One finding: a summary word and every flagged pair that blames it, worst pair first. */
export interface Finding {
  start: number;
  end: number;
  text: string;
  /** The blamed word's role in the worst pair. */
  role: 'question' | 'answer';
  drop: number;
  /** Flagged pairs blaming this word, worst (lowest score) first; never empty. */
  pairs: QaPairResult[];
}

export interface LocaliseOptions {
  /** Pairs scoring below this are flagged. */
  threshold: number;
  /** Pairs left out (e.g. ignored by the user). */
  skip?: (pair: QaPairResult) => boolean;
}

/** A word needs at least this drop (nats) to be blamed on its own; below it the answer span is used. */
export const MIN_WORD_DROP = 1.0;
/** Words dropping at least this fraction of the pair's largest word drop are blamed too. */
export const CO_BLAME_RATIO = 0.8;

/** True when a pair scores below the threshold (lower = less supported by the source). */
export function isFlagged(pair: QaPairResult, threshold: number): boolean {
  return Number.isFinite(pair.score) && pair.score < threshold;
}

/** The one rounding of a QUALS score shown to people (two decimals, never "-0.00"). */
export function formatScore(x: number): string {
  const s = x.toFixed(2);
  return /^-0\.00$/.test(s) ? '0.00' : s;
}

/** A token's drop in nats: positive when the source makes it less likely than the summary does. */
export function tokenDrop(t: TokenEvidence): number {
  return t.logpSummary - t.logpSource;
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}_'’-]/u;

/** The word of `text` around [start, end): extended to word boundaries; null when no word character is inside. */
function wordAround(text: string, start: number, end: number): { start: number; end: number } | null {
  let s = Math.max(0, start);
  let e = Math.min(text.length, end);
  while (s < e && !WORD_CHAR.test(text[s]!)) s++;
  while (e > s && !WORD_CHAR.test(text[e - 1]!)) e--;
  if (s >= e) return null;
  while (s > 0 && WORD_CHAR.test(text[s - 1]!)) s--;
  while (e < text.length && WORD_CHAR.test(text[e]!)) e++;
  return { start: s, end: e };
}

export interface PairWord {
  role: 'question' | 'answer';
  /** Offsets in the question or answer string. */
  start: number;
  end: number;
  text: string;
  drop: number;
}

/** The pair's question and answer words with their largest token drop, in target order. */
export function pairWords(pair: QaPairResult): PairWord[] {
  const words = new Map<string, PairWord>();
  for (const t of pair.tokens) {
    if ((t.role !== 'question' && t.role !== 'answer') || t.start === null || t.end === null) continue;
    const text = t.role === 'question' ? pair.question : pair.answer;
    const w = wordAround(text, t.start, t.end);
    if (!w) continue;
    const key = `${t.role}:${w.start}`;
    const drop = tokenDrop(t);
    const known = words.get(key);
    if (known) known.drop = Math.max(known.drop, drop);
    else words.set(key, { role: t.role, start: w.start, end: w.end, text: text.slice(w.start, w.end), drop });
  }
  return [...words.values()];
}

/** The three (or `n`) target tokens whose log-probability drops most, largest first (question and answer only). */
export function largestDrops(pair: QaPairResult, n = 3): TokenEvidence[] {
  return pair.tokens
    .filter((t) => (t.role === 'question' || t.role === 'answer') && t.text.trim() !== '')
    .sort((a, b) => tokenDrop(b) - tokenDrop(a))
    .slice(0, n);
}

/** Where a pair's answer word sits in the summary: inside the answer's first span. */
function placeAnswerWord(summary: string, pair: QaPairResult, w: PairWord): { start: number; end: number } | null {
  const span = pair.spans[0];
  if (!span) return null;
  const inSpan = findOccurrences(summary.slice(span.start, span.end), w.text).find((m) => m.wholeWord);
  return inSpan ? { start: span.start + inSpan.start, end: span.start + inSpan.end } : null;
}

/** Where a pair's question word sits in the summary: the whole-word occurrence nearest the answer. */
function placeQuestionWord(summary: string, pair: QaPairResult, w: PairWord): { start: number; end: number } | null {
  const all = findOccurrences(summary, w.text).filter((m) => m.wholeWord);
  if (all.length === 0) return null;
  const span = pair.spans[0];
  const anchor = span ? (span.start + span.end) / 2 : 0;
  const sentenceOf = (at: number) => summary.slice(0, at).split(/[.!?](?:\s|$)/).length;
  const best = all
    .filter((m) => !span || m.end <= span.start || m.start >= span.end)
    .sort((a, b) => {
      const sameA = span && sentenceOf(a.start) === sentenceOf(span.start) ? 0 : 1;
      const sameB = span && sentenceOf(b.start) === sentenceOf(span.start) ? 0 : 1;
      return sameA - sameB || Math.abs((a.start + a.end) / 2 - anchor) - Math.abs((b.start + b.end) / 2 - anchor);
    })[0];
  return best ? { start: best.start, end: best.end } : null;
}

/** The pair's words that occur in the summary, each with where it is. */
export function placedWords(pair: QaPairResult, summary: string): { w: PairWord; at: { start: number; end: number } }[] {
  return pairWords(pair)
    .map((w) => ({ w, at: w.role === 'answer' ? placeAnswerWord(summary, pair, w) : placeQuestionWord(summary, pair, w) }))
    .filter((x): x is { w: PairWord; at: { start: number; end: number } } => x.at !== null);
}

/**
 * The summary words a pair's evidence blames: the words whose tokens drop most from summary to
 * source (at least MIN_WORD_DROP, and at least CO_BLAME_RATIO of the largest drop) that occur in
 * the summary. When no word stands out, the answer's span, as before token-level localisation,
 * unless the source gives that same answer: then what the source does not support is a word of the
 * question the summary does not contain, and nothing in the summary is blamed.
 */
export function blamedWords(pair: QaPairResult, summary: string): BlamedWord[] {
  const placed = placedWords(pair, summary);
  const top = Math.max(-Infinity, ...placed.map((x) => x.w.drop));
  if (top >= MIN_WORD_DROP) {
    const out = new Map<number, BlamedWord>();
    for (const { w, at } of placed) {
      if (w.drop < Math.max(MIN_WORD_DROP, CO_BLAME_RATIO * top)) continue;
      const known = out.get(at.start);
      if (!known || known.drop < w.drop) out.set(at.start, { ...at, text: w.text, role: w.role, drop: w.drop });
    }
    return [...out.values()].sort((a, b) => a.start - b.start);
  }
  const span = pair.spans[0];
  if (!span || pair.sourceAnswer?.agrees) return [];
  const answerDrop = Math.max(0, ...pairWords(pair).filter((w) => w.role === 'answer').map((w) => w.drop));
  return [{ start: span.start, end: span.end, text: summary.slice(span.start, span.end), role: 'answer', drop: answerDrop }];
}

/**
 * Pairs above the threshold that still blame one word together: how many different questions,
 * and how low each must score (times the threshold).
 */
export const CORROBORATING_PAIRS = 3;
export const CORROBORATING_SCORE = 0.5;
/**
 * Two different questions above the threshold that the summary answers with the same words and the
 * source with the same other answer are a finding too, when each scores below this (times the threshold).
 */
export const CONSISTENT_PAIRS = 2;
export const CONSISTENT_SCORE = 0.2;
/**
 * A finding whose pairs all score only just below the threshold (above MARGINAL_SCORE x threshold)
 * needs a second question blaming the same word and scoring below SECOND_OPINION_SCORE x threshold.
 */
export const MARGINAL_SCORE = 1.2;
export const SECOND_OPINION_SCORE = 0.8;
/** A pair above the threshold corroborates only if the summary gives each answer token at least even odds. */
export const SUMMARY_SUPPORT_LOGP = Math.log(0.5);

/** A pair whose question the source answers differently (with the answer found in the source). */
function contradicted(pair: QaPairResult): boolean {
  return differingSourceAnswer(pair) !== null && pair.sourceAnswer?.span != null;
}

/** Whether the summary itself supports the pair's answer (a generated pair can mismatch its own summary). */
function summarySupports(pair: QaPairResult): boolean {
  return pair.tokens.every((t) => t.role !== 'answer' || t.logpSummary >= SUMMARY_SUPPORT_LOGP);
}

/** Different questions among `pairs` (the model can generate one question twice, spaced differently). */
function questionCount(pairs: readonly QaPairResult[]): number {
  return new Set(pairs.map((p) => p.question.replace(/\s+/g, '').toLowerCase())).size;
}

function collect(pairs: readonly QaPairResult[], summary: string): Map<string, Finding> {
  const byWord = new Map<string, Finding>();
  for (const pair of pairs) {
    for (const w of blamedWords(pair, summary)) {
      const key = `${w.start}:${w.end}`;
      const known = byWord.get(key);
      if (!known) byWord.set(key, { ...w, pairs: [pair] });
      else {
        known.pairs.push(pair);
        known.pairs.sort((a, b) => a.score - b.score);
        if (known.pairs[0] === pair) Object.assign(known, { role: w.role, text: w.text, drop: w.drop });
      }
    }
  }
  return byWord;
}

/** Answer spans that CONSISTENT_PAIRS different questions answer alike and the source answers alike otherwise. */
function consistentContradictions(pairs: readonly QaPairResult[], summary: string): Finding[] {
  const groups = new Map<string, QaPairResult[]>();
  for (const pair of pairs) {
    const span = pair.spans[0];
    if (!span) continue;
    const key = `${span.start}:${span.end}:${pair.sourceAnswer!.text.trim().toLowerCase()}`;
    groups.set(key, [...(groups.get(key) ?? []), pair]);
  }
  return [...groups.values()]
    .filter((g) => questionCount(g) >= CONSISTENT_PAIRS)
    .map((g) => {
      const sorted = [...g].sort((a, b) => a.score - b.score);
      const { start, end } = sorted[0]!.spans[0]!;
      const drop = Math.max(0, ...sorted.flatMap((p) => pairWords(p).filter((w) => w.role === 'answer').map((w) => w.drop)));
      return { start, end, text: summary.slice(start, end), role: 'answer' as const, drop, pairs: sorted };
    });
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && a.end > b.start;

/**
 * The findings of a result: one per blamed summary word, merging every flagged pair that blames
 * it, ordered by position. `summary` is the text given to the engine (offsets refer to it).
 *
 * Evidence from one QA pair of a small model is noisy, so findings weigh pairs against each other:
 * - a word blamed only by pairs just below the threshold (above MARGINAL_SCORE x threshold) is
 *   reported only when a second question, scoring below SECOND_OPINION_SCORE x threshold, blames it;
 * - a word is also reported when no single pair crosses the threshold but CORROBORATING_PAIRS
 *   questions scoring below CORROBORATING_SCORE x threshold all blame it and the source answers each
 *   of them differently (a swapped entity that every question about the fact trips over);
 * - an answer is also reported when CONSISTENT_PAIRS questions that give it, each scoring below
 *   CONSISTENT_SCORE x threshold, get the same other answer from the source.
 * Only pairs whose answer the summary itself supports corroborate. The effect on the toy model's
 * held-out sets is measured by scripts/localisation-figure.ts (README, "Where the squiggle goes").
 */
export function localise(result: QualsResult, summary: string, opts: LocaliseOptions): Finding[] {
  if (result.status !== 'ok') return [];
  const th = opts.threshold;
  const usable = result.pairs.filter((p) => !opts.skip?.(p));
  const byWord = collect(usable.filter((p) => isFlagged(p, th)), summary);
  const seconds = collect(usable.filter((p) => p.score < SECOND_OPINION_SCORE * th), summary);
  for (const [key, f] of byWord) {
    if (f.pairs[0]!.score >= MARGINAL_SCORE * th && questionCount([...f.pairs, ...(seconds.get(key)?.pairs ?? [])]) < 2) byWord.delete(key);
  }
  const weak = usable.filter((p) => !isFlagged(p, th) && contradicted(p) && summarySupports(p));
  for (const [key, f] of collect(weak.filter((p) => p.score < CORROBORATING_SCORE * th), summary)) {
    if (!byWord.has(key) && questionCount(f.pairs) >= CORROBORATING_PAIRS) byWord.set(key, f);
  }
  for (const f of consistentContradictions(weak.filter((p) => p.score < CONSISTENT_SCORE * th), summary)) {
    if (![...byWord.values()].some((known) => overlaps(known, f))) byWord.set(`${f.start}:${f.end}`, f);
  }
  return [...byWord.values()].sort((a, b) => a.start - b.start || a.end - b.end);
}

function oneLine(s: string, max = 80): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

/** What the source answers to the pair's question, when it differs from the summary's answer. */
export function differingSourceAnswer(pair: QaPairResult): string | null {
  const src = pair.sourceAnswer;
  return src !== null && !src.agrees && src.text.trim() !== '' ? oneLine(src.text) : null;
}

/**
 * The finding's one-line verdict, consistent with its evidence: an answer word is contrasted with
 * what the source answers; a question word is named with the question it comes from (the source
 * may well give the same answer: the question's premise is what it does not support).
 * E.g. `Not supported by source: "Everton"; source says "Arsenal" (QUALS -2.35)` or
 * `Not supported by source: "Lyon" in "Who visited Lyon?" (QUALS -2.98)`.
 */
export function findingMessage(f: Finding): string {
  const pair = f.pairs[0]!;
  const word = `"${oneLine(f.text)}"`;
  const others = f.pairs.length > 1 ? `; ${f.pairs.length} QA pairs` : '';
  const score = ` (QUALS ${formatScore(pair.score)}${others})`;
  if (f.role === 'answer') {
    const says = differingSourceAnswer(pair);
    return `Not supported by source: ${word}${says ? `; source says "${says}"` : ''}${score}`;
  }
  return `Not supported by source: ${word} in "${oneLine(pair.question)}"${score}`;
}

/**
 * What every surface (explorer badges and counts, CLI and HTML reports) says about one QA pair, so
 * none contradicts the squiggles: `unsupported` = part of a finding (a word of it is marked);
 * `doubtful` = scores below the threshold yet is no finding, or above it but seconds a finding;
 * `supported` = neither.
 */
export type Verdict = 'unsupported' | 'doubtful' | 'supported';
/**
 * Why a pair is doubtful: `unconfirmed` = only just below the threshold and no second question
 * blames the same word; `no-word` = nothing in the summary stands out (the source gives the same
 * answer); `ignored` = its finding was ignored by the user; `seconds` = above the threshold, but it
 * blames the word of a finding and scores below SECOND_OPINION_SCORE x threshold.
 */
export type DoubtReason = 'unconfirmed' | 'no-word' | 'ignored' | 'seconds';
export interface PairVerdict {
  verdict: Verdict;
  why?: DoubtReason;
}

export interface VerdictOptions extends LocaliseOptions {
  /** The findings shown when some are hidden (e.g. words a quals-ignore comment lists); default: all of localise(). */
  shown?: readonly Finding[];
}

/** The verdict on every pair of a result, by pair id, derived from the same findings as the squiggles. */
export function pairVerdicts(result: QualsResult, summary: string, opts: VerdictOptions): Record<string, PairVerdict> {
  const all = localise(result, summary, opts);
  const shown = opts.shown ?? all;
  const ids = (fs: readonly Finding[]) => new Set(fs.flatMap((f) => f.pairs.map((p) => p.id)));
  const inShown = ids(shown);
  const inHidden = ids(all);
  const words = new Set(shown.map((f) => `${f.start}:${f.end}`));
  const out: Record<string, PairVerdict> = {};
  for (const pair of result.pairs) {
    // `<`, not isFlagged: a pair the source rules out entirely (score -Infinity) is no finding but not supported either.
    const below = pair.score < opts.threshold;
    let v: PairVerdict = { verdict: 'supported' };
    if (inShown.has(pair.id)) v = { verdict: 'unsupported' };
    else if (inHidden.has(pair.id) || (below && opts.skip?.(pair))) v = { verdict: 'doubtful', why: 'ignored' };
    else if (below) v = { verdict: 'doubtful', why: blamedWords(pair, summary).length > 0 && Number.isFinite(pair.score) ? 'unconfirmed' : 'no-word' };
    else if (!opts.skip?.(pair) && pair.score < SECOND_OPINION_SCORE * opts.threshold && blamedWords(pair, summary).some((w) => words.has(`${w.start}:${w.end}`))) {
      v = { verdict: 'doubtful', why: 'seconds' };
    }
    out[pair.id] = v;
  }
  return out;
}

/** The verdict in a few words for people, e.g. "doubtful — no second question confirms it". */
export function verdictText(v: PairVerdict): string {
  if (v.verdict !== 'doubtful') return v.verdict;
  switch (v.why) {
    case 'unconfirmed':
      return 'doubtful — no second question confirms it';
    case 'no-word':
      return 'doubtful — no word of the summary stands out';
    case 'ignored':
      return 'doubtful — its finding is ignored';
    case 'seconds':
      return 'doubtful — above the threshold, but it backs a finding';
    default:
      return 'doubtful';
  }
}

/** How many pairs have each verdict. */
export function countVerdicts(verdicts: Readonly<Record<string, PairVerdict>>): Record<Verdict, number> {
  const n: Record<Verdict, number> = { unsupported: 0, doubtful: 0, supported: 0 };
  for (const v of Object.values(verdicts)) n[v.verdict]++;
  return n;
}
