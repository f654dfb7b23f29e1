/**
 * QAGS human annotations (Wang et al., 2020) -> one consistency label per summary: each sentence
 * gets the majority of its yes/no votes (1 = consistent), the summary the mean over its sentences.
 * A tied vote (only possible with an even number of annotators) counts 0.5.
 */
import type { JsonRecord, LineError, Parsed } from '../batch/fields';

export interface LabelledPair {
  source: string;
  /** The summary sentences joined with single spaces. */
  summary: string;
  label: number;
  sentences: number;
}

export function majorityVote(responses: readonly ('yes' | 'no')[]): number {
  const yes = responses.filter((r) => r === 'yes').length;
  const no = responses.length - yes;
  return yes > no ? 1 : yes < no ? 0 : 0.5;
}

export function parseQagsRecord(record: JsonRecord, lineNo: number): Parsed<LabelledPair> {
  const bad = (message: string): Parsed<LabelledPair> => ({ ok: false, id: null, error: { code: 'bad-annotation', message: `line ${lineNo}: ${message}` } satisfies LineError });
  const article = record.article;
  if (typeof article !== 'string' || article.trim() === '') return bad('"article" must be a non-empty string');
  const sentences = record.summary_sentences;
  if (!Array.isArray(sentences) || sentences.length === 0) return bad('"summary_sentences" must be a non-empty array');
  const texts: string[] = [];
  let sum = 0;
  for (const [k, s] of sentences.entries()) {
    const sentence = (s as { sentence?: unknown })?.sentence;
    const responses = (s as { responses?: unknown })?.responses;
    if (typeof sentence !== 'string') return bad(`summary_sentences[${k}].sentence must be a string`);
    if (!Array.isArray(responses) || responses.length === 0) return bad(`summary_sentences[${k}].responses must be a non-empty array`);
    const votes: ('yes' | 'no')[] = [];
    for (const r of responses) {
      const v = String((r as { response?: unknown })?.response ?? '').trim().toLowerCase();
      if (v !== 'yes' && v !== 'no') return bad(`summary_sentences[${k}] has a response other than "yes"/"no"`);
      votes.push(v);
    }
    texts.push(sentence.trim());
    sum += majorityVote(votes);
  }
  const summary = texts.filter((t) => t).join(' ');
  if (!summary) return bad('the summary sentences are all empty');
  return { ok: true, value: { source: article, summary, label: sum / sentences.length, sentences: sentences.length } };
}
