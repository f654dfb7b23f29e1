/**
 * ConSeq data selection (Nan et al., 2021, spec §5): per document, the worst-scoring sampled
 * summary is the negative candidate; S- = documents whose worst sample is in the bottom p- percent
 * of those values; S+ = documents whose reference summary is in the top p+ percent of reference
 * scores; the training set = documents in both.
 *
 * Two counting rules (docs/quals-engine.md, "ConSeq"):
 * - `authors` (default), the authors' evaluate_hypo.py make_unlikelihood_dataset: each set takes
 *   round(ratio x N) of ALL N documents (Python's round, half to even, on the float ratio x N);
 *   a document without a score (no answerable pairs: the authors' 1e5 sentinel) ranks after every
 *   scored one and is taken when the count reaches it (S-: its first sample, as the authors'
 *   index 0; S+: its reference).
 * - `rankable`: each set takes floor(n x p / 100) of the n documents that have a score; documents
 *   without one are never taken.
 */

export type CountRule = 'authors' | 'rankable';
export const COUNT_RULES: readonly CountRule[] = ['authors', 'rankable'];

export interface DocScores {
  id: string;
  /** QUALS of the reference summary; null when it had no answerable pairs or was not scored. */
  reference: number | null;
  /** Lowest QUALS among the document's scored samples; null when no sample has a score. */
  worstSample: number | null;
  /** The document has a reference line (default: it does when `reference` is not null). */
  hasReference?: boolean;
  /** The document has at least one sample line (default: it does when `worstSample` is not null). */
  hasSample?: boolean;
}

export interface SelectOptions {
  /** Percent of documents (by worst-sample QUALS, lowest first) that form S- (paper: 30). */
  negativePercent: number;
  /** Percent of documents (by reference QUALS, highest first) that form S+ (paper: 30). */
  positivePercent: number;
  /** How many documents each set takes (default `authors`). */
  rule?: CountRule;
}

export interface Selection {
  negatives: Set<string>;
  positives: Set<string>;
  /** Documents in both S+ and S-, in input order. */
  training: string[];
  /** Highest worst-sample value inside S- (null when S- holds no scored document). */
  negativeCutoff: number | null;
  /** Lowest reference value inside S+ (null when S+ holds no scored document). */
  positiveCutoff: number | null;
  /** Documents each count is taken of: all documents (`authors`) or those with a score (`rankable`). */
  rankedForNegative: number;
  rankedForPositive: number;
  /** Documents taken without a score (the authors' 1e5 sentinel reached by the count; `authors` only). */
  unscoredTaken: { negative: number; positive: number };
}

/**
 * The `rankable` count: floor(n * percent / 100), never more than the stated share. Ties at the
 * cut keep input order, so the selection is deterministic.
 */
export function takeCount(n: number, percent: number): number {
  return Math.floor((n * percent) / 100 + 1e-9);
}

/** Python 3's round(x) for x >= 0: to the nearest integer, halves to even. */
export function pythonRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The `authors` count: round(ratio * n) with ratio = percent / 100 as the authors' float (0.3). */
export function authorsCount(n: number, percent: number): number {
  return pythonRound((percent / 100) * n);
}

export function selectConseq(docs: readonly DocScores[], opts: SelectOptions): Selection {
  for (const [name, p] of [['negativePercent', opts.negativePercent], ['positivePercent', opts.positivePercent]] as const) {
    if (!Number.isFinite(p) || p < 0 || p > 100) throw new Error(`${name} must be between 0 and 100 (got ${p}).`);
  }
  const rule = opts.rule ?? 'authors';
  const indexed = docs.map((d, i) => ({ d, i }));
  let negTaken: typeof indexed;
  let posTaken: typeof indexed;
  let rankedNeg: number;
  let rankedPos: number;
  if (rule === 'rankable') {
    const neg = indexed.filter((x) => x.d.worstSample !== null).sort((a, b) => a.d.worstSample! - b.d.worstSample! || a.i - b.i);
    const pos = indexed.filter((x) => x.d.reference !== null).sort((a, b) => b.d.reference! - a.d.reference! || a.i - b.i);
    negTaken = neg.slice(0, takeCount(neg.length, opts.negativePercent));
    posTaken = pos.slice(0, takeCount(pos.length, opts.positivePercent));
    rankedNeg = neg.length;
    rankedPos = pos.length;
  } else {
    // sorted(enumerate(scores), key=score) with 1e5 for "no score": stable, sentinels last.
    const key = (v: number | null, sign: number) => (v === null ? Infinity : sign * v);
    const neg = [...indexed].sort((a, b) => key(a.d.worstSample, 1) - key(b.d.worstSample, 1) || a.i - b.i);
    const pos = [...indexed].sort((a, b) => key(a.d.reference, -1) - key(b.d.reference, -1) || a.i - b.i);
    // A sentinel document is taken with the line it has (none: nothing to write, so it is skipped).
    negTaken = neg.slice(0, authorsCount(docs.length, opts.negativePercent)).filter((x) => x.d.worstSample !== null || (x.d.hasSample ?? false));
    posTaken = pos.slice(0, authorsCount(docs.length, opts.positivePercent)).filter((x) => x.d.reference !== null || (x.d.hasReference ?? false));
    rankedNeg = docs.length;
    rankedPos = docs.length;
  }
  const negatives = new Set(negTaken.map((x) => x.d.id));
  const positives = new Set(posTaken.map((x) => x.d.id));
  const lastScored = (xs: typeof indexed, f: (d: DocScores) => number | null) => {
    for (let k = xs.length - 1; k >= 0; k--) if (f(xs[k]!.d) !== null) return f(xs[k]!.d);
    return null;
  };
  return {
    negatives,
    positives,
    training: docs.filter((d) => negatives.has(d.id) && positives.has(d.id)).map((d) => d.id),
    negativeCutoff: lastScored(negTaken, (d) => d.worstSample),
    positiveCutoff: lastScored(posTaken, (d) => d.reference),
    rankedForNegative: rankedNeg,
    rankedForPositive: rankedPos,
    unscoredTaken: { negative: negTaken.filter((x) => x.d.worstSample === null).length, positive: posTaken.filter((x) => x.d.reference === null).length },
  };
}
