/**
 * Downloads a model from the Hugging Face hub into a cache folder, once.
 *
 * Layout: `{cacheDir}/{org}--{name}/{revision}/` holds the finished files and, written last, the
 * manifest `.quals-download.json`. Work in progress lives in a sibling staging folder
 * `.{revision}.incomplete/`: `.part` files (resumed with HTTP Range requests), verified files,
 * and a progress record. Files move into the cache folder only when every file the variant needs is
 * verified, so nothing half-written is ever loaded; a cache folder whose manifest does not cover
 * the variant is resumed, never used. A complete cache costs no network request at all.
 *
 * Two processes asking for the same repo revision at once take turns through a lock file next to
 * the cache folder (download-lock.ts): the second waits, then finds the files already there.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { DownloadProgress, ModelVariant } from '../scoring/engine-api';
import { CancelledError, ModelError, throwIfAborted } from '../scoring/errors';
import { sleep, withDownloadLock } from './download-lock';
import { bodyTotal, contentRange, openFile, TransferError, type HttpContext } from './hub-http';
import { isHubIdSyntax, MODEL_VARIANTS, modelFileList } from './model-files';

export interface HubDownloadOptions {
  /** Root of the model cache (the loader's default: ~/.cache/quals/models). */
  cacheDir: string;
  /** Default: $HF_ENDPOINT, else https://huggingface.co. */
  hubUrl?: string;
  /** Branch, tag or commit (default `main`). Pin a commit for reproducible results. */
  revision?: string;
  variant?: ModelVariant;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Bearer token for private or gated repos (default $HF_TOKEN); sent to the hub only, never to its CDN. */
  token?: string;
  /** Extra attempts per file after a dropped connection or a server error, each resuming (default 3). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default 1000 ms). */
  retryDelayMs?: number;
  /** Give up on a connection that sends nothing for this long (default 60 s). */
  timeoutMs?: number;
}

interface FileRecord {
  size: number;
  etag: string | null;
}

/** Sidecar of a `.part` file: which version of the file its bytes belong to. */
interface PartMeta {
  etag: string | null;
}

/** What is known to be on disk: verified files, and optional files the repo does not have. */
interface FileSet {
  files: Record<string, FileRecord>;
  absent: string[];
}

interface Manifest extends FileSet {
  version: 1;
  id: string;
  revision: string;
}

export const MANIFEST_FILE = '.quals-download.json';
const PROGRESS_FILE = '.progress.json';

/** The folder a finished download of `id` at `revision` lives in. */
export function hubCacheFolder(cacheDir: string, id: string, revision = 'main'): string {
  return path.join(path.resolve(cacheDir), id.replace('/', '--'), revision.replace(/\//g, '--'));
}

/**
 * Makes sure the files `variant` needs from hub repo `id` are in the cache and returns the folder.
 * Files: config.json, tokenizer.json, tokenizer_config.json and the variant's two ONNX files
 * (required); generation_config.json, quals.json, special_tokens_map.json and ONNX external-data
 * files (optional: a 404 is recorded, not an error).
 * @throws ModelError `not-found` (repo, revision or required file missing), `offline` (host
 *   unreachable), `download` (HTTP failure, checksum mismatch); CancelledError when `signal` fires.
 */
export async function downloadHubModel(id: string, options: HubDownloadOptions): Promise<string> {
  const revision = options.revision ?? 'main';
  const variant = options.variant ?? 'fp32';
  if (!isHubIdSyntax(id)) throw new ModelError('not-found', `"${id}" is not a Hugging Face hub id (expected org/name) nor an existing folder.`);
  if (!revision || revision.split('/').some((p) => p === '' || p === '.' || p === '..') || revision.includes('\\')) {
    throw new ModelError('not-found', `"${revision}" is not a valid hub revision; use a branch, tag or commit id.`);
  }
  if (!MODEL_VARIANTS.includes(variant)) throw new ModelError('format', `Unknown model variant "${String(variant)}"; use one of ${MODEL_VARIANTS.join(', ')}.`);
  const hubUrl = (options.hubUrl ?? (process.env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, '');
  const folder = hubCacheFolder(options.cacheDir, id, revision);
  const staging = path.join(path.dirname(folder), `.${path.basename(folder)}.incomplete`);
  const { required, optional } = modelFileList(variant);
  const isOptional = (f: string) => optional.includes(f);

  const pending = () => {
    const manifest = readJson<Manifest>(path.join(folder, MANIFEST_FILE));
    return { manifest, todo: [...required, ...optional].filter((f) => !isResolved(manifest, folder, f, isOptional(f))) };
  };
  if (pending().todo.length === 0) return folder;

  fs.mkdirSync(path.dirname(folder), { recursive: true });
  const lockPath = path.join(path.dirname(folder), `.${path.basename(folder)}.lock`);
  return withDownloadLock(
    lockPath,
    async () => {
      // Another process may have finished this download while we waited for the lock.
      const { manifest, todo } = pending();
      if (todo.length > 0) await new Job(id, revision, hubUrl, staging, options).downloadInto(folder, todo, manifest, isOptional);
      return folder;
    },
    {
      signal: options.signal,
      onWait: (owner) => options.log?.(`Waiting for another QUALS process (pid ${owner.pid} on ${owner.host}) that is downloading ${id} (${revision}) into ${folder}`),
    },
  );
}

function isResolved(set: FileSet | null, dir: string, file: string, optional: boolean): boolean {
  if (!set) return false;
  if (optional && Array.isArray(set.absent) && set.absent.includes(file)) return true;
  const record = set.files?.[file];
  return record !== undefined && sizeOf(path.join(dir, file)) === record.size;
}

function sizeOf(p: string): number | null {
  try {
    const st = fs.statSync(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

function readJson<T>(p: string): T | null {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(p, 'utf8'));
    return typeof v === 'object' && v !== null ? (v as T) : null;
  } catch {
    return null; // absent or damaged: treated as "nothing known", so the files are checked again
  }
}

function writeJsonAtomic(p: string, value: unknown): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  const tmp = `${p}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2));
  fs.renameSync(tmp, p);
}

function removeQuietly(...paths: string[]): void {
  for (const p of paths) fs.rmSync(p, { force: true });
}

/** How a hub etag identifies content: LFS files by sha256, git files by their blob sha1. */
function checksumKind(etag: string | null): 'sha256' | 'git-sha1' | null {
  if (etag && /^[0-9a-f]{64}$/i.test(etag)) return 'sha256';
  if (etag && /^[0-9a-f]{40}$/i.test(etag)) return 'git-sha1';
  return null;
}

async function hashFile(p: string, kind: 'sha256' | 'git-sha1', size: number, signal?: AbortSignal): Promise<string> {
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') hash.update(`blob ${size}\0`);
  for await (const chunk of fs.createReadStream(p, { signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One download run: the files of one repo at one revision into one staging folder. */
class Job {
  private readonly http: HttpContext;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly where: string;

  constructor(
    private readonly id: string,
    private readonly revision: string,
    private readonly hubUrl: string,
    private readonly staging: string,
    private readonly options: HubDownloadOptions,
  ) {
    this.http = {
      hubOrigin: new URL(hubUrl).origin,
      token: options.token ?? (process.env.HF_TOKEN || undefined),
      signal: options.signal,
      timeoutMs: options.timeoutMs ?? 60_000,
    };
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.where = `hub repo ${id} (revision ${revision})`;
  }

  /** Fetches `todo` into the this.staging folder, then promotes the verified files into the cache folder. */
  async downloadInto(folder: string, todo: string[], manifest: Manifest | null, isOptional: (f: string) => boolean): Promise<void> {
    this.options.log?.(`Downloading ${this.id} (${this.revision}, ${this.options.variant ?? 'fp32'}) from ${this.hubUrl} into ${folder}`);
    fs.mkdirSync(this.staging, { recursive: true });
    const progressPath = path.join(this.staging, PROGRESS_FILE);
    const done: FileSet = readJson<FileSet>(progressPath) ?? { files: {}, absent: [] };
    for (const file of todo) {
      if (isResolved(done, this.staging, file, isOptional(file))) continue;
      const record = await this.fetchWithRetries(file, isOptional(file));
      if (record) done.files[file] = record;
      else done.absent.push(file);
      writeJsonAtomic(progressPath, done);
    }

    // Promote: verified files first, the manifest that vouches for them last.
    const next: Manifest = { version: 1, id: this.id, revision: this.revision, files: { ...manifest?.files }, absent: [...(manifest?.absent ?? [])] };
    for (const file of todo) {
      const record = done.files[file];
      if (record) {
        fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
        fs.renameSync(path.join(this.staging, file), path.join(folder, file));
        next.files[file] = record;
        next.absent = next.absent.filter((f) => f !== file);
      } else if (!next.absent.includes(file)) {
        next.absent.push(file);
        delete next.files[file];
      }
    }
    writeJsonAtomic(path.join(folder, MANIFEST_FILE), next);
    fs.rmSync(this.staging, { recursive: true, force: true });
    this.options.log?.(`Downloaded ${this.id} (${this.revision}) into ${folder}`);
  }

  /** Returns the verified file's record, or null for an optional file the repo does not have. */
  async fetchWithRetries(file: string, optional: boolean): Promise<FileRecord | null> {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(this.options.signal);
      try {
        return await this.transfer(file, optional);
      } catch (err) {
        if (this.options.signal?.aborted) throw new CancelledError();
        if (!(err instanceof TransferError)) throw err;
        if (!err.retryable || attempt >= this.retries) throw this.finalError(file, err);
        this.options.log?.(`Download of ${file} failed (${err.message}); retrying (${attempt + 1} of ${this.retries})`);
        await sleep(this.retryDelayMs * 2 ** attempt, this.options.signal);
      }
    }
  }

  private finalError(file: string, err: TransferError): ModelError {
    if (err.connect) {
      return new ModelError(
        'offline',
        `Cannot reach ${this.hubUrl} to download ${this.id} (${err.errno ?? err.message}). To use the model without the hub, download it on a connected machine (\`huggingface-cli download ${this.id} --include "*.json" "onnx/*" --local-dir DIR\`) or export it with optimum-cli, then point the \`model\` setting (or \`--model\`) at that folder.`,
        { cause: err },
      );
    }
    return new ModelError('download', `Downloading ${file} from ${this.where} failed (${err.message}); run again to resume where it stopped.`, { cause: err });
  }

  private fileUrl(file: string): URL {
    const repoPath = this.id.split('/').map(encodeURIComponent).join('/');
    const filePath = file.split('/').map(encodeURIComponent).join('/');
    return new URL(`${this.hubUrl}/${repoPath}/resolve/${encodeURIComponent(this.revision)}/${filePath}`);
  }

  /** One attempt: resume or start `file`, stream it to its `.part`, verify, rename into staging. */
  private async transfer(file: string, optional: boolean): Promise<FileRecord | null> {
    const dest = path.join(this.staging, file);
    const part = `${dest}.part`;
    const metaPath = `${part}.json`;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    let meta = readJson<PartMeta>(metaPath);
    let offset = sizeOf(part) ?? 0;
    if (offset > 0 && !meta) {
      removeQuietly(part); // bytes of unknown origin cannot be resumed safely
      offset = 0;
    }
    const { res, etag, size } = await openFile(this.fileUrl(file), offset > 0 ? { range: `bytes=${offset}-` } : {}, this.http);
    const status = res.statusCode ?? 0;
    const restart = () => {
      res.destroy();
      removeQuietly(part, metaPath);
      return this.transfer(file, optional);
    };

    if (status === 404 || status === 401 || status === 403) {
      res.resume();
      const errorCode = String(res.headers['x-error-code'] ?? '');
      if (status === 404 && optional && (errorCode === '' || errorCode === 'EntryNotFound')) return null;
      throw this.notFound(file, status, errorCode);
    }
    if (status === 416) {
      // The part may already be whole (a run stopped between the last byte and the rename).
      res.resume();
      const total = contentRange(res.headers)?.total;
      if (offset === 0) throw new TransferError('HTTP 416 for a request without a range', false, false);
      if (total === offset) return this.verifyAndKeep(file, part, metaPath, meta?.etag ?? etag, offset);
      return restart();
    }
    if (status === 429 || status >= 500) {
      res.resume();
      throw new TransferError(`HTTP ${status}`, true, false);
    }
    if (status !== 200 && status !== 206) {
      res.resume();
      throw new TransferError(`HTTP ${status} from ${this.fileUrl(file).href}`, false, false);
    }

    let append = false;
    if (status === 206) {
      const range = contentRange(res.headers);
      if (offset === 0) {
        res.resume();
        throw new TransferError('the server sent part of the file without being asked', false, false);
      }
      if (range?.start !== offset) return restart();
      if (meta?.etag && etag && meta.etag !== etag) {
        this.options.log?.(`${file} changed on the hub since the interrupted download; starting it again`);
        return restart();
      }
      append = true;
    } else if (offset > 0) {
      this.options.log?.(`The server ignored the resume request for ${file}; downloading it from the start`);
    }

    const expected = size ?? bodyTotal(res);
    meta = { etag: etag ?? (append ? (meta?.etag ?? null) : null) };
    writeJsonAtomic(metaPath, meta);
    await this.receive(file, res, part, append ? offset : 0, expected);

    const received = sizeOf(part) ?? 0;
    if (expected !== null && received < expected) {
      throw new TransferError(`the connection closed after ${received} of ${expected} bytes`, true, false);
    }
    if (expected !== null && received > expected) {
      removeQuietly(part, metaPath);
      throw new ModelError('download', `Downloading ${file} from ${this.where} produced ${received} bytes where ${expected} were announced; the bad copy was deleted, run again.`);
    }
    return this.verifyAndKeep(file, part, metaPath, meta.etag, received);
  }

  private async receive(file: string, res: IncomingMessage, part: string, start: number, total: number | null): Promise<void> {
    let received = start;
    let last = 0;
    const report = (force: boolean) => {
      const now = Date.now();
      if (!force && now - last < 100) return;
      last = now;
      this.options.onProgress?.({ file, receivedBytes: received, totalBytes: total });
    };
    report(true);
    // Not stream.pipeline: on a dropped connection it destroys the file stream and loses the
    // bytes still buffered for disk, which a resume would then fetch again.
    const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
    let writeError: unknown = null;
    out.on('error', (err) => (writeError ??= err));
    let readError: unknown = null;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        received += chunk.length;
        report(false);
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } catch (err) {
      if (!writeError) readError = err;
      res.destroy();
    }
    out.end();
    await finished(out).catch((err: unknown) => (writeError ??= err));
    if (writeError) {
      const code = (writeError as NodeJS.ErrnoException).code ?? String(writeError);
      throw new ModelError('download', `Cannot write ${part} (${code}); free some disk space or choose another cache folder.`, { cause: writeError });
    }
    if (readError) {
      if (this.options.signal?.aborted) throw new CancelledError();
      const code = (readError as NodeJS.ErrnoException).code;
      throw new TransferError(`the connection dropped after ${received} bytes${code ? ` (${code})` : ''}`, true, false, code);
    }
    report(true);
  }

  private async verifyAndKeep(file: string, part: string, metaPath: string, etag: string | null, size: number): Promise<FileRecord> {
    const kind = checksumKind(etag);
    if (kind && etag) {
      const actual = await hashFile(part, kind, size, this.options.signal);
      if (actual !== etag.toLowerCase()) {
        removeQuietly(part, metaPath);
        throw new ModelError('download', `${file} from ${this.where} failed its integrity check (${kind} ${actual.slice(0, 12)}... instead of ${etag.slice(0, 12)}...); the bad copy was deleted, run again, and report it if it repeats.`);
      }
    } else {
      this.options.log?.(`The hub sent no checksum for ${file}; only its size was checked`);
    }
    fs.renameSync(part, path.join(this.staging, file));
    removeQuietly(metaPath);
    return { size, etag };
  }

  private notFound(file: string, status: number, errorCode: string): ModelError {
    if (errorCode === 'GatedRepo' || (status === 403 && errorCode !== 'RepoNotFound')) {
      return new ModelError('not-found', `Access to ${this.where} is restricted (HTTP ${status}); accept its terms on the hub and set HF_TOKEN, or download it yourself and point the model setting at the folder.`);
    }
    if (errorCode === 'RepoNotFound' || status === 401) {
      return new ModelError('not-found', `Hub repo ${this.id} was not found (HTTP ${status}); check the id, or set HF_TOKEN if the repo is private.`);
    }
    if (errorCode === 'RevisionNotFound') {
      return new ModelError('not-found', `Hub repo ${this.id} has no revision "${this.revision}"; use an existing branch, tag or commit.`);
    }
    return new ModelError('not-found', `Hub repo ${this.id} (revision ${this.revision}) has no ${file}; the repo must contain an ONNX export in the Optimum layout (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, config.json, tokenizer files); export one with \`optimum-cli export onnx --task text2text-generation-with-past\` and point the model setting at that folder.`);
  }
}
