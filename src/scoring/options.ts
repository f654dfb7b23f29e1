/**
 * Scoring and search options: one typed object, one set of documented defaults, one merge order
 * (defaults -> the model's quals.json -> user settings / CLI flags). The VS Code settings schema
 * and the CLI flags are checked against OPTION_KEYS by a unit test so they cannot drift.
 */

export type ScoringMode = 'paper' | 'reference';

/**
 * What the diversity penalty counts. `fairseq` (the QUALS reference): every candidate an earlier
 * group proposed at this step (2 per beam). `hamming` (Hugging Face's HammingDiversityLogitsProcessor):
 * only the tokens earlier groups selected. With one beam per group, `fairseq` penalises a group's
 * top two tokens equally, so their order never changes; `hamming` lets the runner-up through.
 */
export type DiversityCount = 'fairseq' | 'hamming';

/**
 * Which beam-search code the engine reproduces (docs/quals-engine.md, "Search implementations"):
 * - `grouped`: the engine's own diverse beam search (contiguous groups, each group refilled from its
 *   own candidates, maxLength counts the EOS, diversityCount selectable). The paper-mode default.
 * - `fairseq`: fairseq's DiverseBeamSearch + SequenceGenerator as the QUALS authors ran them
 *   (interleaved candidate columns, beams refilled across groups, maxLength = max_len_b so up to
 *   maxLength + 1 tokens with the EOS). Reference mode always uses it.
 * - `hf`: Hugging Face `generate` (group beam search with Hamming diversity when numBeamGroups > 1,
 *   else plain beam search; BeamSearchScorer, early_stopping=False; maxLength = max_new_tokens).
 */
export type BeamSearchImpl = 'grouped' | 'fairseq' | 'hf';
export const BEAM_SEARCH_IMPLS: readonly BeamSearchImpl[] = ['grouped', 'fairseq', 'hf'];

export interface SearchOptions {
  /** Total beams in the diverse beam search (reference: 60). */
  numBeams: number;
  /** Beam groups; numBeams must be a multiple (reference: 60, one beam per group). */
  numBeamGroups: number;
  /** Diversity strength: a group's log-probs drop by this much per earlier-group proposal (or selection, see diversityCount) of a token at the same step (reference: 0.5). */
  diversityStrength: number;
  /** Which earlier-group tokens the diversity penalty counts (reference: fairseq). */
  diversityCount: DiversityCount;
  /** EOS is banned before this many generated tokens (reference: 8). */
  minLength: number;
  /** Generated tokens at most, EOS included (reference: 60). */
  maxLength: number;
  /** Hypothesis score = sum log p / length^lengthPenalty (reference: 1.0). */
  lengthPenalty: number;
}

export interface QualsOptions extends SearchOptions {
  /** Which beam-search code to reproduce: `grouped` (default), `fairseq` or `hf`; reference mode always uses `fairseq`. */
  beamSearch: BeamSearchImpl;
  /** QA pairs kept by round-robin selection (reference: 10). */
  maxPairs: number;
  /**
   * `paper`: LL_S teacher-forced on the summary; `reference`: the authors' pipeline (fairseq search,
   * their input truncation, filter, selection, and LL_S = generation score).
   */
  mode: ScoringMode;
  /** Greedy tokens at most when asking the source for the answer (0 disables "source says"). */
  sourceAnswerMaxTokens: number;
  /** Upper bound on logits floats held at once in teacher forcing (bounds memory). */
  maxLogitsFloats: number;
}

export const DEFAULT_OPTIONS: Readonly<QualsOptions> = Object.freeze({
  numBeams: 60,
  numBeamGroups: 60,
  diversityStrength: 0.5,
  diversityCount: 'fairseq',
  beamSearch: 'grouped',
  minLength: 8,
  maxLength: 60,
  lengthPenalty: 1.0,
  maxPairs: 10,
  mode: 'paper',
  sourceAnswerMaxTokens: 24,
  maxLogitsFloats: 64 * 1024 * 1024,
});

/**
 * Default flagging threshold on a pair's score (LL_D - LL_S, a mean per-token log-probability
 * drop): pairs below it are reported as unsupported. Supported pairs sit near 0; half a nat per
 * token lost under the source is a clear drop. The VS Code setting quals.threshold and the CLI
 * flag --threshold default to it (a test keeps package.json in step).
 */
export const DEFAULT_PAIR_THRESHOLD = -0.5;

export const OPTION_KEYS = Object.keys(DEFAULT_OPTIONS) as (keyof QualsOptions)[];

/** The search the engine runs for these options: reference mode is the authors' pipeline, so always fairseq's. */
export function effectiveBeamSearch(o: Pick<QualsOptions, 'mode' | 'beamSearch'>): BeamSearchImpl {
  return o.mode === 'reference' ? 'fairseq' : o.beamSearch;
}

/** Thrown for option values a user supplied that cannot work; the message is written for users. */
export class OptionsError extends Error {
  override name = 'OptionsError';
}

/** Merges option layers left to right (later wins), ignoring undefined values, then validates. */
export function resolveOptions(...layers: (Partial<QualsOptions> | undefined)[]): QualsOptions {
  const out: QualsOptions = { ...DEFAULT_OPTIONS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of OPTION_KEYS) {
      const v = layer[key];
      if (v !== undefined) (out as unknown as Record<string, unknown>)[key] = v;
    }
  }
  validateOptions(out);
  return out;
}

function validateOptions(o: QualsOptions): void {
  const positiveInt = (k: keyof QualsOptions) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new OptionsError(`${k} must be a positive integer (got ${String(v)}).`);
  };
  for (const k of ['numBeams', 'numBeamGroups', 'maxLength', 'maxPairs', 'maxLogitsFloats'] as const) positiveInt(k);
  if (o.numBeams % o.numBeamGroups !== 0) {
    throw new OptionsError(`numBeams (${o.numBeams}) must be a multiple of numBeamGroups (${o.numBeamGroups}).`);
  }
  if (!Number.isInteger(o.minLength) || o.minLength < 0 || o.minLength >= o.maxLength) {
    throw new OptionsError(`minLength must be an integer from 0 to maxLength - 1 (got ${o.minLength}, maxLength ${o.maxLength}).`);
  }
  if (!Number.isInteger(o.sourceAnswerMaxTokens) || o.sourceAnswerMaxTokens < 0) {
    throw new OptionsError(`sourceAnswerMaxTokens must be a non-negative integer (got ${o.sourceAnswerMaxTokens}).`);
  }
  if (!Number.isFinite(o.diversityStrength) || o.diversityStrength < 0) {
    throw new OptionsError(`diversityStrength must be a number >= 0 (got ${o.diversityStrength}).`);
  }
  if (o.diversityCount !== 'fairseq' && o.diversityCount !== 'hamming') {
    throw new OptionsError(`diversityCount must be "fairseq" or "hamming" (got "${String(o.diversityCount)}").`);
  }
  if (!(BEAM_SEARCH_IMPLS as readonly string[]).includes(o.beamSearch)) {
    throw new OptionsError(`beamSearch must be one of ${BEAM_SEARCH_IMPLS.map((b) => `"${b}"`).join(', ')} (got "${String(o.beamSearch)}").`);
  }
  if (!Number.isFinite(o.lengthPenalty)) throw new OptionsError(`lengthPenalty must be a number (got ${o.lengthPenalty}).`);
  if (o.mode !== 'paper' && o.mode !== 'reference') throw new OptionsError(`mode must be "paper" or "reference" (got "${String(o.mode)}").`);
}
