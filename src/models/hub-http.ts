/**
 * The HTTP side of hub downloads: one GET that follows redirects and reports the file's identity
 * as the hub announced it. The hub answers `/{id}/resolve/{rev}/{file}` either with the file
 * (small git files; `ETag` = git blob sha1) or with a 302 to a CDN (LFS files; `X-Linked-Etag` =
 * sha256, `X-Linked-Size`). Only the hub's own responses are trusted for the checksum: a CDN's
 * ETag is its own business (often an MD5 or a multipart tag).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { CancelledError } from '../scoring/errors';

/** A failed transfer; `connect`: no HTTP response was ever received (the host is unreachable). */
export class TransferError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly connect: boolean,
    readonly errno?: string,
  ) {
    super(message);
  }
}

/** Errors that mean "this machine cannot reach that host": retrying at once will not help. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN']);
const MAX_REDIRECTS = 10;

export interface HttpContext {
  /** Origin of the hub; only its responses carry checksums, only it gets the token. */
  hubOrigin: string;
  token: string | undefined;
  signal: AbortSignal | undefined;
  /** Idle-socket limit in milliseconds. */
  timeoutMs: number;
}

export interface OpenedFile {
  res: IncomingMessage;
  /** Normalised etag from the hub (quotes and `W/` removed), if it sent one. */
  etag: string | null;
  /** Full file size from the hub (`X-Linked-Size`, or the length of its own full response). */
  size: number | null;
}

/** Size of the whole file as described by a 200 or 206 response, if it says. */
export function bodyTotal(res: IncomingMessage): number | null {
  if (res.statusCode === 206) return contentRange(res.headers)?.total ?? null;
  if (res.statusCode === 200) return toSize(res.headers['content-length']);
  return null;
}

/** Parses `Content-Range: bytes a-b/N` or `bytes * /N` (without the space). */
export function contentRange(headers: IncomingHttpHeaders): { start: number | null; total: number | null } | null {
  const m = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(String(headers['content-range'] ?? '').trim());
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function toSize(v: string | string[] | undefined): number | null {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function normaliseEtag(v: string | string[] | undefined): string | null {
  const raw = Array.isArray(v) ? v[0] : v;
  if (!raw) return null;
  return raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '') || null;
}

/** GET `url`, following redirects; `headers` (e.g. Range) go to every hop, the token only to the hub. */
export async function openFile(url: URL, headers: Record<string, string>, ctx: HttpContext): Promise<OpenedFile> {
  let etag: string | null = null;
  let size: number | null = null;
  for (let hop = 0; ; hop++) {
    const hopHeaders: Record<string, string> = { 'user-agent': 'quals-vscode', ...headers };
    if (ctx.token && url.origin === ctx.hubOrigin) hopHeaders.authorization = `Bearer ${ctx.token}`;
    const res = await get(url, hopHeaders, ctx);
    const status = res.statusCode ?? 0;
    // The FIRST identity the hub announces wins: a later same-origin hop (a CDN path on the hub's
    // host) carries its own ETag (an MD5, a multipart tag) that must not replace the sha256.
    if (url.origin === ctx.hubOrigin) {
      etag ??= normaliseEtag(res.headers['x-linked-etag'] ?? res.headers.etag);
      size ??= toSize(res.headers['x-linked-size']) ?? bodyTotal(res);
    }
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new TransferError(`more than ${MAX_REDIRECTS} redirects`, false, false);
      url = new URL(location, url);
      continue;
    }
    return { res, etag, size };
  }
}

function get(url: URL, headers: Record<string, string>, ctx: HttpContext): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new TransferError(`unsupported URL ${url.href}`, false, false));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { headers, signal: ctx.signal }, resolve);
    req.setTimeout(ctx.timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no data for ${Math.round(ctx.timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (ctx.signal?.aborted) reject(new CancelledError());
      else reject(new TransferError(`${err.code ?? 'error'}: ${err.message}`, !UNREACHABLE.has(err.code ?? ''), true, err.code));
    });
  });
}
