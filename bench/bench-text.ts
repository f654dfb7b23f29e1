/**
 * The benches' deterministic input: the same summary (~60 tokens) and source (~1,000 tokens) in
 * every bench, so their figures describe the same call. Words from a small vocabulary in a seeded
 * LCG order; a random model's output does not depend on the text making sense.
 */
export function words(n: number, seed: number): string {
  const vocab = ['the', 'team', 'match', 'city', 'won', 'beat', 'scored', 'goals', 'said', 'year', 'Paris', 'London', 'born', 'was', 'in', 'on', 'for', 'by', 'he', 'she'];
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(vocab[s % vocab.length]!);
  }
  return out.join(' ');
}

export const BENCH_SUMMARY = words(58, 1);
export const BENCH_SOURCE = words(1000, 2);
