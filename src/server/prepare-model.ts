/**
 * `quals/prepareModel`: makes a model ready before the client saves it in `quals.model`. A hub id
 * goes through the loader's resolveModelDir (download into the cache, import when the repo is a
 * Hugging Face checkpoint); a local checkpoint folder through importCheckpoint (which writes a
 * staging folder and renames it into place, so a cancelled or failed import never leaves a
 * half-written model behind). Either way the result is validated like a load would
 * (readModelFolder of the variant asked for + a format in quals.json) before it is reported.
 * With the int8 variant (quals.modelVariant), a checkpoint is converted with its int8 files too:
 * a hub checkpoint repo's fp32 conversion in the cache gains them without a download.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { PrepareModelParams, PrepareModelResponse } from '../protocol';
import type { DownloadProgress, EngineConfig, ModelVariant } from '../scoring/engine-api';
import { CancelledError, ModelError } from '../scoring/errors';
import type { ImportOptions, ImportProgress } from '../models/import';
import { readModelFolder } from '../models/model-files';

export interface PrepareDeps {
  /** The loader's: a hub id -> its cache folder (downloaded; a checkpoint repo converted there). */
  resolveModelDir: (config: EngineConfig, signal?: AbortSignal, extras?: { onImportProgress?: (p: ImportProgress) => void }) => Promise<string>;
  importCheckpoint: (srcDir: string, outDir: string, opts: ImportOptions) => Promise<unknown>;
  log: (line: string) => void;
}

/** What the work-done progress shows: a one-line message and, when known, a percentage of the current step. */
export interface ProgressReport {
  message: string;
  percentage?: number;
}

const MB = 1024 * 1024;

function mb(bytes: number): string {
  return bytes >= 100 * MB ? (bytes / MB).toFixed(0) : (bytes / MB).toFixed(1);
}

export function downloadReport(p: DownloadProgress): ProgressReport {
  const file = p.file.split('/').pop() ?? p.file;
  if (p.totalBytes && p.totalBytes > 0) {
    const percentage = Math.max(0, Math.min(100, Math.round((100 * p.receivedBytes) / p.totalBytes)));
    return { message: `Downloading ${file}: ${mb(p.receivedBytes)} of ${mb(p.totalBytes)} MB`, percentage };
  }
  return { message: `Downloading ${file}: ${mb(p.receivedBytes)} MB` };
}

const IMPORT_PHASES: Record<ImportProgress['phase'], string> = {
  checksum: 'Checking the weights',
  encoder: 'Converting the encoder',
  decoder: 'Converting the decoder',
};

export function importReport(p: ImportProgress): ProgressReport {
  const label = `${IMPORT_PHASES[p.phase] ?? `Importing (${String(p.phase)})`}${p.variant === 'int8' ? ' (int8)' : ''}`;
  if (!(Number.isFinite(p.total) && p.total > 0)) return { message: label };
  const percentage = Math.max(0, Math.min(100, Math.round((100 * p.done) / p.total)));
  const done = Math.min(p.done, p.total);
  // checksum counts bytes, the graphs count tensors
  const amount = p.phase === 'checksum' ? `${mb(done)} of ${mb(p.total)} MB` : `tensor ${done} of ${p.total}`;
  return { message: `${label}: ${amount}`, percentage };
}

/**
 * Download chunks and tensors arrive far more often than a notification is worth: passes a report
 * on when its step (the text before ':') or its whole percentage changed, or `minMs` went by.
 */
export function throttleReports(send: (r: ProgressReport) => void, minMs = 500, now: () => number = Date.now): (r: ProgressReport) => void {
  let last: { step: string; percentage: number | undefined; at: number } | undefined;
  return (r) => {
    const step = r.message.split(':')[0]!;
    const t = now();
    if (last && last.step === step && last.percentage === r.percentage && t - last.at < minMs) return;
    last = { step, percentage: r.percentage, at: t };
    send(r);
  };
}

/**
 * A prepared folder must load: the Optimum files and a format in quals.json. A folder without one
 * (an ONNX export on the hub with no quals.json) gets the expected format written into its
 * quals.json, the folder being QUALS's own cache or import; without an expected format it is an error.
 */
function validate(dir: string, expected: 'qagen' | 'lmqg' | undefined, variant: ModelVariant): PrepareModelResponse {
  let folder = readModelFolder(dir, variant);
  let format = folder.qualsJson?.format;
  if (!format && expected) {
    const file = join(folder.dir, 'quals.json');
    let existing: Record<string, unknown> = {};
    try {
      existing = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      // absent: a new file
    }
    writeFileSync(file, `${JSON.stringify({ ...existing, format: expected }, null, 2)}\n`);
    folder = readModelFolder(dir, variant);
    format = folder.qualsJson?.format;
  }
  if (!format) {
    throw new ModelError('format', `The prepared model ${folder.dir} names no format in quals.json; add {"format": "qagen"} or {"format": "lmqg"} to it.`);
  }
  const note = expected && expected !== format ? `The model's quals.json says "${format}" where "${expected}" was expected; set "quals.modelFormat" if checks look wrong.` : undefined;
  return { state: 'done', dir: folder.dir, format, ...(note ? { message: note } : {}) };
}

export async function prepareModel(
  params: PrepareModelParams,
  deps: PrepareDeps,
  send: (r: ProgressReport) => void,
  signal: AbortSignal,
): Promise<PrepareModelResponse> {
  const report = throttleReports(send);
  try {
    if (typeof params.model !== 'string' || !params.model.trim()) throw new ModelError('not-found', 'No model was given to prepare.');
    if (typeof params.cacheDir !== 'string' || !isAbsolute(params.cacheDir)) throw new ModelError('not-found', 'The model cache folder must be an absolute path.');
    const format = params.format === 'qagen' || params.format === 'lmqg' ? params.format : undefined;
    const variant: ModelVariant = params.variant ?? 'fp32';
    if (params.kind === 'hub') {
      deps.log(`preparing hub model ${params.model} in ${params.cacheDir}`);
      const dir = await deps.resolveModelDir(
        { model: params.model.trim(), cacheDir: params.cacheDir, variant, ...(format ? { format } : {}), log: deps.log, onDownloadProgress: (p) => report(downloadReport(p)) },
        signal,
        { onImportProgress: (p) => report(importReport(p)) },
      );
      if (signal.aborted) throw new CancelledError();
      return validate(dir, format, variant);
    }
    if (params.kind === 'checkpoint') {
      const src = params.model;
      const out = params.outDir;
      if (!isAbsolute(src) || !existsSync(src)) throw new ModelError('not-found', `The checkpoint folder ${src} does not exist.`);
      if (!out || !isAbsolute(out)) throw new ModelError('not-found', 'The import needs an absolute output folder.');
      deps.log(`importing checkpoint ${src} into ${out}`);
      // The import writes a staging folder and renames it into place: a cancel leaves the old import (if any) alone.
      // Only fp32 and int8 are written by an import; another variant is left to validate's message.
      const importVariant = variant === 'int8' ? { variant } : {};
      await deps.importCheckpoint(src, out, { ...(format ? { format } : {}), ...importVariant, overwrite: true, onProgress: (p) => report(importReport(p)), signal, log: deps.log });
      if (signal.aborted) throw new CancelledError();
      return validate(out, format, variant);
    }
    throw new ModelError('not-found', `Unknown kind of model to prepare: ${String(params.kind)}.`);
  } catch (e) {
    if (e instanceof CancelledError || signal.aborted || (e as { name?: string }).name === 'AbortError') return { state: 'cancelled' };
    const message = e instanceof Error ? e.message : String(e);
    const code = e instanceof ModelError ? e.code : (e as { code?: unknown }).code;
    deps.log(`preparing ${params.model} failed: ${e instanceof Error ? (e.stack ?? message) : message}`);
    return { state: 'error', message, ...(typeof code === 'string' ? { code } : {}) };
  }
}
