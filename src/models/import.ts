/**
 * `quals model import`: turns a Hugging Face checkpoint folder (config.json, tokenizer.json,
 * model.safetensors / pytorch_model.bin or their sharded forms) into a model folder in the
 * Optimum ONNX layout that the loader reads:
 *
 *     onnx/encoder_model.onnx + .onnx_data     onnx/decoder_model_merged.onnx + .onnx_data
 *     config.json  generation_config.json (when present)  tokenizer.json  tokenizer_config.json
 *     special_tokens_map.json, added_tokens.json, trainer_config.json, ... (as present)
 *     quals.json   {"format", "graphs": {"builder": "quals", "multiTokenCache": true}, "importedFrom", "options"?}
 *     with --variant int8 also onnx/{encoder_model,decoder_step_quals,cross_kv_quals}_int8.onnx (+ _data),
 *     recorded as graphs.variants.int8 (graphs/quantize.ts)
 *
 * The graphs come from the project's own builders (src/models/graphs/), written with the
 * project's ONNX writer: no Python, and nothing in the checkpoint is executed (pytorch_model.bin
 * goes through the restricted unpickler). Everything is written into a staging folder next to
 * the output and renamed into place at the end, so the output is either the whole model or
 * absent. The same input gives the same bytes: no timestamps, fixed key and file orders.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelFormatName } from '../scoring/engine-api';
import { CancelledError, ModelError, throwIfAborted } from '../scoring/errors';
import { type ExternalData, writeModelWithExternalDataAsync } from '../scoring/model/onnx-writer';
import type { QualsOptions } from '../scoring/options';
import { type Checkpoint, CheckpointError } from './checkpoint/checkpoint';
import { type WeightFormat, checkpointFiles, openCheckpoint } from './checkpoint/open';
import { hashFile } from './file-hash';
import { buildHfBartGraphs } from './graphs/hf-bart';
import { buildHfT5Graphs } from './graphs/hf-t5';
import { type BuildOptions, type Seq2SeqGraphs, UnsupportedModelError } from './graphs/graphs';
import { INT8_RECORD } from './graphs/quantize';
import { type ModelFamily, detectFamily, detectFormat, formatUnknownError } from './import-detect';
import { type DecoderDesign, MODEL_FORMATS, STEP_FILES, STEP_GRAPHS_VERSION, onnxFiles, readModelFolder, variantFiles } from './model-files';
import { TargetFolderError, checkTarget, createStaging, promoteStaging, removeStaging } from './staged-folder';

export type { WeightFormat } from './checkpoint/open';

/**
 * The graphs' tensors count once per pass: with the int8 variant the total is twice the
 * checkpoint's tensors, the fp32 graphs the first half, the int8 graphs (which read every tensor
 * again, to quantize it) the second.
 */
export interface ImportProgress {
  /** `checksum`: hashing the weight files (done/total in bytes); `encoder`/`decoder`: writing that graph (tensors). */
  phase: 'checksum' | 'encoder' | 'decoder';
  done: number;
  total: number;
  /** Set while the int8 graphs are written. */
  variant?: 'int8';
}

export interface ImportOptions {
  /** How the model writes QA pairs; detected when absent (see import-detect.ts). */
  format?: ModelFormatName;
  /** Which weights to read when the folder has both (default safetensors). */
  prefer?: WeightFormat;
  /** Replace an existing non-empty output folder. */
  overwrite?: boolean;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Recorded as importedFrom.source (default: the source folder's absolute path); a hub id also counts as lmqg evidence. */
  source?: string;
  /** Extra provenance for importedFrom (a hub revision and commit). */
  provenance?: { revision?: string; commit?: string };
  /** Scoring options to record in quals.json (on top of those of a quals.json in the source). */
  options?: Partial<QualsOptions>;
  /** `int8`: also write the int8 variant (the fp32 graphs are always written). Default fp32. */
  variant?: ImportVariant;
}

/** What an import writes: the fp32 graphs, or the fp32 graphs and the int8 variant. */
export type ImportVariant = 'fp32' | 'int8';
export const IMPORT_VARIANTS: readonly ImportVariant[] = ['fp32', 'int8'];

export interface ImportReport {
  outDir: string;
  family: ModelFamily;
  architecture: string;
  format: ModelFormatName;
  /** Why this format: `given`, or what it was detected from. */
  formatReason: string;
  /** The weight files read (relative to the source), with their sha256. */
  weights: { file: string; sha256: string; bytes: number }[];
  /** Every file written, relative to outDir, sorted. */
  files: string[];
  /** Tensors in the checkpoint. */
  tensors: number;
  /** Things the user may want to know (a file written with defaults, say). */
  notes: string[];
}

/** Copied as-is when present, besides config.json and tokenizer.json (always). */
const COPIED_FILES = [
  'generation_config.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'trainer_config.json',
  // Slow-tokenizer files: QUALS does not read them; transformers does, from the same folder.
  'vocab.json',
  'merges.txt',
  'spiece.model',
  'sentencepiece.bpe.model',
  'vocab.txt',
];

/** Tokenizer files a checkpoint may have instead of tokenizer.json, for the "needs tokenizer.json" message. */
const SLOW_TOKENIZER_FILES = ['spiece.model', 'sentencepiece.bpe.model', 'vocab.json', 'merges.txt', 'vocab.txt'];

const BUILDERS: Record<ModelFamily, (config: Record<string, unknown>, ckpt: Checkpoint, opts: BuildOptions) => Seq2SeqGraphs> = {
  'hf-bart': buildHfBartGraphs,
  'hf-t5': buildHfT5Graphs,
};

/**
 * Imports the checkpoint in `srcDir` into `outDir` (see the file comment).
 * @throws ModelError (`missing-file`, `invalid-file`, `format`) for a checkpoint that cannot be
 *   imported, with the reason and what to do; TargetFolderError for an output folder that must
 *   not be written; CancelledError when `signal` fires. Nothing is left behind in any case.
 */
export async function importCheckpoint(srcDir: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const src = path.resolve(srcDir);
  const out = path.resolve(outDir);
  throwIfAborted(opts.signal);
  if (!fs.existsSync(src) || !fs.statSync(src).isDirectory()) {
    throw new ModelError('not-found', `Checkpoint folder ${src} does not exist; give a folder with config.json, tokenizer.json and model.safetensors or pytorch_model.bin.`);
  }
  checkTarget(src, out, opts.overwrite === true, 'the checkpoint folder');
  if (opts.format !== undefined && !MODEL_FORMATS.includes(opts.format)) {
    throw new ModelError('format', `Unknown model format "${String(opts.format)}"; use qagen or lmqg.`);
  }
  if (opts.variant !== undefined && !IMPORT_VARIANTS.includes(opts.variant)) {
    throw new ModelError('format', `Unknown variant "${String(opts.variant)}" to import; use ${IMPORT_VARIANTS.join(' or ')}.`);
  }

  const config = readJson(src, 'config.json', true);
  const { family, architecture } = detectFamily(config, path.join(src, 'config.json'));
  const tokenizerJson = readTokenizerJson(src);
  if (isFile(path.join(src, 'generation_config.json'))) readJson(src, 'generation_config.json', true);
  const hasTrainerConfig = isFile(path.join(src, 'trainer_config.json'));
  if (hasTrainerConfig) readJson(src, 'trainer_config.json', true);
  const sourceQuals = readSourceQualsJson(src);

  const detected = opts.format
    ? { format: opts.format, reason: 'given' }
    : detectFormat({ family, config, tokenizerJson, hasTrainerConfig, sourceId: opts.source, qualsJsonFormat: sourceQuals.format });
  if (!detected) throw formatUnknownError(src);

  const weightFiles = guard(() => checkpointFiles(src, opts.prefer));
  const weights = await hashWeights(src, weightFiles, opts);

  const notes: string[] = [];
  const staging = createStaging(out);
  try {
    guard(() => {
      fs.mkdirSync(path.join(staging, 'onnx'));
      for (const file of ['config.json', 'tokenizer.json', ...COPIED_FILES]) {
        if (isFile(path.join(src, file))) fs.copyFileSync(path.join(src, file), path.join(staging, file)); // follows symlinks (HF cache snapshots)
      }
      if (!isFile(path.join(staging, 'tokenizer_config.json'))) {
        // The loader requires the file; transformers treats a missing one as empty, so does this.
        fs.writeFileSync(path.join(staging, 'tokenizer_config.json'), '{}\n');
        notes.push('The checkpoint has no tokenizer_config.json; an empty one was written (the tokenizer defaults apply).');
      }
    });

    const { total: tensors, design, int8 } = await writeGraphs(src, family, config, staging, opts);

    const options = { ...sourceQuals.options, ...opts.options };
    const qualsJson = {
      format: detected.format,
      graphs: { builder: 'quals', multiTokenCache: true, ...(design === 'quals-step' ? { design, stepGraphs: STEP_GRAPHS_VERSION } : {}), ...(int8 ? { variants: { int8: INT8_RECORD } } : {}) },
      importedFrom: {
        source: opts.source ?? src,
        ...(opts.provenance?.revision ? { revision: opts.provenance.revision } : {}),
        ...(opts.provenance?.commit ? { commit: opts.provenance.commit } : {}),
        architecture,
        weights: weights.map((w) => w.file),
        sha256: Object.fromEntries(weights.map((w) => [w.file, w.sha256])),
      },
      ...(Object.keys(options).length > 0 ? { options: sortKeys(options) } : {}),
    };
    guard(() => fs.writeFileSync(path.join(staging, 'quals.json'), `${JSON.stringify(qualsJson, null, 2)}\n`));

    checkLoadable(staging, out, 'fp32');
    if (int8) checkLoadable(staging, out, 'int8');
    const files = listFiles(staging);
    throwIfAborted(opts.signal);
    guard(() => promoteStaging(staging, out, opts.overwrite === true));
    opts.log?.(`Imported ${src} (${architecture}, format ${detected.format}) into ${out}`);
    return { outDir: out, family, architecture, format: detected.format, formatReason: detected.reason, weights, files, tensors, notes };
  } catch (err) {
    removeStaging(staging);
    throw err;
  }
}

/** What the loader will check, checked before the folder becomes visible (messages name the final folder). */
function checkLoadable(staging: string, out: string, variant: ImportVariant): void {
  try {
    readModelFolder(staging, variant);
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    throw new ModelError(err.code, `The imported model would not load: ${err.message.split(staging).join(out)}`, { cause: err });
  }
}

/**
 * For a model setting that names a Hugging Face checkpoint folder (weights, no ONNX export): the
 * message that says how to convert it; null for anything else (the loader's own checks follow).
 */
export function checkpointFolderHint(dir: string): string | null {
  const abs = path.resolve(dir);
  const { encoder } = onnxFiles('fp32');
  if (!isFile(path.join(abs, 'config.json')) || isFile(path.join(abs, encoder)) || fs.existsSync(path.join(abs, 'onnx'))) return null;
  let names: string[];
  try {
    names = fs.readdirSync(abs);
  } catch {
    return null;
  }
  const weights = names.filter((n) => /^(model\.safetensors|pytorch_model\.bin)(\.index\.json)?$/.test(n) || /^(model|pytorch_model)-\d+-of-\d+\./.test(n));
  if (weights.length === 0) return null;
  return `${abs} is a Hugging Face checkpoint (${weights.sort()[0]}), not an ONNX export; convert it once with \`quals model import ${JSON.stringify(abs)} --out MODEL_DIR\` and set the model to MODEL_DIR.`;
}

/** Builds the graphs and writes both, reporting each tensor read; returns the checkpoint's tensor count. */
async function writeGraphs(src: string, family: ModelFamily, config: Record<string, unknown>, staging: string, opts: ImportOptions): Promise<{ total: number; design: DecoderDesign; int8: boolean }> {
  const ckpt = guard(() => openCheckpoint(src, opts.prefer));
  try {
    const tensors = ckpt.tensors.size;
    const wantInt8 = opts.variant === 'int8';
    // The int8 graphs read every tensor again (to quantize it): progress counts both passes.
    const total = wantInt8 ? 2 * tensors : tensors;
    const read = new Set<string>();
    let pass = '';
    let phase: ImportProgress['phase'] = 'encoder';
    const progress = (): ImportProgress => ({ phase, done: read.size, total, ...(pass ? { variant: 'int8' as const } : {}) });
    // The writer pulls tensors through the lazy initializers, yielding between them: counting reads
    // here is the per-tensor hook for progress and the point where a cancellation stops it.
    const counting: Checkpoint = {
      description: ckpt.description,
      tensors: ckpt.tensors,
      read(name) {
        throwIfAborted(opts.signal);
        const values = ckpt.read(name);
        if (!read.has(pass + name)) {
          read.add(pass + name);
          opts.onProgress?.(progress());
        }
        return values;
      },
      close: () => ckpt.close(),
    };
    const graphs = guard(() => BUILDERS[family](config, counting, { int8: wantInt8 }));
    const { encoder, decoder } = onnxFiles('fp32');
    let decoderData: ExternalData | undefined;
    let encoderData: ExternalData | undefined;
    for (const [which, graph, file] of [['encoder', graphs.encoder, encoder], ['decoder', graphs.decoder, decoder]] as const) {
      phase = which;
      // Let a pending Ctrl-C (or any abort) run before the next long synchronous write.
      await new Promise((resolve) => setImmediate(resolve));
      throwIfAborted(opts.signal);
      opts.onProgress?.(progress());
      const data = await guardAsync(() => writeModelWithExternalDataAsync(graph, path.join(staging, file), { opset: graphs.opset }));
      if (which === 'decoder') decoderData = data;
      else encoderData = data;
    }
    if (graphs.step) {
      // The quals-step graphs refer to the merged decoder's data file for every shared weight (no second copy on disk).
      for (const [graph, file] of [[graphs.step.decoder, STEP_FILES.decoder], [graphs.step.crossKv, STEP_FILES.crossKv]] as const) {
        await new Promise((resolve) => setImmediate(resolve));
        throwIfAborted(opts.signal);
        await guardAsync(() => writeModelWithExternalDataAsync(graph, path.join(staging, file), { opset: graphs.opset, shared: decoderData }));
      }
    }
    if (graphs.int8) {
      // The int8 graphs' fp32 tensors (embeddings, norms, biases) are the fp32 graphs' bytes: they
      // refer to those data files, and only the int8 matrices and their scales are new.
      pass = 'int8:';
      const files = variantFiles('int8');
      const int8Writes = [
        ['encoder', graphs.int8.encoder, files.encoder, encoderData],
        ['decoder', graphs.int8.decoder, files.stepDecoder, decoderData],
        ['decoder', graphs.int8.crossKv, files.crossKv, decoderData],
      ] as const;
      for (const [which, graph, file, shared] of int8Writes) {
        phase = which;
        await new Promise((resolve) => setImmediate(resolve));
        throwIfAborted(opts.signal);
        opts.onProgress?.(progress());
        await guardAsync(() => writeModelWithExternalDataAsync(graph, path.join(staging, file), { opset: graphs.opset, shared }));
      }
    }
    opts.onProgress?.({ ...progress(), phase: 'decoder', done: total });
    return { total: tensors, design: graphs.step ? 'quals-step' : 'merged', int8: graphs.int8 !== undefined };
  } finally {
    ckpt.close();
  }
}

async function hashWeights(src: string, files: string[], opts: ImportOptions): Promise<ImportReport['weights']> {
  const sizes = files.map((f) => fs.statSync(path.join(src, f)).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  const out: ImportReport['weights'] = [];
  for (const [i, file] of files.entries()) {
    let last = 0;
    const report = (done: number) => {
      const now = Date.now();
      if (now - last < 100 && done < sizes[i]!) return;
      last = now;
      opts.onProgress?.({ phase: 'checksum', done: before + done, total });
    };
    let sha256: string;
    try {
      sha256 = await hashFile(path.join(src, file), 'sha256', sizes[i]!, opts.signal, report);
    } catch (err) {
      if (opts.signal?.aborted) throw new CancelledError();
      throw new ModelError('invalid-file', `Cannot read ${path.join(src, file)} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the file.`, { cause: err });
    }
    out.push({ file, sha256, bytes: sizes[i]! });
    before += sizes[i]!;
  }
  return out;
}

/** Checkpoint and builder errors carry messages written for users: they become ModelErrors with that message. */
async function guardAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return guard(() => {
      throw err;
    });
  }
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CheckpointError) throw new ModelError('invalid-file', err.message, { cause: err });
    if (err instanceof UnsupportedModelError) throw new ModelError('format', `${err.message} QUALS cannot import this checkpoint.`, { cause: err });
    if (err instanceof CancelledError || err instanceof ModelError || err instanceof TargetFolderError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      throw new ModelError('invalid-file', `The import failed (${(err as Error).message}); check the free disk space and permissions of the output folder and that the checkpoint's files can be read.`, { cause: err });
    }
    throw err;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function readJson(dir: string, file: string, required: true): Record<string, unknown> {
  const p = path.join(dir, file);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && required) {
      throw new ModelError('missing-file', `${dir} has no ${file}, so it is not a Hugging Face checkpoint folder (save_pretrained writes config.json next to the weights).`);
    }
    throw new ModelError('invalid-file', `Cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? String(err)}).`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ModelError('invalid-file', `${p} is not valid JSON (${(err as Error).message.split('\n')[0]}); download or save the checkpoint again.`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError('invalid-file', `${p} must hold a JSON object; download or save the checkpoint again.`);
  }
  return value as Record<string, unknown>;
}

function readTokenizerJson(src: string): Record<string, unknown> {
  if (!isFile(path.join(src, 'tokenizer.json'))) {
    const slow = SLOW_TOKENIZER_FILES.filter((f) => isFile(path.join(src, f)));
    const has = slow.length ? `it has only ${slow.join(' and ')}, ` : '';
    throw new ModelError(
      'missing-file',
      `${src} has no tokenizer.json; ${has}but QUALS reads the fast-tokenizer file tokenizer.json. Create it with transformers (\`AutoTokenizer.from_pretrained(DIR).save_pretrained(DIR)\`, which writes tokenizer.json) and import again.`,
    );
  }
  const tok = readJson(src, 'tokenizer.json', true);
  if (typeof tok.model !== 'object' || tok.model === null) {
    throw new ModelError('invalid-file', `${path.join(src, 'tokenizer.json')} has no "model" section, so it is not a Hugging Face tokenizers file; re-save the tokenizer with a fast tokenizer (save_pretrained).`);
  }
  return tok;
}

/** A quals.json the checkpoint ships (format and options only; its provenance is replaced). */
function readSourceQualsJson(src: string): { format?: ModelFormatName; options: Record<string, unknown> } {
  if (!isFile(path.join(src, 'quals.json'))) return { options: {} };
  const raw = readJson(src, 'quals.json', true);
  const format = typeof raw.format === 'string' && (MODEL_FORMATS as readonly string[]).includes(raw.format) ? (raw.format as ModelFormatName) : undefined;
  const options = raw.options && typeof raw.options === 'object' && !Array.isArray(raw.options) ? (raw.options as Record<string, unknown>) : {};
  return { format, options };
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

function listFiles(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}
