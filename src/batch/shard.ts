/**
 * Deterministic sharding: shard i of N (0-based) takes input lines whose 1-based number n has
 * (n - 1) mod N = i. Round-robin by line number needs no pre-scan of the file, balances work, and
 * lets N processes or machines cover the file exactly once given only their index.
 */

export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/N` (0 <= i < N). Throws a user-facing Error on anything else. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`--shard must look like i/N, e.g. 0/4 (got "${text}").`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new Error(`--shard: N must be at least 1 (got "${text}").`);
  if (index >= count) throw new Error(`--shard: the index is 0-based and must be below N (got "${text}"; use 0/${count} to ${count - 1}/${count}).`);
  return { index, count };
}

export function inShard(lineNo: number, shard: Shard | undefined): boolean {
  return !shard || (lineNo - 1) % shard.count === shard.index;
}

/** How many of lines 1..totalLines fall in the shard. */
export function shardSize(totalLines: number, shard: Shard | undefined): number {
  if (!shard) return totalLines;
  return totalLines > shard.index ? Math.floor((totalLines - 1 - shard.index) / shard.count) + 1 : 0;
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}
