/**
 * Cached step-by-step decoding of a known target: the yardstick a one-pass teacher-forced score
 * must equal (used by `quals model check` and the reference suite). Slow on purpose: one decoder
 * call per token and a JavaScript log-softmax, so it shares nothing with the paths it checks.
 */
import { floatData } from './ort';
import type { EncodedText, Seq2Seq } from './seq2seq';

/** log p of each target token, decoding one token per cached step from the start token. */
export async function stepwiseLogprobs(model: Seq2Seq, enc: EncodedText, target: readonly number[]): Promise<number[]> {
  let state = model.startState(enc, 1);
  let logits = floatData(enc.firstLogits);
  const out: number[] = [];
  for (const [t, id] of target.entries()) {
    out.push(logSoftmaxAt(logits.subarray(logits.length - model.vocabOf(enc.firstLogits)), id));
    if (t === target.length - 1) break;
    const stepped = await model.step(state, [id]);
    state = stepped.state;
    logits = floatData(stepped.logits);
  }
  return out;
}

export function logSoftmaxAt(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return row[id]! - max - Math.log(sum);
}
