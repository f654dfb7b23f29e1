/**
 * Hugging Face's beam search as `generate()` runs it (transformers 4.35, generation/utils.py
 * group_beam_search / beam_search, beam_search.py BeamSearchScorer + BeamHypotheses,
 * logits_process.py HammingDiversity / MinLength / MinNewTokensLength / ForcedEOS), with
 * early_stopping=False and num_return_sequences = num_beams, independent of any model.
 *
 * - Beams are contiguous groups of k = numBeams / numBeamGroups; with one group this is plain
 *   beam_search (the two share BeamSearchScorer and give the same result).
 * - Initial beam scores: 0 for the first beam of each group, -1e9 for the others.
 * - Per group, in order: processed log-probs = log_softmax - diversity_penalty x (times earlier
 *   groups SELECTED the token at this step; a finished group contributes its pad tokens), EOS -inf
 *   below min_length / min_new_tokens, then at cur_len == max_length - 1 only the forced EOS (at 0).
 *   Candidates: top 2k of (beam score + processed) over the group's beams.
 * - BeamSearchScorer.process: an EOS candidate ranked below k is skipped, one ranked within k is a
 *   hypothesis (BeamHypotheses keeps the k best by sum / len^length_penalty, len = the sequence
 *   WITHOUT the EOS but WITH the decoder start token); the first k non-EOS candidates continue. A
 *   group is done when it has k hypotheses and worst >= best candidate / (cur_len + 1)^lp; its beams
 *   then carry pad at score 0.
 * - At max_length the open beams of unfinished groups are added too; the result is every group's
 *   hypotheses sorted by score (as `sorted(...).pop()` yields them: ties, later first).
 *
 * Lengths changed in transformers 4.36: up to 4.35 a beam still open at max_length is normalised by
 * the whole sequence (start token included) and the early-stop bound divides by cur_len + 1; from
 * 4.36 on (4.44, 4.57 alike) both use the generated length (`lengths: 'generated'`). EOS-ended
 * hypotheses are normalised the same way in both (tokens generated, EOS included).
 *
 * A forced BOS (forced_bos_token_id, or any forced decoder prefix) is fed before the search starts:
 * HF gives it processed score 0 in every beam, so the search then starts with the scores above and
 * `initialLength` = 1 + prefix length.
 */
import type { Hypothesis, SearchBookkeeping, StepDecision, StepScores } from './beam-search';

export interface HfSearchConfig {
  numBeams: number;
  numBeamGroups: number;
  /** diversity_penalty (0 = no HammingDiversityLogitsProcessor). */
  diversityPenalty: number;
  lengthPenalty: number;
  /** HF max_length: the whole decoder sequence, start token included (= max_new_tokens + 1). */
  maxLength: number;
  /** HF min_length (generation_config): EOS banned while the sequence, start token included, is shorter. */
  minLength: number;
  /** HF min_new_tokens: EOS banned while fewer tokens than this were generated (a forced BOS counts). */
  minNewTokens: number;
  /** Tokens in the decoder sequence when the search starts: the start token plus any forced prefix. */
  initialLength: number;
  /** forced_eos_token_id, or null. */
  forcedEosId: number | null;
  eosId: number;
  padId: number;
  /** `sequence`: transformers <= 4.35; `generated`: >= 4.36 (see above). Default `sequence`. */
  lengths?: HfLengthCounting;
}

export type HfLengthCounting = 'sequence' | 'generated';

/**
 * The length convention of a transformers version ("4.35.0", "4.57.6 ..."): `sequence` up to 4.35,
 * `generated` from 4.36; an unreadable version counts as current (`generated`).
 */
export function hfLengthCounting(transformersVersion: unknown): HfLengthCounting {
  const m = typeof transformersVersion === 'string' ? /^(\d+)\.(\d+)/.exec(transformersVersion.trim()) : null;
  if (!m) return 'generated';
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 4 || (major === 4 && minor <= 35) ? 'sequence' : 'generated';
}

export interface HfHypothesis extends Hypothesis {
  /** Whether the hypothesis ended with an EOS candidate (else it was open at max_length). */
  endedWithEos: boolean;
}

/** Top log-probs a step needs per row: a group's true top 2k survives the penalty on the B - k selected tokens and the EOS ban. */
export function hfCandidatesPerRow(config: Pick<HfSearchConfig, 'numBeams' | 'numBeamGroups'>): number {
  const k = config.numBeams / config.numBeamGroups;
  return config.numBeams + k + 1;
}

const INITIAL_OTHER_BEAMS = -1e9;

interface Beam {
  tokens: number[];
  score: number;
  raw: number;
}

interface Cand {
  score: number;
  raw: number;
  inGroup: number;
  token: number;
}

/** BeamHypotheses (n-best list of one group), early_stopping=False. */
class BeamHypotheses {
  readonly beams: { score: number; hyp: HfHypothesis }[] = [];
  private worstScore = 1e9;

  constructor(
    private readonly numBeams: number,
    private readonly lengthPenalty: number,
    /** Subtracted from cur_len in the early-stop bound: 0 up to 4.35, the prompt (start token) length from 4.36. */
    private readonly promptDiscount: number,
  ) {}

  get size(): number {
    return this.beams.length;
  }

  /** `length`: hyp.shape[-1] up to 4.35 (start token included, EOS not), generated_len from 4.36. */
  add(hyp: Omit<HfHypothesis, 'score'>, sumLogprobs: number, length: number): void {
    const score = sumLogprobs / length ** this.lengthPenalty;
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ score, hyp: { ...hyp, score } });
      if (this.beams.length > this.numBeams) {
        const sorted = this.beams.map((b, idx) => ({ s: b.score, idx })).sort((a, b) => a.s - b.s || a.idx - b.idx);
        this.beams.splice(sorted[0]!.idx, 1);
        this.worstScore = sorted[1]!.s;
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  isDone(bestSumLogprobs: number, curLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    return this.worstScore >= bestSumLogprobs / (curLen - this.promptDiscount) ** this.lengthPenalty;
  }
}

export class HfBeamSearch implements SearchBookkeeping {
  private beams: Beam[];
  private readonly hyps: BeamHypotheses[];
  private readonly groupDone: boolean[];
  private curLen: number;
  private readonly k: number;
  /** Decoder prompt tokens the 4.36+ lengths leave out (the start token). */
  private readonly prompt: number;

  constructor(private readonly config: HfSearchConfig) {
    const { numBeams: B, numBeamGroups: G } = config;
    if (!Number.isInteger(B) || B < 2) throw new Error('num_beams must be at least 2 for beam search');
    if (G > B || B % G !== 0) throw new Error('numBeams must be a multiple of numBeamGroups');
    this.k = B / G;
    this.beams = Array.from({ length: B }, (_, b) => ({ tokens: [], score: b % this.k === 0 ? 0 : INITIAL_OTHER_BEAMS, raw: 0 }));
    this.prompt = config.lengths === 'generated' ? 1 : 0;
    this.hyps = Array.from({ length: G }, () => new BeamHypotheses(this.k, config.lengthPenalty, this.prompt));
    this.groupDone = new Array<boolean>(G).fill(false);
    this.curLen = config.initialLength;
    if (this.curLen >= config.maxLength) throw new Error('max_length leaves no token to generate');
  }

  get candidatesPerRow(): number {
    return hfCandidatesPerRow(this.config);
  }

  step(scores: StepScores): StepDecision {
    const { numBeams: B, numBeamGroups: G, diversityPenalty, eosId, padId, maxLength, minLength, minNewTokens, forcedEosId } = this.config;
    const k = this.k;
    const curLen = this.curLen;
    const forceEos = forcedEosId !== null && curLen === maxLength - 1;
    // MinNewTokensLengthLogitsProcessor counts from the prompt (the start token alone for encoder-decoders)
    const eosBanned = curLen < minLength || curLen - 1 < minNewTokens;
    const currentTokens: number[] = new Array<number>(B).fill(padId);
    const next: Beam[] = new Array<Beam>(B);
    const sourceRows: number[] = new Array<number>(B);

    for (let g = 0; g < G; g++) {
      const start = g * k;
      if (this.groupDone[g]) {
        // process() pads a finished group: every row continues the group's first row with pad, score 0
        for (let j = 0; j < k; j++) {
          next[start + j] = { tokens: [...this.beams[start]!.tokens, padId], score: 0, raw: 0 };
          sourceRows[start + j] = start;
          currentTokens[start + j] = padId;
        }
        continue;
      }
      const freq = new Map<number, number>();
      if (diversityPenalty > 0 && g > 0) for (let b = 0; b < start; b++) freq.set(currentTokens[b]!, (freq.get(currentTokens[b]!) ?? 0) + 1);
      const cands: Cand[] = [];
      for (let j = 0; j < k; j++) {
        const b = start + j;
        const beam = this.beams[b]!;
        const row = scores.rows === 1 ? 0 : b;
        if (forceEos) {
          cands.push({ score: beam.score + 0, raw: beam.raw + scores.eosLogp[row]!, inGroup: j, token: forcedEosId });
          continue;
        }
        for (let r = 0; r < scores.k; r++) {
          const token = scores.ids[row * scores.k + r]!;
          if (token === eosId && eosBanned) continue;
          const lp = scores.logp[row * scores.k + r]!;
          if (!(lp > -Infinity)) continue;
          const processed = lp - diversityPenalty * (freq.get(token) ?? 0);
          cands.push({ score: beam.score + processed, raw: beam.raw + lp, inGroup: j, token });
        }
      }
      // torch.topk(largest, sorted) over the group's flattened (beam, vocab) scores
      cands.sort((a, b) => b.score - a.score || a.inGroup - b.inGroup || a.token - b.token);
      const top = cands.slice(0, 2 * k);
      // Only at a forced EOS are there fewer finite candidates; torch fills with -inf entries.
      while (top.length < 2 * k) top.push({ score: -Infinity, raw: -Infinity, inGroup: 0, token: eosId === 0 ? 1 : 0 });

      // BeamSearchScorer.process
      let filled = 0;
      for (let rank = 0; rank < top.length; rank++) {
        const c = top[rank]!;
        const parent = this.beams[start + c.inGroup]!;
        if (c.token === eosId) {
          if (rank < k) {
            // 4.35: hyp.shape[-1] = cur_len; 4.36+: generated_len = (cur_len + 1) - prompt: the same number
            this.hyps[g]!.add({ tokens: [...parent.tokens, eosId], sumLogp: c.score, rawSumLogp: c.raw, group: g, endedWithEos: true }, c.score, curLen);
          }
        } else {
          next[start + filled] = { tokens: [...parent.tokens, c.token], score: c.score, raw: c.raw };
          sourceRows[start + filled] = start + c.inGroup;
          currentTokens[start + filled] = c.token;
          filled++;
        }
        if (filled === k) break;
      }
      if (filled < k) throw new Error(`At most ${k} tokens can be equal to eos_token_id`);
      this.groupDone[g] = this.groupDone[g]! || this.hyps[g]!.isDone(top[0]!.score, curLen + 1);
    }

    this.beams = next;
    this.curLen++;
    const done = this.groupDone.every(Boolean) || this.curLen >= maxLength;
    if (done) this.finalize();
    return { sourceRows, tokens: currentTokens, done };
  }

  private finalizedHyps: HfHypothesis[] | null = null;

  /** BeamSearchScorer.finalize: open beams of unfinished groups join their group's hypotheses. */
  private finalize(): void {
    const k = this.k;
    for (let g = 0; g < this.config.numBeamGroups; g++) {
      if (this.groupDone[g]) continue;
      for (let j = 0; j < k; j++) {
        const beam = this.beams[g * k + j]!;
        this.hyps[g]!.add({ tokens: beam.tokens, sumLogp: beam.score, rawSumLogp: beam.raw, group: g, endedWithEos: false }, beam.score, this.curLen - this.prompt);
      }
    }
    const all = this.hyps.flatMap((h) => h.beams);
    // sorted(key=score) ascending (stable), then pop() from the end
    const ascending = all.map((b, i) => ({ b, i })).sort((x, y) => x.b.score - y.b.score || x.i - y.i);
    this.finalizedHyps = ascending.reverse().map((x) => x.b.hyp);
  }

  /** All numBeams hypotheses, best first (HF's sequences / sequences_scores order). */
  result(): HfHypothesis[] {
    if (!this.finalizedHyps) throw new Error('the search has not finished');
    return this.finalizedHyps.slice(0, this.config.numBeams);
  }
}
