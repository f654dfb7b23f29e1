/**
 * `quals-ls --stdio`: the bundled language server as another editor would run it, speaking LSP
 * over stdin/stdout, with settings passed in initializationOptions (no workspace/configuration).
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const SERVER = resolve('dist/server.js');
const MODEL = resolve('models/tiny-qagen');

interface Message {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
}

class LspClient {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  readonly received: Message[] = [];

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const header = this.buffer.indexOf('\r\n\r\n');
        if (header < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, header).toString())![1]);
        if (this.buffer.length < header + 4 + length) return;
        const msg = JSON.parse(this.buffer.subarray(header + 4, header + 4 + length).toString()) as Message;
        this.buffer = this.buffer.subarray(header + 4 + length);
        this.received.push(msg);
        // Answer the server's own requests (e.g. client/registerCapability) so it never waits on us.
        if (msg.id !== undefined && msg.method) this.send({ id: msg.id, result: null });
        for (const w of [...this.waiters]) if (w.match(msg)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    });
  }

  send(msg: object): void {
    const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
    this.proc.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  request(method: string, params: unknown): Promise<Message> {
    const id = this.nextId++;
    this.send({ id, method, params });
    return this.waitFor((m) => m.id === id && !m.method);
  }

  waitFor(match: (m: Message) => boolean, ms = 60_000): Promise<Message> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('timed out waiting for a server message')), ms);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), res(m)) });
    });
  }
}

let client: LspClient;
const dir = mkdtempSync(join(tmpdir(), 'quals-ls-'));
const summaryUri = pathToFileURL(join(dir, 'fury.summary.md')).toString();
const summary = 'Fury beat Klitschko in Paris on Saturday.\n';

before(() => {
  assert.ok(existsSync(SERVER), 'dist/server.js is built by `npm run build` (npm test builds first)');
  writeFileSync(join(dir, 'fury.md'), 'Fury beat Klitschko in Dusseldorf on Saturday. The crowd was loud.\n');
  writeFileSync(join(dir, 'fury.summary.md'), summary);
  client = new LspClient(spawn(process.execPath, [SERVER, '--stdio'], { stdio: 'pipe' }));
});
after(() => client?.proc.kill());

test('quals-ls --stdio initializes, checks an opened summary and publishes a diagnostic on the garbled place', async () => {
  const init = await client.request('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(dir).toString(),
    capabilities: {},
    initializationOptions: { settings: { model: MODEL, device: 'cpu' } },
  });
  const caps = (init.result as { capabilities: Record<string, unknown> }).capabilities;
  assert.ok(caps.hoverProvider && caps.codeActionProvider, 'hover and code actions are offered');
  client.send({ method: 'initialized', params: {} });
  client.send({ method: 'textDocument/didOpen', params: { textDocument: { uri: summaryUri, languageId: 'markdown', version: 1, text: summary } } });
  const published = await client.waitFor(
    (m) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string; diagnostics: unknown[] }).uri === summaryUri && (m.params as { diagnostics: unknown[] }).diagnostics.length > 0,
  );
  const diagnostics = (published.params as { diagnostics: { message: string; source: string; range: { start: { character: number }; end: { character: number } } }[] }).diagnostics;
  const paris = diagnostics.find((d) => summary.slice(d.range.start.character, d.range.end.character) === 'Paris');
  assert.ok(paris, JSON.stringify(diagnostics.map((d) => d.message)));
  assert.equal(paris.source, 'QUALS');
  assert.match(paris.message, /Not supported by source: "Paris"/);
  const hover = await client.request('textDocument/hover', { textDocument: { uri: summaryUri }, position: { line: 0, character: paris.range.start.character + 1 } });
  assert.match(JSON.stringify(hover.result), /Where did Fury fight/);
});
