/**
 * ConSeq data selection (Nan et al., 2021, spec §5): per document, the worst-scoring sampled
 * summary is the negative candidate; S- = documents whose worst sample is in the bottom p- percent
 * of those values; S+ = documents whose reference summary is in the top p+ percent of reference
 * scores; the training set = documents in both.
 */

export interface DocScores {
  id: string;
  /** QUALS of the reference summary; null when it had no answerable pairs or was not scored. */
  reference: number | null;
  /** Lowest QUALS among the document's scored samples; null when no sample has a score. */
  worstSample: number | null;
}

export interface SelectOptions {
  /** Percent of documents (by worst-sample QUALS, lowest first) that form S- (paper: 30). */
  negativePercent: number;
  /** Percent of documents (by reference QUALS, highest first) that form S+ (paper: 30). */
  positivePercent: number;
}

export interface Selection {
  negatives: Set<string>;
  positives: Set<string>;
  /** Documents in both S+ and S-, in input order. */
  training: string[];
  /** Highest worst-sample value inside S- (null when S- is empty). */
  negativeCutoff: number | null;
  /** Lowest reference value inside S+ (null when S+ is empty). */
  positiveCutoff: number | null;
  /** Documents that could enter each ranking (a score was available). */
  rankedForNegative: number;
  rankedForPositive: number;
}

/**
 * The number taken from a ranking of n is floor(n * percent / 100): never more than the stated
 * share. Ties at the cut keep input order, so the selection is deterministic.
 */
export function takeCount(n: number, percent: number): number {
  return Math.floor((n * percent) / 100 + 1e-9);
}

export function selectConseq(docs: readonly DocScores[], opts: SelectOptions): Selection {
  for (const [name, p] of [['negativePercent', opts.negativePercent], ['positivePercent', opts.positivePercent]] as const) {
    if (!Number.isFinite(p) || p < 0 || p > 100) throw new Error(`${name} must be between 0 and 100 (got ${p}).`);
  }
  const indexed = docs.map((d, i) => ({ d, i }));
  const neg = indexed.filter((x) => x.d.worstSample !== null).sort((a, b) => a.d.worstSample! - b.d.worstSample! || a.i - b.i);
  const pos = indexed.filter((x) => x.d.reference !== null).sort((a, b) => b.d.reference! - a.d.reference! || a.i - b.i);
  const negTaken = neg.slice(0, takeCount(neg.length, opts.negativePercent));
  const posTaken = pos.slice(0, takeCount(pos.length, opts.positivePercent));
  const negatives = new Set(negTaken.map((x) => x.d.id));
  const positives = new Set(posTaken.map((x) => x.d.id));
  return {
    negatives,
    positives,
    training: docs.filter((d) => negatives.has(d.id) && positives.has(d.id)).map((d) => d.id),
    negativeCutoff: negTaken.length ? negTaken[negTaken.length - 1]!.d.worstSample : null,
    positiveCutoff: posTaken.length ? posTaken[posTaken.length - 1]!.d.reference : null,
    rankedForNegative: neg.length,
    rankedForPositive: pos.length,
  };
}
