/**
 * The QUALS result: the one JSON shape that the CLI (`quals score --json`, `quals batch`), the
 * language server (diagnostics, hovers, code actions) and the explorer view all consume.
 * Documented field by field in docs/result-schema.md. Bump RESULT_SCHEMA_VERSION on any change
 * that is not a pure addition.
 */

export const RESULT_SCHEMA_VERSION = 1;

/** A zero-based line/character position, with characters counted in UTF-16 code units (as VS Code and LSP do). */
export interface Position {
  line: number;
  character: number;
}

/** A span of a text: UTF-16 offsets [start, end) and the same span as line/character positions. */
export interface TextSpan {
  start: number;
  end: number;
  range: { start: Position; end: Position };
}

/** Which part of the QA target sequence a token belongs to. */
export type TokenRole = 'question' | 'separator' | 'answer' | 'eos';

/** One target token of a QA pair with its log-probability given the summary and given the source. */
export interface TokenEvidence {
  /** The token's text as it appears in the question or answer (leading space included). */
  text: string;
  role: TokenRole;
  /** UTF-16 offsets of the token in `question` (role question) or `answer` (role answer); null for separator/EOS. */
  start: number | null;
  end: number | null;
  /** log p(token | previous tokens, summary). */
  logpSummary: number;
  /** log p(token | previous tokens, source). */
  logpSource: number;
}

/** What the model answers from the SOURCE to the pair's question. */
export interface SourceAnswer {
  text: string;
  /** Mean log-probability of the answer tokens (EOS included) under the source. */
  meanLogp: number;
  /** Where the answer occurs in the source text, if it does (first word-boundary match preferred). */
  span: TextSpan | null;
  /** True when the source's answer equals the summary's answer (case-insensitive, trimmed). */
  agrees: boolean;
}

/** One selected question-answer pair. */
export interface QaPairResult {
  /** Stable id within one result (`q1`, `q2`, ... in selection order); used as diagnostic code. */
  id: string;
  question: string;
  answer: string;
  /** LL_D: mean target-token log-probability given the source (teacher forced). */
  llSource: number;
  /** LL_S: mean target-token log-probability given the summary (teacher forced in paper mode,
   * the diversity-penalised generation score in reference mode). */
  llSummary: number;
  /** The pair's contribution: llSource - llSummary. Lower = less supported by the source. */
  score: number;
  /** Length-normalised score of the hypothesis in the diverse beam search. */
  generationScore: number;
  /** Occurrences of the answer in the summary (the diagnostic goes on the first). */
  spans: TextSpan[];
  tokens: TokenEvidence[];
  sourceAnswer: SourceAnswer | null;
  /** Windowed source (`source.windows`): the index of the window whose LL_D is reported (the best one); `sourceAnswer` is that window's. */
  sourceWindow?: number;
  /** Windowed summary (`summaryInput.windows`): the index of the window the pair was generated from (and LL_S teacher-forced on). */
  summaryWindow?: number;
}

export interface TruncationInfo {
  /** Source tokens given to the model (without the final EOS). */
  tokensKept: number;
  /** Source tokens before truncation. */
  tokensTotal: number;
  truncated: boolean;
  /** UTF-16 offset in the source text where the kept part ends. */
  charsKept: number;
  /** Text tokens the model reads at most in one input (its limit less the special tokens). */
  limit?: number;
  /**
   * Present when the text exceeded the limit and was read in overlapping windows (paper mode)
   * instead of being cut: `truncated` is then false and nothing was left out.
   */
  windows?: InputWindow[];
}

/** One window of a long text: UTF-16 offsets [start, end) in the original text, and its tokens. */
export interface InputWindow {
  start: number;
  end: number;
  tokens: number;
  range: { start: Position; end: Position };
}

export interface CandidateCounts {
  /** Finished hypotheses returned by the beam search. */
  generated: number;
  /** Hypotheses that split into exactly one (question, answer). */
  wellFormed: number;
  /** Well-formed pairs whose non-empty answer occurs in the summary. */
  answerInSummary: number;
  /** Pairs kept after round-robin selection. */
  selected: number;
}

export interface StageTimings {
  encodeMs: number;
  searchMs: number;
  teacherForcingMs: number;
  sourceAnswerMs: number;
  totalMs: number;
}

export interface ModelInfo {
  /** Folder or hub id the model came from. */
  name: string;
  format: string;
  /** Execution provider actually used (`cpu`, `cuda`, ...). */
  device: string;
}

export type QualsStatus = 'ok' | 'no-pairs';

/** Where an option's value came from: the engine's default, the model's quals.json, the user's settings / CLI flags, or the request. */
export type OptionOrigin = 'default' | 'model' | 'user' | 'request';

/** How a result was computed: the effective options, the search that ran, and where each option came from. */
export interface ComputedWith {
  mode: 'paper' | 'reference';
  /** The search that ran: `options.beamSearch`, except reference mode, which always runs `fairseq`. */
  beamSearch: 'grouped' | 'fairseq' | 'hf';
  options: Record<string, unknown>;
  origin: Record<string, OptionOrigin>;
}

export interface QualsResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  /** `no-pairs`: no answerable QA pair was found; `score` is then null, never a made-up number. */
  status: QualsStatus;
  /** Mean of the selected pairs' scores (<= 0 typically; near 0 = consistent). */
  score: number | null;
  /** Human-readable reason when status is not ok. */
  message?: string;
  mode: 'paper' | 'reference';
  model: ModelInfo;
  source: TruncationInfo;
  summaryTokens: number;
  /** The summary's input handling, as `source` (truncated in reference mode, windowed in paper mode). Absent from older results. */
  summaryInput?: TruncationInfo;
  candidates: CandidateCounts;
  /** Selected pairs, in selection order. */
  pairs: QaPairResult[];
  timings: StageTimings;
  /** Effective options and their origins (set by createEngine; absent from results made elsewhere). */
  computedWith?: ComputedWith;
}
