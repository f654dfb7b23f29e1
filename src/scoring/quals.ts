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
import { type QaPairResult, type QualsResult, type TextSpan, type TokenEvidence, RESULT_SCHEMA_VERSION } from './result';
import { type PairCandidate, authorsFilter, selectAuthors, selectRoundRobin } from './selection';
import { LineIndex, collapseWhitespace, findAnswerSpans, findOccurrences, locateAnswer } from './spans';
import type { TextTokenizer } from './model/tokenizer';

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
): { candidates: PairCandidate<Selected>[]; wellFormed: number } {
  let wellFormed = 0;
  const candidates: PairCandidate<Selected>[] = [];
  for (const h of hypotheses) {
    const splits = split(h.tokens);
    if (!splits) continue;
    wellFormed++;
    for (const s of splits) {
      if (!s.answer || !s.question) continue;
      const spans = findAnswerSpans(summary, s.answer, summaryIndex);
      if (spans.length === 0) continue;
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

export async function scoreQuals(
  model: LoadedModel,
  modelName: string,
  source: string,
  summary: string,
  options: QualsOptions,
  signal?: AbortSignal,
  profile?: StageProfiler,
): Promise<QualsResult> {
  checkText(source, 'source');
  checkText(summary, 'summary');
  const { format, seq2seq, tokenizer } = model;
  const t0 = performance.now();

  // The model reads whitespace-collapsed text (reference mode: the authors' stripped text and their
  // truncation); spans are found in the original texts.
  const reference = options.mode === 'reference';
  const summaryView = reference ? strippedView(summary) : collapseWhitespace(summary);
  const summaryInput = format.encodeInput(summaryView.text, { reference });
  const sourceView = reference ? strippedView(source) : collapseWhitespace(source);
  const sourceInput = format.encodeInput(sourceView.text, { reference });
  const summaryEnc = await seq2seq.encode(summaryInput.ids);
  throwIfAborted(signal);
  const sourceEnc = await seq2seq.encode(sourceInput.ids);
  const t1 = performance.now();
  const mark = (stage: Stage) => profile?.(stage, { ...seq2seq.counters });
  mark('encode');

  const generationConfig = model.folder.generationConfig as Record<string, unknown>;
  const search = effectiveBeamSearch(options);
  // fairseq: max_len = min(max_len_b, max_decoder_positions - 1)
  const positions = model.folder.config.max_position_embeddings;
  const maxLength = search === 'fairseq' && typeof positions === 'number' && positions > 1 ? Math.min(options.maxLength, positions - 1) : options.maxLength;
  const intField = (k: string) => (typeof generationConfig[k] === 'number' && Number.isInteger(generationConfig[k]) ? (generationConfig[k] as number) : undefined);
  const hypotheses = await beamSearch(
    seq2seq,
    summaryEnc,
    {
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
    },
    signal,
    format.decoderPrefix,
  );
  const t2 = performance.now();
  mark('search');

  const summaryIndex = new LineIndex(summary);
  const { candidates, wellFormed } = reference
    ? filterHypothesesReference(hypotheses, format, tokenizer, summaryView.text, summary, summaryIndex)
    : filterHypotheses(hypotheses, (tokens) => format.split(tokens), summary, summaryIndex);
  if (hypotheses.length > 0 && wellFormed === 0) {
    throw new ModelError(
      'format',
      `None of the ${hypotheses.length} generated sequences has the "${format.name}" shape (question, separator, answer): the model format is probably wrong for this model.`,
    );
  }
  const selected = (reference ? selectAuthors(candidates, options.maxPairs) : selectRoundRobin(candidates, options.maxPairs)).map((c) => c.payload);

  const base = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    mode: options.mode,
    model: { name: modelName, format: format.name, device: seq2seq.provider },
    source: {
      tokensKept: sourceInput.tokensKept,
      tokensTotal: sourceInput.tokensTotal,
      truncated: sourceInput.truncated,
      charsKept: sourceInput.truncated ? sourceView.originalOffset(sourceInput.charsKept) : source.length,
    },
    summaryTokens: summaryInput.tokensTotal,
    candidates: { generated: hypotheses.length, wellFormed, answerInSummary: candidates.length, selected: selected.length },
  } as const;

  if (selected.length === 0) {
    const t = performance.now();
    return {
      ...base,
      status: 'no-pairs',
      score: null,
      message: 'No answerable QA pairs: none of the generated questions has an answer that occurs in the summary.',
      pairs: [],
      timings: { encodeMs: t1 - t0, searchMs: t2 - t1, teacherForcingMs: 0, sourceAnswerMs: 0, totalMs: t - t0 },
    };
  }

  throwIfAborted(signal);
  const targets = selected.map((s) => s.split.targetIds);
  const lpSummary = clampLogp(await seq2seq.teacherForce(summaryEnc, targets, options.maxLogitsFloats, format.decoderPrefix));
  throwIfAborted(signal);
  const lpSource = clampLogp(await seq2seq.teacherForce(sourceEnc, targets, options.maxLogitsFloats, format.decoderPrefix));
  const t3 = performance.now();
  mark('teacherForcing');

  const answers =
    options.sourceAnswerMaxTokens > 0
      ? await beamContinuations(
          seq2seq,
          sourceEnc,
          selected.map((s) => [...format.decoderPrefix, ...format.answerPrompt(s.split)]),
          { numBeams: SOURCE_ANSWER_BEAMS, maxLength: options.sourceAnswerMaxTokens, eosId: format.eosId, padId: format.padId },
          signal,
        )
      : null;
  const t4 = performance.now();
  mark('sourceAnswer');

  const sourceIndex = new LineIndex(source);
  const pairs: QaPairResult[] = selected.map((s, i) => {
    const llSource = mean(lpSource[i]!);
    const llSummary = options.mode === 'reference' ? s.hypothesis.score : mean(lpSummary[i]!);
    let sourceAnswer: QaPairResult['sourceAnswer'] = null;
    const candidates = answers?.[i];
    if (candidates && candidates.length > 0) {
      const texts = candidates.map((c) => format.answerText(c.ids));
      // What the source says should be a phrase OF the source (it feeds "Replace with" quick fixes):
      // the best-scoring candidate found in the source as a whole word, else the best one.
      const pick = Math.max(0, texts.findIndex((t) => t !== '' && findAnswerSpans(source, t, sourceIndex).length > 0));
      const text = texts[pick]!;
      sourceAnswer = {
        text,
        meanLogp: candidates[pick]!.meanLogp,
        span: text ? locateAnswer(source, text, sourceIndex) : null,
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
    };
  });
  const t5 = performance.now();
  return {
    ...base,
    status: 'ok',
    score: mean(pairs.map((p) => p.score)),
    pairs,
    timings: { encodeMs: t1 - t0, searchMs: t2 - t1, teacherForcingMs: t3 - t2, sourceAnswerMs: t4 - t3, totalMs: t5 - t0 },
  };
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
