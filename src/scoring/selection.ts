/**
 * The QA-pair filter and the round-robin selection of spec section 3.
 *
 * Deviations from the reference code, on purpose (listed in docs/quals-engine.md):
 * - empty answers are dropped (the reference lets them through: "" is a substring of anything);
 * - an answer must occur in the summary as a whole word, not merely as a substring;
 * - the cap on selected pairs is exact (the reference checks it only between round-robin passes,
 *   so it can overshoot); `referenceCap` reproduces the overshoot.
 * Reference mode uses the authors' own filter and selection instead (authorsFilter, selectAuthors).
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
 * and takes pairs round-robin across buckets, skipping duplicate (answer, question) pairs (compared
 * lower-cased; a skipped duplicate does not use up its bucket's turn, unlike the authors' selection).
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
        // (answer, question) lower-cased, as the authors de-duplicate: one pair in two casings is one pair
        const key = `${c.answer.toLowerCase()}\u0000${c.question.toLowerCase()}`;
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

/**
 * The QUALS authors' filter (preprocess/evaluate_hypo.py filter_qas_dataset_lm_score, reference
 * mode): `qa` is the decoded hypothesis; it must split on ' strutConnector' into exactly two parts,
 * and the answer part, WITH its leading space, lower-cased, must be a substring of the lower-cased
 * summary. The empty answer therefore passes, and an answer whose only occurrence starts the summary
 * (no space before it) fails. Returns the untrimmed (question, answer), or null.
 */
export function authorsFilter(qa: string, context: string, separator = ' strutConnector'): { question: string; answer: string } | null {
  const parts = qa.split(separator);
  if (parts.length !== 2) return null;
  const [question, answer] = parts as [string, string];
  return context.toLowerCase().includes(answer.toLowerCase()) ? { question, answer } : null;
}

/**
 * The authors' selection (the same function, filter_ans_lm_score off — their README's path): sort
 * by -unnormalised score (stable); group by answer.lower() in order of first appearance; each pass
 * pops the next pair of every group, and adds it unless its question.lower() was already added for
 * that answer.lower() (a duplicate still uses up its group's turn); stop after a pass that adds
 * nothing, or when `maxQas` pairs exist at the START of a pass (so a pass can overshoot: 12 of 10).
 * Question and answer are compared as given (untrimmed, as the authors split them).
 */
export function selectAuthors<T>(candidates: readonly PairCandidate<T>[], maxQas = 10): PairCandidate<T>[] {
  const sorted = candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.sumScore - a.c.sumScore || a.i - b.i)
    .map((x) => x.c);
  const groups = new Map<string, PairCandidate<T>[]>();
  for (const c of sorted) {
    const key = c.answer.toLowerCase();
    const group = groups.get(key);
    if (group) group.push(c);
    else groups.set(key, [c]);
  }
  const selected: PairCandidate<T>[] = [];
  const questionsByAnswer = new Map<string, Set<string>>();
  let keepAdding = true;
  while (keepAdding && selected.length < maxQas) {
    keepAdding = false;
    for (const [answerKey, group] of groups) {
      const c = group.shift();
      if (!c) continue;
      const q = c.question.toLowerCase();
      let seen = questionsByAnswer.get(answerKey);
      if (!seen) questionsByAnswer.set(answerKey, (seen = new Set()));
      else if (seen.has(q)) continue;
      seen.add(q);
      selected.push(c);
      keepAdding = true;
    }
  }
  return selected;
}

/** The authors' QUALS of one summary (compute_hypos_lm_score): mean of eval_ns - ns over its pairs, -1e5 without pairs. */
export function authorsQuals(pairs: readonly { evalNs: number; ns: number }[]): number {
  if (pairs.length === 0) return -1e5;
  let sum = 0;
  for (const p of pairs) sum += p.evalNs - p.ns;
  return sum / pairs.length;
}
