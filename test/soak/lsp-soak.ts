/**
 * `npm run test:soak`: a bounded soak of the bundled language server (dist/server.js --stdio, toy
 * model). For QUALS_SOAK_SECONDS (default 120) it applies random edits, saves, opens and closes of
 * summaries and of a JSONL dataset, hovers and code actions, pinging the server all along; halfway
 * it kills the server with SIGKILL and starts a new one. RSS is sampled every second.
 *
 * Fails on: any request unanswered within 10 s, a ping slower than MAX_PING_MS, or RSS growth of one
 * server beyond RSS_GROWTH_MB between the end of its warm-up and its end (same work repeated).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from '../../src/util/prng';
import { LspClient, type Message } from '../support/lsp-client';

const SECONDS = Number(process.env.QUALS_SOAK_SECONDS ?? 120);
const MAX_PING_MS = 2000;
const REQUEST_TIMEOUT_MS = 10_000;
const RSS_GROWTH_MB = 60;
const SERVER = resolve('dist/server.js');
const MODEL = resolve('models/tiny-qagen');

const people = ['Fury', 'Klitschko', 'Joshua', 'Wilder', 'Usyk', 'Parker'];
const cities = ['Paris', 'London', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Dusseldorf'];
const dir = mkdtempSync(join(tmpdir(), 'quals-soak-'));
const uri = (name: string) => pathToFileURL(join(dir, name)).toString();
const random = mulberry32(14);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;

const pairs = [0, 1, 2].map((k) => {
  const [a, b] = [people[k], people[k + 2]];
  writeFileSync(join(dir, `fight${k}.md`), `${a} beat ${b} in ${cities[k]} on Saturday. The crowd was loud.\n`);
  const text = `${a} beat ${b} in ${cities[k]} on Saturday.\n`;
  writeFileSync(join(dir, `fight${k}.summary.md`), text);
  return { name: `fight${k}.summary.md`, text };
});
const dataset = Array.from({ length: 40 }, (_, i) => JSON.stringify({ document: `${people[i % 6]} beat ${people[(i + 1) % 6]} in ${cities[i % 7]} on day ${i}.`, summary: `${people[i % 6]} beat ${people[(i + 1) % 6]} in ${cities[(i + (i % 3 === 0 ? 1 : 0)) % 7]} on day ${i}.` })).join('\n') + '\n';
writeFileSync(join(dir, 'set.jsonl'), dataset);

interface Stats {
  requests: number;
  pings: number[];
  rss: { t: number; mb: number }[];
  actions: Record<string, number>;
}

function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`unanswered for ${REQUEST_TIMEOUT_MS} ms: ${what}`)), REQUEST_TIMEOUT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function startServer(): Promise<LspClient> {
  const client = new LspClient(spawn(process.execPath, [SERVER, '--stdio'], { stdio: 'pipe' }));
  client.proc.stderr.resume();
  await withTimeout(client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).toString(), capabilities: {}, initializationOptions: { settings: { model: MODEL, device: 'cpu', search: { numBeams: 4, numBeamGroups: 2 }, checkOn: 'type', debounceMs: 50 } } }), 'initialize');
  client.send({ method: 'initialized', params: {} });
  return client;
}

async function soak(client: LspClient, seconds: number, stats: Stats): Promise<void> {
  const open = new Map<string, { version: number; text: string }>();
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const mb = rssMb(client.proc.pid!);
    if (mb !== null) stats.rss.push({ t: (Date.now() - t0) / 1000, mb });
  }, 1000);
  const request = async (method: string, params?: unknown) => {
    stats.requests++;
    const r = await withTimeout(client.request(method, params), method);
    assert.equal((r as Message & { error?: unknown }).error, undefined, `${method}: ${JSON.stringify((r as { error?: unknown }).error)}`);
    return r;
  };
  const act = (name: string) => (stats.actions[name] = (stats.actions[name] ?? 0) + 1);
  try {
    while (Date.now() < end) {
      const r = random();
      const p = pick(pairs);
      const doc = open.get(p.name);
      if (r < 0.2 || !doc) {
        if (doc) {
          client.send({ method: 'textDocument/didClose', params: { textDocument: { uri: uri(p.name) } } });
          open.delete(p.name);
          act('close');
        } else {
          open.set(p.name, { version: 1, text: p.text });
          client.send({ method: 'textDocument/didOpen', params: { textDocument: { uri: uri(p.name), languageId: 'markdown', version: 1, text: p.text } } });
          act('open');
        }
      } else if (r < 0.55) {
        const text = `${pick(people)} beat ${pick(people)} in ${pick(cities)} on Saturday.\n`;
        doc.version++;
        doc.text = text;
        client.send({ method: 'textDocument/didChange', params: { textDocument: { uri: uri(p.name), version: doc.version }, contentChanges: [{ text }] } });
        act('edit');
      } else if (r < 0.65) {
        client.send({ method: 'textDocument/didSave', params: { textDocument: { uri: uri(p.name) } } });
        act('save');
      } else if (r < 0.72) {
        const set = open.get('set.jsonl');
        if (set) {
          client.send({ method: 'textDocument/didClose', params: { textDocument: { uri: uri('set.jsonl') } } });
          open.delete('set.jsonl');
        } else {
          open.set('set.jsonl', { version: 1, text: dataset });
          client.send({ method: 'textDocument/didOpen', params: { textDocument: { uri: uri('set.jsonl'), languageId: 'jsonl', version: 1, text: dataset } } });
        }
        act('dataset');
      } else if (r < 0.85) {
        await request('textDocument/hover', { textDocument: { uri: uri(p.name) }, position: { line: 0, character: Math.floor(random() * 30) } });
        act('hover');
      } else {
        await request('textDocument/codeAction', { textDocument: { uri: uri(p.name) }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 40 } }, context: { diagnostics: [] } });
        act('codeAction');
      }
      const t = performance.now();
      await request('quals/serverInfo');
      stats.pings.push(performance.now() - t);
      await new Promise((res) => setTimeout(res, 20 + random() * 150));
    }
  } finally {
    clearInterval(sampler);
  }
}

/** RSS growth of one server run: median of its last quarter minus median of its second quarter. */
function growth(rss: { t: number; mb: number }[]): { warm: number; last: number } {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const q = Math.floor(rss.length / 4);
  return { warm: med(rss.slice(q, 2 * q).map((s) => s.mb)), last: med(rss.slice(3 * q).map((s) => s.mb)) };
}

async function main(): Promise<void> {
  assert.ok(existsSync(SERVER), 'dist/server.js is built by `npm run build` (npm test builds first)');
  const half = SECONDS / 2;
  const runs: Stats[] = [];
  for (const round of [1, 2]) {
    const stats: Stats = { requests: 0, pings: [], rss: [], actions: {} };
    const client = await startServer();
    await soak(client, half, stats);
    runs.push(stats);
    if (round === 1) {
      client.proc.kill('SIGKILL'); // a crash; the "client" starts a new server, as the extension does
      await new Promise((r) => client.proc.once('exit', r));
    } else {
      await withTimeout(client.request('shutdown'), 'shutdown');
      client.send({ method: 'exit' });
      await new Promise((r) => client.proc.once('exit', r));
    }
  }
  let failed = false;
  for (const [i, s] of runs.entries()) {
    const sorted = [...s.pings].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    const max = sorted.at(-1) ?? 0;
    const g = growth(s.rss);
    process.stdout.write(
      `soak server ${i + 1}: ${s.requests} requests, all answered; ping p50 ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms; ` +
        `RSS ${g.warm.toFixed(0)} -> ${g.last.toFixed(0)} MB (peak ${Math.max(...s.rss.map((x) => x.mb)).toFixed(0)} MB); actions ${JSON.stringify(s.actions)}\n`,
    );
    if (max > MAX_PING_MS) {
      failed = true;
      process.stdout.write(`soak: FAILED: a ping took ${max.toFixed(0)} ms (bound ${MAX_PING_MS} ms)\n`);
    }
    if (g.last - g.warm > RSS_GROWTH_MB) {
      failed = true;
      process.stdout.write(`soak: FAILED: RSS grew ${(g.last - g.warm).toFixed(0)} MB (bound ${RSS_GROWTH_MB} MB)\n`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  if (failed) process.exit(1);
  process.stdout.write(`soak: PASS (${SECONDS} s, a SIGKILL and restart halfway; bounds: every request answered within ${REQUEST_TIMEOUT_MS / 1000} s, pings <= ${MAX_PING_MS} ms, RSS growth <= ${RSS_GROWTH_MB} MB per server)\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stdout.write(`soak: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
