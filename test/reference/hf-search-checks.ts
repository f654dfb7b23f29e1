/**
 * Checks HF mode (beamSearch: 'hf') against Hugging Face's own `generate` outputs in reference.json:
 * for every pair, the `diverse_beam` (group beam search, Hamming diversity) and `beam` (plain beam
 * search) runs with their generate_kwargs and the checkpoint's generation_config (forced BOS fed as
 * the decoder prefix, forced EOS at the last step): every returned sequence identical, in order, and
 * sequences_scores within 2e-4, with the length convention of the transformers version that wrote
 * the file (4.35: the start token counts for beams open at max_length; 4.36+: it does not). Checked on the Optimum export (onnx-layout/) and on the checkpoints
 * hf-checks.ts imported into `work` (<name>-safetensors, <name>-bin), whichever exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readModelFolder, type ModelFolder } from '../../src/models/model-files';
import { beamSearch } from '../../src/scoring/model/generate';
import { type HfLengthCounting, hfLengthCounting } from '../../src/scoring/model/hf-search';
import { openSeq2Seq } from '../../src/scoring/model/loader';
import type { VariantReport } from './hf-checks';
import { referenceCacheDir } from './scratch-cache';

/** sequences_scores: float32 noise between ONNX Runtime and torch over 16 steps. */
export const HF_SCORE_TOLERANCE = 2e-4;

interface GenerateKwargs {
  num_beams: number;
  num_beam_groups?: number;
  diversity_penalty?: number;
  num_return_sequences?: number;
  max_new_tokens: number;
  min_length?: number;
  min_new_tokens?: number;
  length_penalty?: number;
  early_stopping?: boolean;
}

interface BeamRun {
  sequences: number[][];
  sequences_scores: number[];
}

interface Reference {
  versions?: { transformers?: string };
  generate_kwargs?: Record<string, GenerateKwargs | undefined>;
  pairs: ({ source_ids: number[] } & Record<string, unknown>)[];
}

const RUNS = ['diverse_beam', 'beam'] as const;

export async function checkHfSearch(dir: string, work?: string): Promise<VariantReport[]> {
  const name = path.basename(dir);
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
  const variants: [string, string][] = [[`${name} onnx-layout`, path.join(dir, 'onnx-layout')]];
  if (work) variants.push([`${name} hf/safetensors imported`, path.join(work, `${name}-safetensors`)], [`${name} hf/bin imported`, path.join(work, `${name}-bin`)]);
  const reports: VariantReport[] = [];
  for (const [label, folderDir] of variants) {
    if (fs.existsSync(path.join(folderDir, 'config.json'))) reports.push(...(await checkVariant(label, readModelFolder(folderDir), ref)));
  }
  return reports;
}

async function checkVariant(name: string, folder: ModelFolder, ref: Reference): Promise<VariantReport[]> {
  const reports: VariantReport[] = [];
  const pad = intOf(folder.generationConfig.pad_token_id) ?? intOf(folder.config.pad_token_id) ?? 0;
  const { seq2seq, dispose } = await openSeq2Seq(folder, { device: 'cpu', threads: 1, cacheDir: referenceCacheDir() }, folder.decoderStartTokenId, pad);
  try {
    for (const run of RUNS) {
      const kwargs = ref.generate_kwargs?.[run];
      if (!kwargs) continue;
      const failures: string[] = [];
      let seqs = 0;
      let same = 0;
      let scoreMax = 0;
      for (const [i, pair] of ref.pairs.entries()) {
        const want = pair[run] as BeamRun | undefined;
        if (!want) continue;
        const at = `pair ${i}`;
        const enc = await seq2seq.encode(pair.source_ids);
        const { config, prefix } = searchConfig(folder, kwargs, pad, hfLengthCounting(ref.versions?.transformers));
        const hyps = await beamSearch(seq2seq, enc, config, undefined, prefix);
        const keep = kwargs.num_return_sequences ?? 1;
        const got = hyps.slice(0, keep);
        if (got.length !== want.sequences.length) failures.push(`${at}: ${got.length} sequences vs HF ${want.sequences.length}`);
        want.sequences.forEach((expected, r) => {
          seqs++;
          const h = got[r];
          if (!h) return;
          const seq = [folder.decoderStartTokenId, ...prefix, ...h.tokens];
          while (seq.length < expected.length) seq.push(pad);
          if (!sameIds(seq, expected)) {
            failures.push(`${at} #${r}: [${seq.join(',')}] vs HF [${expected.join(',')}]`);
            return;
          }
          same++;
          const d = Math.abs(h.score - want.sequences_scores[r]!);
          scoreMax = Math.max(scoreMax, d);
          if (d > HF_SCORE_TOLERANCE) failures.push(`${at} #${r}: sequences_score ${h.score} vs HF ${want.sequences_scores[r]}`);
        });
      }
      const groups = kwargs.num_beam_groups ?? 1;
      const label = `${name} ${run}`;
      const summary = `${kwargs.num_beams} beams/${groups} group${groups === 1 ? '' : 's'}: sequences ${same}/${seqs} identical, max|Δ sequences_score| ${scoreMax.toExponential(1)}`;
      console.log(`${failures.length ? 'FAIL' : 'ok  '} ${label.padEnd(40)} ${summary}`);
      reports.push({ name: label, failures });
    }
  } finally {
    await dispose();
  }
  return reports;
}

/** The engine's HF-mode search config for generate(**kwargs) with the checkpoint's generation_config. */
function searchConfig(folder: ModelFolder, kwargs: GenerateKwargs, pad: number, lengths: HfLengthCounting) {
  const g = folder.generationConfig as Record<string, unknown>;
  const eos = intOf(g.eos_token_id) ?? intOf(folder.config.eos_token_id) ?? 2;
  const forcedBos = intOf(g.forced_bos_token_id);
  const groups = kwargs.num_beam_groups ?? 1;
  return {
    prefix: forcedBos === undefined ? [] : [forcedBos],
    config: {
      beamSearch: 'hf' as const,
      numBeams: kwargs.num_beams,
      numBeamGroups: groups,
      diversityStrength: kwargs.diversity_penalty ?? 0,
      diversityCount: 'hamming' as const,
      minLength: kwargs.min_new_tokens ?? 0,
      maxLength: kwargs.max_new_tokens,
      lengthPenalty: kwargs.length_penalty ?? 1,
      hfMinLength: kwargs.min_length ?? intOf(g.min_length) ?? 0,
      forcedEosId: intOf(g.forced_eos_token_id) ?? null,
      eosId: eos,
      padId: pad,
      hfLengths: lengths,
    },
  };
}

function intOf(v: unknown): number | undefined {
  if (Array.isArray(v)) return intOf(v[0]);
  return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
