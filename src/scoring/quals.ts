/**
 * QUALS (Nan et al., ACL 2021) on a loaded QA-generation model:
 * 1. generate QA pairs from the summary by diverse beam search;
 * 2. keep well-formed pairs whose answer occurs in the summary, select up to maxPairs round-robin;
 * 3. LL_D / LL_S = mean teacher-forced log-probability of each pair given the source / the summary;
 * 4. QUALS = mean over pairs of LL_D - LL_S.
 * Each pair also records per-token evidence and what the model answers from the source.
 */
import { performance } from 'node:perf_hooks';
import { InputError, ModelError, throwIfAborted } from './errors';
import type { Hypothesis } from './model/beam-search';
import { type ModelFormat, type QaSplit, QAGEN_SEPARATOR } from './model/formats';
import type { WorkCounters } from './model/seq2seq';
import { beamContinuations, beamSearch } from './model/generate';
import { hfLengthCounting } from './model/hf-search';
import type { LoadedModel } from './model/loader';
import { type QualsOptions, effectiveBeamSearch } from './options';
import { type QaPairResult, type QualsResult, type TextSpan, type TokenEvidence, type TruncationInfo, RESULT_SCHEMA_VERSION } from './result';
import { type PairCandidate, authorsFilter, selectAuthors, selectRoundRobin } from './selection';
import { LineIndex, collapseWhitespace, findAnswerSpans, findOccurrences, locateAnswer } from './spans';
import type { TextTokenizer } from './model/tokenizer';
import { type ViewWindow, planWindows } from './windows';

/** Beams for the "source says" answer: a few alternatives to find one that occurs in the source. */
const SOURCE_ANSWER_BEAMS = 4;

/** Texts longer than this are refused before tokenisation (the model would truncate them anyway). */
export const MAX_TEXT_CHARS = 2_000_000;

export function checkText(text: string, role: 'source' | 'summary'): void {
  if (typeof text !== 'string' || text.trim().length === 0) throw new InputError('empty', `The ${role} is empty: there is nothing to check.`);
  if (text.includes('\u0000')) throw new InputError('binary', `The ${role} looks like binary data (it contains NUL characters), not text.`);
  if (text.length > MAX_TEXT_CHARS) {
    throw new InputError('too-large', `The ${role} has ${text.length.toLocaleString('en')} characters; the limit is ${MAX_TEXT_CHARS.toLocaleString('en')}.`);
  }
}

export type Stage = 'encode' | 'search' | 'teacherForcing' | 'sourceAnswer';
/** Called after each stage with the model's cumulative work counters (benchmarks use it). */
export type StageProfiler = (stage: Stage, counters: WorkCounters) => void;

export interface Selected {
  split: QaSplit;
  hypothesis: Hypothesis;
  spans: TextSpan[];
}

/**
 * Spec section 3, steps 1-2: split each hypothesis into (question, answer) pairs, drop the
 * malformed ones, then keep pairs with a non-empty question and answer whose answer occurs in the
 * summary as a whole word. Returns the candidates for selection and the well-formed count.
 */
export function filterHypotheses(
  hypotheses: readonly Hypothesis[],
  split: (tokens: number[]) => QaSplit[] | null,
  summary: string,
  summaryIndex: LineIndex = new LineIndex(summary),
  rules: { keepEmptyAnswers?: boolean; substring?: boolean } = {},
): { candidates: PairCandidate<Selected>[]; wellFormed: number } {
  let wellFormed = 0;
  const candidates: PairCandidate<Selected>[] = [];
  for (const h of hypotheses) {
    const splits = split(h.tokens);
    if (!splits) continue;
    wellFormed++;
    for (const s of splits) {
      if (!s.question || (!s.answer && !rules.keepEmptyAnswers)) continue;
      const spans = rules.substring ? findOccurrences(summary, s.answer).map((m) => summaryIndex.span(m.start, m.end)) : findAnswerSpans(summary, s.answer, summaryIndex);
      if (spans.length === 0 && !(rules.keepEmptyAnswers && !s.answer)) continue;
      candidates.push({ question: s.question, answer: s.answer, sumScore: h.sumLogp, payload: { split: s, hypothesis: h, spans } });
    }
  }
  return { candidates, wellFormed };
}

/**
 * Reference mode's filter (the authors' evaluate_hypo.py): each hypothesis is decoded to text and
 * split on ' strutConnector' (exactly one); the answer with its leading space, lower-cased, must be
 * a substring of the lower-cased summary the model read (`context`); empty answers pass. For lmqg
 * models each "question: Q, answer: A" segment takes the same test with " A". Candidates keep the
 * authors' untrimmed question/answer strings (selection compares them) and are scored by the
 * hypothesis's unnormalised score; spans are case-insensitive substring occurrences in `summary`.
 */
export function filterHypothesesReference(
  hypotheses: readonly Hypothesis[],
  format: ModelFormat,
  tokenizer: TextTokenizer,
  context: string,
  summary: string,
  summaryIndex: LineIndex = new LineIndex(summary),
): { candidates: PairCandidate<Selected>[]; wellFormed: number } {
  let wellFormed = 0;
  const candidates: PairCandidate<Selected>[] = [];
  const spansOf = (answer: string) => findOccurrences(summary, answer).map((m) => summaryIndex.span(m.start, m.end));
  const push = (question: string, answer: string, split: QaSplit, h: Hypothesis) =>
    candidates.push({ question, answer, sumScore: h.sumLogp, payload: { split, hypothesis: h, spans: spansOf(answer) } });
  for (const h of hypotheses) {
    if (format.name === 'qagen') {
      const text = tokenizer.decode(h.tokens);
      if (text.split(` ${QAGEN_SEPARATOR.slice(1)}`).length !== 2) continue;
      wellFormed++;
      const qa = authorsFilter(text, context);
      if (!qa) continue;
      push(qa.question, qa.answer, format.split(h.tokens)?.[0] ?? reencodedSplit(tokenizer, format, qa.question, qa.answer), h);
      continue;
    }
    const splits = format.split(h.tokens);
    if (!splits) continue;
    wellFormed++;
    for (const s of splits) {
      if (context.toLowerCase().includes(` ${s.answer}`.toLowerCase())) push(s.question, ` ${s.answer}`, s, h);
    }
  }
  return { candidates, wellFormed };
}

/**
 * A QAGen split rebuilt from the authors' text parts, for the rare hypothesis whose text has one
 * ' strutConnector' but whose tokens do not (the separator spelled by other tokens): the authors
 * score its generated tokens; this scores the re-encoded question + separator + answer + EOS.
 */
function reencodedSplit(tokenizer: TextTokenizer, format: ModelFormat, question: string, answer: string): QaSplit {
  const sep = tokenizer.tokenId(QAGEN_SEPARATOR)!;
  const questionIds = tokenizer.encode(question);
  const answerIds = tokenizer.encode(answer);
  return {
    question: question.trim(),
    answer: answer.trim(),
    questionIds,
    answerIds,
    targetIds: [...questionIds, sep, ...answerIds, format.eosId],
    questionLength: questionIds.length,
    separatorLength: 1,
  };
}

/** The text as the authors feed it (Python's str.strip(); no whitespace collapsing), with offsets back to the original. */
function strippedView(text: string): { text: string; originalOffset: (offset: number) => number } {
  const lead = text.length - text.trimStart().length;
  return { text: text.trim(), originalOffset: (offset) => offset + lead };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Lowest log-probability reported: keeps an impossible token (-Infinity, e.g. from fp16 logits) finite, so results stay valid JSON numbers. */
export const MIN_LOGP = -1e4;
const clampLogp = (rows: number[][]) => rows.map((r) => r.map((x) => (Number.isNaN(x) ? MIN_LOGP : Math.max(MIN_LOGP, x))));

/** A text as the model reads it: the view (collapsed or stripped), its encoder inputs (one, or one per window) and the report. */
interface PreparedInput {
  inputs: number[][];
  /** View offsets of each input's text (one entry covering the whole view when not windowed). */
  windows: ViewWindow[];
  /** Original offsets of each input's text. */
  spans: { start: number; end: number }[];
  info: TruncationInfo;
}

/**
 * Encoder inputs for one text. Reference mode keeps the authors' truncation; paper mode reads a text
 * over the model's limit in overlapping windows (./windows.ts), so nothing is left unchecked.
 */
function prepareInput(format: ModelFormat, original: string, view: { text: string; originalOffset: (o: number) => number }, reference: boolean): PreparedInput {
  const full = format.encodeInput(view.text, { reference });
  const origEnd = (end: number) => (end <= 0 ? 0 : end >= view.text.length ? original.trimEnd().length : view.originalOffset(end - 1) + 1);
  const base: TruncationInfo = {
    tokensKept: full.tokensKept,
    tokensTotal: full.tokensTotal,
    truncated: full.truncated,
    charsKept: full.truncated ? view.originalOffset(full.charsKept) : original.length,
  };
  if (!full.truncated || reference) {
    return {
      inputs: [full.ids],
      windows: [{ start: 0, end: view.text.length }],
      spans: [{ start: view.originalOffset(0), end: full.truncated ? base.charsKept : origEnd(view.text.length) }],
      info: full.truncated ? { ...base, limit: full.tokensKept } : base,
    };
  }
  const windows = planWindows(view.text, full.tokensTotal, full.tokensKept, (slice) => !format.encodeInput(slice).truncated);
  const encoded = windows.map((w) => format.encodeInput(view.text.slice(w.start, w.end)));
  const spans = windows.map((w) => ({ start: view.originalOffset(w.start), end: origEnd(w.end) }));
  const index = new LineIndex(original);
  return {
    inputs: encoded.map((e) => e.ids),
    windows,
    spans,
    info: {
      tokensKept: full.tokensTotal,
      tokensTotal: full.tokensTotal,
      truncated: false,
      charsKept: original.length,
      limit: full.tokensKept,
      windows: spans.map((sp, i) => ({ ...index.span(sp.start, sp.end), tokens: encoded[i]!.tokensKept })),
    },
  };
}

/**
 * Paper mode's deviations from the authors' code (docs/quals-engine.md, "Deviations"), each on by
 * default; switching one off (false) does that step as the authors do, so its effect can be
 * measured (models/tiny-qagen/deviations.ts). Not a user option.
 */
export interface PaperDeviations {
  /** 1: empty answers are dropped (authors: kept). */
  dropEmptyAnswers: boolean;
  /** 2: answers match whole words (authors: any substring). */
  wholeWord: boolean;
  /** 3: the cap on selected pairs is exact (authors: checked between passes). */
  exactCap: boolean;
  /** 6: a duplicate does not use up its answer's turn, and a pass of duplicates does not stop selection (authors: it does). */
  duplicateKeepsTurn: boolean;
  /** 4: LL_S is teacher-forced on the summary without the penalty (authors: the generation score). */
  teacherForcedLlS: boolean;
}

export async function scoreQuals(
  model: LoadedModel,
  modelName: string,
  source: string,
  summary: string,
  options: QualsOptions,
  signal?: AbortSignal,
  profile?: StageProfiler,
  deviations: Partial<PaperDeviations> = {},
): Promise<QualsResult> {
  const dev: PaperDeviations = { dropEmptyAnswers: true, wholeWord: true, exactCap: true, duplicateKeepsTurn: true, teacherForcedLlS: true, ...deviations };
  checkText(source, 'source');
  checkText(summary, 'summary');
  const { format, seq2seq, tokenizer } = model;
  const t0 = performance.now();
  let encodeMs = 0;
  const encode = async (ids: number[]) => {
    const t = performance.now();
    const enc = await seq2seq.encode(ids);
    encodeMs += performance.now() - t;
    return enc;
  };

  // The model reads whitespace-collapsed text (reference mode: the authors' stripped text and their
  // truncation); spans are found in the original texts. Texts over the limit are windowed in paper mode.
  const reference = options.mode === 'reference';
  const summaryView = reference ? strippedView(summary) : collapseWhitespace(summary);
  const sourceView = reference ? strippedView(source) : collapseWhitespace(source);
  const summaryIn = prepareInput(format, summary, summaryView, reference);
  const sourceIn = prepareInput(format, source, sourceView, reference);
  // One window: its encoding is kept for every stage; several: each stage re-encodes the window it needs (bounded memory).
  const summaryEnc0 = await encode(summaryIn.inputs[0]!);
  throwIfAborted(signal);
  const sourceEnc0 = sourceIn.inputs.length === 1 ? await encode(sourceIn.inputs[0]!) : null;
  const summaryEncOf = async (w: number) => (w === 0 && summaryEnc0 ? summaryEnc0 : encode(summaryIn.inputs[w]!));
  const sourceEncOf = async (w: number) => (sourceEnc0 ?? encode(sourceIn.inputs[w]!));
  const mark = (stage: Stage) => profile?.(stage, { ...seq2seq.counters });
  mark('encode');

  const generationConfig = model.folder.generationConfig as Record<string, unknown>;
  const search = effectiveBeamSearch(options);
  // fairseq: max_len = min(max_len_b, max_decoder_positions - 1)
  const positions = model.folder.config.max_position_embeddings;
  const maxLength = search === 'fairseq' && typeof positions === 'number' && positions > 1 ? Math.min(options.maxLength, positions - 1) : options.maxLength;
  const intField = (k: string) => (typeof generationConfig[k] === 'number' && Number.isInteger(generationConfig[k]) ? (generationConfig[k] as number) : undefined);
  const searchConfig = {
    beamSearch: search,
    forcedEosId: intField('forced_eos_token_id') ?? null,
    hfMinLength: intField('min_length') ?? 0,
    hfLengths: hfLengthCounting(generationConfig.transformers_version ?? model.folder.config.transformers_version),
    numBeams: options.numBeams,
    numBeamGroups: options.numBeamGroups,
    diversityStrength: options.diversityStrength,
    diversityCount: options.diversityCount,
    minLength: options.minLength,
    maxLength,
    lengthPenalty: options.lengthPenalty,
    eosId: format.eosId,
    padId: format.padId,
  };

  // Question generation on every summary window; the windows' pairs are pooled before selection.
  const summaryIndex = new LineIndex(summary);
  let generated = 0;
  let wellFormed = 0;
  const candidates: PairCandidate<Selected & { window: number }>[] = [];
  let searchMs = 0;
  for (let w = 0; w < summaryIn.inputs.length; w++) {
    throwIfAborted(signal);
    const enc = await summaryEncOf(w);
    const ts = performance.now();
    const hypotheses = await beamSearch(seq2seq, enc, searchConfig, signal, format.decoderPrefix);
    searchMs += performance.now() - ts;
    const found = reference
      ? filterHypothesesReference(hypotheses, format, tokenizer, summaryView.text, summary, summaryIndex)
      : filterHypotheses(hypotheses, (tokens) => format.split(tokens), summary, summaryIndex, { keepEmptyAnswers: !dev.dropEmptyAnswers, substring: !dev.wholeWord });
    generated += hypotheses.length;
    wellFormed += found.wellFormed;
    for (const c of found.candidates) candidates.push({ ...c, payload: { ...c.payload, window: w } });
  }
  mark('search');
  if (generated > 0 && wellFormed === 0) {
    throw new ModelError(
      'format',
      `None of the ${generated} generated sequences has the "${format.name}" shape (question, separator, answer): the model format is probably wrong for this model.`,
    );
  }
  const selected = (
    reference
      ? selectAuthors(candidates, options.maxPairs)
      : !dev.duplicateKeepsTurn
        ? selectAuthors(candidates, options.maxPairs).slice(0, dev.exactCap ? options.maxPairs : undefined)
        : selectRoundRobin(candidates, options.maxPairs, !dev.exactCap)
  ).map((c) => c.payload);
  const tSelected = performance.now();

  const base = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    mode: options.mode,
    model: { name: modelName, format: format.name, device: seq2seq.provider },
    source: sourceIn.info,
    summaryTokens: summaryIn.info.tokensTotal,
    summaryInput: summaryIn.info,
    candidates: { generated, wellFormed, answerInSummary: candidates.length, selected: selected.length },
  } as const;

  if (selected.length === 0) {
    const t = performance.now();
    return {
      ...base,
      status: 'no-pairs',
      score: null,
      message: 'No answerable QA pairs: none of the generated questions has an answer that occurs in the summary.',
      pairs: [],
      timings: { encodeMs, searchMs, teacherForcingMs: 0, sourceAnswerMs: 0, totalMs: t - t0 },
    };
  }

  throwIfAborted(signal);
  const targets = selected.map((s) => s.split.targetIds);
  const encBeforeTf = encodeMs;
  // LL_S under the summary window each pair came from.
  const lpSummary: number[][] = new Array(selected.length);
  for (let w = 0; w < summaryIn.inputs.length; w++) {
    const rows = selected.map((s, i) => (s.window === w ? i : -1)).filter((i) => i >= 0);
    if (rows.length === 0) continue;
    const lp = clampLogp(await seq2seq.teacherForce(await summaryEncOf(w), rows.map((i) => targets[i]!), options.maxLogitsFloats, format.decoderPrefix));
    rows.forEach((i, r) => (lpSummary[i] = lp[r]!));
    throwIfAborted(signal);
  }
  // LL_D under every source window; each pair keeps its best window.
  const lpSource: number[][] = new Array(selected.length);
  const bestWindow = new Array<number>(selected.length).fill(0);
  const bestLl = new Array<number>(selected.length).fill(-Infinity);
  for (let w = 0; w < sourceIn.inputs.length; w++) {
    const lp = clampLogp(await seq2seq.teacherForce(await sourceEncOf(w), targets, options.maxLogitsFloats, format.decoderPrefix));
    lp.forEach((row, i) => {
      const ll = mean(row);
      if (ll > bestLl[i]!) {
        bestLl[i] = ll;
        bestWindow[i] = w;
        lpSource[i] = row;
      }
    });
    throwIfAborted(signal);
  }
  const t3 = performance.now();
  mark('teacherForcing');
  const tfEncodeMs = encodeMs - encBeforeTf;

  // "Source says": decoded from each pair's best source window.
  const answers: (Awaited<ReturnType<typeof beamContinuations>>[number] | undefined)[] = new Array(selected.length);
  if (options.sourceAnswerMaxTokens > 0) {
    for (let w = 0; w < sourceIn.inputs.length; w++) {
      const rows = selected.map((_, i) => (bestWindow[i] === w ? i : -1)).filter((i) => i >= 0);
      if (rows.length === 0) continue;
      const out = await beamContinuations(
        seq2seq,
        await sourceEncOf(w),
        rows.map((i) => [...format.decoderPrefix, ...format.answerPrompt(selected[i]!.split)]),
        { numBeams: SOURCE_ANSWER_BEAMS, maxLength: options.sourceAnswerMaxTokens, eosId: format.eosId, padId: format.padId },
        signal,
      );
      rows.forEach((i, r) => (answers[i] = out[r]));
    }
  }
  const t4 = performance.now();
  mark('sourceAnswer');

  const sourceIndex = new LineIndex(source);
  const sourceWindowed = sourceIn.inputs.length > 1;
  const summaryWindowed = summaryIn.inputs.length > 1;
  const pairs: QaPairResult[] = selected.map((s, i) => {
    const llSource = mean(lpSource[i]!);
    const llSummary = options.mode === 'reference' || !dev.teacherForcedLlS ? s.hypothesis.score : mean(lpSummary[i]!);
    const win = sourceIn.spans[bestWindow[i]!]!;
    const inWindow = (sp: TextSpan) => !sourceWindowed || (sp.start >= win.start && sp.end <= win.end);
    let sourceAnswer: QaPairResult['sourceAnswer'] = null;
    const candidates = answers[i];
    if (candidates && candidates.length > 0) {
      const texts = candidates.map((c) => format.answerText(c.ids));
      // What the source says should be a phrase OF the source (it feeds "Replace with" quick fixes):
      // the best-scoring candidate found in the source as a whole word (in the pair's window when
      // windowed, so "show in source" goes where the evidence was read), else the best one.
      const pick = Math.max(0, texts.findIndex((t) => t !== '' && findAnswerSpans(source, t, sourceIndex).some(inWindow)));
      const text = texts[pick]!;
      sourceAnswer = {
        text,
        meanLogp: candidates[pick]!.meanLogp,
        span: text ? locateInWindow(source, text, sourceIndex, inWindow) : null,
        agrees: text.trim().toLowerCase() === s.split.answer.trim().toLowerCase(),
      };
    }
    return {
      id: `q${i + 1}`,
      question: s.split.question,
      answer: s.split.answer,
      llSource,
      llSummary,
      score: llSource - llSummary,
      generationScore: s.hypothesis.score,
      spans: s.spans,
      tokens: tokenEvidence(tokenizer, s.split, lpSummary[i]!, lpSource[i]!),
      sourceAnswer,
      ...(sourceWindowed ? { sourceWindow: bestWindow[i]! } : {}),
      ...(summaryWindowed ? { summaryWindow: s.window } : {}),
    };
  });
  const t5 = performance.now();
  return {
    ...base,
    status: 'ok',
    score: mean(pairs.map((p) => p.score)),
    pairs,
    timings: { encodeMs, searchMs, teacherForcingMs: t3 - tSelected - tfEncodeMs, sourceAnswerMs: t4 - t3, totalMs: t5 - t0 },
  };
}

/** The answer's place in the source: a whole-word occurrence inside the window, else any in the window, else locateAnswer over the whole text. */
function locateInWindow(text: string, answer: string, index: LineIndex, inWindow: (sp: TextSpan) => boolean): TextSpan | null {
  const all = findOccurrences(text, answer).map((m) => ({ m, sp: index.span(m.start, m.end) }));
  const pick = all.find((x) => x.m.wholeWord && inWindow(x.sp)) ?? all.find((x) => inWindow(x.sp));
  return pick ? pick.sp : locateAnswer(text, answer, index);
}

/** Per-token evidence, with offsets relative to the trimmed question / answer strings. */
function tokenEvidence(tokenizer: LoadedModel['tokenizer'], split: QaSplit, lpSummary: number[], lpSource: number[]): TokenEvidence[] {
  const out: TokenEvidence[] = [];
  const place = (ids: number[], visible: string, role: 'question' | 'answer', from: number) => {
    const { text, pieces } = tokenizer.pieces(ids);
    const lead = text.length - text.trimStart().length;
    const shift = text.trimStart().startsWith(visible) ? lead : text.indexOf(visible);
    pieces.forEach((p, j) => {
      const start = p.start - shift;
      const end = p.end - shift;
      const inside = shift >= 0 && start >= 0 && end <= visible.length;
      out.push({
        text: p.text,
        role,
        start: inside ? Math.max(0, start) : null,
        end: inside ? end : null,
        logpSummary: lpSummary[from + j]!,
        logpSource: lpSource[from + j]!,
      });
    });
  };
  const q = split.questionLength;
  const sep = split.separatorLength;
  const answerTargetIds = split.targetIds.slice(q + sep, -1);
  place(split.targetIds.slice(0, q), split.question, 'question', 0);
  for (let j = 0; j < sep; j++) {
    const id = split.targetIds[q + j]!;
    out.push({ text: tokenizer.decode([id]) || (tokenizer.tokenString(id) ?? ''), role: 'separator', start: null, end: null, logpSummary: lpSummary[q + j]!, logpSource: lpSource[q + j]! });
  }
  place(answerTargetIds, split.answer, 'answer', q + sep);
  const last = split.targetIds.length - 1;
  out.push({ text: '</s>', role: 'eos', start: null, end: null, logpSummary: lpSummary[last]!, logpSource: lpSource[last]! });
  return out;
}
