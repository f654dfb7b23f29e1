/**
 * Where a QA pair lives in the documents: its answer in the summary document and its evidence in
 * the source, as UTF-16 offsets of the documents (the editor turns them into positions). Result
 * spans are relative to the text that was scored: the summary after its directive / front matter
 * (shifted by `summaryOffset`), or for a JSONL dataset the decoded JSON string of one line, whose
 * characters map back to raw offsets through the line's escape map. Pure, no `vscode`.
 */
import type { ResultParams } from '../../protocol';
import { DEFAULT_JSONL_FIELDS, readJsonlLine, scoredSummaryText, splitLines, type JsonlFields } from '../../scoring/pairing';
import type { QaPairResult, TextSpan } from '../../scoring/result';

export interface OffsetRange {
  start: number;
  end: number;
}

export interface PairLocations {
  /** The answer's first occurrence in the summary document. */
  answer: OffsetRange | null;
  /** The source's answer in the source document (for a dataset: in the same line's document field). */
  evidence: OffsetRange | null;
}

/**
 * Locates a pair. `summaryText` is the summary document's current text; for a dataset line whose
 * text changed since the check, the JSON is re-read so the offsets follow the edit when possible.
 */
export function locatePair(
  params: ResultParams,
  pair: QaPairResult,
  summaryText: string,
  fields: readonly JsonlFields[] = DEFAULT_JSONL_FIELDS,
): PairLocations {
  const answerSpan = pair.spans[0] ?? null;
  const evidenceSpan = pair.sourceAnswer?.span ?? null;
  if (params.line === undefined) {
    const shift = params.summaryOffset ?? 0;
    return {
      answer: answerSpan ? clamp({ start: answerSpan.start + shift, end: answerSpan.end + shift }, summaryText.length) : null,
      evidence: evidenceSpan ? { start: evidenceSpan.start, end: evidenceSpan.end } : null,
    };
  }
  const line = splitLines(summaryText)[params.line];
  const parsed = line ? readJsonlLine(line.text, fields) : undefined;
  if (!line || parsed?.kind !== 'pair') return { answer: null, evidence: null };
  const through = (map: number[], span: TextSpan | null): OffsetRange | null => {
    if (!span || span.end >= map.length) return null;
    return { start: line.offset + map[span.start]!, end: line.offset + map[span.end]! };
  };
  return { answer: through(parsed.pair.rawOffsets, answerSpan), evidence: through(parsed.pair.documentRawOffsets, evidenceSpan) };
}

function clamp(r: OffsetRange, length: number): OffsetRange | null {
  return r.start >= 0 && r.end <= length && r.start <= r.end ? r : null;
}

/**
 * The texts a result's spans refer to, for the HTML report: the scored summary text and the source
 * text (for a dataset line: its decoded summary and document fields). Null when the line no longer
 * parses.
 */
export function scoredTexts(
  params: ResultParams,
  summaryDocText: string,
  sourceDocText: string | undefined,
  fields: readonly JsonlFields[] = DEFAULT_JSONL_FIELDS,
): { summary: string; source: string | undefined } | null {
  if (params.line === undefined) return { summary: scoredSummaryText(summaryDocText).text, source: sourceDocText };
  const line = splitLines(summaryDocText)[params.line];
  const parsed = line ? readJsonlLine(line.text, fields) : undefined;
  return parsed?.kind === 'pair' ? { summary: parsed.pair.summary, source: parsed.pair.document } : null;
}
