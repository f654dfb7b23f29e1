/**
 * Which files of a hub repo a download needs, and where they go in the cache folder. A repo is
 * one of three layouts:
 *
 * - `onnx`: an Optimum export (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, JSON
 *   files at the root), downloaded as it is;
 * - `onnx-root`: the same with the two ONNX files at the repo root; they (and their external
 *   data) are stored under onnx/ so the folder has the layout the loader reads;
 * - `checkpoint`: a Hugging Face checkpoint (safetensors or pytorch_model.bin, maybe sharded);
 *   its JSON files and weights go to `checkpoint/` and are imported into `quals-import/`.
 */
import type { ModelVariant } from '../scoring/engine-api';
import { type WeightFormat, weightFileCandidates } from './checkpoint/open';
import { MODEL_VARIANTS, modelFileList, onnxFiles } from './model-files';

export type RepoLayout = 'onnx' | 'onnx-root' | 'checkpoint';

/** One file to download: its path in the repo, its path in the cache folder. */
export interface FileSpec {
  remote: string;
  local: string;
  /** A 404 is recorded as "the repo does not have it", not an error. */
  optional: boolean;
}

/** Where a checkpoint repo's files go, under the cache folder. */
export const CHECKPOINT_DIR = 'checkpoint';
/** Where a checkpoint repo's conversion goes, under the cache folder: the folder the loader loads. */
export const IMPORT_DIR = 'quals-import';

/**
 * A checkpoint's files besides the weights: what the import reads or copies. The slow-tokenizer
 * files (spiece.model, vocab.json, ...) are left on the hub: QUALS reads tokenizer.json only.
 */
export const CHECKPOINT_SIDE_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'trainer_config.json',
  'quals.json',
];

/** Every weight file name a checkpoint repo may have that QUALS reads. */
const WEIGHT_FILES = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'];

/**
 * The weight files to try one by one when the hub gives no listing, in the order
 * weightFileCandidates (open.ts, the one place that decides) would choose among them.
 */
export function weightProbeOrder(prefer?: WeightFormat): string[] {
  const order: string[] = [];
  let left = [...WEIGHT_FILES];
  for (let next = weightFileCandidates(left, prefer)[0]; next !== undefined; next = weightFileCandidates(left, prefer)[0]) {
    order.push(next);
    left = left.filter((f) => f !== next);
  }
  return order;
}

/** The files of an ONNX layout for `variant`; the loader's list, with the repo paths of a root layout. */
export function onnxFileSpecs(variant: ModelVariant, layout: 'onnx' | 'onnx-root'): FileSpec[] {
  const { required, optional } = modelFileList(variant);
  const remote = (local: string) => (layout === 'onnx-root' && local.startsWith('onnx/') ? local.slice('onnx/'.length) : local);
  return [...required.map((local) => ({ remote: remote(local), local, optional: false })), ...optional.map((local) => ({ remote: remote(local), local, optional: true }))];
}

/** Checkpoint files by their repo paths, stored under checkpoint/. */
export function checkpointSpec(remote: string, optional: boolean): FileSpec {
  return { remote, local: `${CHECKPOINT_DIR}/${remote}`, optional };
}

/** The ONNX layout of `variant` that a repo listing has, if any (onnx/ first, as Optimum writes it). */
export function onnxLayoutIn(files: ReadonlySet<string>, variant: ModelVariant): 'onnx' | 'onnx-root' | null {
  const { encoder, decoder } = onnxFiles(variant);
  if (files.has(encoder) && files.has(decoder)) return 'onnx';
  const strip = (f: string) => f.slice('onnx/'.length);
  if (files.has(strip(encoder)) && files.has(strip(decoder))) return 'onnx-root';
  return null;
}

/** The ONNX variants a listing has in either layout, for "set the variant" messages. */
export function onnxVariantsIn(files: ReadonlySet<string>): ModelVariant[] {
  return MODEL_VARIANTS.filter((v) => onnxLayoutIn(files, v) !== null);
}

/** A short account of what a repo holds, for messages: the first files, then a count. */
export function describeFiles(files: readonly string[], max = 10): string {
  if (files.length === 0) return 'no files';
  const shown = files.slice(0, max).join(', ');
  return files.length > max ? `${shown} and ${files.length - max} more` : shown;
}
