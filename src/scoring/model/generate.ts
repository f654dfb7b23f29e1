/**
 * Decoding loops on a Seq2Seq model: diverse beam search (all beams in one decoder call per step)
 * and beam continuation of forced prompts (the "what does the source answer" query).
 */
import { throwIfAborted } from '../errors';
import { type BeamSearchConfig, type Hypothesis, DiverseBeamSearch, candidatesPerRow } from './beam-search';
import type { DecoderState, EncodedText, Seq2Seq } from './seq2seq';
import { floatData } from './ort';

/** Diverse beam search from the start token over an encoded text. */
export async function beamSearch(model: Seq2Seq, enc: EncodedText, config: BeamSearchConfig, signal?: AbortSignal): Promise<Hypothesis[]> {
  const V = model.vocabOf(enc.firstLogits);
  return runSearch(model, config, model.startState(enc, config.numBeams), floatData(enc.firstLogits), V, signal);
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
