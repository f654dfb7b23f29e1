import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { DownloadProgress } from '../../src/scoring/engine-api';
import { CancelledError, ModelError, type ModelErrorCode } from '../../src/scoring/errors';
import { downloadHubModel, hubCacheFolder, MANIFEST_FILE, type HubDownloadOptions } from '../../src/models/hub';
import { readModelFolder } from '../../src/models/model-files';

const REPO = 'test-org/tiny-qag';

/** Bytes that pass the loader's ONNX sniff, followed by random payload. */
function fakeOnnx(size: number): Buffer {
  const b = randomBytes(size);
  b[0] = 0x08;
  b[1] = 0x08;
  return b;
}

function repoFiles(): Map<string, Buffer> {
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  return new Map([
    ['config.json', json({ model_type: 'bart', is_encoder_decoder: true, vocab_size: 300, decoder_start_token_id: 2, eos_token_id: 2 })],
    ['generation_config.json', json({ decoder_start_token_id: 2, eos_token_id: 2 })],
    ['tokenizer.json', json({ version: '1.0', model: { type: 'BPE', vocab: {}, merges: [] } })],
    ['tokenizer_config.json', json({ tokenizer_class: 'BartTokenizer' })],
    ['special_tokens_map.json', json({ eos_token: '</s>' })],
    ['onnx/encoder_model.onnx', fakeOnnx(300_000)],
    ['onnx/decoder_model_merged.onnx', fakeOnnx(500_000)],
    ['onnx/encoder_model_quantized.onnx', fakeOnnx(80_000)],
    ['onnx/decoder_model_merged_quantized.onnx', fakeOnnx(120_000)],
  ]);
}

interface Logged {
  server: 'hub' | 'cdn';
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

/**
 * Imitates the hub: `/{org}/{name}/resolve/{rev}/{file}` answers git files directly with ETag =
 * git blob sha1 and 302s `.onnx` (LFS) files to a separate CDN origin with X-Linked-Etag = sha256.
 */
class FakeHub {
  repos = new Map<string, Map<string, Buffer>>([[`${REPO}@main`, repoFiles()]]);
  log: Logged[] = [];
  /** Files whose next response is cut after this many bytes. */
  dropOnce = new Map<string, number>();
  /** Files served with one byte flipped (same size, wrong content). */
  corrupt = new Set<string>();
  ignoreRange = false;
  hubUrl = '';
  private cdnUrl = '';
  private readonly blobs = new Map<string, { file: string; content: Buffer }>();
  private readonly servers: http.Server[] = [];

  async start(): Promise<void> {
    this.hubUrl = await this.listen('hub', (req, res, p) => this.resolve(req, res, p));
    this.cdnUrl = await this.listen('cdn', (req, res, p) => {
      const blob = this.blobs.get(p.replace(/^\/blobs\//, ''));
      if (!blob) return void res.writeHead(404).end();
      this.serve(req, res, blob.file, blob.content, { etag: '"cdn-5d41402abc4b2a76-1"' });
    });
  }

  async stop(): Promise<void> {
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  }

  requests(): number {
    return this.log.length;
  }

  private listen(name: Logged['server'], handle: (req: http.IncomingMessage, res: http.ServerResponse, p: string) => void): Promise<string> {
    const server = http.createServer((req, res) => {
      const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.log.push({ server: name, path: p, range: req.headers.range, authorization: req.headers.authorization });
      handle(req, res, p);
    });
    this.servers.push(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  }

  private resolve(req: http.IncomingMessage, res: http.ServerResponse, p: string): void {
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p);
    const files = m ? this.repos.get(`${m[1]}@${m[2]}`) : undefined;
    if (!m || !files) return void res.writeHead(401, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
    const file = m[3]!;
    const content = files.get(file);
    if (!content) return void res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
    if (file.endsWith('.onnx')) {
      const sha256 = createHash('sha256').update(content).digest('hex');
      this.blobs.set(sha256, { file, content });
      res.writeHead(302, { location: `${this.cdnUrl}/blobs/${sha256}`, 'x-linked-etag': `"${sha256}"`, 'x-linked-size': String(content.length), etag: `"${sha256}"` });
      return void res.end();
    }
    const gitSha1 = createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
    this.serve(req, res, file, content, { etag: `"${gitSha1}"` });
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse, file: string, content: Buffer, headers: Record<string, string>): void {
    let body = content;
    if (this.corrupt.has(file)) {
      body = Buffer.from(content);
      body[body.length - 1]! ^= 0xff;
    }
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !this.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      body = body.subarray(start);
      status = 206;
    }
    res.writeHead(status, { ...headers, 'content-length': String(body.length), 'accept-ranges': 'bytes' });
    const cut = this.dropOnce.get(file);
    if (cut === undefined) return void res.end(body);
    this.dropOnce.delete(file);
    // FIN, not RST: a reset would let the client discard bytes it already received.
    res.write(body.subarray(0, cut), () => res.socket?.end());
  }
}

let hub: FakeHub;
let tmp: string;
let cacheDir: string;
const savedToken = process.env.HF_TOKEN;

before(() => {
  delete process.env.HF_TOKEN;
});
after(() => {
  if (savedToken !== undefined) process.env.HF_TOKEN = savedToken;
});
beforeEach(async () => {
  hub = new FakeHub();
  await hub.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-hub-'));
  cacheDir = path.join(tmp, 'cache');
});
afterEach(async () => {
  await hub.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function download(extra: Partial<HubDownloadOptions> = {}): Promise<string> {
  return downloadHubModel(REPO, { cacheDir, hubUrl: hub.hubUrl, retryDelayMs: 0, timeoutMs: 5000, ...extra });
}

async function expectModelError(p: Promise<unknown>, code: ModelErrorCode, ...patterns: RegExp[]): Promise<ModelError> {
  const err = await p.then(
    () => assert.fail('expected a ModelError'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ModelError, `expected a ModelError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.doesNotMatch(err.message, /\n/);
  for (const pattern of patterns) assert.match(err.message, pattern);
  return err;
}

function assertSameFiles(folder: string, names: string[]): void {
  const files = hub.repos.get(`${REPO}@main`)!;
  for (const name of names) assert.ok(fs.readFileSync(path.join(folder, name)).equals(files.get(name)!), `${name} differs`);
}

const FP32_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'];
const stagingOf = (folder: string) => path.join(path.dirname(folder), `.${path.basename(folder)}.incomplete`);
const lockOf = (folder: string) => path.join(path.dirname(folder), `.${path.basename(folder)}.lock`);

describe('downloadHubModel', () => {
  test('downloads the files once, with progress, into a folder the loader accepts', async () => {
    const events: DownloadProgress[] = [];
    const folder = await download({ onProgress: (p) => events.push(p) });
    assert.equal(folder, hubCacheFolder(cacheDir, REPO, 'main'));
    assert.equal(folder, path.join(cacheDir, 'test-org--tiny-qag', 'main'));
    assertSameFiles(folder, FP32_FILES);
    assert.equal(readModelFolder(folder, 'fp32').config.vocab_size, 300);
    assert.ok(fs.existsSync(path.join(folder, MANIFEST_FILE)));
    assert.ok(!fs.existsSync(stagingOf(folder)), 'staging folder removed');
    assert.ok(!fs.existsSync(path.join(folder, 'quals.json')), 'optional 404 is fine');

    const files = hub.repos.get(`${REPO}@main`)!;
    for (const name of FP32_FILES) {
      const mine = events.filter((e) => e.file === name);
      assert.ok(mine.length >= 2, `${name}: start and end events`);
      assert.ok(mine.every((e, i) => i === 0 || e.receivedBytes >= mine[i - 1]!.receivedBytes), `${name}: monotonic`);
      assert.deepEqual(mine.at(-1), { file: name, receivedBytes: files.get(name)!.length, totalBytes: files.get(name)!.length });
    }
    // The LFS files came from the CDN origin, after a redirect, and carried no credentials.
    assert.ok(hub.log.some((l) => l.server === 'cdn'));
    assert.ok(hub.log.every((l) => l.authorization === undefined));

    const before = hub.requests();
    assert.equal(await download(), folder);
    assert.equal(hub.requests(), before, 'a complete cache makes no request');
  });

  test('a second variant fetches only its own ONNX files', async () => {
    await download();
    const before = hub.requests();
    const folder = await download({ variant: 'quantized' });
    const fetched = hub.log.slice(before).filter((l) => l.server === 'hub').map((l) => l.path.split('/resolve/main/')[1]);
    assert.deepEqual(fetched.sort(), ['onnx/decoder_model_merged_quantized.onnx', 'onnx/decoder_model_merged_quantized.onnx_data', 'onnx/encoder_model_quantized.onnx', 'onnx/encoder_model_quantized.onnx_data']);
    assert.equal(readModelFolder(folder, 'quantized').variant, 'quantized');
    assert.equal(readModelFolder(folder, 'fp32').variant, 'fp32');
  });

  test('resumes a dropped connection with a Range request, byte-identical', async () => {
    hub.dropOnce.set('onnx/decoder_model_merged.onnx', 200_000);
    const logs: string[] = [];
    const folder = await download({ log: (l) => logs.push(l) });
    assertSameFiles(folder, FP32_FILES);
    const cdn = hub.log.filter((l) => l.server === 'cdn' && l.path.endsWith(createHash('sha256').update(hub.repos.get(`${REPO}@main`)!.get('onnx/decoder_model_merged.onnx')!).digest('hex')));
    assert.equal(cdn.length, 2);
    assert.equal(cdn[0]!.range, undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(cdn[1]!.range ?? '')?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 200_000, `resumed at ${cdn[1]!.range}`);
    assert.ok(logs.some((l) => /retrying \(1 of 3\)/.test(l)));
  });

  test('resumes across calls: a failed run leaves a .part that the next run continues', async () => {
    hub.dropOnce.set('onnx/encoder_model.onnx', 100_000);
    await expectModelError(download({ retries: 0 }), 'download', /onnx\/encoder_model\.onnx/, /connection dropped/, /run again to resume/);
    const folder = hubCacheFolder(cacheDir, REPO, 'main');
    assert.ok(!fs.existsSync(folder), 'nothing in the cache folder yet');
    assert.ok(fs.statSync(path.join(stagingOf(folder), 'onnx', 'encoder_model.onnx.part')).size > 0);

    const before = hub.requests();
    await download({ retries: 0 });
    assertSameFiles(folder, FP32_FILES);
    const again = hub.log.slice(before);
    assert.ok(!again.some((l) => l.path.endsWith('/config.json')), 'verified files are not fetched again');
    assert.match(again.find((l) => l.server === 'cdn')?.range ?? '', /^bytes=[1-9]\d*-$/);
  });

  test('a server that ignores Range still yields the right bytes', async () => {
    hub.ignoreRange = true;
    hub.dropOnce.set('onnx/decoder_model_merged.onnx', 150_000);
    hub.dropOnce.set('tokenizer.json', 10);
    const logs: string[] = [];
    const folder = await download({ log: (l) => logs.push(l) });
    assertSameFiles(folder, FP32_FILES);
    assert.ok(hub.log.some((l) => l.range !== undefined), 'a range was asked for');
    assert.ok(logs.some((l) => /ignored the resume request/.test(l)));
  });

  test('a file that changed on the hub between attempts is started again', async () => {
    hub.dropOnce.set('onnx/encoder_model.onnx', 100_000);
    await expectModelError(download({ retries: 0 }), 'download');
    hub.repos.get(`${REPO}@main`)!.set('onnx/encoder_model.onnx', fakeOnnx(310_000));
    const folder = await download();
    assertSameFiles(folder, FP32_FILES);
  });

  test('a checksum mismatch deletes the bad copy and leaves no cache', async () => {
    hub.corrupt.add('onnx/decoder_model_merged.onnx');
    await expectModelError(download(), 'download', /onnx\/decoder_model_merged\.onnx/, /integrity check/, /bad copy was deleted/);
    const folder = hubCacheFolder(cacheDir, REPO, 'main');
    assert.ok(!fs.existsSync(folder), 'no cache folder');
    const staged = fs.readdirSync(path.join(stagingOf(folder), 'onnx'));
    assert.ok(!staged.some((f) => f.startsWith('decoder_model_merged')), `no bad part left: ${staged.join(', ')}`);

    hub.corrupt.clear();
    const before = hub.requests();
    await download();
    assert.ok(hub.requests() > before, 'the next call does not treat the repo as complete');
    assertSameFiles(folder, FP32_FILES);
  });

  test('a corrupt small git file is caught by its blob sha1', async () => {
    hub.corrupt.add('tokenizer.json');
    await expectModelError(download(), 'download', /tokenizer\.json .*integrity check \(git-sha1/);
  });

  test('a missing required file is not-found, naming repo, revision and file', async () => {
    hub.repos.get(`${REPO}@main`)!.delete('onnx/decoder_model_merged.onnx');
    await expectModelError(download(), 'not-found', /test-org\/tiny-qag \(revision main\) has no onnx\/decoder_model_merged\.onnx/, /Optimum layout/);
  });

  test('an unknown repo or revision is not-found', async () => {
    await expectModelError(downloadHubModel('nobody/nothing', { cacheDir, hubUrl: hub.hubUrl }), 'not-found', /Hub repo nobody\/nothing was not found/, /HF_TOKEN/);
    await expectModelError(download({ revision: 'v9' }), 'not-found', /was not found/);
  });

  test('an unreachable hub is offline, with a way to provide the model', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expectModelError(downloadHubModel(REPO, { cacheDir, hubUrl: `http://127.0.0.1:${port}` }), 'offline', /ECONNREFUSED/, /huggingface-cli download test-org\/tiny-qag/, /`--model`/);
  });

  test('HF_TOKEN goes to the hub, never to the CDN', async () => {
    process.env.HF_TOKEN = 'hf_secret';
    try {
      await download();
    } finally {
      delete process.env.HF_TOKEN;
    }
    assert.ok(hub.log.filter((l) => l.server === 'hub').every((l) => l.authorization === 'Bearer hf_secret'));
    assert.ok(hub.log.filter((l) => l.server === 'cdn').every((l) => l.authorization === undefined));
  });

  test('an abort cancels, keeps the partial file and a later call finishes', async () => {
    const controller = new AbortController();
    const run = download({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'onnx/decoder_model_merged.onnx') controller.abort();
      },
    });
    await assert.rejects(run, CancelledError);
    const folder = hubCacheFolder(cacheDir, REPO, 'main');
    assert.ok(!fs.existsSync(path.join(folder, MANIFEST_FILE)));
    assertSameFiles(await download(), FP32_FILES);
  });

  test('two downloads of the same repo at once take turns: every file is fetched once', async () => {
    const logs: string[] = [];
    const [a, b] = await Promise.all([download(), download({ log: (l) => logs.push(l) })]);
    assert.equal(a, b);
    assertSameFiles(a, FP32_FILES);
    const hubPaths = hub.log.filter((l) => l.server === 'hub').map((l) => l.path);
    assert.equal(new Set(hubPaths).size, hubPaths.length, `a file was fetched twice: ${hubPaths.join(', ')}`);
    assert.ok(logs.some((l) => /Waiting for another QUALS process \(pid \d+/.test(l)), logs.join('\n'));
    assert.ok(!fs.existsSync(lockOf(a)), 'the lock is released');
  });

  test('a lock left by a dead process, or untouched for minutes on another host, is taken over', async () => {
    const folder = hubCacheFolder(cacheDir, REPO, 'main');
    fs.mkdirSync(path.dirname(folder), { recursive: true });
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(lockOf(folder), JSON.stringify({ pid: deadPid, host: os.hostname(), token: 'old' }));
    assertSameFiles(await download(), FP32_FILES);
    fs.rmSync(folder, { recursive: true });

    fs.writeFileSync(lockOf(folder), JSON.stringify({ pid: process.pid, host: 'another-host', token: 'old' }));
    const longAgo = new Date(Date.now() - 5 * 60_000);
    fs.utimesSync(lockOf(folder), longAgo, longAgo);
    assertSameFiles(await download(), FP32_FILES);
  });

  test('waiting for a live lock can be cancelled, and leaves that lock alone', async () => {
    const folder = hubCacheFolder(cacheDir, REPO, 'main');
    fs.mkdirSync(path.dirname(folder), { recursive: true });
    const lock = JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'someone-else' });
    fs.writeFileSync(lockOf(folder), lock);
    const controller = new AbortController();
    const logs: string[] = [];
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(download({ signal: controller.signal, log: (l) => logs.push(l) }), CancelledError);
    assert.equal(fs.readFileSync(lockOf(folder), 'utf8'), lock);
    assert.equal(hub.requests(), 0);
    assert.equal(logs.filter((l) => /Waiting for another QUALS process/.test(l)).length, 1, 'told once');
  });

  test('rejects ids and revisions that could escape the cache folder', async () => {
    await expectModelError(downloadHubModel('../etc', { cacheDir, hubUrl: hub.hubUrl }), 'not-found', /not a Hugging Face hub id/);
    await expectModelError(download({ revision: '../x' }), 'not-found', /not a valid hub revision/);
    assert.equal(hub.requests(), 0);
  });
});
