/**
 * Encoder-decoder inference on an Optimum-layout model: encoding, incremental decoding with a
 * KV cache, and batched teacher forcing. Cross-attention keys/values are computed once per
 * conditioning text (one decoder call at batch 1) and shared by every row that conditions on it,
 * instead of being recomputed per beam or per target.
 */
import {
  type Feeds,
  type LogProbHelpers,
  type SessionPair,
  type Tensor,
  boolTensor,
  emptyKv,
  float32Tensor,
  floatData,
  gatherRows,
  inputMetadata,
  inputNames,
  int64Tensor,
  int64TensorOf,
  outputNames,
  type TopKResult,
  run,
  tileRow,
  topKResult,
} from './ort';
import { ModelError } from '../errors';
import { KvHistory } from './kv-history';

/** The encoder's output for one text, plus its cross-attention cache (batch 1). */
export interface EncodedText {
  hidden: Tensor; // [1, S, D]
  mask: Tensor; // [1, S]
  length: number;
  /** present.N.encoder.{key,value} keyed by past_key_values.N.encoder.{key,value}, [1, H, S, hd]. */
  crossKv: Map<string, Tensor>;
  /** Logits of the first decoding step after the start token, [1, 1, V]. */
  firstLogits: Tensor;
  /** Self-attention cache after the start token, [1, H, 1, hd] (merged design; empty for `quals-step`). */
  firstSelfKv: Map<string, Tensor>;
  /** `quals-step` design: the one-row state after the start token, whose history every state on this text shares. */
  stepStart?: DecoderState;
}

/** Decoder state for a batch of rows that all condition on the same text. */
export interface DecoderState {
  rows: number;
  /** Tokens already in the self-attention cache. */
  length: number;
  selfKv: Map<string, Tensor>;
  /** Cross-attention cache, hidden states and mask tiled to `rows` (`quals-step` design: batch 1, never tiled). */
  crossKv: Map<string, Tensor>;
  hidden: Tensor;
  mask: Tensor;
  /**
   * `quals-step` design only (then `selfKv` is empty): the self-attention history of the text, and
   * for each row the history rows of its `length` cached tokens (kv-history.ts). Reordering or
   * expanding rows only rearranges `pastRows`; the next decoder call gathers them.
   */
  history?: KvHistory;
  pastRows?: readonly Int32Array[];
}

export interface Seq2SeqShape {
  heads: number;
  headDim: number;
  vocabSize: number;
  selfKvNames: string[];
  crossKvNames: string[];
}

/** Work done so far, for benchmarks: token positions through each network and attention sizes. */
export interface WorkCounters {
  encoderTokens: number;
  /** Sum over encoder calls of S^2 (self-attention score entries per head). */
  encoderAttention: number;
  /** Tokens whose cross-attention keys/values were projected. */
  crossKvTokens: number;
  /** Decoder token positions (rows x new tokens), each through every layer and the LM head. */
  decoderTokens: number;
  /** Sum of rows x new tokens x (past + new) self-attention entries. */
  decoderSelfAttention: number;
  /** Sum of rows x new tokens x encoder length cross-attention entries. */
  decoderCrossAttention: number;
  decoderCalls: number;
  encoderCalls: number;
  /** Sum over decoder calls of the encoder length (the batch-1 cross-attention cache each call must read at least once). */
  decoderCrossKvReads: number;
  /** Decoder graph runs, and the cached self-attention rows x positions they read. */
  decoderRuns: number;
  decoderSelfKvReads: number;
}

export function emptyCounters(): WorkCounters {
  return { encoderTokens: 0, encoderAttention: 0, crossKvTokens: 0, decoderTokens: 0, decoderSelfAttention: 0, decoderCrossAttention: 0, decoderCalls: 0, encoderCalls: 0, decoderCrossKvReads: 0, decoderRuns: 0, decoderSelfKvReads: 0 };
}

export class Seq2Seq {
  readonly shape: Seq2SeqShape;
  readonly counters: WorkCounters = emptyCounters();

  /**
   * @param multiTokenCache whether the merged decoder's with-past branch is valid for several new
   *   tokens at once. True only for the project's own graphs (quals.json `graphs`); a genuine
   *   Optimum export traced that branch for ONE token (BART's log-probs come out wrong by nats).
   */
  constructor(
    private readonly sessions: SessionPair,
    readonly helpers: LogProbHelpers,
    readonly decoderStartId: number,
    readonly padId: number,
    private readonly config: Record<string, unknown>,
    readonly multiTokenCache = false,
  ) {
    this.design = sessions.crossKv ? 'quals-step' : 'merged';
    this.shape = this.design === 'quals-step' ? describeStepDecoder(sessions, config) : describeDecoder(sessions, config);
    this.presentNames = this.shape.selfKvNames.map((n) => n.replace('past_key_values.', 'present.').replace('history.', 'new_history.'));
    this.stepFetches = ['logits', ...this.presentNames];
    this.ownHelpers = helpers;
    // The with-past graph is only a faster path for cached steps: one that lacks an output the
    // steps fetch is not used (the merged decoder runs every step, as it does without one).
    const usable = sessions.withPast && this.stepFetches.every((n) => outputNames(sessions.withPast!).includes(n));
    this.withPast = usable ? sessions.withPast : undefined;
    this.withPastInputs = new Set(this.withPast ? inputNames(this.withPast) : []);
  }

  /** Which decoder graphs run: the Optimum merged decoder, or the project's `quals-step` design. */
  readonly design: 'merged' | 'quals-step';
  private readonly presentNames: string[];
  /** The with-past graph used for one-token cached steps, when there is a usable one. */
  private readonly withPast: SessionPair['withPast'];
  /** The with-past graph's inputs (it reads only some of the merged decoder's). */
  private readonly withPastInputs: ReadonlySet<string>;
  private readonly stepFetches: string[];
  /** The helpers given at construction: the in-graph log-prob outputs are used only while `helpers` is still them (a wrapper, e.g. a logits bias, takes the helper path). */
  private readonly ownHelpers: LogProbHelpers;

  private get inGraphLogProbs(): boolean {
    return this.design === 'quals-step' && this.helpers === this.ownHelpers;
  }

  /** The same sessions with another multi-token policy (`quals model check` probes both). */
  withMultiTokenCache(multiTokenCache: boolean): Seq2Seq {
    return new Seq2Seq(this.sessions, this.helpers, this.decoderStartId, this.padId, this.config, multiTokenCache);
  }

  /** Vocabulary width of a logits tensor [.., .., V] (may exceed the tokenizer's vocabulary, as in T5). */
  vocabOf(logits: Tensor): number {
    return logits.dims[logits.dims.length - 1]!;
  }

  get provider(): string {
    return this.sessions.provider;
  }

  /** Runs the encoder on one text and prepares the cross-attention cache. */
  async encode(ids: readonly number[]): Promise<EncodedText> {
    const S = ids.length;
    const inputIds = int64Tensor(ids, [1, S]);
    const mask = int64Tensor(new Array<number>(S).fill(1), [1, S]);
    const enc = await run(this.sessions.encoder, { input_ids: inputIds, attention_mask: mask }, 'encoder');
    const hidden = enc.last_hidden_state;
    if (!hidden) throw new ModelError('invalid-file', 'The encoder has no last_hidden_state output.');
    if (this.design === 'quals-step') return this.encodeStep(hidden, mask, S);
    const feeds: Feeds = {
      encoder_attention_mask: mask,
      input_ids: int64Tensor([this.decoderStartId], [1, 1]),
      encoder_hidden_states: hidden,
      use_cache_branch: boolTensor(false),
    };
    for (const name of [...this.shape.selfKvNames, ...this.shape.crossKvNames]) feeds[name] = emptyKv(1, this.shape.heads, this.shape.headDim);
    const out = await run(this.sessions.decoder, feeds, 'decoder');
    const c = this.counters;
    c.encoderTokens += S;
    c.encoderCalls += 1;
    c.decoderCrossKvReads += S;
    c.decoderRuns += 1;
    c.encoderAttention += S * S;
    c.crossKvTokens += S;
    c.decoderTokens += 1;
    c.decoderSelfAttention += 1;
    c.decoderCrossAttention += S;
    c.decoderCalls += 2;
    const crossKv = new Map<string, Tensor>();
    for (const name of this.shape.crossKvNames) crossKv.set(name, presentOf(out, name));
    const firstSelfKv = new Map<string, Tensor>();
    for (const name of this.shape.selfKvNames) firstSelfKv.set(name, presentOf(out, name));
    return { hidden, mask, length: S, crossKv, firstLogits: out.logits!, firstSelfKv };
  }

  /** `quals-step`: the batch-1 cross-attention cache from its own graph, then the start token through the step decoder. */
  private async encodeStep(hidden: Tensor, mask: Tensor, S: number): Promise<EncodedText> {
    const kv = await run(this.sessions.crossKv!, { encoder_hidden_states: hidden }, 'cross-attention cache');
    const crossKv = new Map<string, Tensor>();
    for (const name of this.shape.crossKvNames) crossKv.set(name, presentOf(kv, name));
    const c = this.counters;
    c.encoderTokens += S;
    c.encoderCalls += 1;
    c.encoderAttention += S * S;
    c.crossKvTokens += S;
    c.decoderCalls += 2; // session runs: the encoder and the cross-attention graph (decodeStep counts its own)
    const history = new KvHistory(this.shape.selfKvNames, this.shape.heads, this.shape.headDim);
    const empty: DecoderState = { rows: 1, length: 0, selfKv: new Map(), crossKv, hidden, mask, history, pastRows: [NO_ROWS] };
    const out = await this.decodeStep(empty, [this.decoderStartId], 1, { logits: true });
    return { hidden, mask, length: S, crossKv, firstLogits: out.logits!, firstSelfKv: new Map(), stepStart: out.state };
  }

  /** `quals-step`: the text's start state (encodeStep), which every state on the text grows from. */
  private stepStartOf(enc: EncodedText): DecoderState {
    if (!enc.stepStart) throw new Error('This text was encoded by another model (no quals-step start state).');
    return enc.stepStart;
  }

  /** A state of `rows` identical rows positioned after the start token. */
  startState(enc: EncodedText, rows: number): DecoderState {
    if (this.design === 'quals-step') {
      const start = this.stepStartOf(enc);
      return { ...start, rows, pastRows: new Array<Int32Array>(rows).fill(start.pastRows![0]!) };
    }
    const zeros = new Array<number>(rows).fill(0);
    const selfKv = new Map<string, Tensor>();
    for (const [name, t] of enc.firstSelfKv) selfKv.set(name, gatherRows(t, zeros));
    return { rows, length: 1, selfKv, ...this.tiledContext(enc, rows) };
  }

  /** A one-row state copied into `rows` identical rows (to start a beam search after a prompt). */
  expandState(enc: EncodedText, state: DecoderState, rows: number): DecoderState {
    if (state.rows !== 1) throw new Error('expandState expects a one-row state');
    if (this.design === 'quals-step') return { ...state, rows, pastRows: new Array<Int32Array>(rows).fill(state.pastRows![0]!) };
    const zeros = new Array<number>(rows).fill(0);
    const selfKv = new Map<string, Tensor>();
    for (const [name, t] of state.selfKv) selfKv.set(name, gatherRows(t, zeros));
    return { rows, length: state.length, selfKv, ...this.tiledContext(enc, rows) };
  }

  /** A state of `rows` rows with an empty self-attention cache (the start token not yet fed). */
  emptyState(enc: EncodedText, rows: number): DecoderState {
    if (this.design === 'quals-step') {
      const start = this.stepStartOf(enc);
      return { ...start, rows, length: 0, pastRows: new Array<Int32Array>(rows).fill(NO_ROWS) };
    }
    const selfKv = new Map<string, Tensor>();
    for (const name of this.shape.selfKvNames) selfKv.set(name, emptyKv(rows, this.shape.heads, this.shape.headDim));
    return { rows, length: 0, selfKv, ...this.tiledContext(enc, rows) };
  }

  /** Cross-attention context tiled to `rows`, built once per (text, rows) and reused: it is large. */
  private tiledContext(enc: EncodedText, rows: number): Pick<DecoderState, 'crossKv' | 'hidden' | 'mask'> {
    let byRows = this.tiled.get(enc);
    if (!byRows) this.tiled.set(enc, (byRows = new Map()));
    const hit = byRows.get(rows);
    if (hit) return hit;
    const crossKv = new Map<string, Tensor>();
    for (const [name, t] of enc.crossKv) crossKv.set(name, rows === 1 ? t : tileRow(t, rows));
    const context = {
      crossKv,
      hidden: rows === 1 ? enc.hidden : tileRow(enc.hidden, rows),
      mask: rows === 1 ? enc.mask : tileRow(enc.mask, rows),
    };
    byRows.set(rows, context);
    return context;
  }

  private readonly tiled = new WeakMap<EncodedText, Map<number, Pick<DecoderState, 'crossKv' | 'hidden' | 'mask'>>>();


  /**
   * Feeds `tokens` ([rows, T], row-major) after the state's cached tokens. Returns logits
   * [rows, T, V] and the state extended by T tokens. Several tokens go through the with-past branch
   * only when the graphs allow it; otherwise an empty state takes the no-cache branch (which yields
   * the whole self-attention cache) and a non-empty one is fed a token at a time.
   */
  async step(state: DecoderState, tokens: readonly number[], T = 1): Promise<{ logits: Tensor; state: DecoderState }> {
    if (tokens.length !== state.rows * T) throw new Error(`step: ${tokens.length} tokens for ${state.rows} rows x ${T}`);
    if (this.design === 'quals-step') {
      // Its graph is valid for any number of new tokens after any cached length.
      const out = await this.decodeStep(state, tokens, T, { logits: true });
      return { logits: out.logits!, state: out.state };
    }
    if (T === 1 || this.multiTokenCache) return this.decode(state, tokens, T, true);
    if (state.length === 0) return this.decode(state, tokens, T, false);
    return this.stepTokenByToken(state, tokens, T);
  }

  private async stepTokenByToken(state: DecoderState, tokens: readonly number[], T: number): Promise<{ logits: Tensor; state: DecoderState }> {
    const { rows } = state;
    let all: Float32Array | null = null;
    let V = 0;
    for (let t = 0; t < T; t++) {
      const column = Array.from({ length: rows }, (_, r) => tokens[r * T + t]!);
      const out = await this.decode(state, column, 1, true);
      state = out.state;
      const data = floatData(out.logits);
      V = data.length / rows;
      all ??= new Float32Array(rows * T * V);
      for (let r = 0; r < rows; r++) all.set(data.subarray(r * V, (r + 1) * V), (r * T + t) * V);
    }
    return { logits: float32Tensor(all!, [rows, T, V]), state };
  }

  /**
   * One decoder call. `useCache` false runs the no-cache branch, which needs an empty state; true
   * runs the with-past graph split out of a foreign merged decoder when there is one (the same
   * branch, without the `If` node's copies of the cross-attention cache).
   */
  private async decode(state: DecoderState, tokens: readonly number[], T: number, useCache: boolean): Promise<{ logits: Tensor; state: DecoderState }> {
    const withPast = useCache ? this.withPast : undefined;
    const feeds: Feeds = {
      encoder_attention_mask: state.mask,
      input_ids: int64Tensor(tokens, [state.rows, T]),
      encoder_hidden_states: state.hidden,
      use_cache_branch: boolTensor(useCache),
    };
    for (const [name, t] of state.selfKv) feeds[name] = t;
    for (const [name, t] of state.crossKv) feeds[name] = useCache ? t : emptyKv(state.rows, this.shape.heads, this.shape.headDim);
    if (withPast) for (const name of Object.keys(feeds)) if (!this.withPastInputs.has(name)) delete feeds[name];
    const out = await run(withPast ?? this.sessions.decoder, feeds, 'decoder', this.stepFetches);
    const c = this.counters;
    const S = state.mask.dims[1]!;
    c.decoderTokens += state.rows * T;
    c.decoderSelfAttention += state.rows * T * (state.length + T);
    c.decoderCrossAttention += state.rows * T * S;
    c.decoderCrossKvReads += S;
    c.decoderRuns += 1;
    c.decoderSelfKvReads += state.rows * state.length;
    if (!useCache) c.crossKvTokens += state.rows * S;
    c.decoderCalls += 1;
    const selfKv = new Map<string, Tensor>();
    for (const name of this.shape.selfKvNames) selfKv.set(name, presentOf(out, name));
    return { logits: out.logits!, state: { ...state, length: state.length + T, selfKv } };
  }

  /**
   * One token per row (or T), returning the top `k` log-probs of each new position (plus the
   * log-probs of `extraIds`) instead of logits: inside the `quals-step` graph, else through the
   * top-k helper.
   */
  async stepTopK(state: DecoderState, tokens: readonly number[], k: number, extraIds: number[], T = 1): Promise<{ scores: TopKResult; state: DecoderState }> {
    if (!this.inGraphLogProbs) {
      const stepped = await this.step(state, tokens, T);
      return { scores: await this.helpers.topK(floatData(stepped.logits), this.vocabOf(stepped.logits), k, extraIds), state: stepped.state };
    }
    if (tokens.length !== state.rows * T) throw new Error(`stepTopK: ${tokens.length} tokens for ${state.rows} rows x ${T}`);
    const topK = { k: Math.min(k, this.shape.vocabSize), extraIds };
    const shared = T === 1 ? sharedRows(state.pastRows!, tokens) : null;
    if (!shared) {
      const out = await this.decodeStep(state, tokens, T, { topK });
      return { scores: out.scores!, state: out.state };
    }
    // Beams that continue the same cached rows with the same token (a search's repeated
    // hypotheses) compute the same thing: each runs once, and the copies share its new rows, so
    // their continuations are found shared again at the next step.
    const { first, rowOf } = shared;
    const out = await this.decodeStep({ ...state, rows: first.length, pastRows: first.map((i) => state.pastRows![i]!) }, first.map((i) => tokens[i]!), 1, { topK });
    const grown = out.state.pastRows!;
    return { scores: expandRows(out.scores!, rowOf), state: { ...out.state, rows: state.rows, pastRows: Array.from(rowOf, (u) => grown[u]!) } };
  }

  /**
   * One call of the `quals-step` decoder: `history_rows` selects each row's past out of the text's
   * history, the cross-attention cache is fed at batch 1; fetches only the outputs asked for. The
   * new tokens' history rows are appended (and the grown state returned) unless `want.noState`
   * (teacher forcing, whose state nobody continues).
   */
  private async decodeStep(
    state: DecoderState,
    tokens: readonly number[],
    T: number,
    want: { logits?: boolean; topK?: { k: number; extraIds: number[] }; gold?: readonly number[]; noState?: boolean },
  ): Promise<{ logits?: Tensor; scores?: TopKResult; gold?: Float32Array; state: DecoderState }> {
    const B = state.rows;
    const history = state.history!;
    const pastRows = state.pastRows!;
    const P = state.length;
    const rowIds = new BigInt64Array(B * P);
    for (let b = 0; b < B; b++) {
      const past = pastRows[b]!;
      for (let t = 0; t < P; t++) rowIds[b * P + t] = BigInt(past[t]!);
    }
    const feeds: Feeds = {
      input_ids: int64Tensor(tokens, [B, T]),
      history_rows: int64TensorOf(rowIds, [B, P]),
      encoder_attention_mask: state.mask,
      k: int64Tensor([want.topK?.k ?? 1], [1]),
      extra_ids: int64Tensor(want.topK?.extraIds.length ? want.topK.extraIds : [0], [want.topK?.extraIds.length || 1]),
      gold_ids: int64Tensor(want.gold ?? new Array<number>(B * T).fill(0), [B, T]),
      // Nothing cached (teacher forcing, a prompt's first pass): no history rows to feed, which a
      // GPU provider would otherwise copy to the device whole.
      ...(P === 0 ? history.emptyFeeds() : history.feeds()),
    };
    for (const [name, t] of state.crossKv) feeds[name] = t;
    const fetches = want.noState ? [] : [...this.presentNames];
    if (want.logits) fetches.push('logits');
    if (want.topK) fetches.push('top_logp', 'top_ids', 'extra_logp');
    if (want.gold) fetches.push('gold_logp');
    const out = await run(this.sessions.decoder, feeds, 'decoder', fetches);
    const c = this.counters;
    const S = state.mask.dims[1]!;
    c.decoderTokens += B * T;
    c.decoderSelfAttention += B * T * (P + T);
    c.decoderCrossAttention += B * T * S;
    c.decoderCrossKvReads += S;
    c.decoderRuns += 1;
    c.decoderSelfKvReads += B * P;
    c.decoderCalls += 1;
    let next = state;
    if (!want.noState) {
      const first = history.append(this.presentNames.map((n) => floatData(presentOf(out, n))), B * T);
      const grown = pastRows.map((past, b) => {
        const rows = new Int32Array(P + T);
        rows.set(past);
        for (let t = 0; t < T; t++) rows[P + t] = first + b * T + t;
        return rows;
      });
      next = { ...state, length: P + T, pastRows: grown };
    }
    return {
      logits: out.logits,
      scores: want.topK ? topKResult(out.top_logp!, out.top_ids!, out.extra_logp!) : undefined,
      gold: want.gold ? floatData(out.gold_logp!) : undefined,
      state: next,
    };
  }

  /** Keeps rows `idx` of the self-attention cache (beam reordering); the shared context is unchanged. */
  reorder(state: DecoderState, idx: readonly number[]): DecoderState {
    if (idx.length !== state.rows) throw new Error('reorder must keep the row count');
    if (this.design === 'quals-step') {
      // Only the row lists move: the next decoder call gathers the rows inside the graph.
      const cur = state.pastRows!;
      return { ...state, pastRows: idx.map((i) => cur[i]!) };
    }
    const selfKv = new Map<string, Tensor>();
    for (const [name, t] of state.selfKv) selfKv.set(name, gatherRows(t, idx));
    return { ...state, selfKv };
  }

  /**
   * Rows `idx` of the state, any number of them: rows continue, split into beams or are dropped
   * (a batch of searches whose rows start and finish at different steps). `quals-step`: deferred to
   * the next call's `history_rows`; merged: copied, with the context tiled to the new row count — each
   * row count is tiled once per text and kept, so callers keep the counts few.
   */
  selectRows(enc: EncodedText, state: DecoderState, idx: readonly number[]): DecoderState {
    if (this.design === 'quals-step') {
      const cur = state.pastRows!;
      return { ...state, rows: idx.length, pastRows: idx.map((i) => cur[i]!) };
    }
    if (idx.length === state.rows) return this.reorder(state, idx);
    const selfKv = new Map<string, Tensor>();
    for (const [name, t] of state.selfKv) selfKv.set(name, gatherRows(t, idx));
    return { rows: idx.length, length: state.length, selfKv, ...this.tiledContext(enc, idx.length) };
  }

  /** Bytes of one row of the merged decoder's tiled context (cross-attention cache and hidden states): what each extra row costs. */
  contextBytesPerRow(enc: EncodedText): number {
    let floats = enc.hidden.size;
    for (const t of enc.crossKv.values()) floats += t.size;
    return 4 * floats;
  }

  /**
   * log p(target_t | target_<t, text) for every target (after the start token and `decoderPrefix`), in chunks of rows so that the logits held
   * at once stay under maxLogitsFloats. Right padding is safe: attention is causal.
   */
  async teacherForce(
    enc: EncodedText,
    targets: readonly (readonly number[])[],
    maxLogitsFloats: number,
    decoderPrefix: readonly number[] = [],
  ): Promise<number[][]> {
    if (decoderPrefix.length > 0) {
      // Forced tokens (HF BART's BOS) precede every target in the decoder input but are not scored.
      const full = await this.teacherForce(enc, targets.map((t) => [...decoderPrefix, ...t]), maxLogitsFloats);
      return full.map((lp) => lp.slice(decoderPrefix.length));
    }
    // Longest first, so that each chunk pads its rows to similar lengths (and the first chunk, the
    // widest, sets the row count the bound allows); results go back in the callers' order.
    const order = targets.map((_, j) => j).sort((a, b) => targets[b]!.length - targets[a]!.length || a - b);
    const sorted = order.map((j) => targets[j]!);
    const results: number[][] = new Array<number[]>(targets.length);
    const V = this.shape.vocabSize;
    let i = 0;
    while (i < sorted.length) {
      const T = sorted[i]!.length;
      const bound = this.inGraphLogProbs ? Math.min(maxLogitsFloats, IN_GRAPH_LOGITS_FLOATS) : maxLogitsFloats;
      const rows = Math.max(1, Math.min(sorted.length - i, Math.floor(bound / Math.max(1, T * V))));
      const chunk = sorted.slice(i, i + rows);
      const Tc = Math.max(...chunk.map((t) => t.length));
      const input: number[] = [];
      const gold: number[] = [];
      for (const t of chunk) {
        const padded = [...t, ...new Array<number>(Tc - t.length).fill(this.padId)];
        input.push(this.decoderStartId, ...padded.slice(0, Tc - 1));
        gold.push(...padded);
      }
      let lp: Float32Array;
      if (this.inGraphLogProbs) {
        lp = (await this.decodeStep(this.emptyState(enc, chunk.length), input, Tc, { gold, noState: true })).gold!;
      } else {
        const { logits } = await this.step(this.emptyState(enc, chunk.length), input, Tc);
        lp = await this.helpers.gather(logits, gold, chunk.length, Tc);
      }
      chunk.forEach((t, r) => (results[order[i + r]!] = Array.from(lp.subarray(r * Tc, r * Tc + t.length))));
      i += chunk.length;
    }
    return results;
  }
}

function presentOf(out: Record<string, Tensor>, pastName: string): Tensor {
  const name = pastName.replace('past_key_values.', 'present.').replace(/^history\./, 'new_history.');
  const t = out[name];
  if (!t) throw new ModelError('invalid-file', `The decoder has no output ${name} for its input ${pastName}.`);
  return t;
}

/**
 * Rows of a one-token call that repeat an earlier row (the same cached rows, by identity, and the
 * same token): `first` lists one row per distinct computation, `rowOf[b]` the entry of `first`
 * row b takes its results from. Null when every row is distinct.
 */
function sharedRows(pastRows: readonly Int32Array[], tokens: readonly number[]): { first: number[]; rowOf: Int32Array } | null {
  const seen = new Map<Int32Array, Map<number, number>>();
  const first: number[] = [];
  const rowOf = new Int32Array(tokens.length);
  for (let b = 0; b < tokens.length; b++) {
    let byToken = seen.get(pastRows[b]!);
    if (!byToken) seen.set(pastRows[b]!, (byToken = new Map()));
    let u = byToken.get(tokens[b]!);
    if (u === undefined) {
      u = first.length;
      byToken.set(tokens[b]!, u);
      first.push(b);
    }
    rowOf[b] = u;
  }
  return first.length < tokens.length ? { first, rowOf } : null;
}

/** Per-row results of the distinct rows, copied out to every row (`rowOf`, sharedRows). */
function expandRows(s: TopKResult, rowOf: Int32Array): TopKResult {
  const E = s.extraLogp.length / s.rows;
  const logp = new Float32Array(rowOf.length * s.k);
  const ids = new Int32Array(rowOf.length * s.k);
  const extraLogp = new Float32Array(rowOf.length * E);
  rowOf.forEach((u, b) => {
    logp.set(s.logp.subarray(u * s.k, (u + 1) * s.k), b * s.k);
    ids.set(s.ids.subarray(u * s.k, (u + 1) * s.k), b * s.k);
    extraLogp.set(s.extraLogp.subarray(u * E, (u + 1) * E), b * E);
  });
  return { rows: rowOf.length, logp, ids, extraLogp, k: s.k };
}

/**
 * `quals-step` teacher forcing keeps its [rows x tokens, vocabulary] logits and log-probs inside
 * ONNX Runtime, whose CPU arena keeps every block it grew to: chunks of at most this many logits
 * (32 MB) held the int8 bench model's peak RSS over three calls at ~0.96 GiB instead of ~1.10 GiB
 * (fp32: 1.51-1.57 instead of 1.58-1.59 GiB), for ~25 ms more teacher forcing per call.
 */
const IN_GRAPH_LOGITS_FLOATS = 8 * 2 ** 20;

/** A state row with nothing cached yet. */
const NO_ROWS = new Int32Array(0);

/** The `quals-step` decoder's shape (src/modelgen/bart-graph.ts buildDecoderStepGraph): selfKvNames are its history inputs. */
function describeStepDecoder(sessions: SessionPair, config: Record<string, unknown>): Seq2SeqShape {
  const names = inputNames(sessions.decoder);
  const required = ['input_ids', 'history_rows', 'encoder_attention_mask', 'k', 'extra_ids', 'gold_ids'];
  const missing = required.filter((n) => !names.includes(n));
  if (missing.length) throw new ModelError('invalid-file', `The quals-step decoder lacks the inputs ${missing.join(', ')}: import or generate the model again.`);
  const selfKvNames = names.filter((n) => n.startsWith('history.'));
  const crossKvNames = names.filter((n) => n.startsWith('past_key_values.') && n.includes('.encoder.'));
  const meta = inputMetadata(sessions.decoder).find((m) => m.name === selfKvNames[0]);
  const heads = meta?.shape[1];
  const headDim = meta?.shape[2];
  const vocabSize = config.vocab_size;
  if (selfKvNames.length === 0 || crossKvNames.length === 0 || typeof heads !== 'number' || typeof headDim !== 'number' || typeof vocabSize !== 'number') {
    throw new ModelError('invalid-file', 'The quals-step decoder lacks its history or cross-attention inputs, or config.json its vocab_size: import or generate the model again.');
  }
  return { heads, headDim, vocabSize, selfKvNames, crossKvNames };
}

function describeDecoder(sessions: SessionPair, config: Record<string, unknown>): Seq2SeqShape {
  const names = inputNames(sessions.decoder);
  const required = ['encoder_attention_mask', 'input_ids', 'encoder_hidden_states', 'use_cache_branch'];
  const missing = required.filter((n) => !names.includes(n));
  if (missing.length) {
    throw new ModelError(
      'invalid-file',
      `onnx/decoder_model_merged.onnx lacks the inputs ${missing.join(', ')}: export it with \`optimum-cli export onnx --task text2text-generation-with-past\`.`,
    );
  }
  return shapeFrom(sessions, names, config);
}

function shapeFrom(sessions: SessionPair, names: readonly string[], config: Record<string, unknown>): Seq2SeqShape {
  const past = names.filter((n) => n.startsWith('past_key_values.'));
  const selfKvNames = past.filter((n) => n.includes('.decoder.'));
  const crossKvNames = past.filter((n) => n.includes('.encoder.'));
  if (selfKvNames.length === 0 || crossKvNames.length === 0) {
    throw new ModelError('invalid-file', 'onnx/decoder_model_merged.onnx has no past_key_values inputs: export it with past (text2text-generation-with-past).');
  }
  const meta = inputMetadata(sessions.decoder).find((m) => m.name === selfKvNames[0]);
  const num = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
  const heads = typeof meta?.shape[1] === 'number' ? meta.shape[1] : (num('decoder_attention_heads') ?? num('num_heads'));
  const dModel = num('d_model');
  const headDim = typeof meta?.shape[3] === 'number' ? meta.shape[3] : (num('d_kv') ?? (heads && dModel ? dModel / heads : undefined));
  const vocabSize = num('vocab_size');
  if (!heads || !headDim || !vocabSize) throw new ModelError('invalid-file', 'config.json lacks the attention heads, head size or vocab_size the decoder needs.');
  return { heads, headDim, vocabSize, selfKvNames, crossKvNames };
}
