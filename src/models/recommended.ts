/**
 * Public question-and-answer generation models that QUALS can download and import: the list the
 * "QUALS: Choose Model..." picker offers, the README's table and the tests all read this one
 * array. Data only (no `vscode`, no runtime): the client, the server and docs may import it.
 *
 * What is known, and how well:
 * - Sizes are the fp32 weights (parameters x 4 bytes, rounded), which is what the import reads
 *   and roughly what it writes; the exact download differs by a few MB of tokenizer files.
 * - Licenses: checked on 2026-12-02 against the stored Hugging Face hub pages of the four repos
 *   marked `licenseChecked: true` (each page's "License: cc-by-4.0" tag); no page of
 *   lmqg/bart-large-squad-qag was at hand, so it stays unverified and the picker and README tell
 *   users to read its model card. The base models (T5: Apache-2.0, BART: MIT per Meta's model
 *   cards) and SQuAD (CC BY-SA 4.0) have their own terms.
 * - These repos hold PyTorch checkpoints (`pytorch_model.bin` on the pages seen; the hub's
 *   conversion bot offers `model.safetensors` only in pull requests), not ONNX: choosing one
 *   downloads the checkpoint and imports it into the ONNX layout once; the import reads either.
 * - Format: all five are lmqg end-to-end QAG models (output `question: Q, answer: A | ...`), so
 *   QUALS scores them with the `lmqg` format, an adaptation of the paper's QAGen (see README).
 */
import type { ModelFormatName } from '../scoring/engine-api';

export interface RecommendedModel {
  /** Hugging Face hub id (`org/name`): the value saved in `quals.model`. */
  id: string;
  /** Short display name. */
  name: string;
  /** Approximate fp32 download in MB (null: unknown). */
  sizeMB: number | null;
  /** License as the model card declares it ('unknown' when not known). */
  license: string;
  /** False when the license was not verified against the model card by whoever added the entry. */
  licenseChecked: boolean;
  /** How QUALS reads its output. Absent: let the import decide (quals.json). */
  format?: ModelFormatName;
  /** One line: what it is good for, and its cost. */
  goodFor: string;
}

export const RECOMMENDED_MODELS: readonly RecommendedModel[] = Object.freeze([
  {
    id: 'lmqg/t5-base-squad-qag',
    name: 'T5 base QAG (SQuAD)',
    sizeMB: 890,
    license: 'CC-BY-4.0',
    licenseChecked: true,
    format: 'lmqg',
    goodFor: 'The balanced choice: good QA pairs on news-like prose; several seconds per summary on a CPU.',
  },
  {
    id: 'lmqg/t5-small-squad-qag',
    name: 'T5 small QAG (SQuAD)',
    sizeMB: 240,
    license: 'CC-BY-4.0',
    licenseChecked: true,
    format: 'lmqg',
    goodFor: 'Smallest and fastest: for slow machines or quick trials; fewer and plainer questions.',
  },
  {
    id: 'lmqg/t5-large-squad-qag',
    name: 'T5 large QAG (SQuAD)',
    sizeMB: 2950,
    license: 'CC-BY-4.0',
    licenseChecked: true,
    format: 'lmqg',
    goodFor: 'The best QA pairs of this list; slow on a CPU, use a GPU ("quals.device": "cuda").',
  },
  {
    id: 'lmqg/bart-base-squad-qag',
    name: 'BART base QAG (SQuAD)',
    sizeMB: 560,
    license: 'CC-BY-4.0',
    licenseChecked: true,
    format: 'lmqg',
    goodFor: 'BART family (the paper\'s architecture) at base size; similar cost to T5 base.',
  },
  {
    id: 'lmqg/bart-large-squad-qag',
    name: 'BART large QAG (SQuAD)',
    sizeMB: 1630,
    license: 'CC-BY-4.0',
    licenseChecked: false,
    format: 'lmqg',
    goodFor: 'BART large, the size the QUALS paper used (trained on SQuAD, not the paper\'s QAGen data); GPU recommended.',
  },
]);

/** "~890 MB", "~2.9 GB", or "size unknown". */
export function formatSize(sizeMB: number | null): string {
  if (sizeMB === null || !Number.isFinite(sizeMB) || sizeMB <= 0) return 'size unknown';
  return sizeMB >= 1000 ? `~${(sizeMB / 1000).toFixed(1)} GB` : `~${Math.round(sizeMB)} MB`;
}

/** "CC-BY-4.0 (unverified)" when the license was not checked against the model card. */
export function formatLicense(m: Pick<RecommendedModel, 'license' | 'licenseChecked'>): string {
  if (!m.license || m.license === 'unknown') return 'license unknown';
  return m.licenseChecked ? m.license : `${m.license} (unverified)`;
}
