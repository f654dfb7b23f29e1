/**
 * fairseq's diverse beam search, as the QUALS authors ran it (amazon-research/fact-check-summarization,
 * fairseq 0.9: fairseq/search.py DiverseBeamSearch + fairseq/sequence_generator.py SequenceGenerator),
 * independent of any model. Two layers, each a line-by-line transcription:
 *
 * 1. `diverseCandidates` = DiverseBeamSearch.step: group g owns beams g, g+G, g+2G, ... (strided);
 *    its log-probs are lowered by `strength x (times groups 0..g-1 PROPOSED the token at this step)`
 *    (every one of their 2k candidates counts), each group takes its top 2k (beam, token) by
 *    cumulative score (at step 0 from its first beam only), and the result is interleaved: column j
 *    is rank floor(j / G) of group j % G.
 * 2. `FairseqGenerator` = SequenceGenerator's bookkeeping around it: an EOS candidate is finished only
 *    when it sits in the first `beam` columns (later EOS columns are dropped); the next beams are the
 *    first `beam` non-EOS columns in column order, so a beam can move to another group; finished
 *    hypotheses keep the penalised positional scores (including the final EOS, forced at step max_len);
 *    score = sum / (tokens incl. EOS)^lenpen; the search stops when `beam` hypotheses are finished or
 *    at step max_len; the result is sorted by score, stably, in finishing order.
 *
 * Steps count from 0 (the first generated token); EOS is banned while step < min_len; at step max_len
 * only EOS is allowed, so a hypothesis has at most max_len + 1 tokens (EOS included); pad is never chosen.
 */
import type { Hypothesis, SearchBookkeeping, StepDecision, StepScores } from './beam-search';

export interface FairseqSearchConfig {
  /** --beam */
  numBeams: number;
  /** --diverse-beam-groups (1 = fairseq's plain BeamSearch, which DiverseBeamSearch then equals). */
  numBeamGroups: number;
  /** --diverse-beam-strength */
  diversityStrength: number;
  /** --min-len: EOS is banned while step < minLength. */
  minLength: number;
  /** max_len = min(max_len_a * src_len + max_len_b, max_decoder_positions - 1), with max_len_a = 0. */
  maxLength: number;
  /** --lenpen (normalize_scores is on, as in BARTHubInterface.sample). */
  lengthPenalty: number;
  eosId: number;
  padId: number;
}

/** A finished hypothesis with fairseq's fields: `score` normalised, `sumLogp` = unnormalized_score. */
export interface FairseqHypothesis extends Hypothesis {
  /** Per generated token (EOS included): the log-prob minus the diversity penalty, as fairseq stores it. */
  positionalScores: number[];
}

/** The interleaved output of DiverseBeamSearch.step: 2 x numBeams columns. */
export interface Candidates {
  scores: number[];
  /** Token ids. */
  indices: number[];
  /** Global beam (row) each candidate extends. */
  beams: number[];
  /** Cumulative score without the diversity penalty (NaN where unknown, e.g. replayed from a trace). */
  raw?: number[];
}

/** Top log-probs a step needs per row: a group's true top 2k survives the penalty on 2k(G-1) tokens, the EOS ban and the pad ban. */
export function fairseqCandidatesPerRow(config: Pick<FairseqSearchConfig, 'numBeams'>): number {
  return 2 * config.numBeams + 2;
}

interface Cand {
  score: number;
  raw: number;
  /** beam index inside the group (the `beams_buf` of BeamSearch.step, before x G + g) */
  inGroup: number;
  token: number;
}

/**
 * DiverseBeamSearch.step over each row's top-K log-probs. `cumScores[b]` is beam b's cumulative
 * (penalised) score after the previous step, `rawScores[b]` the same without penalties; both
 * ignored at step 0.
 */
export function diverseCandidates(
  step: number,
  scores: StepScores,
  cumScores: readonly number[],
  rawScores: readonly number[],
  config: FairseqSearchConfig,
): Candidates {
  const { numBeams: B, numBeamGroups: G, diversityStrength, eosId, padId, minLength, maxLength } = config;
  const k = B / G;
  const counts = new Map<number, number>();
  const perGroup: Cand[][] = [];
  for (let g = 0; g < G; g++) {
    const cands: Cand[] = [];
    // At step 0 all beams are equal: BeamSearch.step uses the group's first beam only.
    const width = step === 0 ? 1 : k;
    for (let j = 0; j < width; j++) {
      const b = j * G + g;
      const row = scores.rows === 1 ? 0 : b;
      const base = step === 0 ? 0 : cumScores[b]!;
      const rawBase = step === 0 ? 0 : rawScores[b]!;
      const push = (token: number, lp: number) => {
        if (!(lp > -Infinity)) return; // -inf (and NaN, which fairseq turns into -inf)
        const penalised = g > 0 ? lp - diversityStrength * (counts.get(token) ?? 0) : lp;
        cands.push({ score: base + penalised, raw: rawBase + lp, inGroup: j, token });
      };
      if (step >= maxLength) {
        push(eosId, scores.eosLogp[row]!);
        continue;
      }
      for (let r = 0; r < scores.k; r++) {
        const token = scores.ids[row * scores.k + r]!;
        if (token === padId || (token === eosId && step < minLength)) continue;
        push(token, scores.logp[row * scores.k + r]!);
      }
    }
    // torch.topk over the flattened (beam, vocab) scores; ties broken by flat index.
    cands.sort((a, b) => b.score - a.score || a.inGroup - b.inGroup || a.token - b.token);
    const top = cands.slice(0, 2 * k);
    // Fewer finite candidates than 2k happens only when everything else is -inf (at step max_len):
    // torch still returns 2k entries; their tokens are never continued, so any non-EOS id will do.
    while (top.length < 2 * k) top.push({ score: -Infinity, raw: -Infinity, inGroup: 0, token: padId });
    for (const c of top) counts.set(c.token, (counts.get(c.token) ?? 0) + 1);
    perGroup.push(top);
  }
  const out: Candidates = { scores: [], indices: [], beams: [], raw: [] };
  for (let j = 0; j < 2 * B; j++) {
    const g = j % G;
    const c = perGroup[g]![Math.floor(j / G)]!;
    out.scores.push(c.score);
    out.indices.push(c.token);
    out.beams.push(c.inGroup * G + g);
    out.raw!.push(c.raw);
  }
  return out;
}

interface Beam {
  tokens: number[];
  /** Cumulative penalised score after each step (fairseq's `scores` buffer row). */
  cum: number[];
  raw: number;
}

/**
 * SequenceGenerator's per-step bookkeeping (batch size 1): finishing EOS candidates from the first
 * `beam` columns and refilling the beams from the first `beam` non-EOS columns.
 */
export class FairseqGenerator {
  private beams: Beam[];
  private readonly finished: FairseqHypothesis[] = [];
  private stepIndex = 0;
  private isDone = false;

  constructor(private readonly config: Pick<FairseqSearchConfig, 'numBeams' | 'numBeamGroups' | 'maxLength' | 'lengthPenalty' | 'eosId' | 'minLength'>) {
    if (config.numBeams % config.numBeamGroups !== 0) throw new Error('DiverseBeamSearch requires --beam to be divisible by the number of groups');
    if (config.minLength > config.maxLength) throw new Error('min_len cannot be larger than max_len');
    this.beams = Array.from({ length: config.numBeams }, () => ({ tokens: [], cum: [], raw: 0 }));
  }

  /** The step the next candidates are for (0 = the first generated token). */
  get step(): number {
    return this.stepIndex;
  }

  get done(): boolean {
    return this.isDone;
  }

  /** Cumulative penalised scores of the live beams (the `scores[:, step - 1]` DiverseBeamSearch adds). */
  cumScores(): number[] {
    return this.beams.map((b) => b.cum[b.cum.length - 1] ?? 0);
  }

  rawScores(): number[] {
    return this.beams.map((b) => b.raw);
  }

  /** Tokens of each live beam so far. */
  beamTokens(): number[][] {
    return this.beams.map((b) => [...b.tokens]);
  }

  /**
   * Applies one step's interleaved candidates. Returns, for each next beam, the beam it extends and
   * its token, and whether the search is over (then nothing more is fed).
   */
  advance(c: Candidates): StepDecision {
    const { numBeams: B, numBeamGroups: G, eosId, maxLength } = this.config;
    const step = this.stepIndex;
    if (this.isDone) throw new Error('the search is over');
    const cols = c.scores.length;
    const isEos = (j: number) => c.indices[j] === eosId && c.scores[j] !== -Infinity;

    // finalize hypotheses that end in eos, only among the first `beam` columns, in column order
    let sentenceDone = false;
    let anyFinalized = false;
    for (let j = 0; j < Math.min(B, cols); j++) {
      if (!isEos(j)) continue;
      anyFinalized = true;
      if (this.finished.length < B) this.finalize(step, this.beams[c.beams[j]!]!, c.scores[j]!, c.raw?.[j] ?? NaN, j % G);
    }
    // is_finished is only consulted for sentences that finalized something at this step
    if (anyFinalized && (this.finished.length === B || step === maxLength)) sentenceDone = true;
    if (sentenceDone) {
      this.isDone = true;
      this.stepIndex++;
      return { sourceRows: this.beams.map((_, i) => i), tokens: this.beams.map(() => eosId), done: true };
    }
    if (step >= maxLength) throw new Error('fairseq search: step max_len must finish every beam');

    // active hypotheses: the first `beam` columns by (is_eos * cand_size + column)
    const order = Array.from({ length: cols }, (_, j) => j).sort((a, b) => (isEos(a) ? cols : 0) + a - ((isEos(b) ? cols : 0) + b));
    const active = order.slice(0, B);
    if (active.some((j) => isEos(j))) {
      // fairseq would "blacklist" such beams; it cannot happen (a group proposes at most one EOS per beam).
      throw new Error('fairseq search: fewer than beam non-EOS candidates');
    }
    const sourceRows: number[] = [];
    const tokens: number[] = [];
    const next: Beam[] = active.map((j) => {
      const parent = this.beams[c.beams[j]!]!;
      sourceRows.push(c.beams[j]!);
      tokens.push(c.indices[j]!);
      return { tokens: [...parent.tokens, c.indices[j]!], cum: [...parent.cum.slice(0, step), c.scores[j]!], raw: c.raw?.[j] ?? NaN };
    });
    this.beams = next;
    this.stepIndex++;
    return { sourceRows, tokens, done: false };
  }

  private finalize(step: number, beam: Beam, eosScore: number, raw: number, group: number): void {
    const tokens = [...beam.tokens.slice(0, step), this.config.eosId];
    const cum = [...beam.cum.slice(0, step), eosScore];
    const positionalScores = cum.map((s, i) => (i === 0 ? s : s - cum[i - 1]!));
    const score = eosScore / (step + 1) ** this.config.lengthPenalty;
    this.finished.push({
      tokens,
      score,
      sumLogp: score * (step + 1) ** this.config.lengthPenalty,
      rawSumLogp: raw,
      group,
      positionalScores,
    });
  }

  /** Finished hypotheses sorted by score, best first; equal scores keep their finishing order. */
  result(): FairseqHypothesis[] {
    return [...this.finished].sort((a, b) => b.score - a.score);
  }
}

/** Both layers driven by the decoding loop in generate.ts. */
export class FairseqBeamSearch implements SearchBookkeeping {
  private readonly generator: FairseqGenerator;

  constructor(private readonly config: FairseqSearchConfig) {
    if (config.numBeams % config.numBeamGroups !== 0) throw new Error('numBeams must be a multiple of numBeamGroups');
    this.generator = new FairseqGenerator(config);
  }

  get candidatesPerRow(): number {
    return fairseqCandidatesPerRow(this.config);
  }

  step(scores: StepScores): StepDecision {
    const g = this.generator;
    const cands = diverseCandidates(g.step, scores, g.cumScores(), g.rawScores(), this.config);
    return g.advance(cands);
  }

  result(): FairseqHypothesis[] {
    return this.generator.result();
  }
}
