/**
 * Loads a QA-generation model: resolves a folder or a hub id, validates the files, picks the
 * format (option > quals.json), and starts ONNX Runtime on the requested device.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EngineConfig, ModelFormatName } from '../engine-api';
import { ModelError } from '../errors';
import type { QualsOptions } from '../options';
import { type ModelFormat, createFormat } from './formats';
import type { WeightFormat } from '../../models/checkpoint/open';
import { downloadHubModel } from '../../models/hub';
import { type ImportProgress, checkpointFolderHint } from '../../models/import';
import { type DecoderDesign, type ModelFolder, isHubId, readModelFolder } from '../../models/model-files';
import { LogProbHelpers, createSessions, release } from './ort';
import { withPastDecoder } from './merged-split';
import { Seq2Seq } from './seq2seq';
import { TextTokenizer } from './tokenizer';

export interface LoadedModel {
  folder: ModelFolder;
  tokenizer: TextTokenizer;
  format: ModelFormat;
  seq2seq: Seq2Seq;
  /** Options the model's quals.json sets (between the defaults and the user's). */
  modelOptions: Partial<QualsOptions>;
  /** Max encoder input tokens, EOS included. */
  maxInputTokens: number;
  dispose(): Promise<void>;
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache'), 'quals', 'models');
}

/** What resolving a hub id may need beyond EngineConfig: the conversion of a checkpoint repo. */
export interface ResolveExtras {
  /** Progress of converting a checkpoint repo to ONNX (after its download; once per repo revision). */
  onImportProgress?: (p: ImportProgress) => void;
  /** Checkpoint repos with both kinds of weights: which to download (default safetensors). */
  prefer?: WeightFormat;
  /** Convert a checkpoint repo again even if the cache has a conversion. */
  reimport?: boolean;
}

/**
 * Resolves `config.model` to a local folder in the ONNX layout: a folder is used as it is (a
 * Hugging Face checkpoint folder is refused with the command that converts it); a hub id is
 * downloaded into the cache, and a checkpoint repo converted there, once (models/hub.ts).
 */
export async function resolveModelDir(config: EngineConfig, signal?: AbortSignal, extras: ResolveExtras = {}): Promise<string> {
  const model = config.model.trim();
  if (!model) throw new ModelError('not-found', 'No model is set: give a model folder or a Hugging Face hub id (setting quals.model / flag --model).');
  if (existsSync(model) || !isHubId(model)) {
    const hint = checkpointFolderHint(model);
    if (hint) throw new ModelError('missing-file', hint);
    return model;
  }
  return downloadHubModel(model, {
    cacheDir: config.cacheDir ?? defaultCacheDir(),
    hubUrl: config.hubUrl,
    revision: config.revision,
    variant: config.variant ?? 'fp32',
    onProgress: config.onDownloadProgress,
    log: config.log,
    signal,
    format: config.format,
    ...extras,
  });
}

function maxInputTokens(folder: ModelFolder): number {
  const limits: number[] = [];
  const pos = folder.config.max_position_embeddings;
  if (typeof pos === 'number' && pos > 0) limits.push(pos);
  const tok = folder.tokenizerConfig.model_max_length;
  // Tokenizers without a limit store a huge sentinel (1e30); ignore it.
  if (typeof tok === 'number' && tok > 0 && tok < 1e6) limits.push(tok);
  return limits.length ? Math.min(...limits) : 1024;
}

/** lmqg's trainer_config.json, when the folder has a readable one (it is optional). */
function readTrainerConfig(dir: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(readFileSync(join(dir, 'trainer_config.json'), 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Loader choices that are not user options (benchmarks compare the decoder designs). */
export interface LoadChoices {
  /** Run this decoder design: `merged` ignores a folder's `quals-step` graphs (default: the best the folder has). */
  design?: DecoderDesign;
  /** ONNX Runtime's CPU memory arena (default on; the bench measures peak RSS without it). */
  memArena?: boolean;
  /**
   * Run a merged decoder's one-token cached steps through its with-past branch as a graph of its
   * own (merged-split.ts). Default: on for foreign exports (no quals.json `graphs`), off for the
   * project's graphs, whose `--design merged` figures stay those of the merged graph.
   */
  withPast?: boolean;
}

export async function loadModel(config: EngineConfig, signal?: AbortSignal, choices: LoadChoices = {}): Promise<LoadedModel> {
  const dir = await resolveModelDir(config, signal);
  const folder = readModelFolder(dir, config.variant ?? 'fp32');
  const formatName: ModelFormatName | undefined = config.format ?? folder.qualsJson?.format;
  if (!formatName) {
    throw new ModelError(
      'format',
      `The model format is not set: add a quals.json with {"format": "qagen"} or {"format": "lmqg"} to ${folder.dir}, or pass the format option.`,
    );
  }
  const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
  const maxTokens = maxInputTokens(folder);
  const format = createFormat(formatName, {
    tokenizer,
    config: folder.config,
    generationConfig: { ...folder.generationConfig, decoder_start_token_id: folder.decoderStartTokenId },
    maxInputTokens: maxTokens,
    trainerConfig: readTrainerConfig(folder.dir),
  });
  const { seq2seq, dispose } = await openSeq2Seq(folder, config, format.decoderStartId, format.padId, choices);
  return {
    folder,
    tokenizer,
    format,
    seq2seq,
    modelOptions: folder.qualsJson?.options ?? {},
    maxInputTokens: maxTokens,
    dispose,
  };
}

/**
 * Starts ONNX Runtime on a validated folder: the encoder/decoder sessions and the log-prob helper
 * graphs, wrapped as a Seq2Seq. The format-free part of loading (the reference suite and
 * `quals model check` use it directly).
 */
export async function openSeq2Seq(
  folder: ModelFolder,
  config: Pick<EngineConfig, 'device' | 'threads' | 'log' | 'cacheDir'>,
  decoderStartId: number,
  padId: number,
  choices: LoadChoices = {},
): Promise<{ seq2seq: Seq2Seq; dispose(): Promise<void> }> {
  // The quals-step graphs replace the merged decoder, which is then not loaded at all.
  const step = choices.design !== 'merged' ? folder.stepPaths : undefined;
  if (folder.outdatedStepGraphs && choices.design !== 'merged') config.log?.(folder.outdatedStepGraphs);
  const decoderPath = step?.decoder ?? folder.decoderPath;
  if (!decoderPath) {
    throw new ModelError('missing-file', `The ${folder.variant} variant of ${folder.dir} has only the quals-step graphs (no merged decoder), so it cannot run the merged design; use the fp32 variant for that.`);
  }
  const withPastPath = !step && (choices.withPast ?? folder.qualsJson?.graphs === undefined) ? await withPastGraph(decoderPath, config) : undefined;
  const sessions = await createSessions(folder.encoderPath, decoderPath, {
    device: config.device ?? 'auto',
    threads: config.threads,
    log: config.log,
    memArena: choices.memArena,
    withPastPath,
  }, step?.crossKv);
  let helpers: LogProbHelpers;
  let seq2seq: Seq2Seq;
  try {
    helpers = await LogProbHelpers.create(config.threads);
    seq2seq = new Seq2Seq(sessions, helpers, decoderStartId, padId, folder.config, folder.qualsJson?.graphs?.multiTokenCache === true);
  } catch (e) {
    await release(sessions.encoder);
    await release(sessions.decoder);
    if (sessions.crossKv) await release(sessions.crossKv);
    if (sessions.withPast) await release(sessions.withPast);
    throw e;
  }
  return {
    seq2seq,
    async dispose() {
      await helpers.release();
      await release(sessions.encoder);
      await release(sessions.decoder);
      if (sessions.crossKv) await release(sessions.crossKv);
      if (sessions.withPast) await release(sessions.withPast);
    },
  };
}

/** The merged decoder's with-past graph, or undefined (the merged graph then runs every step, as it always could). */
async function withPastGraph(mergedPath: string, config: Pick<EngineConfig, 'log' | 'cacheDir'>): Promise<string | undefined> {
  try {
    return (await withPastDecoder(mergedPath, config.cacheDir ?? defaultCacheDir())) ?? undefined;
  } catch (e) {
    config.log?.(`running the merged decoder for every step: its with-past branch could not be split out (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}
