/**
 * The client context: owns the language client's lifecycle (start, restart with backoff after a
 * crash), the output channel, the latest results and statuses, and every disposable.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  Commands,
  documentStatusNotification,
  modelStatusNotification,
  resultNotification,
  workspaceStateNotification,
  type DocumentStatusParams,
  type ModelStatusParams,
  type ResultParams,
} from '../protocol';
import { DownloadProgress } from './download-progress';
import { modelStorageDir } from './model-picker';
import type { ExplorerHost } from './host';
import { Notifier } from './notifier';
import { PersistentState } from './state';

/** Documents the server checks: prose files and JSONL datasets on disk. */
export const DOCUMENT_SELECTOR: { scheme: string; language?: string; pattern?: string }[] = [
  { scheme: 'file', language: 'markdown' },
  { scheme: 'file', language: 'plaintext' },
  { scheme: 'file', pattern: '**/*.jsonl' },
];

/** Restart delays after consecutive crashes; more crashes than this within the window: stay stopped. */
const RESTART_DELAYS_MS = [500, 2000, 8000, 30000];
const CRASH_WINDOW_MS = 3 * 60 * 1000;

export class Ctx implements ExplorerHost {
  readonly log: vscode.LogOutputChannel;
  readonly state: PersistentState;
  readonly notifier: Notifier;
  private client: LanguageClient | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly results = new Map<string, ResultParams[]>();
  private readonly statuses = new Map<string, DocumentStatusParams>();
  private crashes: number[] = [];
  private stopping = false;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly resultEmitter = new vscode.EventEmitter<ResultParams>();
  private readonly statusEmitter = new vscode.EventEmitter<DocumentStatusParams | undefined>();
  private readonly modelEmitter = new vscode.EventEmitter<ModelStatusParams>();
  readonly onResult = this.resultEmitter.event;
  /** Fires when a document's status changes (undefined: server state changed). */
  readonly onStatus = this.statusEmitter.event;
  private readonly documentStatusEmitter = new vscode.EventEmitter<DocumentStatusParams>();
  readonly onModelStatus = this.modelEmitter.event;
  readonly onDocumentStatus = this.documentStatusEmitter.event;
  private model: ModelStatusParams | undefined;
  private readonly download = new DownloadProgress();

  constructor(readonly extensionContext: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('QUALS', { log: true });
    this.state = new PersistentState(extensionContext.workspaceState);
    this.notifier = new Notifier(this.log);
    this.disposables.push(this.log, this.resultEmitter, this.statusEmitter, this.modelEmitter, this.documentStatusEmitter, this.state, this.download);
    this.disposables.push(this.state.onDidChange((s) => this.client?.isRunning() && void this.client.sendNotification(workspaceStateNotification, s)));
    extensionContext.subscriptions.push({ dispose: () => void this.dispose() });
  }

  registerDisposable(disposable: vscode.Disposable): void {
    this.disposables.push(disposable);
  }

  latestResults(uri: string): readonly ResultParams[] {
    return this.results.get(uri) ?? [];
  }

  documentStatus(uri: string): DocumentStatusParams | undefined {
    return this.statuses.get(uri);
  }

  modelStatus(): ModelStatusParams | undefined {
    return this.model;
  }

  /** The running client, or undefined (commands then offer a restart). */
  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** False until the server was first asked for (it starts lazily: ./lazy-start.ts). */
  get started(): boolean {
    return this.client !== undefined;
  }

  private starting: Promise<void> | undefined;

  /**
   * Starts the server if it never ran (a summary or dataset was opened, or a command needs it)
   * and resolves with the running client, or undefined when it is not running.
   */
  async ensureRunning(): Promise<LanguageClient | undefined> {
    if (!this.started && !this.starting) {
      this.starting = this.start()
        .catch((e: unknown) => void this.notifier.error('The QUALS server did not start.', e, { title: 'Restart Server', run: () => this.restart() }))
        .finally(() => (this.starting = undefined));
    }
    await this.starting;
    if (this.client && this.client.state === State.Starting) await this.client.start().catch(() => undefined);
    return this.running;
  }

  /** As ensureRunning, for commands: says so (with a way out) when the server is not running. */
  async requireRunning(): Promise<LanguageClient | undefined> {
    const client = await this.ensureRunning();
    if (!client) void this.notifier.warn('The QUALS server is not running.', { title: 'Restart Server', run: () => this.restart() });
    return client;
  }

  async start(): Promise<void> {
    this.stopping = false;
    if (!this.client) this.client = this.createClient();
    await this.client.start();
    this.statusEmitter.fire(undefined);
  }

  /** "QUALS: Restart Server": also the way out after repeated crashes. */
  async restart(): Promise<void> {
    this.crashes = [];
    clearTimeout(this.restartTimer);
    if (this.client) {
      this.stopping = true;
      try {
        if (this.client.state !== State.Stopped) await this.client.stop(5000);
      } catch (e) {
        this.log.warn(`stopping the server failed: ${String(e)}`);
      }
      await this.client.dispose().catch(() => undefined);
      this.client = undefined;
    }
    await this.start();
  }

  private createClient(): LanguageClient {
    const module = this.extensionContext.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.log,
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{md,markdown,txt,text,jsonl}') },
      // cacheDir: hub ids download into the extension's global storage, where "Choose Model..." prepares them.
      initializationOptions: { workspaceState: this.state.value, cacheDir: modelStorageDir(this.extensionContext) },
      // Hovers are untrusted markdown: the only command a hover link may run is the explorer's.
      markdown: { isTrusted: { enabledCommands: [Commands.explorerShowPair] }, supportHtml: false },
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => this.onServerClosed(),
      },
    };
    // The id `quals` makes the client read `quals.trace.server`.
    const client = new LanguageClient('quals', 'QUALS', serverOptions, clientOptions);
    client.onNotification(resultNotification, (p) => this.addResult(p));
    client.onNotification(documentStatusNotification, (p) => {
      this.statuses.set(p.uri, p);
      if (p.state !== 'checking' && p.state !== 'done') this.results.delete(p.uri);
      this.statusEmitter.fire(p);
      this.documentStatusEmitter.fire(p);
    });
    client.onNotification(modelStatusNotification, (p) => {
      this.model = p;
      this.modelEmitter.fire(p);
      this.download.update(p);
      this.notifier.modelStatus(p);
    });
    client.onDidChangeState(() => this.statusEmitter.fire(undefined));
    return client;
  }

  private addResult(p: ResultParams): void {
    // A new document version starts a fresh list; JSONL lines accumulate within one version.
    const list = (this.results.get(p.uri) ?? []).filter((r) => r.version === p.version && r.line !== p.line);
    list.push(p);
    list.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    this.results.set(p.uri, list);
    this.resultEmitter.fire(p);
  }

  private onServerClosed() {
    if (this.stopping) return { action: CloseAction.DoNotRestart, handled: true };
    const now = Date.now();
    this.crashes = [...this.crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    const n = this.crashes.length;
    if (n > RESTART_DELAYS_MS.length) {
      this.notifier.error(
        `The QUALS server crashed ${n} times in 3 minutes and stays stopped.`,
        undefined,
        { title: 'Restart Server', run: () => void this.restart() },
      );
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const delay = RESTART_DELAYS_MS[n - 1]!;
    this.notifier.warn(`The QUALS server stopped unexpectedly; restarting in ${(delay / 1000).toFixed(1)} s.`);
    this.restartTimer = setTimeout(() => {
      if (this.stopping || !this.client) return;
      this.client.start().then(
        () => this.statusEmitter.fire(undefined),
        (e: unknown) => this.notifier.error('The QUALS server could not be restarted.', e),
      );
    }, delay);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  async dispose(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.dispose(2000).catch(() => undefined);
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
