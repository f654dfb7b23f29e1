/**
 * Validation of a model folder in the Optimum / transformers.js ONNX layout:
 *
 *     onnx/encoder_model{,_quantized,_fp16}.onnx
 *     onnx/decoder_model_merged{,_quantized,_fp16}.onnx
 *     onnx/{decoder_step_quals,cross_kv_quals}{,_int8}.onnx, onnx/encoder_model_int8.onnx (the project's
 *       `quals-step` design and int8 variant, recorded in quals.json `graphs`; int8 has no merged decoder)
 *     config.json  generation_config.json (optional)  tokenizer.json  tokenizer_config.json
 *     quals.json (optional: `{"format": "qagen"|"lmqg", "options": {...}}`)
 *
 * Everything here is synchronous: it runs once per model load, reads a few small JSON files and
 * sniffs the ONNX headers, and ONNX Runtime's session creation that follows blocks anyway.
 * Every failure is a ModelError with a one-line message that names the file and says what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ModelFormatName, ModelVariant } from '../scoring/engine-api';
import { ModelError } from '../scoring/errors';
import { DEFAULT_OPTIONS, OPTION_KEYS, type QualsOptions } from '../scoring/options';

export const MODEL_VARIANTS: readonly ModelVariant[] = ['fp32', 'int8', 'quantized', 'fp16'];
export const MODEL_FORMATS: readonly ModelFormatName[] = ['qagen', 'lmqg'];

/** The fields of config.json the runtime relies on; the rest is kept as-is. */
export interface ModelConfig {
  model_type?: string;
  is_encoder_decoder?: boolean;
  vocab_size: number;
  decoder_start_token_id?: number;
  pad_token_id?: number;
  bos_token_id?: number;
  eos_token_id?: number | number[];
  [key: string]: unknown;
}

/** generation_config.json, or the generation fields of config.json when that file is absent. */
export interface GenerationConfig {
  decoder_start_token_id?: number;
  bos_token_id?: number;
  eos_token_id?: number | number[];
  pad_token_id?: number;
  forced_bos_token_id?: number | null;
  forced_eos_token_id?: number | null;
  max_length?: number;
  [key: string]: unknown;
}

/** A validated quals.json. `format` is absent when the file only sets options. */
export interface QualsJson {
  format?: ModelFormatName;
  options: Partial<QualsOptions>;
  /**
   * Written by the project's own graph builders (import, generated models): their merged decoder's
   * with-past branch is valid for several new tokens at once. Absent for foreign exports, whose
   * with-past branch Optimum traced for one token only.
   */
  graphs?: { builder: string; multiTokenCache: boolean; design?: DecoderDesign; stepGraphs?: number; variants?: Partial<Record<ModelVariant, VariantRecord>> };
  /** Where an imported model came from (kept as-is, for reports). */
  importedFrom?: Record<string, unknown>;
}

/**
 * How the decoder graphs of a folder are laid out. `merged`: the Optimum merged decoder alone (an
 * `If` on use_cache_branch), what every export has. `quals-step`: the project's builders also wrote
 * STEP_FILES, a decoder without `If` designed for this engine's searches (the cross-attention cache
 * fed at batch 1, beam reordering and log-softmax + top-k / gather inside the graph).
 */
export type DecoderDesign = 'merged' | 'quals-step';
export const DECODER_DESIGNS: readonly DecoderDesign[] = ['merged', 'quals-step'];

/**
 * The interface of the `quals-step` graphs the builders write now, recorded as quals.json
 * `graphs.stepGraphs` (absent = 1). 1: the past self-attention cache fed per row with `beam_idx`;
 * 2: the append-only self-attention history (`history_rows`, `history.L.*` -> `new_history.L.*`).
 * Step graphs of another version are not run: fp32 falls back to the merged decoder, and hub
 * caches convert again from their checkpoint.
 */
export const STEP_GRAPHS_VERSION = 2;

/** Whether quals.json's `quals-step` graphs are the interface this engine runs. */
export function stepGraphsCurrent(graphs: QualsJson['graphs'] | undefined): boolean {
  return (graphs?.stepGraphs ?? 1) === STEP_GRAPHS_VERSION;
}

/** The `quals-step` design's files (next to the merged decoder, which stays for other tools). */
export const STEP_FILES = { decoder: 'onnx/decoder_step_quals.onnx', crossKv: 'onnx/cross_kv_quals.onnx' } as const;

/**
 * A variant other than fp32 that the project's builders wrote (quals.json `graphs.variants`): the
 * int8 variant is the encoder and the `quals-step` graphs only (no merged decoder), recorded as
 * `{"design": "quals-step", ...how it was quantized}`.
 */
export interface VariantRecord {
  design: DecoderDesign;
  [key: string]: unknown;
}

/** Every graph file of a variant, relative to the model folder: the Optimum pair and the `quals-step` pair. */
export function variantFiles(variant: ModelVariant): { encoder: string; decoder: string; stepDecoder: string; crossKv: string } {
  const s = suffix(variant);
  return { ...onnxFiles(variant), stepDecoder: `onnx/decoder_step_quals${s}.onnx`, crossKv: `onnx/cross_kv_quals${s}.onnx` };
}

/** A validated model folder; paths are absolute. */
export interface ModelFolder {
  dir: string;
  variant: ModelVariant;
  encoderPath: string;
  /** The merged decoder; absent in a variant the builders wrote with the `quals-step` graphs only (int8). */
  decoderPath?: string;
  config: ModelConfig;
  generationConfig: GenerationConfig;
  /** The id the decoder starts from: generation_config, then config.json, then (T5 family) pad_token_id. */
  decoderStartTokenId: number;
  /** Parsed tokenizer.json (a Hugging Face `tokenizers` file). */
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  qualsJson: QualsJson | null;
  /** The `quals-step` graphs of the variant, when quals.json records that design and the files are present. */
  stepPaths?: { decoder: string; crossKv: string };
  /** Set when the folder's `quals-step` graphs are of an older interface (STEP_GRAPHS_VERSION) and the merged decoder runs instead: why, for the log. */
  outdatedStepGraphs?: string;
}

const ENCODER_DECODER_TYPES = new Set([
  'bart', 'mbart', 'plbart', 'mvp', 'pegasus', 'pegasus_x', 'bigbird_pegasus', 'led', 'marian',
  'm2m_100', 'nllb-moe', 'blenderbot', 'blenderbot-small', 'prophetnet', 't5', 'mt5', 'umt5', 'longt5',
]);
/** T5-style models start decoding from the pad token when no decoder_start_token_id is given. */
const PAD_STARTS_DECODER = new Set(['t5', 'mt5', 'umt5', 'longt5']);
/** Keys copied from config.json when generation_config.json is absent (what transformers does). */
const GENERATION_KEYS = [
  'decoder_start_token_id', 'bos_token_id', 'eos_token_id', 'pad_token_id', 'forced_bos_token_id',
  'forced_eos_token_id', 'max_length', 'min_length', 'num_beams', 'length_penalty', 'no_repeat_ngram_size',
];

const EXPORT_HINT =
  'export the model with `optimum-cli export onnx --task text2text-generation-with-past --model MODEL_ID DIR` (the merged decoder is needed)';

function suffix(variant: ModelVariant): string {
  return variant === 'fp32' ? '' : `_${variant}`;
}

/** The two ONNX files of a variant, relative to the model folder (always with `/`). */
export function onnxFiles(variant: ModelVariant): { encoder: string; decoder: string } {
  const s = suffix(variant);
  return { encoder: `onnx/encoder_model${s}.onnx`, decoder: `onnx/decoder_model_merged${s}.onnx` };
}

/**
 * The files a loader needs for a variant, relative to the model folder. `optional` files may be
 * absent (external-data files only exist for models over 2 GB).
 */
export function modelFileList(variant: ModelVariant): { required: string[]; optional: string[] } {
  const { encoder, decoder } = onnxFiles(variant);
  return {
    required: ['config.json', 'tokenizer.json', 'tokenizer_config.json', encoder, decoder],
    optional: ['generation_config.json', 'quals.json', 'special_tokens_map.json', `${encoder}_data`, `${decoder}_data`,
      ...(variant === 'fp32' || variant === 'int8' ? stepFileList(variant) : [])],
  };
}

function stepFileList(variant: ModelVariant): string[] {
  const { stepDecoder, crossKv } = variantFiles(variant);
  return [stepDecoder, `${stepDecoder}_data`, crossKv, `${crossKv}_data`];
}

/** Syntax of a hub repo id `org/name` (the hub's own rules: no `--` or `..`, no leading/trailing `.`/`-`). */
export function isHubIdSyntax(s: string): boolean {
  const parts = s.split('/');
  const part = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?$/;
  return parts.length === 2 && parts.every((p) => part.test(p) && !p.includes('..') && !p.includes('--'));
}

/**
 * Heuristic: does `s` name a Hugging Face hub repo (`org/name`) rather than a local folder?
 * True for exactly one slash between two valid name parts, when `s` is not an existing path
 * (resolved against `baseDir`) and does not look like a relative, home or drive-letter path.
 */
export function isHubId(s: string, baseDir: string = process.cwd()): boolean {
  if (/^[.~/\\]/.test(s) || /^[A-Za-z]:/.test(s) || s.includes('\\')) return false;
  return isHubIdSyntax(s) && !fs.existsSync(path.resolve(baseDir, s));
}

/**
 * Validates a model folder for `variant` and reads its JSON files.
 * @throws ModelError `not-found` (no such folder), `missing-file`, `invalid-file` or `format`.
 */
export function readModelFolder(dir: string, variant: ModelVariant = 'fp32'): ModelFolder {
  const root = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch {
    throw new ModelError('not-found', `Model folder ${root} does not exist; set the model to a folder in the Optimum ONNX layout or to a Hugging Face hub id (org/name).`);
  }
  if (!stat.isDirectory()) {
    throw new ModelError('not-found', `Model path ${root} is a file, not a folder; point the model setting at the folder that holds config.json and onnx/.`);
  }
  if (!MODEL_VARIANTS.includes(variant)) {
    throw new ModelError('format', `Unknown model variant "${String(variant)}"; use one of ${MODEL_VARIANTS.join(', ')}.`);
  }

  const files = variantFiles(variant);
  const { encoder, decoder } = files;
  const hasStepFiles = isFile(path.join(root, files.stepDecoder)) && isFile(path.join(root, files.crossKv));
  checkOnnxPresent(root, variant, encoder, hasStepFiles ? null : decoder);

  const config = checkConfig(root, readJsonObject(root, 'config.json', true));
  const genRaw = readJsonObject(root, 'generation_config.json', false);
  const generationConfig: GenerationConfig = genRaw ?? pickGenerationKeys(config);
  const decoderStartTokenId = resolveDecoderStart(root, config, generationConfig);

  const tokenizerJson = readJsonObject(root, 'tokenizer.json', true);
  if (typeof tokenizerJson.model !== 'object' || tokenizerJson.model === null) {
    throw new ModelError('invalid-file', `${path.join(root, 'tokenizer.json')} has no "model" section, so it is not a Hugging Face tokenizers file; re-save the tokenizer with a fast tokenizer (tokenizer.save_pretrained).`);
  }
  const tokenizerConfig = readJsonObject(root, 'tokenizer_config.json', true);
  const qualsRaw = readJsonObject(root, 'quals.json', false);
  const qualsJson = qualsRaw ? checkQualsJson(path.join(root, 'quals.json'), qualsRaw) : null;

  const encoderPath = path.join(root, encoder);
  const hasMerged = isFile(path.join(root, decoder));
  sniffOnnx(root, encoder);
  if (hasMerged) sniffOnnx(root, decoder);
  const folder: ModelFolder = { dir: root, variant, encoderPath, config, generationConfig, decoderStartTokenId, tokenizerJson, tokenizerConfig, qualsJson };
  if (hasMerged) folder.decoderPath = path.join(root, decoder);
  const design = variant === 'fp32' ? qualsJson?.graphs?.design : qualsJson?.graphs?.variants?.[variant]?.design;
  // A folder without the step files (an older copy, a partial download) still runs on the merged decoder.
  const current = stepGraphsCurrent(qualsJson?.graphs);
  if (design === 'quals-step' && hasStepFiles && current) {
    folder.stepPaths = { decoder: path.join(root, files.stepDecoder), crossKv: path.join(root, files.crossKv) };
  } else if (design === 'quals-step' && hasStepFiles) {
    // The command keeps the folder's int8 variant when it has one (--overwrite rewrites the folder).
    const hasInt8 = qualsJson?.graphs?.variants?.int8 !== undefined;
    const again = `import the model again (${importCommand(root, variant === 'int8' || hasInt8 ? 'int8' : 'fp32')}) for the faster quals-step graphs`;
    const which = `were written by another version of QUALS (step graphs version ${qualsJson?.graphs?.stepGraphs ?? 1}; this one runs ${STEP_GRAPHS_VERSION})`;
    if (!hasMerged) throw new ModelError('invalid-file', `The ${variant} graphs of ${root} ${which} and have no merged decoder to fall back on; ${again}, or set the variant to fp32.`);
    folder.outdatedStepGraphs = `${root}: its quals-step graphs ${which}, so the slower merged decoder runs; ${again}.`;
  } else if (!hasMerged) {
    checkOnnxPresent(root, variant, encoder, decoder);
  }
  return folder;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Names the variants that are present when the requested one is not, so the fix is obvious.
 * `decoder` null: the variant's `quals-step` files are there instead of a merged decoder.
 */
function checkOnnxPresent(root: string, variant: ModelVariant, encoder: string, decoder: string | null): void {
  const missing = [encoder, decoder].find((f): f is string => f !== null && !isFile(path.join(root, f)));
  if (!missing) return;
  const present = MODEL_VARIANTS.filter((v) => {
    const f = variantFiles(v);
    return isFile(path.join(root, f.encoder)) && (isFile(path.join(root, f.decoder)) || isFile(path.join(root, f.stepDecoder)));
  });
  if (variant === 'int8') throw new ModelError('missing-file', int8MissingMessage(root, missing, present));
  if (present.length > 0) {
    throw new ModelError('missing-file', `Model folder ${root} has no ${missing} (variant ${variant}); it has the ${present.join(', ')} variant${present.length > 1 ? 's' : ''}, so set the variant to ${present.length > 1 ? 'one of those' : 'that'} or export the ${variant} files.`);
  }
  if (missing === decoder && isFile(path.join(root, 'onnx', `decoder_model${suffix(variant)}.onnx`))) {
    throw new ModelError('missing-file', `Model folder ${root} has onnx/decoder_model${suffix(variant)}.onnx but no ${decoder}; ${EXPORT_HINT}.`);
  }
  throw new ModelError('missing-file', `Model folder ${root} has no ${missing}; ${EXPORT_HINT}.`);
}

/** The import command that rewrites `root`, with the folder's own source when quals.json names it. */
function importCommand(root: string, variant: ModelVariant): string {
  let source = 'CHECKPOINT';
  try {
    const q = JSON.parse(fs.readFileSync(path.join(root, 'quals.json'), 'utf8')) as { importedFrom?: { source?: unknown } };
    if (typeof q.importedFrom?.source === 'string') source = JSON.stringify(q.importedFrom.source);
  } catch {
    // No readable quals.json: the generic command still says what to run.
  }
  return `\`quals model import ${source} --out ${JSON.stringify(root)} --overwrite${variant === 'int8' ? ' --variant int8' : ''}\``;
}

/** The int8 variant is written by the project's import; the message says how. */
function int8MissingMessage(root: string, missing: string, present: readonly ModelVariant[]): string {
  const has = present.length > 0 ? ` (it has the ${present.join(', ')} variant${present.length > 1 ? 's' : ''})` : '';
  return `Model folder ${root} has no int8 variant: ${missing} is missing${has}. Write it with ${importCommand(root, 'int8')} (from the Hugging Face checkpoint), or set the variant to fp32.`;
}

/** Keeps a parser's message on one short line. */
function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

/** V8 reports a character offset; people look for a line and column. */
function jsonErrorText(err: Error, text: string): string {
  const m = /at position (\d+)/.exec(err.message);
  if (!m) return oneLine(err.message);
  const before = text.replace(/^\uFEFF/, '').slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${oneLine(err.message.replace(/ at position \d+.*$/s, ''))} at line ${line}, column ${column}`;
}

function readJsonObject(root: string, file: string, required: true): Record<string, unknown>;
function readJsonObject(root: string, file: string, required: false): Record<string, unknown> | null;
function readJsonObject(root: string, file: string, required: boolean): Record<string, unknown> | null {
  const p = path.join(root, file);
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (!required) return null;
      throw new ModelError('missing-file', `Model folder ${root} has no ${file}; copy it from the original model or re-export the folder with optimum-cli (it writes ${file}).`);
    }
    throw new ModelError('invalid-file', `Cannot read ${p} (${code ?? String(err)}); check the file's permissions.`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ModelError('invalid-file', `${p} is not valid JSON (${jsonErrorText(err as Error, text)}); fix the file or re-export the model.`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError('invalid-file', `${p} must hold a JSON object, not ${Array.isArray(value) ? 'an array' : typeof value}; fix the file or re-export the model.`);
  }
  return value as Record<string, unknown>;
}

const isTokenId = (v: unknown, vocab: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < vocab;

function checkConfig(root: string, raw: Record<string, unknown>): ModelConfig {
  const p = path.join(root, 'config.json');
  const type = typeof raw.model_type === 'string' ? raw.model_type : undefined;
  const encDec = raw.is_encoder_decoder === true || (raw.is_encoder_decoder !== false && type !== undefined && ENCODER_DECODER_TYPES.has(type));
  if (!encDec) {
    throw new ModelError('format', `${p} describes a ${type ?? 'model of unknown type'} that is not an encoder-decoder; QUALS needs a seq2seq question-and-answer generation model such as BART or T5.`);
  }
  if (!Number.isInteger(raw.vocab_size) || (raw.vocab_size as number) < 1) {
    throw new ModelError('invalid-file', `${p} has no valid vocab_size (got ${JSON.stringify(raw.vocab_size) ?? 'nothing'}); use the config.json that came with the exported model.`);
  }
  if (raw.eos_token_id !== undefined) {
    const ids = Array.isArray(raw.eos_token_id) ? raw.eos_token_id : [raw.eos_token_id];
    if (ids.length === 0 || !ids.every((id) => isTokenId(id, raw.vocab_size as number))) {
      throw new ModelError('invalid-file', `${p} has an invalid eos_token_id (${JSON.stringify(raw.eos_token_id)}); it must be a token id below vocab_size or a list of them.`);
    }
  }
  return raw as ModelConfig;
}

function pickGenerationKeys(config: ModelConfig): GenerationConfig {
  const out: GenerationConfig = {};
  for (const key of GENERATION_KEYS) if (config[key] !== undefined) out[key] = config[key];
  return out;
}

function resolveDecoderStart(root: string, config: ModelConfig, gen: GenerationConfig): number {
  const candidates: [file: string, key: string, id: unknown][] = [
    ['generation_config.json', 'decoder_start_token_id', gen.decoder_start_token_id],
    ['config.json', 'decoder_start_token_id', config.decoder_start_token_id],
  ];
  if (config.model_type !== undefined && PAD_STARTS_DECODER.has(config.model_type)) candidates.push(['config.json', 'pad_token_id', config.pad_token_id]);
  for (const [file, key, id] of candidates) {
    if (id === undefined || id === null) continue;
    if (!isTokenId(id, config.vocab_size)) {
      throw new ModelError('invalid-file', `${key} in ${path.join(root, file)} is ${JSON.stringify(id)}, not a token id below vocab_size ${config.vocab_size}; fix the file or re-export the model.`);
    }
    return id;
  }
  throw new ModelError('invalid-file', `${path.join(root, 'config.json')} has no decoder_start_token_id (nor does generation_config.json); add it (for BART it is 2, the </s> token) or re-export the model.`);
}

const QUALS_JSON_KEYS = ['format', 'options', 'graphs', 'importedFrom'];

function checkQualsJson(p: string, raw: Record<string, unknown>): QualsJson {
  for (const key of Object.keys(raw)) {
    if (!QUALS_JSON_KEYS.includes(key) && !key.startsWith('$')) {
      throw new ModelError('invalid-file', `${p} has an unknown key "${key}"; it may only hold ${QUALS_JSON_KEYS.map((k) => `"${k}"`).join(', ')}.`);
    }
  }
  const out: QualsJson = { options: {} };
  if (raw.graphs !== undefined) {
    const g = raw.graphs as Record<string, unknown> | null;
    if (typeof g !== 'object' || g === null || typeof g.builder !== 'string' || typeof g.multiTokenCache !== 'boolean') {
      throw new ModelError('invalid-file', `${p}: "graphs" must be {"builder": "...", "multiTokenCache": true|false}; remove it for a model exported by optimum.`);
    }
    if (g.design !== undefined && !DECODER_DESIGNS.includes(g.design as DecoderDesign)) {
      throw new ModelError('invalid-file', `${p}: "graphs.design" must be one of ${DECODER_DESIGNS.map((d) => `"${d}"`).join(', ')}; remove it to run the merged decoder.`);
    }
    if (g.stepGraphs !== undefined && !(Number.isInteger(g.stepGraphs) && (g.stepGraphs as number) >= 1)) {
      throw new ModelError('invalid-file', `${p}: "graphs.stepGraphs" must be a positive integer (the version of the quals-step graphs); import the model again to rewrite it.`);
    }
    out.graphs = {
      builder: g.builder,
      multiTokenCache: g.multiTokenCache,
      ...(g.design !== undefined ? { design: g.design as DecoderDesign } : {}),
      ...(g.stepGraphs !== undefined ? { stepGraphs: g.stepGraphs as number } : {}),
    };
    if (g.variants !== undefined) out.graphs.variants = checkVariants(p, g.variants);
  }
  if (raw.importedFrom !== undefined && typeof raw.importedFrom === 'object' && raw.importedFrom !== null) {
    out.importedFrom = raw.importedFrom as Record<string, unknown>;
  }
  if (raw.format !== undefined) {
    if (typeof raw.format !== 'string' || !(MODEL_FORMATS as readonly string[]).includes(raw.format)) {
      throw new ModelError('format', `${p} names the unknown model format ${JSON.stringify(raw.format)}; use "qagen" (BART QAGen) or "lmqg" (lmqg/*-qag T5/BART).`);
    }
    out.format = raw.format as ModelFormatName;
  }
  if (raw.options === undefined) return out;
  if (typeof raw.options !== 'object' || raw.options === null || Array.isArray(raw.options)) {
    throw new ModelError('invalid-file', `${p}: "options" must be a JSON object of scoring options.`);
  }
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw.options)) {
    if (!(OPTION_KEYS as string[]).includes(key)) {
      throw new ModelError('invalid-file', `${p} sets the unknown option "${key}"; known options: ${OPTION_KEYS.join(', ')}.`);
    }
    const expected = typeof DEFAULT_OPTIONS[key as keyof QualsOptions];
    const ok = expected === 'number' ? typeof value === 'number' && Number.isFinite(value) : typeof value === expected;
    if (!ok) {
      throw new ModelError('invalid-file', `${p} sets option "${key}" to ${JSON.stringify(value)}; it must be a ${expected}.`);
    }
    if (key === 'mode' && value !== 'paper' && value !== 'reference') {
      throw new ModelError('invalid-file', `${p} sets option "mode" to ${JSON.stringify(value)}; it must be "paper" or "reference".`);
    }
    options[key] = value;
  }
  out.options = options as Partial<QualsOptions>;
  return out;
}

function checkVariants(p: string, raw: unknown): Partial<Record<ModelVariant, VariantRecord>> {
  const bad = () => new ModelError('invalid-file', `${p}: "graphs.variants" must map variant names (${MODEL_VARIANTS.filter((v) => v !== 'fp32').join(', ')}) to {"design": "quals-step"|"merged", ...}; remove it to load fp32 only.`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad();
  const out: Partial<Record<ModelVariant, VariantRecord>> = {};
  for (const [name, rec] of Object.entries(raw as Record<string, unknown>)) {
    const r = rec as Record<string, unknown> | null;
    if (name === 'fp32' || !MODEL_VARIANTS.includes(name as ModelVariant) || typeof r !== 'object' || r === null || !DECODER_DESIGNS.includes(r.design as DecoderDesign)) throw bad();
    out[name as ModelVariant] = r as VariantRecord;
  }
  return out;
}

/**
 * An ONNX ModelProto starts with field 1 (ir_version, a varint): byte 0x08, then a small version.
 * Sniffing catches the usual accidents (empty files, Git LFS pointers, HTML error pages) early,
 * with a message that says which file is wrong, instead of an opaque ONNX Runtime parse error.
 */
function sniffOnnx(root: string, file: string): void {
  const p = path.join(root, file);
  const head = Buffer.alloc(64);
  let n: number;
  try {
    const fd = fs.openSync(p, 'r');
    try {
      n = fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new ModelError('invalid-file', `Cannot read ${p} (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the file's permissions.`, { cause: err });
  }
  if (n === 0) throw new ModelError('invalid-file', `${p} is empty; the export or download was interrupted, so export or download the model again.`);
  const text = head.subarray(0, n).toString('latin1');
  if (text.startsWith('version https://git-lfs')) {
    throw new ModelError('invalid-file', `${p} is a Git LFS pointer, not the model weights; run \`git lfs pull\` in the model folder or download it with \`huggingface-cli download\`.`);
  }
  if (head[0] !== 0x08 || n < 2 || head[1]! < 1 || head[1]! > 0x7f) {
    throw new ModelError('invalid-file', `${p} is not an ONNX model (it does not start with an ONNX header); export the model again with optimum-cli.`);
  }
}
