/**
 * The baseline a competent user would write on raw onnxruntime-node with an Optimum-layout model:
 * the merged decoder, a no-cache first call that yields the cross-attention cache, that cache
 * tiled to every beam, ALL beams in ONE decoder call per step, log-softmax and top-k in JavaScript,
 * Hugging Face's group beam search (Hamming diversity, EOS ranked within k finishes a hypothesis, a
 * group is done with k hypotheses). Only the search; the bench times it against the project's.
 */
import * as ort from 'onnxruntime-node';

export interface NaiveConfig {
  numBeams: number;
  numBeamGroups: number;
  diversityPenalty: number;
  minLength: number;
  maxLength: number;
  eosId: number;
  decoderStartId: number;
}

export class NaiveLoop {
  private constructor(
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly heads: number,
    private readonly headDim: number,
    private readonly layers: number,
  ) {}

  static async create(dir: string, config: { decoder_attention_heads: number; d_model: number; decoder_layers: number }): Promise<NaiveLoop> {
    const so: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
    const encoder = await ort.InferenceSession.create(`${dir}/onnx/encoder_model.onnx`, so);
    const decoder = await ort.InferenceSession.create(`${dir}/onnx/decoder_model_merged.onnx`, so);
    return new NaiveLoop(encoder, decoder, config.decoder_attention_heads, config.d_model / config.decoder_attention_heads, config.decoder_layers);
  }

  /** Returns the number of decoder steps run and the finished hypotheses (token lists). */
  async search(ids: number[], c: NaiveConfig): Promise<{ steps: number; hyps: number[][] }> {
    const S = ids.length;
    const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
    const mask1 = i64(new Array(S).fill(1), [1, S]);
    const { last_hidden_state: hidden } = await this.encoder.run({ input_ids: i64(ids, [1, S]), attention_mask: mask1 });
    const empty = (b: number) => new ort.Tensor('float32', new Float32Array(0), [b, this.heads, 0, this.headDim]);
    const B = c.numBeams;
    const k = B / c.numBeamGroups;
    // First call: no-cache branch at batch 1 -> cross-attention cache; then tile everything to B.
    const feeds0: Record<string, ort.Tensor> = { encoder_attention_mask: mask1, input_ids: i64([c.decoderStartId], [1, 1]), encoder_hidden_states: hidden!, use_cache_branch: new ort.Tensor('bool', [false], [1]) };
    for (let l = 0; l < this.layers; l++) for (const kind of ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value']) feeds0[`past_key_values.${l}.${kind}`] = empty(1);
    let out = await this.decoder.run(feeds0);
    const tile = (t: ort.Tensor, rows: number[]) => {
      const row = (t.data as Float32Array).length / t.dims[0]!;
      const src = t.data as Float32Array;
      const dst = new Float32Array(rows.length * row);
      rows.forEach((r, i) => dst.set(src.subarray(r * row, (r + 1) * row), i * row));
      return new ort.Tensor('float32', dst, [rows.length, ...t.dims.slice(1)]);
    };
    const zeros = new Array<number>(B).fill(0);
    const cross: Record<string, ort.Tensor> = {};
    let self: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.layers; l++) {
      for (const kind of ['encoder.key', 'encoder.value']) cross[`past_key_values.${l}.${kind}`] = tile(out[`present.${l}.${kind}`]!, zeros);
      for (const kind of ['decoder.key', 'decoder.value']) self[`past_key_values.${l}.${kind}`] = tile(out[`present.${l}.${kind}`]!, zeros);
    }
    const hiddenB = tile(hidden!, zeros);
    const maskB = i64(new Array(B * S).fill(1), [B, S]);
    let logits = tile(out.logits!, zeros).data as Float32Array;
    const V = logits.length / B;
    let seqs: number[][] = Array.from({ length: B }, () => []);
    let beamScores: number[] = Array.from({ length: B }, (_, i) => (i % k === 0 ? 0 : -1e9));
    const hyps: number[][] = [];
    const groupDone = new Array<number>(c.numBeamGroups).fill(0);
    let steps = 0;
    for (let t = 0; t < c.maxLength; t++) {
      const lp = new Float32Array(logits.length);
      for (let r = 0; r < B; r++) {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, logits[r * V + v]!);
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(logits[r * V + v]! - m);
        const lz = m + Math.log(z);
        for (let v = 0; v < V; v++) lp[r * V + v] = logits[r * V + v]! - lz;
        if (t < c.minLength) lp[r * V + c.eosId] = -Infinity;
      }
      const nextTokens = new Array<number>(B).fill(c.eosId);
      const nextRows = Array.from({ length: B }, (_, i) => i);
      const nextScores = new Array<number>(B).fill(-1e9);
      const used = new Map<number, number>();
      for (let g = 0; g < c.numBeamGroups; g++) {
        const cands: { s: number; row: number; tok: number }[] = [];
        for (let j = 0; j < k; j++) {
          const row = g * k + j;
          // top 2k of this row after the diversity penalty
          const best: { s: number; tok: number }[] = [];
          for (let v = 0; v < V; v++) {
            const s = beamScores[row]! + lp[row * V + v]! - c.diversityPenalty * (used.get(v) ?? 0);
            if (best.length < 2 * k || s > best[best.length - 1]!.s) {
              best.push({ s, tok: v });
              best.sort((a, b) => b.s - a.s);
              if (best.length > 2 * k) best.pop();
            }
          }
          for (const b of best) cands.push({ s: b.s, row, tok: b.tok });
        }
        cands.sort((a, b) => b.s - a.s);
        let filled = 0;
        for (const [rank, cand] of cands.entries()) {
          if (filled === k) break;
          if (cand.tok === c.eosId) {
            if (rank < k && groupDone[g]! < k) {
              hyps.push([...seqs[cand.row]!, cand.tok]);
              groupDone[g]!++;
            }
            continue;
          }
          const slot = g * k + filled++;
          nextTokens[slot] = cand.tok;
          nextRows[slot] = cand.row;
          nextScores[slot] = groupDone[g]! >= k ? -1e9 : cand.s;
          used.set(cand.tok, (used.get(cand.tok) ?? 0) + 1);
        }
      }
      if (groupDone.every((d) => d >= k)) break;
      seqs = nextRows.map((r, i) => [...seqs[r]!, nextTokens[i]!]);
      beamScores = nextScores;
      const feeds: Record<string, ort.Tensor> = { encoder_attention_mask: maskB, input_ids: i64(nextTokens, [B, 1]), encoder_hidden_states: hiddenB, use_cache_branch: new ort.Tensor('bool', [true], [1]), ...cross };
      for (const [name, tensor] of Object.entries(self)) feeds[name] = tile(tensor, nextRows);
      out = await this.decoder.run(feeds);
      steps++;
      logits = out.logits!.data as Float32Array;
      self = {};
      for (let l = 0; l < this.layers; l++) for (const kind of ['decoder.key', 'decoder.value']) self[`past_key_values.${l}.${kind}`] = out[`present.${l}.${kind}`]!;
    }
    return { steps, hyps };
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}
