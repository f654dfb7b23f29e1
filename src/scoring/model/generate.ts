/**
 * Decoding loops on a Seq2Seq model: beam search (all beams in one decoder call per step; the
 * bookkeeping is the engine's grouped search, fairseq's or Hugging Face's) and beam continuation of
 * forced prompts (the "what does the source answer" query).
 */
import { throwIfAborted } from '../errors';
import type { BeamSearchImpl } from '../options';
import { type BeamSearchConfig, type Hypothesis, type SearchBookkeeping, DiverseBeamSearch } from './beam-search';
import { FairseqBeamSearch } from './fairseq-search';
import { type HfLengthCounting, HfBeamSearch } from './hf-search';
import type { DecoderState, EncodedText, Seq2Seq } from './seq2seq';
import { floatData } from './ort';

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

/**
 * For each prompt, the best few answer continuations under the encoded text, by beam search
 * (one group, no diversity), best first. Each candidate's ids exclude the prompt; logp are the
 * per-token log-probs (EOS included when generated).
 */
export async function beamContinuations(
  model: Seq2Seq,
  enc: EncodedText,
  prompts: readonly (readonly number[])[],
  config: { numBeams: number; maxLength: number; eosId: number; padId: number },
  signal?: AbortSignal,
): Promise<{ ids: number[]; meanLogp: number }[][]> {
  const out: { ids: number[]; meanLogp: number }[][] = [];
  const searchConfig: BeamSearchConfig = {
    numBeams: config.numBeams,
    numBeamGroups: 1,
    diversityStrength: 0,
    diversityCount: 'fairseq',
    minLength: 1,
    maxLength: config.maxLength,
    lengthPenalty: 1,
    eosId: config.eosId,
    padId: config.padId,
  };
  for (const prompt of prompts) {
    throwIfAborted(signal);
    const first = await model.step(model.emptyState(enc, 1), [model.decoderStartId, ...prompt], prompt.length + 1);
    const V = model.vocabOf(first.logits);
    const last = first.logits.dims[1]! - 1;
    const state = model.expandState(enc, first.state, config.numBeams);
    const hyps = await runSearch(model, new DiverseBeamSearch(searchConfig), state, floatData(first.logits).subarray(last * V, (last + 1) * V), V, config.eosId, signal);
    out.push(hyps.map((h) => ({ ids: h.tokens, meanLogp: h.rawSumLogp / h.tokens.length })));
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
