/**
 * A 2,000-line JSONL dataset through the bundled server (`dist/server.js --stdio`, toy model):
 * publishing is bounded (total publishDiagnostics bytes a small constant times the final one),
 * other requests are answered within 200 ms while it is checked, and nothing but the clearing
 * publish follows didClose. Before coalescing: ~quadratic bytes, pings unanswered for seconds.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LspClient, type Message } from '../support/lsp-client';

const SERVER = resolve('dist/server.js');
const MODEL = resolve('models/tiny-qagen');
const PAIRS = [
  ['Fury beat Klitschko in Dusseldorf on Saturday. The crowd was loud.', 'Fury beat Klitschko in Paris on Saturday.'],
  ['Arsenal signed Wilder for 40 million. The fans cheered.', 'Arsenal signed Wilder for 90 million.'],
  ['The river flooded the town in March after heavy rain.', 'The river flooded the city in June after heavy rain.'],
  ['Mary sold her bakery to John in 2019 for a small sum.', 'Mary sold her bakery to Paul in 2015.'],
];
const line = (k: number) => JSON.stringify({ document: PAIRS[k % PAIRS.length]![0], summary: PAIRS[k % PAIRS.length]![1] });
const dataset = (n: number) => Array.from({ length: n }, (_, k) => line(k)).join('\n') + '\n';

let client: LspClient;
const dir = mkdtempSync(join(tmpdir(), 'quals-flood-'));
const uriOf = (name: string) => pathToFileURL(join(dir, name)).toString();
const isPublish = (uri: string) => (m: Message) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string }).uri === uri;
const isDone = (uri: string) => (m: Message) =>
  m.method === 'quals/documentStatus' && (m.params as { uri: string; state: string }).uri === uri && ['done', 'error', 'cancelled'].includes((m.params as { state: string }).state);

function open(name: string, text: string) {
  client.send({ method: 'textDocument/didOpen', params: { textDocument: { uri: uriOf(name), languageId: 'jsonl', version: 1, text } } });
}

/** Pings the server every 25 ms until `until` settles; returns the slowest and the 90th-percentile answer in ms. */
async function pingWhile(until: Promise<unknown>): Promise<{ worst: number; p90: number; count: number }> {
  const samples: number[] = [];
  let settled = false;
  void until.finally(() => (settled = true));
  let worst = 0;
  let count = 0;
  let lag = 0;
  let last = performance.now();
  const monitor = setInterval(() => {
    const now = performance.now();
    lag = Math.max(lag, now - last - 10);
    last = now;
  }, 10);
  void until.finally(() => {
    clearInterval(monitor);
    if (process.env.QUALS_TEST_PINGS) console.log(`client lag ${lag.toFixed(0)} ms`);
  });
  while (!settled) {
    const t0 = performance.now();
    await client.request('quals/serverInfo');
    worst = Math.max(worst, performance.now() - t0);
    samples.push(performance.now() - t0);
    if (process.env.QUALS_TEST_PINGS) console.log(`ping at ${t0.toFixed(0)}: ${(performance.now() - t0).toFixed(0)} ms`);
    count++;
    await new Promise((r) => setTimeout(r, 25));
  }
  samples.sort((a, b) => a - b);
  return { worst, p90: samples[Math.floor(samples.length * 0.9)] ?? 0, count };
}

before(async () => {
  assert.ok(existsSync(SERVER), 'dist/server.js is built by `npm run build` (npm test builds first)');
  client = new LspClient(spawn(process.execPath, [...(process.env.QUALS_TEST_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.QUALS_TEST_PROF] : []), SERVER, '--stdio'], { stdio: 'pipe' }));
  await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).toString(), capabilities: {}, initializationOptions: { settings: { model: MODEL, device: 'cpu' } } });
  client.send({ method: 'initialized', params: {} });
  // Warm the model and the engine's result cache with the distinct lines.
  const warm = client.next(isDone(uriOf('warm.jsonl')));
  open('warm.jsonl', dataset(PAIRS.length));
  await warm;
});
after(async () => {
  if (!client) return;
  await client.request('shutdown').catch(() => undefined);
  client.send({ method: 'exit' });
  await new Promise((r) => setTimeout(r, 300));
  client.proc.kill();
});

test('2,000 JSONL lines: publish bytes bounded by a small multiple of the final publish; requests answered within 200 ms', async () => {
  // The same pings to the idle server first: what this machine's load alone costs (on a quiet
  // machine a few ms; CI boxes shared with other jobs can add hundreds).
  let idle = 0;
  for (let k = 0; k < 20; k++) {
    const t = performance.now();
    await client.request('quals/serverInfo');
    idle = Math.max(idle, performance.now() - t);
    await new Promise((r) => setTimeout(r, 25));
  }
  const uri = uriOf('big.jsonl');
  const from = client.received.length;
  const done = client.next(isDone(uri));
  const t0 = performance.now();
  open('big.jsonl', dataset(2000));
  const pings = await pingWhile(done);
  const ms = performance.now() - t0;
  assert.equal(((await done).params as { state: string }).state, 'done');
  const publishes = client.received.slice(from).filter((r) => isPublish(uri)(r.msg));
  const total = publishes.reduce((n, r) => n + r.bytes, 0);
  const final = publishes.at(-1)!;
  const finalCount = (final.msg.params as { diagnostics: unknown[] }).diagnostics.length;
  const resultBytes = client.received.slice(from).filter((r) => r.msg.method === 'quals/result').reduce((n, r) => n + r.bytes, 0);
  console.log(`# quals/result: ${resultBytes} bytes`);
  console.log(`# 2000 lines in ${ms.toFixed(0)} ms: ${publishes.length} publishes, ${total} bytes (final ${final.bytes} bytes, ${finalCount} diagnostics); ${pings.count} pings, slowest ${pings.worst.toFixed(1)} ms (idle server ${idle.toFixed(1)} ms)`);
  assert.ok(finalCount >= 1000, `most lines have a finding (${finalCount})`);
  assert.ok(total <= 4 * final.bytes, `publish bytes ${total} > 4 x final ${final.bytes}`);
  // 200 ms for nine requests in ten; one scheduling hiccup on a shared 2-core box may take longer,
  // but never the seconds an event loop blocked by the dataset took before (> 20 s).
  assert.ok(pings.p90 < 200 + idle, `requests waited ${pings.p90.toFixed(0)} ms (90th percentile; idle server: ${idle.toFixed(0)} ms)`);
  assert.ok(pings.worst < 1000 + idle, `a request waited ${pings.worst.toFixed(0)} ms (idle server: ${idle.toFixed(0)} ms)`);
});

test('didClose in the middle of a dataset: nothing but the clearing publish follows', async () => {
  const uri = uriOf('closed.jsonl');
  const firstPublish = client.next(isPublish(uri));
  open('closed.jsonl', dataset(2000).replace(/Paris/g, 'Rome'));
  await firstPublish;
  client.send({ method: 'textDocument/didClose', params: { textDocument: { uri } } });
  // The server reads messages in order: what it sends after answering this came after didClose.
  await client.request('quals/serverInfo');
  const closedAt = client.received.length;
  await new Promise((r) => setTimeout(r, 500));
  const after = client.received.slice(closedAt).filter((r) => isPublish(uri)(r.msg));
  assert.ok(after.every((r) => (r.msg.params as { diagnostics: unknown[] }).diagnostics.length === 0), `${after.length} publishes with diagnostics after didClose`);
  assert.ok(after.length <= 1, `${after.length} publishes after didClose`);
});
