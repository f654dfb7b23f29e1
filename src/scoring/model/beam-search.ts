/**
 * Diverse (group) beam search bookkeeping, independent of any model: it consumes, per step, each
 * live row's top-k log-probabilities and decides which rows continue with which token.
 *
 * Diversity follows fairseq's DiverseBeamSearch (the QUALS reference code) by default: at each
 * step, groups are processed in order, and group g's log-prob for token t is reduced by
 * `strength x (number of times groups 0..g-1 proposed t at this step)`, where each group proposes
 * its top 2 x beamsPerGroup candidates. With `diversityCount: 'hamming'` only the tokens earlier
 * groups *selected* count (Hugging Face's Hamming diversity); see docs/quals-engine.md.
 * Hypothesis scores carry the penalty (as fairseq's do); the penalty-free sum is kept separately.
 */

import type { SearchOptions } from '../options';

/** The search options plus the model's special token ids. minLength bans EOS while fewer tokens
 * have been generated; EOS is forced at maxLength (generated tokens, EOS included). */
export interface BeamSearchConfig extends SearchOptions {
  eosId: number;
  padId: number;
}

/** A finished sequence. `tokens` are the generated tokens (start token excluded), EOS last. */
export interface Hypothesis {
  tokens: number[];
  /** sum of penalised log-probs / length^lengthPenalty (what the search ranks by). */
  score: number;
  /** sum of penalised log-probs ("unnormalised score"). */
  sumLogp: number;
  /** sum of log-probs without the diversity penalty. */
  rawSumLogp: number;
  group: number;
}

/** Top-k log-probs of each decoder row for one step. `rows` is 1 when every row shares row 0 (first step). */
export interface StepScores {
  rows: number;
  k: number;
  logp: Float32Array;
  ids: Int32Array;
  /** log p(EOS) per row, used when EOS must be forced at the last step. */
  eosLogp: Float32Array;
}

interface Beam {
  tokens: number[];
  sumLogp: number;
  rawSumLogp: number;
  alive: boolean;
}

interface Candidate {
  score: number;
  raw: number;
  beam: number;
  token: number;
}

export interface StepDecision {
  /** For each row of the next step, the row of this step it continues. */
  sourceRows: number[];
  /** For each row of the next step, the token to feed. */
  tokens: number[];
  done: boolean;
}

/**
 * What the decoding loop in generate.ts drives, one step per decoder call: this engine's grouped
 * search (below), fairseq's (fairseq-search.ts) and Hugging Face's (hf-search.ts).
 */
export interface SearchBookkeeping {
  /** Top log-probs per row each step needs. */
  readonly candidatesPerRow: number;
  step(scores: StepScores): StepDecision;
  /** Finished hypotheses, best first. */
  result(): Hypothesis[];
}

/** How many top candidates per row a step needs so that penalties and the EOS ban cannot change the true top 2k. */
export function candidatesPerRow(config: BeamSearchConfig): number {
  const perGroup = config.numBeams / config.numBeamGroups;
  // 2k for the group itself, up to 2k per earlier group penalised, one more for a banned EOS.
  return 2 * perGroup * config.numBeamGroups + 1;
}

export class DiverseBeamSearch implements SearchBookkeeping {
  private beams: Beam[];
  private readonly finished: Hypothesis[] = [];
  private generated = 0;
  private readonly perGroup: number;

  constructor(private readonly config: BeamSearchConfig) {
    if (config.numBeams % config.numBeamGroups !== 0) throw new Error('numBeams must be a multiple of numBeamGroups');
    this.perGroup = config.numBeams / config.numBeamGroups;
    // Only the first beam of each group is alive at the start: identical beams would waste the group.
    this.beams = Array.from({ length: config.numBeams }, (_, b) => ({
      tokens: [],
      sumLogp: 0,
      rawSumLogp: 0,
      alive: b % this.perGroup === 0,
    }));
  }

  get candidatesPerRow(): number {
    return candidatesPerRow(this.config);
  }

  get stepsTaken(): number {
    return this.generated;
  }

  /** Applies one step of scores and returns the rows/tokens to feed next. */
  step(scores: StepScores): StepDecision {
    const { numBeamGroups: G, diversityStrength, diversityCount, eosId, padId, maxLength, minLength } = this.config;
    const k = this.perGroup;
    const forceEos = this.generated + 1 >= maxLength;
    const eosBanned = this.generated < minLength;
    const proposals = new Map<number, number>();
    const next: Beam[] = new Array(this.beams.length);
    const sourceRows: number[] = new Array(this.beams.length);
    const tokens: number[] = new Array(this.beams.length);

    for (let g = 0; g < G; g++) {
      const cands: Candidate[] = [];
      for (let j = 0; j < k; j++) {
        const b = g * k + j;
        const beam = this.beams[b]!;
        if (!beam.alive) continue;
        const row = scores.rows === 1 ? 0 : b;
        const push = (token: number, lp: number) => {
          if (!Number.isFinite(lp)) return;
          const penalty = g > 0 ? diversityStrength * (proposals.get(token) ?? 0) : 0;
          cands.push({ score: beam.sumLogp + lp - penalty, raw: beam.rawSumLogp + lp, beam: b, token });
        };
        if (forceEos) {
          push(eosId, scores.eosLogp[row]!);
          continue;
        }
        for (let r = 0; r < scores.k; r++) {
          const token = scores.ids[row * scores.k + r]!;
          if (token === eosId && eosBanned) continue;
          push(token, scores.logp[row * scores.k + r]!);
        }
      }
      cands.sort((a, b) => b.score - a.score || a.beam - b.beam || a.token - b.token);
      const top = cands.slice(0, 2 * k);
      const count = (token: number) => proposals.set(token, (proposals.get(token) ?? 0) + 1);
      if (diversityCount === 'fairseq') top.forEach((c) => count(c.token));

      let filled = 0;
      for (let rank = 0; rank < top.length && filled < k; rank++) {
        const c = top[rank]!;
        const parent = this.beams[c.beam]!;
        if (c.token === eosId) {
          if (rank < k) this.finalize(parent, c, g);
          continue;
        }
        const slot = g * k + filled++;
        next[slot] = { tokens: [...parent.tokens, c.token], sumLogp: c.score, rawSumLogp: c.raw, alive: true };
        sourceRows[slot] = c.beam;
        tokens[slot] = c.token;
        if (diversityCount === 'hamming') count(c.token);
      }
      for (; filled < k; filled++) {
        const slot = g * k + filled;
        next[slot] = { tokens: [], sumLogp: -Infinity, rawSumLogp: -Infinity, alive: false };
        sourceRows[slot] = slot;
        tokens[slot] = padId;
      }
    }
    this.beams = next;
    this.generated++;
    const done = forceEos || this.finished.length >= this.config.numBeams || !this.beams.some((b) => b.alive);
    return { sourceRows, tokens, done };
  }

  private finalize(parent: Beam, c: Candidate, group: number): void {
    if (this.finished.length >= this.config.numBeams) return;
    const tokens = [...parent.tokens, c.token];
    this.finished.push({
      tokens,
      score: c.score / tokens.length ** this.config.lengthPenalty,
      sumLogp: c.score,
      rawSumLogp: c.raw,
      group,
    });
  }

  /** Finished hypotheses, best (normalised) score first. */
  result(): Hypothesis[] {
    return [...this.finished].sort((a, b) => b.score - a.score);
  }
}
