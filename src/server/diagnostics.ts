/**
 * QUALS result -> LSP diagnostics: one per flagged QA pair, on the answer's first span in the
 * summary, with related information pointing at where the source answers the same question.
 */
import { DiagnosticSeverity, type Diagnostic, type Location, type Range } from 'vscode-languageserver';
import type { IgnoredFinding } from '../protocol';
import type { QaPairResult, QualsResult } from '../scoring/result';
import type { SeverityName } from './settings';

export const DIAGNOSTIC_SOURCE = 'QUALS';

/** Maps spans of the texts given to the engine back into documents. */
export interface Placement {
  /** A span of the scored summary text -> range in the summary document. */
  summaryRange(start: number, end: number): Range;
  /** A span of the scored source text -> location in the source document. */
  sourceLocation(start: number, end: number): Location;
}

/** Carried in `Diagnostic.data` so hovers and code actions need no second lookup. */
export interface FindingData {
  pairId: string;
  question: string;
  answer: string;
  score: number;
  /** What the source answers, when it differs from the summary's answer. */
  sourceAnswer: string | null;
  /** JSONL datasets: the line the finding belongs to. */
  line?: number;
}

export interface DiagnosticOptions {
  threshold: number;
  severity: SeverityName;
  /** The summary document's URI, matched against ignored findings. */
  uri: string;
  ignored: readonly IgnoredFinding[];
}

const SEVERITY: Record<SeverityName, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** True when a pair scores below the threshold (lower = less supported by the source). */
export function isFlagged(pair: QaPairResult, threshold: number): boolean {
  return Number.isFinite(pair.score) && pair.score < threshold;
}

export function isIgnored(ignored: readonly IgnoredFinding[], uri: string, pair: Pick<QaPairResult, 'question' | 'answer'>): boolean {
  return ignored.some((f) => f.uri === uri && f.question === pair.question && f.answer === pair.answer);
}

/** Builds the diagnostics of one result (one document, or one JSONL line when `line` is set). */
export function toDiagnostics(result: QualsResult, place: Placement, opts: DiagnosticOptions, line?: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (result.status !== 'ok') return out;
  for (const pair of result.pairs) {
    const span = pair.spans[0];
    if (!span || !isFlagged(pair, opts.threshold) || isIgnored(opts.ignored, opts.uri, pair)) continue;
    const src = pair.sourceAnswer;
    const differs = src !== null && !src.agrees && src.text.trim() !== '';
    const data: FindingData = {
      pairId: pair.id,
      question: pair.question,
      answer: pair.answer,
      score: pair.score,
      sourceAnswer: differs ? src.text.trim() : null,
      ...(line !== undefined ? { line } : {}),
    };
    const diagnostic: Diagnostic = {
      range: place.summaryRange(span.start, span.end),
      severity: SEVERITY[opts.severity],
      source: DIAGNOSTIC_SOURCE,
      code: pair.id,
      message: diagnosticMessage(pair),
      data,
    };
    if (src?.span) {
      diagnostic.relatedInformation = [
        {
          location: place.sourceLocation(src.span.start, src.span.end),
          message: `${pair.question} Source: "${oneLine(src.text)}"`,
        },
      ];
    }
    out.push(diagnostic);
  }
  return out;
}

/** Short and self-contained, e.g. `Not supported by source: "Klitschko" (QUALS -2.6)`. */
export function diagnosticMessage(pair: QaPairResult): string {
  const src = pair.sourceAnswer;
  const says = src && !src.agrees && src.text.trim() ? `; source says "${oneLine(src.text)}"` : '';
  return `Not supported by source: "${oneLine(pair.answer)}"${says} (QUALS ${pair.score.toFixed(1)})`;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}
