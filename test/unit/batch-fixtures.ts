// Shared helpers for the batch tests: a cheap deterministic scorer in place of the model.
import { RESULT_SCHEMA_VERSION, type QualsResult } from '../../src/scoring/result';

/** A result shaped like the engine's, with a score derived from the texts (so lines differ). */
export function fakeResult(score: number | null): QualsResult {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    status: score === null ? 'no-pairs' : 'ok',
    score,
    mode: 'paper',
    model: { name: 'fake', format: 'qagen', device: 'cpu' },
    source: { tokensKept: 1, tokensTotal: 1, truncated: false, charsKept: 1 },
    summaryTokens: 1,
    candidates: { generated: 1, wellFormed: 1, answerInSummary: score === null ? 0 : 1, selected: score === null ? 0 : 1 },
    pairs: [],
    timings: { encodeMs: 0, searchMs: 0, teacherForcingMs: 0, sourceAnswerMs: 0, totalMs: 0 },
  };
}

/** Score = -(summary length mod 7) / 10; summaries containing "nopairs" get no score. */
export async function fakeScorer(_source: string, summary: string): Promise<QualsResult> {
  return fakeResult(summary.includes('nopairs') ? null : -(summary.length % 7) / 10);
}

export function pairLine(i: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: `d${i}`, document: `Document number ${i} says something.`, summary: `Summary ${i}${'!'.repeat(i % 5)}`, ...extra });
}
