// A loopback imitation of the Hugging Face hub, serving folders (or in-memory files) under
// real-looking repo ids. Plain ESM JavaScript so that both the unit tests (tsx) and the VS Code
// integration harness (plain Node) can import it; types in fake-hub.d.mts.
//
//   const hub = await startFakeHub({ repos: { 'lmqg-test/bart-a': 'test/fixtures/hf-reference/bart-a/hf' } });
//   ... point the code under test at hub.url (EngineConfig.hubUrl / HF_ENDPOINT) ...
//   hub.log   // every request, in order
//   await hub.close();
//
// What it answers, the way huggingface.co does:
//   GET /api/models/{org}/{name}/revision/{rev}   {id, sha, siblings: [{rfilename, size, blobId, lfs?}]}
//   GET /api/models?search=&author=&limit=         [{id, modelId, sha, tags, pipeline_tag, downloads, likes}]
//   GET|HEAD /{org}/{name}/resolve/{rev}/{file}    small files: 200 with ETag = git blob sha1;
//                                                  LFS files: 302 to a second "CDN" origin with
//                                                  X-Linked-Etag = sha256 and X-Linked-Size
//   both origins: Content-Length, Accept-Ranges, Range (bytes=a-, bytes=a-b) -> 206 / 416.
// Errors: unknown repo 401 X-Error-Code: RepoNotFound; unknown revision 404 RevisionNotFound;
// unknown file 404 EntryNotFound; a repo with `api: false` (an old mirror) 404s the listing.
// A repo is served at revision `main`, at its own commit sha, and at any `revisions` it names.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** Files stored in Git LFS on the real hub (by the default .gitattributes), whatever their size. */
const LFS_EXTENSIONS = ['.safetensors', '.bin', '.onnx', '.onnx_data', '.model', '.pt', '.pth', '.h5', '.msgpack', '.ckpt', '.pb', '.tflite', '.ot'];
/** Anything bigger goes to LFS too (the hub rejects plain git files over 10 MB). */
const LFS_MIN_BYTES = 10 * 1024 * 1024;

const sha1Hex = (...parts) => parts.reduce((h, p) => h.update(p), createHash('sha1')).digest('hex');
const sha256Hex = (buf) => createHash('sha256').update(buf).digest('hex');

function toBuffer(value) {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.from(JSON.stringify(value, null, 2)); // plain objects: written as JSON files
}

/** Every file under `dir` (recursively, `/`-separated, sorted), skipping dot-files such as .git. */
function readTree(dir, prefix = '') {
  const out = new Map();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const stat = fs.statSync(full); // follows symlinks, like a checkout of an HF cache snapshot
    if (stat.isDirectory()) for (const [k, v] of readTree(full, rel)) out.set(k, v);
    else if (stat.isFile()) out.set(rel, fs.readFileSync(full));
  }
  return out;
}

/**
 * A repo spec: a folder path, or `{dir?, files?, exclude?, revisions?, api?, tags?, pipelineTag?}`.
 * `files` adds or replaces files (Buffer, string, or an object written as JSON); `null` removes one.
 * `exclude`: names (exact, or ending in `/` for a folder) or a predicate.
 */
function loadRepo(spec) {
  const s = typeof spec === 'string' ? { dir: spec } : (spec ?? {});
  const files = s.dir ? readTree(path.resolve(s.dir)) : new Map();
  const excluded = typeof s.exclude === 'function' ? s.exclude : (name) => (s.exclude ?? []).some((x) => (x.endsWith('/') ? name.startsWith(x) : name === x));
  for (const name of [...files.keys()]) if (excluded(name)) files.delete(name);
  for (const [name, value] of Object.entries(s.files ?? {})) {
    if (value === null || value === undefined) files.delete(name);
    else files.set(name, toBuffer(value));
  }
  return { files, revisions: s.revisions ?? [], api: s.api !== false, tags: s.tags ?? [], pipelineTag: s.pipelineTag ?? 'text2text-generation' };
}

function isLfs(name, content) {
  return LFS_EXTENSIONS.some((ext) => name.endsWith(ext)) || content.length >= LFS_MIN_BYTES;
}

/** A deterministic 40-hex "commit" for a repo's content, so pinned revisions can be tested. */
function commitOf(files) {
  const h = createHash('sha1');
  for (const name of [...files.keys()].sort()) h.update(`${name}\0${sha256Hex(files.get(name))}\n`);
  return h.digest('hex');
}

function sendJson(res, status, value, headers = {}) {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendError(res, status, code, message) {
  sendJson(res, status, { error: message }, code ? { 'x-error-code': code, 'x-error-message': message } : {});
}

/**
 * Starts the fake hub on 127.0.0.1 (two ports: the hub and its CDN).
 * @param {object} [options]
 * @param {Record<string, string | object>} [options.repos]  "org/name" -> folder or spec (see loadRepo)
 * @param {string} [options.token]  when set, every hub request must carry `Authorization: Bearer <token>` (else 401)
 */
export async function startFakeHub(options = {}) {
  const repos = new Map();
  const log = [];
  const dropOnce = new Map();
  const corrupt = new Set();
  const blobs = new Map(); // sha256 -> content, for the CDN
  const servers = [];
  let cdnUrl = '';

  const setRepo = (id, spec) => {
    const repo = loadRepo(spec);
    repo.sha = commitOf(repo.files);
    repos.set(id, repo);
  };
  for (const [id, spec] of Object.entries(options.repos ?? {})) setRepo(id, spec);

  const findRevision = (repo, rev) => rev === 'main' || rev === repo.sha || repo.revisions.includes(rev);

  /** Writes `content` honouring Range, the test knobs (corrupt, dropOnce) and HEAD. */
  function serveBytes(req, res, key, content, headers) {
    let body = content;
    if (corrupt.has(key)) {
      body = Buffer.from(content);
      if (body.length > 0) body[body.length - 1] ^= 0xff;
    }
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? '').trim());
    if (range) {
      const start = Number(range[1]);
      const end = range[2] === '' ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
      if (start >= body.length || end < start) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        return void res.end();
      }
      headers = { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}` };
      body = body.subarray(start, end + 1);
      status = 206;
    }
    res.writeHead(status, { 'content-type': 'application/octet-stream', ...headers, 'content-length': String(body.length), 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    const cut = dropOnce.get(key);
    if (cut === undefined) return void res.end(body);
    dropOnce.delete(key);
    // FIN, not RST: a reset could make the client discard bytes it already received.
    res.write(body.subarray(0, cut), () => res.socket?.end());
  }

  function listing(res, id, rev, repo) {
    const siblings = [...repo.files.keys()].sort().map((name) => {
      const content = repo.files.get(name);
      const entry = { rfilename: name, size: content.length, blobId: sha1Hex(`blob ${content.length}\0`, content) };
      if (isLfs(name, content)) entry.lfs = { sha256: sha256Hex(content), size: content.length, pointerSize: 134 };
      return entry;
    });
    sendJson(res, 200, { _id: repo.sha.slice(0, 24), id, modelId: id, sha: rev === repo.sha ? rev : repo.sha, private: false, disabled: false, gated: false, tags: repo.tags, pipeline_tag: repo.pipelineTag, siblings });
  }

  function search(res, params) {
    const q = (params.get('search') ?? '').toLowerCase();
    const author = params.get('author');
    const limit = Number(params.get('limit') ?? 1000) || 1000;
    const hits = [...repos.entries()]
      .filter(([id]) => id.toLowerCase().includes(q) && (!author || id.split('/')[0] === author))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([id, repo]) => ({ _id: repo.sha.slice(0, 24), id, modelId: id, sha: repo.sha, tags: repo.tags, pipeline_tag: repo.pipelineTag, downloads: 0, likes: 0, private: false }));
    sendJson(res, 200, hits);
  }

  function hub(req, res, url, segments) {
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return sendError(res, 401, 'RepoNotFound', 'Invalid credentials in Authorization header');
    }
    if (segments[0] === 'api' && segments[1] === 'models') {
      if (segments.length === 2) return search(res, url.searchParams);
      const id = `${segments[2]}/${segments[3]}`;
      const repo = repos.get(id);
      if (!repo) return sendError(res, 401, 'RepoNotFound', 'Repository not found');
      if (!repo.api) return sendError(res, 404, '', 'Not Found');
      if (segments.length === 4) return listing(res, id, 'main', repo);
      if (segments[4] !== 'revision' || segments.length < 6) return sendError(res, 404, '', 'Not Found');
      const rev = segments.slice(5).join('/');
      if (!findRevision(repo, rev)) return sendError(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return listing(res, id, rev, repo);
    }
    if (segments.length >= 5 && segments[2] === 'resolve') {
      const id = `${segments[0]}/${segments[1]}`;
      const repo = repos.get(id);
      if (!repo) return sendError(res, 401, 'RepoNotFound', 'Repository not found');
      const rev = segments[3];
      if (!findRevision(repo, rev)) return sendError(res, 404, 'RevisionNotFound', 'Revision not found');
      const file = segments.slice(4).join('/');
      const content = repo.files.get(file);
      if (!content) return sendError(res, 404, 'EntryNotFound', 'Entry not found');
      const common = { 'x-repo-commit': repo.sha };
      if (isLfs(file, content)) {
        const sha256 = sha256Hex(content);
        blobs.set(sha256, { key: file, content });
        res.writeHead(302, { ...common, location: `${cdnUrl}/blobs/${sha256}`, 'x-linked-etag': `"${sha256}"`, 'x-linked-size': String(content.length), etag: `"${sha256}"`, 'content-length': '0' });
        return void res.end();
      }
      return serveBytes(req, res, file, content, { ...common, etag: `"${sha1Hex(`blob ${content.length}\0`, content)}"` });
    }
    return sendError(res, 404, '', 'Not Found');
  }

  function cdn(req, res, url, segments) {
    const blob = segments[0] === 'blobs' ? blobs.get(segments[1] ?? '') : undefined;
    if (!blob) return sendError(res, 404, '', 'Not Found');
    // A CDN's ETag is its own (not the content's sha256); clients must not trust it as a checksum.
    serveBytes(req, res, blob.key, blob.content, { etag: `"cdn-${segments[1].slice(0, 16)}-1"` });
  }

  function listen(name, handle) {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      // Split before decoding, so that an encoded `/` in a revision (refs%2Fpr%2F1) stays inside it.
      const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      const entry = { server: name, method: req.method ?? 'GET', path: segments.length ? `/${segments.join('/')}` : '/', range: req.headers.range, authorization: req.headers.authorization };
      log.push(entry);
      res.on('finish', () => (entry.status = res.statusCode));
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, '', 'Method Not Allowed');
      handle(req, res, url, segments);
    });
    servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
    });
  }

  const url = await listen('hub', hub);
  cdnUrl = await listen('cdn', cdn);

  return {
    /** Base URL of the hub (give it as hubUrl / HF_ENDPOINT). */
    url,
    /** Base URL of the CDN that LFS files redirect to. */
    cdnUrl,
    /** Every request: {server: 'hub'|'cdn', method, path (decoded), range, authorization, status}. */
    log,
    /** Hub requests only (not the CDN hops), e.g. to assert that nothing was fetched. */
    hubRequests: () => log.filter((l) => l.server === 'hub'),
    /** The file paths requested from one repo's resolve endpoint, in order. */
    fetched: (id) => log.filter((l) => l.server === 'hub' && l.path.startsWith(`/${id}/resolve/`)).map((l) => l.path.split('/').slice(5).join('/')),
    /** Adds or replaces a repo while running. */
    setRepo,
    removeRepo: (id) => void repos.delete(id),
    /** The files a repo serves (mutable: set/delete take effect on the next request). */
    files: (id) => repos.get(id)?.files,
    /** The commit sha a repo reports. */
    commit: (id) => repos.get(id)?.sha,
    /** Cut the next response for `file` after this many bytes (a dropped connection). */
    dropOnce,
    /** Files served with their last byte flipped (same size, wrong content). */
    corrupt,
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(() => r()));
      }
    },
  };
}
