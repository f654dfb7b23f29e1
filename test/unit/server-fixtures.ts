/** Hand-built QUALS results for the server's unit tests (shapes from src/scoring/result.ts). */
import { RESULT_SCHEMA_VERSION, type QaPairResult, type QualsResult, type TextSpan } from '../../src/scoring/result';

export function span(text: string, word: string): TextSpan {
  const start = text.indexOf(word);
  if (start < 0) throw new Error(`${word} not in ${text}`);
  const before = text.slice(0, start).split('\n');
  const line = before.length - 1;
  const character = before[line]!.length;
  return { start, end: start + word.length, range: { start: { line, character }, end: { line, character: character + word.length } } };
}

export function pair(over: Partial<QaPairResult> & Pick<QaPairResult, 'id' | 'question' | 'answer' | 'score'>): QaPairResult {
  return { llSource: over.score - 0.5, llSummary: -0.5, generationScore: -0.4, spans: [], tokens: [], sourceAnswer: null, ...over };
}

export function result(pairs: QaPairResult[], status: QualsResult['status'] = 'ok'): QualsResult {
  const score = pairs.length ? pairs.reduce((a, p) => a + p.score, 0) / pairs.length : null;
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    status,
    score: status === 'ok' ? score : null,
    mode: 'paper',
    model: { name: 'test', format: 'qagen', device: 'cpu' },
    source: { tokensKept: 10, tokensTotal: 10, truncated: false, charsKept: 100 },
    summaryTokens: 8,
    candidates: { generated: 60, wellFormed: 20, answerInSummary: pairs.length, selected: pairs.length },
    pairs,
    timings: { encodeMs: 1, searchMs: 1, teacherForcingMs: 1, sourceAnswerMs: 1, totalMs: 4 },
  };
}
