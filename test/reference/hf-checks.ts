/**
 * Checks one model folder against Hugging Face's reference.json: tokenizer ids, teacher-forced
 * log-probs (5e-3 absolute, identical argmax at every position), cached step-by-step decoding
 * equal to one teacher-forced pass, and greedy sequences identical to HF's generate (which applies
 * the checkpoint's generation_config: forced BOS/EOS where it sets them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { readModelFolder, type ModelFolder } from '../../src/models/model-files';
import { greedyDecode } from '../../src/scoring/model/generate';
import { openSeq2Seq } from '../../src/scoring/model/loader';
import { floatData } from '../../src/scoring/model/ort';
import type { Seq2Seq } from '../../src/scoring/model/seq2seq';
import { TextTokenizer } from '../../src/scoring/model/tokenizer';
import { stepwiseLogprobs } from '../../src/scoring/model/stepwise';
import { referenceCacheDir } from './scratch-cache';

export const TF_TOLERANCE = 5e-3;
/**
 * Cached decoding and one teacher-forced pass run the same weights through different MatMul
 * shapes: only float noise may differ (measured up to 1.8e-4 where |log p| reaches ~40). 1e-3 is
 * still 5x tighter than the HF tolerance and thousands of times below a broken cache (5.6 nats).
 */
export const CACHE_TOLERANCE = 1e-3;

export interface VariantReport {
  name: string;
  failures: string[];
}

interface ReferencePair {
  source: string;
  target: string;
  source_ids: number[];
  target_ids: number[];
  decoder_input_ids: number[];
  teacher_forced: { token_logprobs: number[]; argmax_ids: number[] };
  greedy?: { sequences: number[][] };
}

interface Reference {
  generate_kwargs?: { greedy?: { max_new_tokens?: number } };
  pairs: ReferencePair[];
}

/** Import from a checkpoint folder (src/models/import.ts), loaded lazily so the suite runs on exports alone. */
type Importer = (src: string, out: string, opts: { prefer: 'safetensors' | 'bin' }) => Promise<unknown>;

async function importer(): Promise<Importer> {
  const mod = (await import('../../src/models/import')) as { importCheckpoint: Importer };
  return mod.importCheckpoint;
}

export async function checkHfReference(dir: string, work: string): Promise<VariantReport[]> {
  const name = path.basename(dir);
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
  const reports: VariantReport[] = [];
  const onnx = path.join(dir, 'onnx-layout');
  if (fs.existsSync(onnx)) reports.push(await checkVariant(`${name} onnx-layout`, readModelFolder(onnx), ref));
  const hf = path.join(dir, 'hf');
  for (const [prefer, file] of [['safetensors', 'model.safetensors'], ['bin', 'pytorch_model.bin']] as const) {
    if (!fs.existsSync(path.join(hf, file)) && !fs.existsSync(path.join(hf, `${file}.index.json`))) continue;
    const label = `${name} hf/${file} imported`;
    const out = path.join(work, `${name}-${prefer}`);
    try {
      await (await importer())(hf, out, { prefer });
    } catch (err) {
      reports.push(report(label, [`import failed: ${err instanceof Error ? err.message : String(err)}`], ''));
      continue;
    }
    reports.push(await checkVariant(label, readModelFolder(out), ref));
  }
  if (reports.length === 0) reports.push(report(name, ['neither onnx-layout/ nor hf/ with weights'], ''));
  return reports;
}

async function checkVariant(name: string, folder: ModelFolder, ref: Reference): Promise<VariantReport> {
  const failures: string[] = [];
  const pad = typeof folder.config.pad_token_id === 'number' ? folder.config.pad_token_id : 0;
  const { seq2seq, dispose } = await openSeq2Seq(folder, { device: 'cpu', threads: 1, cacheDir: referenceCacheDir() }, folder.decoderStartTokenId, pad);
  const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
  let tfMax = 0;
  let cacheMax = 0;
  let greedyOk = 0;
  let greedyTotal = 0;
  try {
    for (const [i, pair] of ref.pairs.entries()) {
      const at = `pair ${i}`;
      const special = new Set(specialIds(folder));
      const plain = pair.source_ids.filter((id) => !special.has(id));
      if (!sameIds(tokenizer.encode(pair.source), plain)) failures.push(`${at}: the tokenizer's source ids differ from HF's`);

      const enc = await seq2seq.encode(pair.source_ids);
      const [tf] = await seq2seq.teacherForce(enc, [pair.target_ids], 64 * 1024 * 1024);
      tf!.forEach((lp, t) => (tfMax = Math.max(tfMax, Math.abs(lp - pair.teacher_forced.token_logprobs[t]!))));
      const argmax = await teacherForcedArgmax(seq2seq, enc, pair.decoder_input_ids);
      const firstWrong = argmax.findIndex((id, t) => id !== pair.teacher_forced.argmax_ids[t]);
      if (firstWrong >= 0) failures.push(`${at}: argmax differs at position ${firstWrong} (${argmax[firstWrong]} vs HF ${pair.teacher_forced.argmax_ids[firstWrong]})`);

      const cached = await stepwiseLogprobs(seq2seq, enc, pair.target_ids);
      cached.forEach((lp, t) => (cacheMax = Math.max(cacheMax, Math.abs(lp - tf![t]!))));

      const expected = pair.greedy?.sequences[0];
      if (expected) {
        greedyTotal++;
        const g = folder.generationConfig;
        const got = await greedyDecode(seq2seq, enc, {
          maxNewTokens: ref.generate_kwargs?.greedy?.max_new_tokens ?? expected.length - 1,
          eosId: eosOf(folder),
          forcedBosId: typeof g.forced_bos_token_id === 'number' ? g.forced_bos_token_id : null,
          forcedEosId: typeof g.forced_eos_token_id === 'number' ? g.forced_eos_token_id : null,
          minLength: typeof g.min_length === 'number' ? g.min_length : undefined,
          noRepeatNgramSize: typeof g.no_repeat_ngram_size === 'number' ? g.no_repeat_ngram_size : undefined,
        });
        if (sameIds(got, expected)) greedyOk++;
        else failures.push(`${at}: greedy sequence differs: [${got.join(',')}] vs HF [${expected.join(',')}]`);
      }
    }
  } finally {
    await dispose();
  }
  if (tfMax > TF_TOLERANCE) failures.push(`teacher-forced log-probs differ from HF by up to ${tfMax.toExponential(2)} (tolerance ${TF_TOLERANCE})`);
  if (cacheMax > CACHE_TOLERANCE) failures.push(`cached step-by-step decoding differs from one teacher-forced pass by ${cacheMax.toExponential(2)}`);
  const summary = `teacher-forced max|Δ log p| ${tfMax.toExponential(1)}, cached vs one pass ${cacheMax.toExponential(1)}, greedy ${greedyOk}/${greedyTotal} identical`;
  return report(name, failures, summary);
}

function report(name: string, failures: string[], summary: string): VariantReport {
  console.log(`${failures.length ? 'FAIL' : 'ok  '} ${name.padEnd(40)} ${summary}`);
  return { name, failures };
}

/** Argmax of every teacher-forced position, from one pass over the whole decoder input. */
async function teacherForcedArgmax(model: Seq2Seq, enc: Awaited<ReturnType<Seq2Seq['encode']>>, decoderInput: number[]): Promise<number[]> {
  const { logits } = await model.step(model.emptyState(enc, 1), decoderInput, decoderInput.length);
  const data = floatData(logits);
  const V = data.length / decoderInput.length;
  return decoderInput.map((_, t) => {
    let best = 0;
    for (let v = 1; v < V; v++) if (data[t * V + v]! > data[t * V + best]!) best = v;
    return best;
  });
}

function specialIds(folder: ModelFolder): number[] {
  const c = folder.config;
  return [c.bos_token_id, c.eos_token_id, c.pad_token_id].flat().filter((x): x is number => typeof x === 'number');
}

function eosOf(folder: ModelFolder): number {
  const e = folder.generationConfig.eos_token_id ?? folder.config.eos_token_id;
  return Array.isArray(e) ? e[0]! : (e ?? 2);
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
