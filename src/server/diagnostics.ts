/**
 * QUALS result -> LSP diagnostics: one per summary word that flagged QA pairs blame (token-level
 * localisation, src/scoring/localise.ts), listing every pair that blames it, with related
 * information pointing at where the source answers each question.
 */
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation, type Location, type Range } from 'vscode-languageserver';
import { DIAGNOSTIC_SOURCE, NOTE_DIAGNOSTIC_CODES, type IgnoredFinding } from '../protocol';
import { differingSourceAnswer, findingMessage, isFlagged, localise, pairVerdicts, type Finding, type PairVerdict } from '../scoring/localise';
import type { QaPairResult, QualsResult } from '../scoring/result';
import { inputNotes } from '../scoring/input-notes';
import { isIgnoredWord } from '../scoring/pairing';
import type { SeverityName } from './settings';


export { DIAGNOSTIC_SOURCE };

/** Maps spans of the texts given to the engine back into documents. */
export interface Placement {
  /** A span of the scored summary text -> range in the summary document. */
  summaryRange(start: number, end: number): Range;
  /** A span of the scored source text -> location in the source document. */
  sourceLocation(start: number, end: number): Location;
}

/** Carried in `Diagnostic.data` so hovers and code actions need no second lookup. */
export interface FindingData {
  /** The worst pair blaming the word (the hover's pair). */
  pairId: string;
  /** Every pair blaming the word, worst first (ignoring the finding ignores them all). */
  pairs?: { id: string; question: string; answer: string }[];
  question: string;
  answer: string;
  score: number;
  /** The blamed summary word, and whether it comes from the question or the answer. */
  word?: string;
  role?: 'question' | 'answer';
  /** What the source answers, when it differs from the summary's answer and the word is the answer's. */
  sourceAnswer: string | null;
  /** Where the whole answer is in the summary document (the replacement's target). */
  answerRange?: Range;
  /** JSONL datasets: the line the finding belongs to. */
  line?: number;
}

export interface DiagnosticOptions {
  threshold: number;
  severity: SeverityName;
  /** The summary document's URI, matched against ignored findings. */
  uri: string;
  ignored: readonly IgnoredFinding[];
  /** The summary text given to the engine; without it findings sit on the answer spans. */
  summary?: string;
  /** Words listed by the summary's `<!-- quals-ignore: ... -->` comments (normalised, ../scoring/pairing.ts). */
  ignoredWords?: readonly string[];
}

const SEVERITY: Record<SeverityName, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function isIgnored(ignored: readonly IgnoredFinding[], uri: string, pair: Pick<QaPairResult, 'question' | 'answer'>): boolean {
  return ignored.some((f) => f.uri === uri && f.question === pair.question && f.answer === pair.answer);
}

/** Answer-span findings, for callers that do not have the scored summary text. */
function answerSpanFindings(result: QualsResult, opts: DiagnosticOptions): Finding[] {
  if (result.status !== 'ok') return [];
  return result.pairs.flatMap((pair) => {
    const span = pair.spans[0];
    if (!span || !isFlagged(pair, opts.threshold) || isIgnored(opts.ignored, opts.uri, pair)) return [];
    return [{ start: span.start, end: span.end, text: pair.answer, role: 'answer' as const, drop: 0, pairs: [pair] }];
  });
}

/** Builds the diagnostics of one result (one document, or one JSONL line when `line` is set). */
export function toDiagnostics(result: QualsResult, place: Placement, opts: DiagnosticOptions, line?: number): Diagnostic[] {
  return shownFindings(result, opts).map((f) => toDiagnostic(f, place, opts, line));
}

/** The findings the diagnostics show: ignored pairs skipped, words a quals-ignore comment lists left out. */
function shownFindings(result: QualsResult, opts: DiagnosticOptions): Finding[] {
  const findings =
    opts.summary === undefined
      ? answerSpanFindings(result, opts)
      : localise(result, opts.summary, { threshold: opts.threshold, skip: (p) => isIgnored(opts.ignored, opts.uri, p) });
  const words = opts.ignoredWords ?? [];
  return findings.filter((f) => !isIgnoredWord(f.text, words));
}

/** The verdict on each pair (sent with the result for the explorer), from the same findings as toDiagnostics. */
export function diagnosticVerdicts(result: QualsResult, opts: DiagnosticOptions): Record<string, PairVerdict> {
  const shown = shownFindings(result, opts);
  if (opts.summary !== undefined) return pairVerdicts(result, opts.summary, { threshold: opts.threshold, skip: (p) => isIgnored(opts.ignored, opts.uri, p), shown });
  const flagged = new Set(shown.flatMap((f) => f.pairs.map((p) => p.id)));
  return Object.fromEntries(
    result.pairs.map((p): [string, PairVerdict] => {
      if (flagged.has(p.id)) return [p.id, { verdict: 'unsupported' }];
      if (!(p.score < opts.threshold)) return [p.id, { verdict: 'supported' }];
      // Below the threshold yet no finding: ignored by the user, or no answer span to put it on.
      return [p.id, { verdict: 'doubtful', why: isIgnored(opts.ignored, opts.uri, p) ? 'ignored' : 'no-word' }];
    }),
  );
}

function toDiagnostic(f: Finding, place: Placement, opts: DiagnosticOptions, line: number | undefined): Diagnostic {
  const pair = f.pairs[0]!;
  const span = pair.spans[0];
  const data: FindingData = {
    pairId: pair.id,
    pairs: f.pairs.map((p) => ({ id: p.id, question: p.question, answer: p.answer })),
    question: pair.question,
    answer: pair.answer,
    score: pair.score,
    word: f.text,
    role: f.role,
    sourceAnswer: f.role === 'answer' ? differingSourceAnswer(pair) : null,
    ...(span ? { answerRange: place.summaryRange(span.start, span.end) } : {}),
    ...(line !== undefined ? { line } : {}),
  };
  const diagnostic: Diagnostic = {
    range: place.summaryRange(f.start, f.end),
    severity: SEVERITY[opts.severity],
    source: DIAGNOSTIC_SOURCE,
    code: pair.id,
    message: findingMessage(f),
    data,
  };
  const related: DiagnosticRelatedInformation[] = f.pairs.flatMap((p) => {
    const src = p.sourceAnswer;
    if (!src?.span) return [];
    // The question is in the hover card already; a merged finding names each pair's question.
    const message = f.pairs.length > 1 ? `${oneLine(p.question)} Source: "${oneLine(src.text)}"` : `Source: "${oneLine(src.text)}"`;
    return [{ location: place.sourceLocation(src.span.start, src.span.end), message }];
  });
  if (related.length > 0) diagnostic.relatedInformation = related;
  return diagnostic;
}

/** The message of a pair's finding on its answer, e.g. `Not supported by source: "Klitschko" (QUALS -2.60)`. */
export function diagnosticMessage(pair: QaPairResult): string {
  const span = pair.spans[0];
  return findingMessage({ start: span?.start ?? 0, end: span?.end ?? 0, text: pair.answer, role: 'answer', drop: 0, pairs: [pair] });
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}

/**
 * An information note on the summary's first character when the model did not read a text whole:
 * the source (or summary) was read in windows or truncated (src/scoring/input-notes.ts). It carries
 * no FindingData, so hovers and code actions pass it by.
 */
export function inputNoteDiagnostics(result: QualsResult, place: Placement): Diagnostic[] {
  const notes = inputNotes(result);
  if (notes.length === 0) return [];
  const d: Diagnostic = {
    range: place.summaryRange(0, 0),
    severity: DiagnosticSeverity.Information,
    source: DIAGNOSTIC_SOURCE,
    code: NOTE_DIAGNOSTIC_CODES.input,
    message: `QUALS: ${notes.join('; ')}`,
  };
  if (result.source.truncated) {
    d.relatedInformation = [{ location: place.sourceLocation(result.source.charsKept, result.source.charsKept), message: 'The model read the source up to here.' }];
  }
  return [d];
}
