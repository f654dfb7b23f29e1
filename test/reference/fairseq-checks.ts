/**
 * Checks reference mode against the QUALS authors' own code, run on the same weights
 * (fairseq-reference.json, see test/fixtures/hf-reference/SOURCE.md):
 * - encoder input: BPE(text)[:1022] + </s>, no <s> (format.encodeInput(text, { reference: true }));
 * - generation: fairseq's DiverseBeamSearch + SequenceGenerator (beamSearch: 'fairseq') for every
 *   variant (plain; eos_bias_29 = +29 on the EOS logit, applied by a logits-bias wrapper around the
 *   engine's log-prob helpers) and config (a, b, c): same number of hypotheses, tokens identical
 *   rank by rank, normalised scores within 2e-4 (positional and unnormalised differences reported);
 * - decoding: the engine's tokenizer decodes every hypothesis to the text the authors stored;
 * - selection: every case of evaluate_hypo.py's filter + selection gives the same selected pairs,
 *   the real hypotheses going through the engine's reference filter (filterHypothesesReference);
 * - QUALS: mean(eval_ns - ns), -1e5 without pairs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readModelFolder, type ModelFolder } from '../../src/models/model-files';
import type { Hypothesis } from '../../src/scoring/model/beam-search';
import type { FairseqHypothesis } from '../../src/scoring/model/fairseq-search';
import { createFormat, type ModelFormat } from '../../src/scoring/model/formats';
import { beamSearch } from '../../src/scoring/model/generate';
import { openSeq2Seq } from '../../src/scoring/model/loader';
import { type LogProbHelpers, type Tensor, float32Tensor, floatData } from '../../src/scoring/model/ort';
import type { Seq2Seq } from '../../src/scoring/model/seq2seq';
import { TextTokenizer } from '../../src/scoring/model/tokenizer';
import { filterHypothesesReference } from '../../src/scoring/quals';
import { type PairCandidate, authorsFilter, authorsQuals, selectAuthors } from '../../src/scoring/selection';
import type { VariantReport } from './hf-checks';
import { referenceCacheDir } from './scratch-cache';

/** Normalised hypothesis scores: float32 noise between ONNX Runtime and torch (SOURCE.md). */
export const FAIRSEQ_SCORE_TOLERANCE = 2e-4;

interface FsHypothesis {
  tokens: number[];
  score: number;
  unnormalized_score: number;
  positional_scores: number[];
  text: string;
}

interface FsConfig {
  beam: number;
  diverse_beam_groups: number;
  diverse_beam_strength: number;
  min_len: number;
  max_len_b: number;
}

interface FsSource {
  source_index: number;
  encoder_input_ids: number[];
  hypotheses: FsHypothesis[];
}

interface QaDictIn {
  context: string;
  qa: string[];
  norm_scores: number[];
  unnorm_scores: number[];
  pos_scores?: number[][];
  toks?: number[][];
}

interface QaOut {
  q: string;
  a: string;
  ns: number;
  uns: number;
  pos_s?: number[];
  toks?: number[];
}

interface QaDictOut {
  context: string;
  qas: QaOut[];
}

interface FairseqReference {
  generation: {
    encoder_inputs: { source_index: number; text: string; encoder_input_ids: number[] }[];
    variants: Record<string, { eos_logit_bias: number; configs: Record<string, { settings: FsConfig; per_source: FsSource[] }> }>;
  };
  selection: {
    real_hypotheses: Record<string, { output: QaDictOut[][] }>;
    real_tokens_with_injected_separator: { input: QaDictIn[][]; output: QaDictOut[][] };
    synthetic_cases: { name: string; input: QaDictIn[][]; output: QaDictOut[][] }[];
    quals_case: { input: { context: string; qas: { ns: number; eval_ns: number }[] }[][]; output: { 'eval_ns-ns': number[] }[] };
  };
}

export function hasFairseqReference(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'fairseq-reference.json'));
}

export async function checkFairseqReference(dir: string): Promise<VariantReport[]> {
  const name = path.basename(dir);
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'fairseq-reference.json'), 'utf8')) as FairseqReference;
  const onnx = path.join(dir, 'onnx-layout');
  if (!fs.existsSync(onnx)) return [report(`${name} fairseq`, ['fairseq-reference.json without onnx-layout/'], '')];
  const folder = readModelFolder(onnx);
  const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
  const format = qagenFormat(folder, tokenizer);
  const pad = typeof folder.config.pad_token_id === 'number' ? folder.config.pad_token_id : 1;
  const { seq2seq, dispose } = await openSeq2Seq(folder, { device: 'cpu', threads: 1, cacheDir: referenceCacheDir() }, folder.decoderStartTokenId, pad);
  const reports: VariantReport[] = [];
  const generated = new Map<string, Hypothesis[][]>();
  try {
    reports.push(checkEncoderInputs(name, ref, format));
    for (const [variant, v] of Object.entries(ref.generation.variants)) {
      const model = withLogitBias(seq2seq, format.eosId, v.eos_logit_bias);
      for (const [configName, c] of Object.entries(v.configs)) {
        const { report: r, hypotheses } = await checkGeneration(`${name} fairseq ${variant}/${configName}`, model, format, tokenizer, ref, c.settings, c.per_source);
        reports.push(r);
        generated.set(`${variant}/${configName}`, hypotheses);
      }
    }
  } finally {
    await dispose();
  }
  reports.push(checkSelection(name, ref, format, tokenizer, generated));
  return reports;
}

function qagenFormat(folder: ModelFolder, tokenizer: TextTokenizer): ModelFormat {
  const pos = folder.config.max_position_embeddings;
  return createFormat('qagen', {
    tokenizer,
    config: folder.config,
    generationConfig: { ...folder.generationConfig, decoder_start_token_id: folder.decoderStartTokenId },
    maxInputTokens: typeof pos === 'number' ? pos : 1024,
  });
}

/** The authors' encoder input (no <s>, 1022 BPE tokens at most, </s>), also on a text longer than the limit. */
function checkEncoderInputs(name: string, ref: FairseqReference, format: ModelFormat): VariantReport {
  const failures: string[] = [];
  for (const e of ref.generation.encoder_inputs) {
    const got = format.encodeInput(e.text.trim(), { reference: true }).ids;
    if (!sameIds(got, e.encoder_input_ids)) failures.push(`source ${e.source_index}: encoder input [${got.join(',')}] vs fairseq [${e.encoder_input_ids.join(',')}]`);
  }
  const long = Array.from({ length: 120 }, () => ref.generation.encoder_inputs.map((e) => e.text).join(' ')).join(' ');
  const cut = format.encodeInput(long, { reference: true });
  if (cut.ids.length !== 1023 || cut.ids[1022] !== format.eosId || cut.tokensKept !== 1022) {
    failures.push(`a long text is cut to ${cut.tokensKept} tokens + ${cut.ids.length - cut.tokensKept} (fairseq: 1022 BPE tokens + </s>)`);
  }
  return report(`${name} fairseq encoder input`, failures, `${ref.generation.encoder_inputs.length} sources + a ${cut.tokensTotal}-token text: BPE[:1022] + </s>, no <s>`);
}

async function checkGeneration(
  label: string,
  model: Seq2Seq,
  format: ModelFormat,
  tokenizer: TextTokenizer,
  ref: FairseqReference,
  s: FsConfig,
  sources: FsSource[],
): Promise<{ report: VariantReport; hypotheses: Hypothesis[][] }> {
  const failures: string[] = [];
  let hyps = 0;
  let sameTokens = 0;
  let scoreMax = 0;
  let unnormMax = 0;
  let posMax = 0;
  let textSame = 0;
  const all: Hypothesis[][] = [];
  for (const src of sources) {
    const at = `source ${src.source_index}`;
    const text = ref.generation.encoder_inputs.find((e) => e.source_index === src.source_index)?.text;
    const ids = text !== undefined ? format.encodeInput(text.trim(), { reference: true }).ids : src.encoder_input_ids;
    if (!sameIds(ids, src.encoder_input_ids)) failures.push(`${at}: encoder input differs from fairseq's`);
    const enc = await model.encode(src.encoder_input_ids);
    const got = (await beamSearch(model, enc, {
      beamSearch: 'fairseq',
      numBeams: s.beam,
      numBeamGroups: s.diverse_beam_groups,
      diversityStrength: s.diverse_beam_strength,
      diversityCount: 'fairseq',
      minLength: s.min_len,
      maxLength: s.max_len_b,
      lengthPenalty: 1,
      eosId: format.eosId,
      padId: format.padId,
    })) as FairseqHypothesis[];
    all.push(got);
    if (got.length !== src.hypotheses.length) failures.push(`${at}: ${got.length} hypotheses vs fairseq ${src.hypotheses.length}`);
    src.hypotheses.forEach((want, i) => {
      hyps++;
      const h = got[i];
      if (!h) return;
      if (!sameIds(h.tokens, want.tokens)) {
        failures.push(`${at} rank ${i}: tokens [${h.tokens.join(',')}] vs fairseq [${want.tokens.join(',')}]`);
        return;
      }
      sameTokens++;
      const d = Math.abs(h.score - want.score);
      scoreMax = Math.max(scoreMax, d);
      if (d > FAIRSEQ_SCORE_TOLERANCE) failures.push(`${at} rank ${i}: score ${h.score} vs fairseq ${want.score}`);
      unnormMax = Math.max(unnormMax, Math.abs(h.sumLogp - want.unnormalized_score));
      h.positionalScores.forEach((p, t) => (posMax = Math.max(posMax, Math.abs(p - want.positional_scores[t]!))));
      const decoded = tokenizer.decode(h.tokens);
      if (decoded === want.text) textSame++;
      else failures.push(`${at} rank ${i}: decodes to ${JSON.stringify(decoded)}, fairseq ${JSON.stringify(want.text)}`);
    });
  }
  const summary =
    `${s.beam} beams/${s.diverse_beam_groups} groups min ${s.min_len} max_len_b ${s.max_len_b}: tokens ${sameTokens}/${hyps} identical, ` +
    `max|Δ score| ${scoreMax.toExponential(1)} (unnormalised ${unnormMax.toExponential(1)}, positional ${posMax.toExponential(1)}), text ${textSame}/${hyps}`;
  return { report: report(label, failures, summary), hypotheses: all };
}

/** Adds `bias` to one token's logit before every log-softmax (the eos_bias_29 variant: HF final_logits_bias[0, id] += bias). */
function withLogitBias(model: Seq2Seq, tokenId: number, bias: number): Seq2Seq {
  if (bias === 0) return model;
  const base = model.helpers;
  const biased = (data: Float32Array, V: number) => {
    const out = Float32Array.from(data);
    for (let i = tokenId; i < out.length; i += V) out[i] = out[i]! + bias;
    return out;
  };
  const helpers = {
    topK: (logits: Float32Array, V: number, k: number, extra: number[]) => base.topK(biased(logits, V), V, k, extra),
    gather: (logits: Tensor, ids: number[], B: number, T: number) =>
      base.gather(float32Tensor(biased(floatData(logits), logits.dims[logits.dims.length - 1]!), [...logits.dims]), ids, B, T),
    release: () => base.release(),
  } as unknown as LogProbHelpers;
  return Object.create(model, { helpers: { value: helpers } }) as Seq2Seq;
}

interface Picked {
  q: string;
  a: string;
  ns: number;
  uns: number;
  toks?: number[];
}

/** The authors' filter + selection over one qa_dict as they store it (text-level). */
function selectQaDict(d: QaDictIn): Picked[] {
  const candidates: PairCandidate<Picked>[] = [];
  d.qa.forEach((qa, i) => {
    const split = authorsFilter(qa, d.context);
    if (!split) return;
    const p: Picked = { q: split.question, a: split.answer, ns: d.norm_scores[i]!, uns: d.unnorm_scores[i]!, toks: d.toks?.[i] };
    candidates.push({ question: p.q, answer: p.a, sumScore: p.uns, payload: p });
  });
  return selectAuthors(candidates).map((c) => c.payload);
}

function samePicks(got: Picked[], want: QaOut[]): boolean {
  return (
    got.length === want.length &&
    got.every((g, i) => {
      const w = want[i]!;
      return g.q === w.q && g.a === w.a && g.ns === w.ns && g.uns === w.uns && (w.toks === undefined || sameIds(g.toks ?? [], w.toks));
    })
  );
}

const describePicks = (ps: { q: string; a: string }[]) => `[${ps.map((p) => JSON.stringify(`${p.q}|${p.a}`)).join(', ')}]`;

function checkSelection(name: string, ref: FairseqReference, format: ModelFormat, tokenizer: TextTokenizer, generated: Map<string, Hypothesis[][]>): VariantReport {
  const failures: string[] = [];
  let cases = 0;
  let ok = 0;
  const compare = (label: string, got: Picked[], want: QaOut[]) => {
    cases++;
    if (samePicks(got, want)) ok++;
    else failures.push(`${label}: selected ${describePicks(got)} vs the authors' ${describePicks(want)}`);
  };

  // Hand-made text-level cases: evaluate_hypo.py's input and output, as stored.
  for (const c of ref.selection.synthetic_cases) {
    c.input.forEach((line, l) => line.forEach((d, j) => compare(`${c.name} line ${l} summary ${j}`, selectQaDict(d), c.output[l]![j]!.qas)));
  }

  // Real tokens with an injected separator: decoded by the engine's tokenizer and filtered by the
  // engine's reference filter, as scoreQuals does in reference mode.
  const inj = ref.selection.real_tokens_with_injected_separator;
  inj.input.forEach((line, l) =>
    line.forEach((d, j) => {
      const decodedSame = (d.toks ?? []).every((t, i) => tokenizer.decode(t) === d.qa[i]);
      if (!decodedSame) failures.push(`injected separator line ${l}: the tokenizer does not decode toks to the authors' qa text`);
      const hyps: Hypothesis[] = (d.toks ?? []).map((toks, i) => ({ tokens: toks, score: d.norm_scores[i]!, sumLogp: d.unnorm_scores[i]!, rawSumLogp: NaN, group: 0 }));
      compare(`injected separator line ${l}`, engineSelect(hyps, format, tokenizer, d.context), inj.output[l]![j]!.qas);
    }),
  );

  // The engine's own generated hypotheses through the engine's reference filter vs the authors' selection of theirs.
  for (const [key, r] of Object.entries(ref.selection.real_hypotheses)) {
    const hyps = generated.get(key);
    if (!hyps) {
      failures.push(`${key}: no generated hypotheses to select from`);
      continue;
    }
    r.output.forEach((line, l) => compare(`real hypotheses ${key} source ${l}`, hyps[l] ? engineSelect(hyps[l]!, format, tokenizer, line[0]!.context) : [], line[0]!.qas));
  }

  // QUALS per summary.
  const qc = ref.selection.quals_case;
  qc.input.forEach((line, l) => {
    cases++;
    const got = line.map((d) => authorsQuals(d.qas.map((q) => ({ evalNs: q.eval_ns, ns: q.ns }))));
    const want = qc.output[l]!['eval_ns-ns'];
    if (got.length === want.length && got.every((x, i) => Math.abs(x - want[i]!) < 1e-12)) ok++;
    else failures.push(`quals line ${l}: [${got.join(', ')}] vs the authors' [${want.join(', ')}]`);
  });
  return report(`${name} fairseq selection`, failures, `${ok}/${cases} cases select the authors' pairs (filter, lower-cased dedup, turns, early stop, cap between passes; QUALS)`);
}

function engineSelect(hyps: Hypothesis[], format: ModelFormat, tokenizer: TextTokenizer, context: string): Picked[] {
  const { candidates } = filterHypothesesReference(hyps, format, tokenizer, context, context);
  return selectAuthors(candidates).map((c) => ({
    q: c.question,
    a: c.answer,
    ns: c.payload.hypothesis.score,
    uns: c.payload.hypothesis.sumLogp,
    toks: c.payload.hypothesis.tokens,
  }));
}

function report(name: string, failures: string[], summary: string): VariantReport {
  console.log(`${failures.length ? 'FAIL' : 'ok  '} ${name.padEnd(40)} ${summary}`);
  return { name, failures };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
