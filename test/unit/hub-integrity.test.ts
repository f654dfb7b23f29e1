/**
 * The hub downloader never promotes a file it could not check: no checksum announced (a body cut
 * at a wrong Content-Length then looks whole), a same-origin CDN hop whose ETag would replace the
 * announced sha256, and a body far longer than announced (reading stops at the announced size).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Job } from '../../src/models/hub-job';
import { ModelError } from '../../src/scoring/errors';

const GOOD = Buffer.from('{"model_type": "bart", "vocab_size": 300}\n');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let server: http.Server;
let url = '';
let bodyBytesSent = 0;

before(async () => {
  server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    if (p.endsWith('/no-checksum.json')) {
      // No ETag at all, and a Content-Length that ends the body early: the client sees a "whole" file.
      res.writeHead(200, { 'content-length': String(GOOD.length - 10) });
      return res.end(GOOD.subarray(0, GOOD.length - 10));
    }
    if (p.endsWith('/hop.bin')) {
      // The hub announces the sha256, then a same-origin CDN path serves other bytes with an MD5-like ETag.
      res.writeHead(302, { location: '/cdn/blob', 'x-linked-etag': `"${sha256(GOOD)}"`, 'x-linked-size': String(GOOD.length), 'content-length': '0' });
      return res.end();
    }
    if (p === '/cdn/blob') {
      const bad = Buffer.from(GOOD);
      bad[5] ^= 1;
      res.writeHead(200, { etag: '"d41d8cd98f00b204e9800998ecf8427e"', 'content-length': String(bad.length) });
      return res.end(bad);
    }
    if (p.endsWith('/huge.bin')) {
      // 1,000 bytes announced, then a stream of 200 MB.
      res.writeHead(302, { location: '/cdn/huge', 'x-linked-etag': `"${'a'.repeat(64)}"`, 'x-linked-size': '1000', 'content-length': '0' });
      return res.end();
    }
    if (p === '/cdn/huge') {
      res.writeHead(200); // chunked, no length
      const chunk = Buffer.alloc(1 << 20, 65);
      let left = 200;
      const pump = () => {
        while (left > 0) {
          left--;
          bodyBytesSent += chunk.length;
          if (!res.write(chunk)) return res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (left = 0));
      return pump();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

function job() {
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-hub-int-'));
  return { staging, job: new Job('org/repo', 'main', url, staging, { retries: 0, retryDelayMs: 1 }) };
}
const files = (dir: string) => fs.readdirSync(dir).filter((f) => !f.startsWith('.'));

test('no checksum announced: the file is refused, nothing is staged', async () => {
  const { staging, job: j } = job();
  await assert.rejects(j.fetch([{ remote: 'no-checksum.json', local: 'config.json', optional: false }], 'onnx'), (e: unknown) => e instanceof ModelError && /cannot be verified: the hub announced no checksum/.test(e.message));
  assert.equal(j.has('config.json'), undefined);
  assert.deepEqual(files(staging), []);
});

test("a same-origin hop's ETag does not replace the announced sha256: the bad bytes fail the check", async () => {
  const { staging, job: j } = job();
  await assert.rejects(j.fetch([{ remote: 'hop.bin', local: 'hop.bin', optional: false }], 'onnx'), (e: unknown) => e instanceof ModelError && /failed its integrity check \(sha256/.test(e.message));
  assert.deepEqual(files(staging), []);
});

test('a body longer than announced stops at the announced size and is deleted', async () => {
  const { staging, job: j } = job();
  await assert.rejects(j.fetch([{ remote: 'huge.bin', local: 'huge.bin', optional: false }], 'onnx'), (e: unknown) => e instanceof ModelError && /more than the 1000 bytes announced/.test(e.message));
  assert.deepEqual(files(staging), []);
  assert.ok(bodyBytesSent < 50 << 20, `the server got to send ${bodyBytesSent} bytes`);
});

test('quals model verify finds a damaged cached file, --remove-damaged clears it for the next download', async () => {
  const { verifyHubFolder } = await import('../../src/models/hub-verify');
  const { MANIFEST_FILE } = await import('../../src/models/hub-job');
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'quals-hub-verify-'));
  const good = Buffer.from('intact bytes');
  const bad = Buffer.from('damaged byte');
  fs.mkdirSync(path.join(folder, 'onnx'));
  fs.writeFileSync(path.join(folder, 'config.json'), good);
  fs.writeFileSync(path.join(folder, 'onnx/encoder_model.onnx'), bad);
  const files = { 'config.json': { size: good.length, etag: sha256(good) }, 'onnx/encoder_model.onnx': { size: bad.length, etag: sha256(Buffer.from('damaged bytz')) } };
  fs.writeFileSync(path.join(folder, MANIFEST_FILE), JSON.stringify({ version: 1, id: 'org/repo', revision: 'main', files, absent: [] }));
  const r = await verifyHubFolder(folder);
  assert.deepEqual(r.damaged.map((d) => d.file), ['onnx/encoder_model.onnx']);
  const { spawnSync } = await import('node:child_process');
  const cli = spawnSync(process.execPath, [path.resolve('dist/cli.js'), 'model', 'verify', folder, '--remove-damaged'], { encoding: 'utf8' });
  assert.equal(cli.status, 2, cli.stderr);
  assert.match(cli.stdout, /damaged: onnx\/encoder_model\.onnx \(sha256 .* - removed/);
  assert.equal(fs.existsSync(path.join(folder, 'onnx/encoder_model.onnx')), false);
  const manifest = JSON.parse(fs.readFileSync(path.join(folder, MANIFEST_FILE), 'utf8'));
  assert.deepEqual(Object.keys(manifest.files), ['config.json']);
  assert.equal(spawnSync(process.execPath, [path.resolve('dist/cli.js'), 'model', 'verify', folder]).status, 0);
});

test('the server says how to check and clear a cached hub download that ONNX Runtime cannot parse', async () => {
  const { EngineHost } = await import('../../src/server/engine-host');
  const { DEFAULT_SETTINGS } = await import('../../src/server/settings');
  const statuses: { message?: string }[] = [];
  const host = new EngineHost({
    create: async () => {
      throw new ModelError('invalid-file', 'ONNX Runtime cannot load the model: Protobuf parsing failed.');
    },
    log: () => undefined,
    onStatus: (s) => statuses.push(s),
    workspaceFolders: () => [],
  });
  await assert.rejects(host.get({ ...DEFAULT_SETTINGS, model: 'org/some-model' }));
  assert.match(statuses.at(-1)!.message ?? '', /Protobuf parsing failed\. The cached download may be damaged: `quals model verify org\/some-model --remove-damaged`/);
});
