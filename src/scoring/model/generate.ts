/**
 * Decoding loops on a Seq2Seq model: beam search (all beams in one decoder call per step; the
 * bookkeeping is the engine's grouped search, fairseq's or Hugging Face's) and beam continuation of
 * forced prompts (the "what does the source answer" query).
 */
import { throwIfAborted } from '../errors';
import type { BeamSearchImpl } from '../options';
import { type BeamSearchConfig, type Hypothesis, type SearchBookkeeping, type StepDecision, type StepScores, DiverseBeamSearch } from './beam-search';
import { FairseqBeamSearch } from './fairseq-search';
import { type HfLengthCounting, HfBeamSearch } from './hf-search';
import type { DecoderState, EncodedText, Seq2Seq } from './seq2seq';
import { type TopKResult, floatData } from './ort';

/** The search options plus what the fairseq and Hugging Face searches read. */
export interface SearchConfig extends BeamSearchConfig {
  /** Which bookkeeping runs (default `grouped`, this engine's own). */
  beamSearch?: BeamSearchImpl;
  /** `hf` only: the checkpoint's forced_eos_token_id (generation_config), or null. */
  forcedEosId?: number | null;
  /** `hf` only: the checkpoint's min_length (generation_config; start token included), 0 if unset. */
  hfMinLength?: number;
  /** `hf` only: transformers' length convention (hfLengthCounting of a version); default `sequence` (4.35). */
  hfLengths?: HfLengthCounting;
}

/**
 * The bookkeeping for one search. `prefixLength` tokens were forced after the start token.
 * Lengths as each implementation counts them (docs/quals-engine.md):
 * - grouped: maxLength generated tokens, EOS included;
 * - fairseq: maxLength = max_len_b, so up to maxLength tokens + EOS;
 * - hf: maxLength = max_new_tokens (a forced prefix counts), minLength = min_new_tokens.
 */
export function createSearch(config: SearchConfig, prefixLength = 0): SearchBookkeeping {
  const impl = config.beamSearch ?? 'grouped';
  if (impl === 'fairseq') {
    return new FairseqBeamSearch({
      numBeams: config.numBeams,
      numBeamGroups: config.numBeamGroups,
      diversityStrength: config.diversityStrength,
      minLength: config.minLength,
      maxLength: config.maxLength,
      lengthPenalty: config.lengthPenalty,
      eosId: config.eosId,
      padId: config.padId,
    });
  }
  if (impl === 'hf') {
    return new HfBeamSearch({
      numBeams: config.numBeams,
      numBeamGroups: config.numBeamGroups,
      diversityPenalty: config.numBeamGroups > 1 ? config.diversityStrength : 0,
      lengthPenalty: config.lengthPenalty,
      maxLength: config.maxLength + 1,
      minLength: config.hfMinLength ?? 0,
      minNewTokens: config.minLength,
      initialLength: 1 + prefixLength,
      forcedEosId: config.forcedEosId ?? null,
      eosId: config.eosId,
      padId: config.padId,
      lengths: config.hfLengths ?? 'sequence',
    });
  }
  return new DiverseBeamSearch(config);
}

/**
 * Beam search from the start token (and the format's forced `decoderPrefix`, which the
 * hypotheses then leave out) over an encoded text.
 */
export async function beamSearch(
  model: Seq2Seq,
  enc: EncodedText,
  config: SearchConfig,
  signal?: AbortSignal,
  decoderPrefix: readonly number[] = [],
): Promise<Hypothesis[]> {
  const search = createSearch(config, decoderPrefix.length);
  const V = model.vocabOf(enc.firstLogits);
  if (decoderPrefix.length === 0) return runSearch(model, search, model.startState(enc, config.numBeams), floatData(enc.firstLogits), V, config.eosId, signal);
  const first = await model.step(model.emptyState(enc, 1), [model.decoderStartId, ...decoderPrefix], decoderPrefix.length + 1);
  const last = first.logits.dims[1]! - 1;
  const state = model.expandState(enc, first.state, config.numBeams);
  return runSearch(model, search, state, floatData(first.logits).subarray(last * V, (last + 1) * V), V, config.eosId, signal);
}

/**
 * The search loop: `state` holds numBeams identical rows positioned where `firstLogits` (one row of
 * V floats) predicts the next token; each step is one decoder call for all beams.
 */
export async function runSearch(
  model: Seq2Seq,
  search: SearchBookkeeping,
  initial: DecoderState,
  firstLogits: Float32Array,
  V: number,
  eosId: number,
  signal?: AbortSignal,
): Promise<Hypothesis[]> {
  const K = search.candidatesPerRow;
  const extra = [eosId];
  let state = initial;
  let scores = await model.helpers.topK(firstLogits, V, K, extra);
  for (;;) {
    throwIfAborted(signal);
    const decision = search.step({ ...scores, eosLogp: scores.extraLogp });
    if (decision.done) break;
    if (!isIdentity(decision.sourceRows)) state = model.reorder(state, decision.sourceRows);
    const stepped = await model.stepTopK(state, decision.tokens, K, extra);
    state = stepped.state;
    scores = stepped.scores;
  }
  return search.result();
}

function isIdentity(rows: readonly number[]): boolean {
  return rows.every((r, i) => r === i);
}

/** A continuation of a forced prompt: ids exclude the prompt; meanLogp over them (EOS included when generated). */
export interface Continuation {
  ids: number[];
  meanLogp: number;
}

export interface ContinuationConfig {
  numBeams: number;
  maxLength: number;
  eosId: number;
  padId: number;
}

function continuationSearch(config: ContinuationConfig): DiverseBeamSearch {
  return new DiverseBeamSearch({
    numBeams: config.numBeams,
    numBeamGroups: 1,
    diversityStrength: 0,
    diversityCount: 'fairseq',
    minLength: 1,
    maxLength: config.maxLength,
    lengthPenalty: 1,
    eosId: config.eosId,
    padId: config.padId,
  });
}

const continuations = (hyps: Hypothesis[]): Continuation[] => hyps.map((h) => ({ ids: h.tokens, meanLogp: h.rawSumLogp / h.tokens.length }));

/**
 * Merged decoder: bytes of tiled context (cross-attention cache + hidden states) one batch of
 * continuation searches may hold. Its rows each carry a copy of the context (and the If node copies
 * it again at every call), so batching there saves little and the bound keeps it as small as one
 * 4-beam search on a long source (~150 MB at BART-base, 1,000 tokens).
 */
const MERGED_CONTEXT_BUDGET = 192 * 2 ** 20;

/**
 * For each prompt, the best few answer continuations under the encoded text, by beam search (one
 * group, no diversity), best first: the same hypotheses as one search per prompt
 * (`beamContinuationsEach`), with all prompts' rows in one decoder call per step.
 *
 * The decoder has no self-attention mask, so rows of one call must share the cached length: the
 * first pass forces the shortest prompt's length of every prompt at once, then every call moves all
 * rows one token on — a prompt still being forced feeds its next token (one row), a prompt whose
 * search runs feeds its beams — and each search finishes on its own. `quals-step` drops finished
 * rows (history_rows); the merged decoder keeps a fixed layout of numBeams rows per prompt (its
 * context is tiled per row count) and batches only as many prompts as MERGED_CONTEXT_BUDGET allows.
 */
export async function beamContinuations(
  model: Seq2Seq,
  enc: EncodedText,
  prompts: readonly (readonly number[])[],
  config: ContinuationConfig,
  signal?: AbortSignal,
): Promise<Continuation[][]> {
  const perBatch = model.design === 'quals-step' ? prompts.length : Math.max(1, Math.floor(MERGED_CONTEXT_BUDGET / (config.numBeams * model.contextBytesPerRow(enc))));
  const out: Continuation[][] = [];
  for (let i = 0; i < prompts.length; i += perBatch) out.push(...(await continuationsBatch(model, enc, prompts.slice(i, i + perBatch), config, signal)));
  return out;
}

interface PromptSearch {
  /** Start token + prompt. */
  seq: number[];
  search: DiverseBeamSearch;
  /** Rows of the current state that hold this prompt (one while forced; the beams while searching). */
  rows: number[];
  /** The search's last decision while it runs; null while the prompt is forced or once done. */
  decision: StepDecision | null;
  result: Continuation[] | null;
}

async function continuationsBatch(
  model: Seq2Seq,
  enc: EncodedText,
  prompts: readonly (readonly number[])[],
  config: ContinuationConfig,
  signal?: AbortSignal,
): Promise<Continuation[][]> {
  if (prompts.length === 0) return [];
  throwIfAborted(signal);
  const beams = config.numBeams;
  const fixed = model.design !== 'quals-step';
  const jobs: PromptSearch[] = prompts.map((p, i) => ({ seq: [model.decoderStartId, ...p], search: continuationSearch(config), rows: [i], decision: null, result: null }));
  const K = jobs[0]!.search.candidatesPerRow;
  const extra = [config.eosId];
  const advance = (job: PromptSearch, scores: StepScores) => {
    const decision = job.search.step(scores);
    if (decision.done) {
      job.decision = null;
      job.result = continuations(job.search.result());
    } else job.decision = decision;
  };
  const slice = (s: TopKResult, start: number, rows: number): StepScores => ({
    rows,
    k: s.k,
    logp: s.logp.subarray(start * s.k, (start + rows) * s.k),
    ids: s.ids.subarray(start * s.k, (start + rows) * s.k),
    eosLogp: s.extraLogp.subarray(start, start + rows),
  });

  // The first pass: the shortest prompt's length of every prompt, one row each.
  const m = Math.min(...jobs.map((j) => j.seq.length));
  const first = await model.step(model.emptyState(enc, jobs.length), jobs.flatMap((j) => j.seq.slice(0, m)), m);
  let state = first.state;
  const ready = jobs.map((j, i) => (j.seq.length === m ? i : -1)).filter((i) => i >= 0);
  if (ready.length > 0) {
    const V = model.vocabOf(first.logits);
    const logits = floatData(first.logits);
    const last = new Float32Array(ready.length * V);
    ready.forEach((i, r) => last.set(logits.subarray((i * m + m - 1) * V, (i * m + m) * V), r * V));
    const scores = await model.helpers.topK(last, V, K, extra);
    ready.forEach((i, r) => advance(jobs[i]!, slice(scores, r, 1)));
  }

  while (jobs.some((j) => !j.result)) {
    throwIfAborted(signal);
    const t = state.length;
    const idx: number[] = [];
    const tokens: number[] = [];
    const owners: { job: PromptSearch; start: number; count: number }[] = [];
    for (const job of jobs) {
      const start = idx.length;
      if (job.result) {
        // Fixed layout: a finished prompt's rows run on, fed pad, and are never read.
        if (fixed) for (const r of job.rows) idx.push(r), tokens.push(config.padId);
      } else if (job.decision) {
        const d = job.decision;
        // A dead beam's row is never read: any of the prompt's rows does (a one-row prompt has only row 0).
        for (let b = 0; b < beams; b++) idx.push(job.rows[Math.min(d.sourceRows[b]!, job.rows.length - 1)]!), tokens.push(d.tokens[b]!);
      } else {
        for (let b = 0; b < (fixed ? beams : 1); b++) idx.push(job.rows[0]!), tokens.push(job.seq[t]!);
      }
      if (idx.length > start) job.rows = Array.from({ length: idx.length - start }, (_, r) => start + r);
      if (!job.result) owners.push({ job, start, count: idx.length - start });
    }
    if (idx.length !== state.rows || !isIdentity(idx)) state = model.selectRows(enc, state, idx);
    const stepped = await model.stepTopK(state, tokens, K, extra);
    state = stepped.state;
    for (const { job, start, count } of owners) {
      if (job.decision) advance(job, slice(stepped.scores, start, count));
      else if (t + 1 === job.seq.length) advance(job, slice(stepped.scores, start, 1));
    }
  }
  return jobs.map((j) => j.result!);
}

/**
 * One search per prompt: the forced prompt in one pass, then its 4-beam search. The yardstick the
 * batched `beamContinuations` must equal (test/unit/decoder-design.test.ts); not used by QUALS.
 */
export async function beamContinuationsEach(
  model: Seq2Seq,
  enc: EncodedText,
  prompts: readonly (readonly number[])[],
  config: ContinuationConfig,
  signal?: AbortSignal,
): Promise<Continuation[][]> {
  const out: Continuation[][] = [];
  for (const prompt of prompts) {
    throwIfAborted(signal);
    const first = await model.step(model.emptyState(enc, 1), [model.decoderStartId, ...prompt], prompt.length + 1);
    const V = model.vocabOf(first.logits);
    const last = first.logits.dims[1]! - 1;
    const state = model.expandState(enc, first.state, config.numBeams);
    out.push(continuations(await runSearch(model, continuationSearch(config), state, floatData(first.logits).subarray(last * V, (last + 1) * V), V, config.eosId, signal)));
  }
  return out;
}

/** What Hugging Face's greedy `generate` applies from a checkpoint's generation_config. */
export interface GreedyConfig {
  maxNewTokens: number;
  eosId: number;
  /** Forced as the first generated token (generation_config forced_bos_token_id). */
  forcedBosId?: number | null;
  /** Forced as the last token when max length is reached (forced_eos_token_id). */
  forcedEosId?: number | null;
  /** EOS is banned while the sequence (start token included) is shorter than this. */
  minLength?: number;
  /** No n-gram of this size may occur twice (0 = off). */
  noRepeatNgramSize?: number;
}

/**
 * Greedy decoding as Hugging Face's `generate(num_beams=1)` does it: returns the sequence with the
 * decoder start token first, ending at EOS or after maxNewTokens. One cached decoder step per
 * token; the vocabulary scan for the processors runs only over the few banned ids.
 */
export async function greedyDecode(model: Seq2Seq, enc: EncodedText, config: GreedyConfig, signal?: AbortSignal): Promise<number[]> {
  const seq = [model.decoderStartId];
  let logits = floatData(enc.firstLogits);
  let state = model.startState(enc, 1);
  const V = model.vocabOf(enc.firstLogits);
  for (let step = 0; step < config.maxNewTokens; step++) {
    throwIfAborted(signal);
    const row = logits.subarray(logits.length - V);
    let next: number;
    if (step === 0 && config.forcedBosId != null) next = config.forcedBosId;
    else if (step === config.maxNewTokens - 1 && config.forcedEosId != null) next = config.forcedEosId;
    else next = argmaxAllowed(row, bannedTokens(seq, config));
    seq.push(next);
    if (next === config.eosId || step === config.maxNewTokens - 1) break;
    const stepped = await model.step(state, [next]);
    state = stepped.state;
    logits = floatData(stepped.logits);
  }
  return seq;
}

function bannedTokens(seq: readonly number[], config: GreedyConfig): Set<number> {
  const banned = new Set<number>();
  if (config.minLength !== undefined && seq.length < config.minLength) banned.add(config.eosId);
  const n = config.noRepeatNgramSize ?? 0;
  if (n > 0 && seq.length >= n) {
    const prefix = seq.slice(seq.length - n + 1).join(',');
    for (let i = 0; i + n <= seq.length; i++) {
      if (seq.slice(i, i + n - 1).join(',') === prefix) banned.add(seq[i + n - 1]!);
    }
  }
  return banned;
}

function argmaxAllowed(row: Float32Array, banned: ReadonlySet<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    if (row[i]! > bestValue && !banned.has(i)) {
      bestValue = row[i]!;
      best = i;
    }
  }
  return best;
}
