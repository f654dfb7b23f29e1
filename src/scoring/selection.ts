/**
 * The QA-pair filter and the round-robin selection of spec section 3.
 *
 * Deviations from the reference code, on purpose (listed in docs/quals-engine.md):
 * - empty answers are dropped (the reference lets them through: "" is a substring of anything);
 * - an answer must occur in the summary as a whole word, not merely as a substring;
 * - the cap on selected pairs is exact (the reference checks it only between round-robin passes,
 *   so it can overshoot); `referenceCap` reproduces the overshoot.
 */

export interface PairCandidate<T> {
  question: string;
  answer: string;
  /** The hypothesis's unnormalised (summed) search score; higher is better. */
  sumScore: number;
  payload: T;
}

/**
 * Sorts by score (descending, stable), buckets by lower-cased answer in order of first appearance,
 * and takes pairs round-robin across buckets, skipping duplicate (answer, question) pairs.
 */
export function selectRoundRobin<T>(candidates: readonly PairCandidate<T>[], maxPairs: number, referenceCap = false): PairCandidate<T>[] {
  const sorted = candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.sumScore - a.c.sumScore || a.i - b.i)
    .map((x) => x.c);
  const buckets = new Map<string, PairCandidate<T>[]>();
  for (const c of sorted) {
    const key = c.answer.toLowerCase();
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = []));
    bucket.push(c);
  }
  const queues = [...buckets.values()];
  const seen = new Set<string>();
  const selected: PairCandidate<T>[] = [];
  const cursor = new Array<number>(queues.length).fill(0);
  let progress = true;
  while (progress && selected.length < maxPairs) {
    progress = false;
    for (let b = 0; b < queues.length; b++) {
      if (!referenceCap && selected.length >= maxPairs) break;
      const q = queues[b]!;
      while (cursor[b]! < q.length) {
        const c = q[cursor[b]!++]!;
        const key = `${c.answer}\u0000${c.question}`;
        if (seen.has(key)) continue;
        seen.add(key);
        selected.push(c);
        progress = true;
        break;
      }
    }
  }
  return selected;
}
