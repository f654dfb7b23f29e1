/**
 * The server does not trust its own protocol's messages: a codeAction with null entries, a
 * workspaceState with null fields, and a client without workspace-folder support (which used to
 * lose the startup log) all leave the server answering and checking.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { parseWorkspaceState } from '../../src/server/settings';
import { LspClient, type Message } from '../support/lsp-client';

const SERVER = resolve('dist/server.js');
const MODEL = resolve('models/tiny-qagen');
let client: LspClient;
const dir = mkdtempSync(join(tmpdir(), 'quals-proto-'));
const summaryUri = pathToFileURL(join(dir, 'fury.summary.md')).toString();
const summary = 'Fury beat Klitschko in Paris on Saturday.\n';

before(async () => {
  assert.ok(existsSync(SERVER), 'dist/server.js is built by `npm run build` (npm test builds first)');
  writeFileSync(join(dir, 'fury.md'), 'Fury beat Klitschko in Dusseldorf on Saturday. The crowd was loud.\n');
  writeFileSync(join(dir, 'fury.summary.md'), summary);
  // A HOME of its own: ONNX Runtime must not write ~/.cache/Microsoft/... (see the last test).
  const { XDG_CACHE_HOME: _x, ORT_DISABLE_TELEMETRY: _o, ...env } = process.env;
  client = new LspClient(spawn(process.execPath, [SERVER, '--stdio'], { stdio: 'pipe', env: { ...env, HOME: join(dir, 'home') } }));
});
after(() => client?.proc.kill());

test('a client with no capabilities at all gets the startup log', async () => {
  const init = await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).toString(), capabilities: {}, initializationOptions: { settings: { model: MODEL, device: 'cpu' }, workspaceState: { disabled: null, pairs: 7, ignored: [null] } } });
  assert.ok(init.result, JSON.stringify(init.error));
  client.send({ method: 'initialized', params: {} });
  const logged = await client.waitFor((m) => m.method === 'window/logMessage' && /quals-ls .* started/.test(String((m.params as { message: string }).message)), 10_000);
  assert.ok(logged);
});

test('workspaceState {disabled: null} does not break checks', async () => {
  client.send({ method: 'quals/workspaceState', params: { disabled: null, pairs: null, ignored: 'x' } });
  const done = client.next((m: Message) => m.method === 'quals/documentStatus' && ['done', 'error'].includes((m.params as { state: string }).state));
  client.send({ method: 'textDocument/didOpen', params: { textDocument: { uri: summaryUri, languageId: 'markdown', version: 1, text: summary } } });
  const status = (await done).params as { state: string; message?: string };
  assert.equal(status.state, 'done', status.message);
});

test('a codeAction with null and junk diagnostics is answered, not an internal error', async () => {
  const r = await client.request('textDocument/codeAction', {
    textDocument: { uri: summaryUri },
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
    context: { diagnostics: [null, 5, { range: null }, { message: 'x' }] },
  });
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  assert.deepEqual(r.result, []);
  const none = await client.request('textDocument/codeAction', { textDocument: { uri: summaryUri }, range: null, context: null });
  assert.equal(none.error, undefined, JSON.stringify(none.error));
});

test('ONNX Runtime wrote nothing under HOME (its telemetry is off in the server)', () => {
  assert.equal(existsSync(join(dir, 'home', '.cache', 'Microsoft')), false);
});

test('unit: parseWorkspaceState keeps only well-formed entries', () => {
  assert.deepEqual(parseWorkspaceState({ disabled: [null, 'a'], pairs: { s: 'x', t: 3 }, ignored: [{ uri: 'u', question: 'q', answer: 'a' }, { uri: 1 }] }), {
    disabled: ['a'],
    pairs: { s: 'x' },
    ignored: [{ uri: 'u', question: 'q', answer: 'a' }],
  });
  assert.deepEqual(parseWorkspaceState(null), { disabled: [], pairs: {}, ignored: [] });
});
