/**
 * Decoding loops on a Seq2Seq model: diverse beam search (all beams in one decoder call per step)
 * and greedy continuation of forced prefixes (the "what does the source answer" query).
 */
import { throwIfAborted } from '../errors';
import { type BeamSearchConfig, type Hypothesis, DiverseBeamSearch, candidatesPerRow } from './beam-search';
import type { EncodedText, Seq2Seq } from './seq2seq';
import { floatData } from './ort';

/** Diverse beam search from the start token over an encoded text. */
export async function beamSearch(model: Seq2Seq, enc: EncodedText, config: BeamSearchConfig, signal?: AbortSignal): Promise<Hypothesis[]> {
  const search = new DiverseBeamSearch(config);
  const K = candidatesPerRow(config);
  const extra = [config.eosId];
  let state = model.startState(enc, config.numBeams);
  const V = model.vocabOf(enc.firstLogits);
  let scores = await model.helpers.topK(floatData(enc.firstLogits), V, K, extra);
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

export interface GreedyAnswer {
  ids: number[];
  logp: number[];
}

/**
 * For each prompt (tokens after the start token), feeds the prompt through the cached decoder and
 * continues greedily until `endsAnswer` or maxTokens. Prompts run one at a time (batch 1): their
 * lengths differ and the merged decoder has no self-attention mask for left padding.
 */
export async function greedyContinuations(
  model: Seq2Seq,
  enc: EncodedText,
  prompts: readonly (readonly number[])[],
  endsAnswer: (id: number) => boolean,
  maxTokens: number,
  signal?: AbortSignal,
): Promise<GreedyAnswer[]> {
  const out: GreedyAnswer[] = [];
  for (const prompt of prompts) {
    throwIfAborted(signal);
    let { logits, state } = await model.step(model.emptyState(enc, 1), [model.decoderStartId, ...prompt], prompt.length + 1);
    const ids: number[] = [];
    const logp: number[] = [];
    for (let t = 0; t < maxTokens; t++) {
      const V = model.vocabOf(logits);
      const last = logits.dims[1]! - 1;
      const top = await model.helpers.topK(floatData(logits).subarray(last * V, (last + 1) * V), V, 1, []);
      const id = top.ids[0]!;
      ids.push(id);
      logp.push(top.logp[0]!);
      if (endsAnswer(id)) break;
      ({ logits, state } = await model.step(state, [id]));
    }
    out.push({ ids, logp });
  }
  return out;
}
