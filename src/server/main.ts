/**
 * The QUALS language server: hosts the scoring engine in its own process (ONNX Runtime blocks the
 * JavaScript thread) and speaks LSP over IPC (VS Code) or stdio (`quals-ls --stdio`, any editor).
 */
import '../util/ort-env'; // first: before anything can load ONNX Runtime
import {
  CodeActionKind,
  DidChangeConfigurationNotification,
  FileChangeType,
  ProposedFeatures,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { isAbsolute } from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { URI } from 'vscode-uri';
import {
  documentStatusNotification,
  modelStatusNotification,
  pairingRequest,
  prepareModelRequest,
  resultNotification,
  scoreRequest,
  serverInfoRequest,
  workspaceStateNotification,
  type ScoreResponse,
  type WorkspaceStateParams,
} from '../protocol';
import { importCheckpoint } from '../models/import';
import { createEngine } from '../scoring/engine';
import { resolveModelDir } from '../scoring/model/loader';
import { Checker } from './checker';
import { codeActionsFor } from './code-actions';
import { EngineHost } from './engine-host';
import { hoverMarkdown } from './hover';
import { describePairing, resolvePairing } from './pairing-resolver';
import { prepareModel } from './prepare-model';
import { Scheduler } from './scheduler';
import { isDiagnosticLike, parseSettings, parseWorkspaceState, type QualsSettings } from './settings';
import type { FindingData } from './diagnostics';

const VERSION = '0.1.0';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const scheduler = new Scheduler<ScoreResponse>();
const log = (line: string) => connection.console.log(line);

let hasConfiguration = false;
let hasWorkspaceFolders = false;
let initSettings: unknown = {};
let workspaceFolders: string[] = [];
let state: WorkspaceStateParams = { pairs: {}, ignored: [], disabled: [] };
/** Where hub ids are downloaded: initializationOptions.cacheDir (VS Code: the extension's global storage), else the loader's default. */
let cacheDir: string | undefined;
const settingsCache = new Map<string, Promise<QualsSettings>>();

function settingsFor(uri: string): Promise<QualsSettings> {
  if (!hasConfiguration) return Promise.resolve(parseSettings(initSettings));
  let s = settingsCache.get(uri);
  if (!s) {
    s = connection.workspace.getConfiguration({ scopeUri: uri, section: 'quals' }).then(parseSettings, () => parseSettings({}));
    settingsCache.set(uri, s);
  }
  return s;
}

const engines = new EngineHost({
  create: createEngine,
  log,
  onStatus: (status) => void connection.sendNotification(modelStatusNotification, status),
  workspaceFolders: () => workspaceFolders,
  get cacheDir() {
    return cacheDir;
  },
});

const checker = new Checker({
  document: (uri) => documents.get(uri),
  settings: settingsFor,
  engine: (s) => engines.get(s),
  workspaceFolders: () => workspaceFolders,
  state: () => state,
  publishDiagnostics: (uri, version, diagnostics) => connection.sendDiagnostics({ uri, version, diagnostics }),
  sendResult: (params) => connection.sendNotification(resultNotification, params),
  sendStatus: (params) => void connection.sendNotification(documentStatusNotification, params),
  log,
});

/** Schedules a check; errors were already turned into statuses, so this never rejects. */
function schedule(uri: string, delayMs: number, signal?: AbortSignal) {
  return scheduler.schedule(uri, delayMs, (s) => checker.check(uri, s), signal).catch((e: unknown) => {
    log(`check failed for ${uri}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  });
}

/** Rechecks open documents on an automatic trigger, honouring `quals.checkOn`. */
async function autoCheck(uri: string, trigger: 'open' | 'save' | 'type'): Promise<void> {
  const s = await settingsFor(uri);
  if (s.checkOn === 'manual') return;
  if (trigger === 'type' && s.checkOn !== 'type') return;
  void schedule(uri, trigger === 'type' ? s.debounceMs : 0);
}

function recheckAll(): void {
  for (const doc of documents.all()) void autoCheck(doc.uri, 'open');
}

function toFolders(folders: readonly { uri: string }[] | null | undefined): string[] {
  return (folders ?? []).map((f) => URI.parse(f.uri).fsPath);
}

connection.onInitialize((params: InitializeParams): InitializeResult => {
  hasConfiguration = params.capabilities?.workspace?.configuration === true;
  hasWorkspaceFolders = params.capabilities?.workspace?.workspaceFolders === true;
  const init = (params.initializationOptions ?? {}) as { settings?: unknown; workspaceState?: WorkspaceStateParams; cacheDir?: unknown };
  initSettings = init.settings ?? {};
  if (typeof init.cacheDir === 'string' && isAbsolute(init.cacheDir)) cacheDir = init.cacheDir;
  if (init.workspaceState) state = parseWorkspaceState(init.workspaceState);
  workspaceFolders = toFolders(params.workspaceFolders);
  if (workspaceFolders.length === 0 && params.rootUri) workspaceFolders = [URI.parse(params.rootUri).fsPath];
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'quals-ls', version: VERSION },
  };
});

connection.onInitialized(() => {
  if (hasConfiguration) void connection.client.register(DidChangeConfigurationNotification.type, { section: 'quals' });
  log(`quals-ls ${VERSION} started (pid ${process.pid}, node ${process.version})`);
  // The getter throws for clients without workspace-folder support: only subscribe where they have it.
  if (hasWorkspaceFolders) {
    connection.workspace.onDidChangeWorkspaceFolders(() => {
      void connection.workspace.getWorkspaceFolders().then((f) => (workspaceFolders = toFolders(f)));
    });
  }
});

connection.onDidChangeConfiguration((change) => {
  settingsCache.clear();
  if (!hasConfiguration) initSettings = (change.settings as { quals?: unknown } | undefined)?.quals ?? initSettings;
  recheckAll();
});

connection.onNotification(workspaceStateNotification, (params) => {
  // Untrusted JSON like any message: {disabled: null} must not make every later check fail.
  state = parseWorkspaceState(params);
  recheckAll();
});

// TextDocuments fires onDidChangeContent right after onDidOpen; the open check covers both.
const justOpened = new Set<string>();
documents.onDidOpen((e) => {
  justOpened.add(e.document.uri);
  void autoCheck(e.document.uri, 'open');
});
documents.onDidChangeContent((e) => {
  const uri = e.document.uri;
  if (justOpened.delete(uri)) return;
  void autoCheck(uri, 'type');
  for (const summary of checker.summariesOf(uri)) void autoCheck(summary, 'type');
});
documents.onDidSave((e) => {
  void autoCheck(e.document.uri, 'save');
  for (const summary of checker.summariesOf(e.document.uri)) void autoCheck(summary, 'save');
});
documents.onDidClose((e) => {
  const uri = e.document.uri;
  justOpened.delete(uri);
  scheduler.cancel(uri);
  checker.forget(uri);
  settingsCache.delete(uri);
  // An unsaved source edit just vanished: summaries go back to the text on disk.
  for (const summary of checker.summariesOf(uri)) void autoCheck(summary, 'save');
});

connection.onDidChangeWatchedFiles(({ changes }) => {
  const structural = changes.some((c) => c.type !== FileChangeType.Changed);
  if (structural) return recheckAll();
  for (const c of changes) {
    if (documents.get(c.uri)) continue; // the editor's copy wins; its events drive checks
    for (const summary of checker.summariesOf(c.uri)) void autoCheck(summary, 'save');
  }
});

connection.onRequest(scoreRequest, async ({ uri }, token): Promise<ScoreResponse> => {
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort());
  try {
    let outcome = await scheduler.schedule(uri, 0, (s) => checker.check(uri, s), controller.signal);
    // An automatic check that replaced this one (the document opened or changed meanwhile) answers instead.
    while (outcome.cancelled && outcome.supersededBy && !controller.signal.aborted) outcome = await outcome.supersededBy;
    return outcome.cancelled ? { state: 'cancelled' } : outcome.value;
  } catch (e) {
    return { state: 'error', message: e instanceof Error ? e.message : String(e) };
  }
});

connection.onRequest(pairingRequest, async ({ uri }) => {
  const doc = documents.get(uri);
  const settings = await settingsFor(uri);
  return describePairing(resolvePairing({ uri, text: doc?.getText() ?? '', rules: settings.pairs, remembered: state.pairs, workspaceFolders }));
});

connection.onRequest(prepareModelRequest, async (params, token) => {
  const controller = new AbortController();
  token.onCancellationRequested(() => controller.abort());
  const workDone = connection.languages.attachWorkDoneProgress(params);
  workDone.begin(`Preparing ${params.model}`, undefined, undefined, true);
  try {
    // The picker saves the model, not the variant: what it prepares is what quals.modelVariant will load.
    const variant = params.variant ?? (await settingsFor('')).modelVariant;
    return await prepareModel({ ...params, variant }, { resolveModelDir, importCheckpoint, log }, (r) => (r.percentage === undefined ? workDone.report(r.message) : workDone.report(r.percentage, r.message)), controller.signal);
  } finally {
    workDone.done();
  }
});

connection.onRequest(serverInfoRequest, () => ({ pid: process.pid, version: VERSION, model: engines.status }));

connection.onHover(({ textDocument, position }) => {
  if (typeof textDocument?.uri !== 'string' || typeof position?.line !== 'number' || typeof position?.character !== 'number') return null;
  const published = checker.published.get(textDocument.uri);
  if (!published) return null;
  const at = (r: { start: { line: number; character: number }; end: { line: number; character: number } }) =>
    (position.line > r.start.line || (position.line === r.start.line && position.character >= r.start.character)) &&
    (position.line < r.end.line || (position.line === r.end.line && position.character <= r.end.character));
  const diagnostic = published.diagnostics.find((d) => d.data && at(d.range));
  if (!diagnostic) return null;
  const data = diagnostic.data as FindingData;
  const result = published.results.find((r) => r.line === data.line);
  const pair = result?.result.pairs.find((p) => p.id === data.pairId);
  if (!result || !pair) return null;
  const sourceLabel = result.line !== undefined ? `line ${result.line + 1}` : URI.parse(result.sourceUri).path.split('/').pop() ?? result.sourceUri;
  return {
    contents: { kind: 'markdown', value: hoverMarkdown(pair, { uri: textDocument.uri, sourceLabel, ...(data.line !== undefined ? { line: data.line } : {}) }) },
    range: diagnostic.range,
  };
});

connection.onCodeAction((params) => {
  const doc = typeof params?.textDocument?.uri === 'string' ? documents.get(params.textDocument.uri) : undefined;
  const diagnostics = Array.isArray(params?.context?.diagnostics) ? params.context.diagnostics.filter(isDiagnosticLike) : [];
  return doc ? codeActionsFor(doc, diagnostics) : [];
});

connection.onShutdown(async () => {
  scheduler.cancelAll();
  await engines.dispose();
});

documents.listen(connection);
connection.listen();
