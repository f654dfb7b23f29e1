/**
 * Decoding loops on a Seq2Seq model: diverse beam search (all beams in one decoder call per step)
 * and beam continuation of forced prompts (the "what does the source answer" query).
 */
import { throwIfAborted } from '../errors';
import { type BeamSearchConfig, type Hypothesis, DiverseBeamSearch, candidatesPerRow } from './beam-search';
import type { DecoderState, EncodedText, Seq2Seq } from './seq2seq';
import { floatData } from './ort';

/**
 * Diverse beam search from the start token (and the format's forced `decoderPrefix`, which the
 * hypotheses then leave out) over an encoded text.
 */
export async function beamSearch(
  model: Seq2Seq,
  enc: EncodedText,
  config: BeamSearchConfig,
  signal?: AbortSignal,
  decoderPrefix: readonly number[] = [],
): Promise<Hypothesis[]> {
  const V = model.vocabOf(enc.firstLogits);
  if (decoderPrefix.length === 0) return runSearch(model, config, model.startState(enc, config.numBeams), floatData(enc.firstLogits), V, signal);
  const first = await model.step(model.emptyState(enc, 1), [model.decoderStartId, ...decoderPrefix], decoderPrefix.length + 1);
  const last = first.logits.dims[1]! - 1;
  const state = model.expandState(enc, first.state, config.numBeams);
  return runSearch(model, config, state, floatData(first.logits).subarray(last * V, (last + 1) * V), V, signal);
}

/**
 * The search loop: `state` holds numBeams identical rows positioned where `firstLogits` (one row of
 * V floats) predicts the next token; each step is one decoder call for all beams.
 */
async function runSearch(
  model: Seq2Seq,
  config: BeamSearchConfig,
  initial: DecoderState,
  firstLogits: Float32Array,
  V: number,
  signal?: AbortSignal,
): Promise<Hypothesis[]> {
  const search = new DiverseBeamSearch(config);
  const K = candidatesPerRow(config);
  const extra = [config.eosId];
  let state = initial;
  let scores = await model.helpers.topK(firstLogits, V, K, extra);
  for (;;) {
    throwIfAborted(signal);
    const decision = search.step({ ...scores, eosLogp: scores.extraLogp });
    if (decision.done) break;
    if (!isIdentity(decision.sourceRows)) state = model.reorder(state, decision.sourceRows);
    const stepped = await model.step(state, decision.tokens);
    state = stepped.state;
    scores = await model.helpers.topK(floatData(stepped.logits), V, K, extra);
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
    const hyps = await runSearch(model, searchConfig, state, floatData(first.logits).subarray(last * V, (last + 1) * V), V, signal);
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
