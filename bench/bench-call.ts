/**
 * One QUALS call's model work at the reference settings, as scoreQuals runs it, on the benches'
 * fixed text (./bench-text.ts). A random model rarely writes a well-formed (question, separator,
 * answer) sequence, so the first maxPairs hypotheses stand in for the selected pairs: the same
 * decoder calls and shapes as a real call. Each bench wraps the stages with its own timing.
 */
import type { Hypothesis } from '../src/scoring/model/beam-search';
import { beamContinuations, beamSearch } from '../src/scoring/model/generate';
import type { LoadedModel } from '../src/scoring/model/loader';
import { DEFAULT_OPTIONS } from '../src/scoring/options';
import { BENCH_SOURCE, BENCH_SUMMARY } from './bench-text';

export const STAGES = ['encode', 'beam search', 'teacher forcing', 'answer from source'] as const;
export type StageName = (typeof STAGES)[number];
export type StageRunner = <T>(name: StageName, fn: () => Promise<T>) => Promise<T>;

export interface CallOutcome {
  hyps: Hypothesis[];
  summaryTokens: number;
  sourceTokens: number;
}

export async function benchCall(model: LoadedModel, stage: StageRunner): Promise<CallOutcome> {
  const sm = model.seq2seq;
  const o = DEFAULT_OPTIONS;
  const ids = { eosId: model.format.eosId, padId: model.format.padId };
  const summaryIn = model.format.encodeInput(BENCH_SUMMARY);
  const sourceIn = model.format.encodeInput(BENCH_SOURCE);
  const [summaryEnc, sourceEnc] = await stage('encode', async () => [await sm.encode(summaryIn.ids), await sm.encode(sourceIn.ids)] as const);
  const hyps = await stage('beam search', () => beamSearch(sm, summaryEnc, { ...o, ...ids }));
  const targets = hyps.slice(0, o.maxPairs).map((h) => h.tokens);
  await stage('teacher forcing', async () => {
    await sm.teacherForce(summaryEnc, targets, o.maxLogitsFloats);
    await sm.teacherForce(sourceEnc, targets, o.maxLogitsFloats);
  });
  const prompts = targets.map((tg) => tg.slice(0, Math.max(1, Math.floor(tg.length / 2))));
  await stage('answer from source', () => beamContinuations(sm, sourceEnc, prompts, { numBeams: 4, maxLength: o.sourceAnswerMaxTokens, ...ids }));
  return { hyps, summaryTokens: summaryIn.tokensTotal, sourceTokens: sourceIn.tokensKept };
}
