/**
 * A hand-made QualsResult for the explorer tests: three pairs (one unsupported, two supported),
 * spans computed from real texts so offsets and ranges agree.
 */
import { pairVerdicts, type PairVerdict } from '../../src/scoring/localise';
import type { QaPairResult, QualsResult, TextSpan, TokenEvidence, TokenRole } from '../../src/scoring/result';

export const SOURCE = 'Tyson Fury beat Wladimir Klitschko in Düsseldorf on Saturday.\nFury won on points after twelve rounds.';
export const SUMMARY = 'Klitschko beat Tyson Fury in Düsseldorf.\nThe fight went twelve rounds.';

/** Span of the first occurrence of `needle` in `text` (UTF-16 offsets + line/character range). */
export function spanOf(text: string, needle: string): TextSpan {
  const start = text.indexOf(needle);
  if (start < 0) throw new Error(`${needle} not in text`);
  const pos = (offset: number) => {
    const before = text.slice(0, offset).split('\n');
    return { line: before.length - 1, character: before[before.length - 1]!.length };
  };
  return { start, end: start + needle.length, range: { start: pos(start), end: pos(start + needle.length) } };
}

function tokens(spec: [string, TokenRole, number, number][]): TokenEvidence[] {
  return spec.map(([text, role, logpSummary, logpSource]) => ({ text, role, start: null, end: null, logpSummary, logpSource }));
}

function pair(id: string, question: string, answer: string, toks: TokenEvidence[], source: string | null): QaPairResult {
  const mean = (k: 'logpSummary' | 'logpSource') => toks.reduce((s, t) => s + t[k], 0) / toks.length;
  const llSummary = mean('logpSummary');
  const llSource = mean('logpSource');
  return {
    id,
    question,
    answer,
    llSummary,
    llSource,
    score: llSource - llSummary,
    generationScore: llSummary,
    spans: [spanOf(SUMMARY, answer)],
    tokens: toks,
    sourceAnswer: source === null ? null : { text: source, meanLogp: -0.3, span: spanOf(SOURCE, source), agrees: source.toLowerCase() === answer.toLowerCase() },
  };
}

export function fixtureResult(): QualsResult {
  const pairs = [
    pair(
      'q1',
      'Where was the fight?',
      'Düsseldorf',
      tokens([
        [' Where', 'question', -0.4, -0.5],
        [' was', 'question', -0.2, -0.3],
        [' the', 'question', -0.1, -0.1],
        [' fight', 'question', -0.6, -0.9],
        ['?', 'question', -0.05, -0.05],
        [' strutConnector', 'separator', -0.01, -0.02],
        ['Düsseldorf', 'answer', -0.1, -0.2],
        ['</s>', 'eos', -0.02, -0.02],
      ]),
      'Düsseldorf',
    ),
    pair(
      'q2',
      'Who beat Tyson Fury?',
      'Klitschko',
      tokens([
        [' Who', 'question', -0.3, -0.4],
        [' beat', 'question', -0.5, -1.9],
        [' Tyson', 'question', -0.2, -0.6],
        [' Fury', 'question', -0.1, -0.3],
        ['?', 'question', -0.05, -0.1],
        [' strutConnector', 'separator', -0.01, -0.05],
        ['K', 'answer', -0.2, -6.2],
        ['lit', 'answer', -0.1, -7.5],
        ['schko', 'answer', -0.05, -5.0],
        ['</s>', 'eos', -0.02, -0.4],
      ]),
      'Wladimir Klitschko',
    ),
    pair(
      'q3',
      'How many rounds did the fight go?',
      'twelve',
      tokens([
        [' How', 'question', -0.3, -0.3],
        [' many', 'question', -0.1, -0.1],
        [' rounds', 'question', -0.4, -0.6],
        ['?', 'question', -0.05, -0.1],
        [' strutConnector', 'separator', -0.01, -0.01],
        [' twelve', 'answer', -0.2, -0.4],
        ['</s>', 'eos', -0.02, -0.03],
      ]),
      'twelve',
    ),
  ];
  return {
    schemaVersion: 1,
    status: 'ok',
    score: pairs.reduce((s, p) => s + p.score, 0) / pairs.length,
    mode: 'paper',
    model: { name: '/home/user/models/tiny-qagen', format: 'qagen', device: 'cpu' },
    source: { tokensKept: 30, tokensTotal: 30, truncated: false, charsKept: SOURCE.length },
    summaryTokens: 18,
    candidates: { generated: 60, wellFormed: 40, answerInSummary: 12, selected: 3 },
    pairs,
    timings: { encodeMs: 1, searchMs: 10, teacherForcingMs: 3, sourceAnswerMs: 2, totalMs: 16 },
  };
}

/** The verdicts the server sends with a result of SUMMARY (the real localisation, not a stand-in). */
export function fixtureVerdicts(result: QualsResult = fixtureResult(), threshold = -1): Record<string, PairVerdict> {
  return pairVerdicts(result, SUMMARY, { threshold });
}
