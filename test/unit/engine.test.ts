import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTestModel } from '../../src/modelgen/random-bart';
import { createEngine } from '../../src/scoring/engine';
import type { QualsEngine } from '../../src/scoring/engine-api';
import { CancelledError, InputError } from '../../src/scoring/errors';

const TOY = 'models/tiny-qagen';
const source = 'Fury beat Klitschko in Dusseldorf on Saturday. The crowd was loud. Arsenal signed Parker for 12 million.';
const faithful = 'Fury beat Klitschko in Dusseldorf on Saturday.';
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('engine on the toy QAGen model', () => {
  let engine: QualsEngine;
  before(async () => {
    engine = await createEngine({ model: TOY, device: 'cpu' });
  });
  after(async () => {
    await engine?.dispose();
  });

  it('aggregates: QUALS = mean of pair scores, pair score = LL_D - LL_S = means of the token evidence', async () => {
    const r = await engine.score({ source, summary: faithful });
    assert.equal(r.status, 'ok');
    assert.ok(r.pairs.length > 0 && r.pairs.length <= engine.options.maxPairs);
    assert.ok(Math.abs(r.score! - mean(r.pairs.map((p) => p.score))) < 1e-9);
    for (const p of r.pairs) {
      assert.ok(Math.abs(p.score - (p.llSource - p.llSummary)) < 1e-9);
      assert.ok(Math.abs(p.llSource - mean(p.tokens.map((t) => t.logpSource))) < 1e-6);
      assert.ok(Math.abs(p.llSummary - mean(p.tokens.map((t) => t.logpSummary))) < 1e-6);
      assert.equal(p.tokens.filter((t) => t.role === 'separator').length, 1);
      assert.equal(p.tokens.at(-1)!.role, 'eos');
      for (const s of p.spans) assert.equal(faithful.slice(s.start, s.end).toLowerCase(), p.answer.toLowerCase());
      for (const t of p.tokens.filter((x) => x.role === 'answer' && x.start !== null)) assert.equal(p.answer.slice(t.start!, t.end!), t.text.trimStart());
      const said = p.sourceAnswer!;
      if (said.span) assert.equal(source.slice(said.span.start, said.span.end).toLowerCase(), said.text.toLowerCase());
    }
    assert.equal(r.model.format, 'qagen');
    assert.equal(r.source.truncated, false);
  });

  it('reference mode uses the generation score for LL_S', async () => {
    const r = await engine.score({ source, summary: faithful, options: { mode: 'reference' } });
    assert.equal(r.mode, 'reference');
    for (const p of r.pairs) assert.equal(p.llSummary, p.generationScore);
  });

  it('a repeated call is served from the cache and equals the first', async () => {
    const a = await engine.score({ source, summary: faithful });
    const b = await engine.score({ source, summary: faithful });
    assert.deepEqual(b.pairs, a.pairs);
  });

  it('no answerable pair gives status no-pairs and no score, never a made-up number', async () => {
    const r = await engine.score({ source, summary: '... !!! ...' });
    assert.equal(r.status, 'no-pairs');
    assert.equal(r.score, null);
    assert.match(r.message!, /No answerable QA pairs/);
  });

  it('an aborted request is cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(engine.score({ source, summary: 'Arsenal signed Parker.', signal: ac.signal }), CancelledError);
  });

  it('empty and binary texts are input errors', async () => {
    await assert.rejects(engine.score({ source, summary: '   ' }), (e: unknown) => e instanceof InputError && e.code === 'empty');
    await assert.rejects(engine.score({ source: 'a\u0000b', summary: faithful }), (e: unknown) => e instanceof InputError && e.code === 'binary');
  });
});

describe('engine with a hub id', () => {
  const folder = ensureTestModel(join(tmpdir(), 'quals-test-models', 'tiny-1234'), { size: 'tiny', seed: 1234 });
  const files = (function list(dir: string): string[] {
    return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? list(join(dir, n)) : [relative(folder, join(dir, n))]));
  })(folder);
  let server: http.Server;
  let hubUrl = '';
  const requests: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const m = /^\/test-org\/toy\/resolve\/main\/(.+)$/.exec(req.url ?? '');
      const file = m && files.includes(m[1]!) ? m[1]! : null;
      if (!file) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
        return;
      }
      const body = readFileSync(join(folder, file));
      res.writeHead(200, { 'content-length': body.length, etag: `"${createHash('sha256').update(body).digest('hex')}"` }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hubUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('downloads once into the cache, then loads offline', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'quals-hub-cache-'));
    const progress: string[] = [];
    const e1 = await createEngine({ model: 'test-org/toy', hubUrl, cacheDir, device: 'cpu', onDownloadProgress: (p) => progress.push(p.file) });
    assert.equal(e1.info.format, 'qagen');
    await e1.dispose();
    assert.ok(progress.includes('onnx/decoder_model_merged.onnx'));
    const before = requests.length;
    const e2 = await createEngine({ model: 'test-org/toy', hubUrl: 'http://127.0.0.1:9', cacheDir, device: 'cpu' });
    await e2.dispose();
    assert.equal(requests.length, before, 'a complete cache makes no request');
  });
});
