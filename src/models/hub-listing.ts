/**
 * What a hub repo holds, from the hub API `GET {hub}/api/models/{id}/revision/{rev}`
 * (`{sha, siblings: [{rfilename}]}`), so a download fetches only the files it needs and knows
 * before fetching gigabytes whether the repo is an ONNX export, a checkpoint, or neither.
 *
 * The listing is a shortcut, not a requirement: mirrors and old hub versions may not have the
 * API, and some answer it with errors for repos whose files they serve. Any answer other than
 * a usable 200 is "no listing" (the download then probes files as before); only an unreachable
 * host is an error here, because every probe would fail the same way.
 */
import { openFile, TransferError, type HttpContext } from './hub-http';

export interface RepoListing {
  /** Every file in the repo at that revision, `/`-separated, sorted. */
  files: string[];
  /** The commit the revision resolved to, when the hub said. */
  commit: string | null;
}

/** The API answer is small (names only); anything bigger is not what was asked for. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

/** The listing, or null when the hub gave none. @throws TransferError with `connect` when the host is unreachable. */
export async function listHubRepo(hubUrl: string, id: string, revision: string, http: HttpContext, log?: (line: string) => void): Promise<RepoListing | null> {
  const repoPath = id.split('/').map(encodeURIComponent).join('/');
  const url = new URL(`${hubUrl}/api/models/${repoPath}/revision/${encodeURIComponent(revision)}`);
  let text: string;
  try {
    const { res } = await openFile(url, { accept: 'application/json' }, http);
    if (res.statusCode !== 200) {
      res.resume();
      log?.(`The hub did not list ${id} (${revision}) (HTTP ${res.statusCode ?? '?'}); looking for its files one by one`);
      return null;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_LISTING_BYTES) {
        res.destroy();
        return null;
      }
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (!(err instanceof TransferError)) throw err; // cancelled
    if (err.connect && !err.retryable) throw err; // unreachable host: every probe would fail the same way
    log?.(`Listing ${id} (${revision}) failed (${err.message}); looking for its files one by one`);
    return null;
  }
  return parseListing(text);
}

/** The listing in an API answer, or null when it is not one. */
export function parseListing(text: string): RepoListing | null {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  const siblings = (body as { siblings?: unknown } | null)?.siblings;
  if (!Array.isArray(siblings)) return null;
  const files = siblings
    .map((s) => (s as { rfilename?: unknown } | null)?.rfilename)
    .filter((f): f is string => typeof f === 'string' && isSafeRepoPath(f));
  const sha = (body as { sha?: unknown }).sha;
  return { files: [...new Set(files)].sort(), commit: typeof sha === 'string' && /^[0-9a-f]{40}$/i.test(sha) ? sha.toLowerCase() : null };
}

/** A repo-relative path that stays inside the cache folder when joined to it. */
export function isSafeRepoPath(p: string): boolean {
  return p.length > 0 && !p.startsWith('/') && !p.includes('\\') && !p.includes('\0') && p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
