/**
 * One download run: files of one hub repo at one revision, fetched into one staging folder, then
 * promoted into the cache folder with the manifest that vouches for them written last.
 *
 * Each file streams to a `.part` (resumed with HTTP Range requests; a `.part.json` sidecar records
 * which version of the file its bytes belong to), is verified against the checksum the hub
 * announced (sha256 for LFS files, the git blob sha1 otherwise), and is renamed into the staging
 * folder. A progress record in the staging folder remembers verified files and the optional
 * files the repo does not have, so a run that stopped resumes where it was.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { DownloadProgress } from '../scoring/engine-api';
import { CancelledError, ModelError, throwIfAborted } from '../scoring/errors';
import { sleep } from './download-lock';
import { hashFile } from './file-hash';
import type { FileSpec, RepoLayout } from './hub-layout';
import { bodyTotal, contentRange, openFile, TransferError, type HttpContext } from './hub-http';
import { writeFileAtomicSync } from '../util/atomic-write';

export interface JobOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  log?: (line: string) => void;
  token?: string;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
}

export interface FileRecord {
  size: number;
  etag: string | null;
}

/** What is known to be on disk: verified files, and optional files the repo does not have (by local path). */
export interface FileSet {
  files: Record<string, FileRecord>;
  absent: string[];
}

export interface Manifest extends FileSet {
  version: 1;
  id: string;
  revision: string;
  /** What the folder serves to the loader; absent in manifests written before checkpoints were supported (then `onnx`). */
  layout?: RepoLayout;
  /** The commit the revision resolved to, when the hub listed it. */
  commit?: string;
  /** A checkpoint's downloaded files (local paths), the weights among them. */
  checkpoint?: { files: string[]; weights: string[] };
  /**
   * A checkpoint's conversion (quals-import/): its files (local paths, each recorded in `files`
   * with its sha256, so `quals model verify` checks them too). Which variants it holds is its
   * quals.json's to say (graphs.variants), as for any model folder. Absent in manifests written
   * before conversions were recorded, and while a conversion is being replaced.
   */
  import?: { files: string[] };
}

/** A file the download needs that the repo (which exists, at that revision) does not have. */
export class RepoFileMissingError extends ModelError {
  constructor(
    /** The file's path in the repo. */
    readonly file: string,
    message: string,
  ) {
    super('not-found', message);
  }
}

/** Sidecar of a `.part` file: which version of the file its bytes belong to. */
interface PartMeta {
  etag: string | null;
}

/** What a missing required file means, which depends on what the download was looking for. */
export type MissingHint = 'onnx' | 'checkpoint';

export const MANIFEST_FILE = '.quals-download.json';
const PROGRESS_FILE = '.progress.json';

export function isResolved(set: FileSet | null, dir: string, file: string, optional: boolean): boolean {
  if (!set) return false;
  if (optional && Array.isArray(set.absent) && set.absent.includes(file)) return true;
  const record = set.files?.[file];
  return record !== undefined && sizeOf(path.join(dir, file)) === record.size;
}

export function sizeOf(p: string): number | null {
  try {
    const st = fs.statSync(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

export function readJson<T>(p: string): T | null {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(p, 'utf8'));
    return typeof v === 'object' && v !== null ? (v as T) : null;
  } catch {
    return null; // absent or damaged: treated as "nothing known", so the files are checked again
  }
}

export function writeJsonAtomic(p: string, value: unknown): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  writeFileAtomicSync(p, JSON.stringify(value, null, 2));
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

export class Job {
  private readonly http: HttpContext;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly where: string;
  private readonly progressPath: string;
  private readonly done: FileSet;

  constructor(
    private readonly id: string,
    private readonly revision: string,
    private readonly hubUrl: string,
    readonly staging: string,
    private readonly options: JobOptions,
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
    fs.mkdirSync(staging, { recursive: true });
    this.progressPath = path.join(staging, PROGRESS_FILE);
    this.done = readJson<FileSet>(this.progressPath) ?? { files: {}, absent: [] };
  }

  get httpContext(): HttpContext {
    return this.http;
  }

  /** The staged copy of a fetched file. */
  stagedPath(local: string): string {
    return path.join(this.staging, local);
  }

  /** true: fetched and verified; false: optional and not in the repo; undefined: not fetched in this staging folder. */
  has(local: string): boolean | undefined {
    if (this.done.files[local]) return true;
    if (this.done.absent.includes(local)) return false;
    return undefined;
  }

  /** Records files the listing says the repo does not have, without asking the hub. */
  markAbsent(locals: string[]): void {
    for (const local of locals) if (!this.done.absent.includes(local)) this.done.absent.push(local);
    writeJsonAtomic(this.progressPath, this.done);
  }

  /** Fetches every spec not already verified in the staging folder. */
  async fetch(specs: FileSpec[], hint: MissingHint): Promise<void> {
    for (const spec of specs) {
      if (isResolved(this.done, this.staging, spec.local, spec.optional)) continue;
      const record = await this.fetchWithRetries(spec, hint);
      if (record) {
        this.done.files[spec.local] = record;
        this.done.absent = this.done.absent.filter((f) => f !== spec.local);
      } else if (!this.done.absent.includes(spec.local)) {
        this.done.absent.push(spec.local);
      }
      writeJsonAtomic(this.progressPath, this.done);
    }
  }

  /**
   * Moves the staged `locals` into `folder` and writes its manifest (the previous one, updated
   * with these files and `patch`). Verified files first, the manifest that vouches for them last.
   */
  promote(folder: string, locals: string[], previous: Manifest | null, patch: Partial<Pick<Manifest, 'layout' | 'commit' | 'checkpoint' | 'import'>>): Manifest {
    const next: Manifest = {
      ...previous,
      version: 1,
      id: this.id,
      revision: this.revision,
      files: { ...previous?.files },
      absent: [...(previous?.absent ?? [])],
      ...patch,
    };
    for (const file of locals) {
      const record = this.done.files[file];
      if (record) {
        fs.mkdirSync(path.dirname(path.join(folder, file)), { recursive: true });
        fs.renameSync(path.join(this.staging, file), path.join(folder, file));
        next.files[file] = record;
        next.absent = next.absent.filter((f) => f !== file);
      } else if (this.done.absent.includes(file) && !next.absent.includes(file)) {
        next.absent.push(file);
        delete next.files[file];
      }
    }
    writeJsonAtomic(path.join(folder, MANIFEST_FILE), next);
    return next;
  }

  /** Removes the staging folder (after a promote; a failed run keeps it, to resume). */
  discard(): void {
    fs.rmSync(this.staging, { recursive: true, force: true });
  }

  /**
   * Whether the repo has `remote`, without downloading it: a one-byte range request (the hub has
   * no cheaper answer that also follows its CDN redirect). Used only when there is no listing.
   */
  async exists(remote: string, hint: MissingHint): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(this.options.signal);
      try {
        const { res } = await openFile(this.fileUrl(remote), { range: 'bytes=0-0' }, this.http);
        res.destroy();
        const status = res.statusCode ?? 0;
        if (status === 200 || status === 206 || status === 416) return true; // 416: an empty file
        const errorCode = String(res.headers['x-error-code'] ?? '');
        if (status === 404 && (errorCode === '' || errorCode === 'EntryNotFound')) return false;
        if (status === 404 || status === 401 || status === 403) throw this.notFound(remote, status, errorCode, hint);
        throw new TransferError(`HTTP ${status}`, status === 429 || status >= 500, false);
      } catch (err) {
        if (this.options.signal?.aborted) throw new CancelledError();
        if (!(err instanceof TransferError)) throw err;
        if (!err.retryable || attempt >= this.retries) throw this.finalError(remote, err);
        await sleep(this.retryDelayMs * 2 ** attempt, this.options.signal);
      }
    }
  }

  /** Returns the verified file's record, or null for an optional file the repo does not have. */
  private async fetchWithRetries(spec: FileSpec, hint: MissingHint): Promise<FileRecord | null> {
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(this.options.signal);
      try {
        return await this.transfer(spec, hint);
      } catch (err) {
        if (this.options.signal?.aborted) throw new CancelledError();
        if (!(err instanceof TransferError)) throw err;
        if (!err.retryable || attempt >= this.retries) throw this.finalError(spec.remote, err);
        this.options.log?.(`Download of ${spec.remote} failed (${err.message}); retrying (${attempt + 1} of ${this.retries})`);
        await sleep(this.retryDelayMs * 2 ** attempt, this.options.signal);
      }
    }
  }

  finalError(file: string, err: TransferError): ModelError {
    if (err.connect) return offlineError(this.hubUrl, this.id, err);
    return new ModelError('download', `Downloading ${file} from ${this.where} failed (${err.message}); run again to resume where it stopped.`, { cause: err });
  }

  private fileUrl(file: string): URL {
    const repoPath = this.id.split('/').map(encodeURIComponent).join('/');
    const filePath = file.split('/').map(encodeURIComponent).join('/');
    return new URL(`${this.hubUrl}/${repoPath}/resolve/${encodeURIComponent(this.revision)}/${filePath}`);
  }

  /** One attempt: resume or start the file, stream it to its `.part`, verify, rename into staging. */
  private async transfer(spec: FileSpec, hint: MissingHint): Promise<FileRecord | null> {
    const file = spec.remote;
    const dest = path.join(this.staging, spec.local);
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
      return this.transfer(spec, hint);
    };

    if (status === 404 || status === 401 || status === 403) {
      res.resume();
      const errorCode = String(res.headers['x-error-code'] ?? '');
      if (status === 404 && spec.optional && (errorCode === '' || errorCode === 'EntryNotFound')) return null;
      throw this.notFound(file, status, errorCode, hint);
    }
    if (status === 416) {
      // The part may already be whole (a run stopped between the last byte and the rename).
      res.resume();
      const total = contentRange(res.headers)?.total;
      if (offset === 0) throw new TransferError('HTTP 416 for a request without a range', false, false);
      if (total === offset) return this.verifyAndKeep(spec, part, metaPath, meta?.etag ?? etag, offset);
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
    return this.verifyAndKeep(spec, part, metaPath, meta.etag, received);
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
    let overflow = false;
    // Not stream.pipeline: on a dropped connection it destroys the file stream and loses the
    // bytes still buffered for disk, which a resume would then fetch again.
    const out = fs.createWriteStream(part, { flags: start > 0 ? 'a' : 'w' });
    let writeError: unknown = null;
    out.on('error', (err) => (writeError ??= err));
    let readError: unknown = null;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        received += chunk.length;
        // Never write past what the hub announced: a 200 MB body for a 1,000-byte file stops here.
        if (total !== null && received > total) {
          overflow = true;
          res.destroy();
          break;
        }
        report(false);
        if (!out.write(chunk)) await once(out, 'drain');
      }
    } catch (err) {
      if (!writeError) readError = err;
      res.destroy();
    }
    out.end();
    await finished(out).catch((err: unknown) => (writeError ??= err));
    if (overflow) {
      removeQuietly(part, `${part}.json`);
      throw new ModelError('download', `Downloading ${file} from ${this.where} sent more than the ${total} bytes announced; the bad copy was deleted, run again.`);
    }
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

  private async verifyAndKeep(spec: FileSpec, part: string, metaPath: string, etag: string | null, size: number): Promise<FileRecord> {
    const file = spec.remote;
    const kind = checksumKind(etag);
    if (!kind || !etag) {
      // Without a checksum a body cut short (or padded) at a wrong Content-Length looks whole:
      // an unverified file is never promoted into the cache.
      removeQuietly(part, metaPath);
      throw new ModelError(
        'download',
        `${file} from ${this.where} cannot be verified: the hub announced ${etag ? `an unknown kind of checksum ("${etag.slice(0, 20)}")` : 'no checksum'} (an X-Linked-Etag sha256 or a git sha1 ETag); nothing was kept. Check HF_ENDPOINT, or download the model yourself and point the model setting at the folder.`,
      );
    }
    const actual = await hashFile(part, kind, size, this.options.signal);
    if (actual !== etag.toLowerCase()) {
      removeQuietly(part, metaPath);
      throw new ModelError('download', `${file} from ${this.where} failed its integrity check (${kind} ${actual.slice(0, 12)}... instead of ${etag.slice(0, 12)}...); the bad copy was deleted, run again, and report it if it repeats.`);
    }
    fs.renameSync(part, path.join(this.staging, spec.local));
    removeQuietly(metaPath);
    return { size, etag };
  }

  private notFound(file: string, status: number, errorCode: string, hint: MissingHint): ModelError {
    if (errorCode === 'GatedRepo' || (status === 403 && errorCode !== 'RepoNotFound')) {
      return new ModelError('not-found', `Access to ${this.where} is restricted (HTTP ${status}); accept its terms on the hub and set HF_TOKEN, or download it yourself and point the model setting at the folder.`);
    }
    if (errorCode === 'RepoNotFound' || status === 401) {
      return new ModelError('not-found', `Hub repo ${this.id} was not found (HTTP ${status}); check the id, or set HF_TOKEN if the repo is private.`);
    }
    if (errorCode === 'RevisionNotFound') {
      return new ModelError('not-found', `Hub repo ${this.id} has no revision "${this.revision}"; use an existing branch, tag or commit.`);
    }
    if (hint === 'checkpoint') {
      return new RepoFileMissingError(file, `Hub repo ${this.id} (revision ${this.revision}) has no ${file}, which its checkpoint needs; the repo may be incomplete, or use another revision.`);
    }
    return new RepoFileMissingError(file, `Hub repo ${this.id} (revision ${this.revision}) has no ${file}; ${NEEDS}`);
  }
}

/** What a hub repo must hold, for "not found" messages. */
export const NEEDS =
  'the repo must contain an ONNX export in the Optimum layout (onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx, config.json, tokenizer files) or a Hugging Face checkpoint of a BART or T5 model (config.json, tokenizer.json, model.safetensors or pytorch_model.bin); export one with `optimum-cli export onnx --task text2text-generation-with-past` and point the model setting at that folder.';

export function offlineError(hubUrl: string, id: string, err: TransferError): ModelError {
  return new ModelError(
    'offline',
    `Cannot reach ${hubUrl} to download ${id} (${err.errno ?? err.message}). To use the model without the hub, download it on a connected machine (\`huggingface-cli download ${id} --include "*.json" "onnx/*" --local-dir DIR\`) or export it with optimum-cli (a checkpoint: \`quals model import DIR --out MODEL\`), then point the \`model\` setting (or \`--model\`) at that folder.`,
    { cause: err },
  );
}
